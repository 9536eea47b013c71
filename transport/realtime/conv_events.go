package realtime

// Server event types of conversation sessions. Where the dialects name an
// event differently, the GA name comes first and the beta name ends in
// Beta.
const (
	EventResponseCreated             = "response.created"
	EventResponseDone                = "response.done"
	EventOutputItemAdded             = "response.output_item.added"
	EventOutputItemDone              = "response.output_item.done"
	EventContentPartAdded            = "response.content_part.added"
	EventContentPartDone             = "response.content_part.done"
	EventOutputTextDelta             = "response.output_text.delta"
	EventOutputTextDone              = "response.output_text.done"
	EventOutputAudioDelta            = "response.output_audio.delta"
	EventOutputAudioDone             = "response.output_audio.done"
	EventOutputAudioTranscriptDelta  = "response.output_audio_transcript.delta"
	EventOutputAudioTranscriptDone   = "response.output_audio_transcript.done"
	EventTextDeltaBeta               = "response.text.delta"
	EventTextDoneBeta                = "response.text.done"
	EventAudioDeltaBeta              = "response.audio.delta"
	EventAudioDoneBeta               = "response.audio.done"
	EventAudioTranscriptDeltaBeta    = "response.audio_transcript.delta"
	EventAudioTranscriptDoneBeta     = "response.audio_transcript.done"
	EventFunctionCallArgumentsDelta  = "response.function_call_arguments.delta"
	EventFunctionCallArgumentsDone   = "response.function_call_arguments.done"
	EventConversationItemTruncated   = "conversation.item.truncated"
	EventConversationItemDeleted     = "conversation.item.deleted"
	EventConversationItemRetrieved   = "conversation.item.retrieved"
	EventConversationItemCreate      = "conversation.item.create"
	EventConversationItemDelete      = "conversation.item.delete"
	EventConversationItemRetrieve    = "conversation.item.retrieve"
	EventConversationItemTruncate    = "conversation.item.truncate"
	EventResponseCreate              = "response.create"
	EventResponseCancel              = "response.cancel"
	EventOutputAudioBufferClear      = "output_audio_buffer.clear"
	objectResponse                   = "realtime.response"
	contentInputText                 = "input_text"
	contentOutputText                = "output_text"
	contentOutputAudio               = "output_audio"
	partAudio, partText              = "audio", "text"
	itemMessage                      = "message"
	itemFunctionCall                 = "function_call"
	itemFunctionCallOutput           = "function_call_output"
	roleUser, roleAssistant          = "user", "assistant"
	roleSystem                       = "system"
	statusCompleted, statusCancelled = "completed", "cancelled"
	statusIncomplete, statusFailed   = "incomplete", "failed"
	statusInProgress                 = "in_progress"
	reasonTurnDetected               = "turn_detected"
	reasonClientCancelled            = "client_cancelled"
	reasonMaxOutputTokens            = "max_output_tokens"
)

// Error codes of conversation sessions.
const (
	CodeActiveResponse     = "conversation_already_has_active_response" // response.create while one runs
	CodeCancelNotActive    = "response_cancel_not_active"               // response.cancel with nothing running
	CodeItemNotFound       = "item_not_found"                           // an item id the conversation does not hold
	CodeItemInProgress     = "item_in_progress"                         // deleting the item a response is writing
	CodeSessionTypeChange  = "session_type_change"                      // a session.type the connection cannot switch to
	CodeUnsupportedEvent   = "unsupported_event"                        // an event this transport does not serve
	CodeTruncateNotAudio   = "truncate_not_audio"                       // truncating anything but assistant audio
	CodeTruncateBeyondEnd  = "audio_end_ms_beyond_audio"                // audio_end_ms past the item's audio
	CodeUnsupportedContent = "unsupported_content"                      // content this server cannot hold
)

// MessageItem is a conversation item of type "message" (any role) as the
// GA and beta schemas describe it (RealtimeConversationItemMessage*).
// Content is always present, empty while an assistant message begins.
type MessageItem struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Type    string        `json:"type"`
	Status  string        `json:"status"`
	Role    string        `json:"role"`
	Content []ItemContent `json:"content"`
}

// FunctionCallItem is a conversation item of type "function_call".
type FunctionCallItem struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// FunctionCallOutputItem is a conversation item of type
// "function_call_output".
type FunctionCallOutputItem struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	Status string `json:"status"`
	CallID string `json:"call_id"`
	Output string `json:"output"`
}

// ResponseEvent is response.created and response.done. Response is a
// *ResponseGA or a *ResponseBeta.
type ResponseEvent struct {
	Header
	Response any `json:"response"`
}

// ResponseGA is the GA response object (RealtimeResponse).
type ResponseGA struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Status           string            `json:"status"`
	StatusDetails    *StatusDetails    `json:"status_details,omitempty"`
	Output           []any             `json:"output"`
	ConversationID   string            `json:"conversation_id,omitempty"`
	OutputModalities []string          `json:"output_modalities"`
	MaxOutputTokens  any               `json:"max_output_tokens"`
	Audio            *ResponseAudioGA  `json:"audio,omitempty"`
	Usage            *ResponseUsage    `json:"usage,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// ResponseAudioGA is the GA response's audio output configuration.
type ResponseAudioGA struct {
	Output ResponseAudioOutputGA `json:"output"`
}

// ResponseAudioOutputGA is "audio.output" of a GA response.
type ResponseAudioOutputGA struct {
	Format FormatGA `json:"format"`
	Voice  string   `json:"voice"`
}

// ResponseBeta is the beta response object (RealtimeBetaResponse).
type ResponseBeta struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Status            string            `json:"status"`
	StatusDetails     *StatusDetails    `json:"status_details,omitempty"`
	Output            []any             `json:"output"`
	ConversationID    string            `json:"conversation_id,omitempty"`
	Modalities        []string          `json:"modalities"`
	Voice             string            `json:"voice,omitempty"`
	OutputAudioFormat string            `json:"output_audio_format,omitempty"`
	Temperature       *float64          `json:"temperature,omitempty"`
	MaxOutputTokens   any               `json:"max_output_tokens"`
	Usage             *ResponseUsage    `json:"usage,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
}

// StatusDetails says why a response ended as it did.
type StatusDetails struct {
	Type   string       `json:"type"`
	Reason string       `json:"reason,omitempty"`
	Error  *StatusError `json:"error,omitempty"`
}

// StatusError is the error of a failed response.
type StatusError struct {
	Type string `json:"type"`
	Code string `json:"code,omitempty"`
}

// ResponseUsage counts the tokens of a response. The LLM reads and writes
// text, so every token is a text token; audio is synthesized from the
// text and counted by no token field.
type ResponseUsage struct {
	TotalTokens        int                `json:"total_tokens"`
	InputTokens        int                `json:"input_tokens"`
	OutputTokens       int                `json:"output_tokens"`
	InputTokenDetails  InputTokenDetails  `json:"input_token_details"`
	OutputTokenDetails OutputTokenDetails `json:"output_token_details"`
}

// InputTokenDetails splits a response's input tokens.
type InputTokenDetails struct {
	CachedTokens int `json:"cached_tokens"`
	TextTokens   int `json:"text_tokens"`
	AudioTokens  int `json:"audio_tokens"`
}

// OutputTokenDetails splits a response's output tokens.
type OutputTokenDetails struct {
	TextTokens  int `json:"text_tokens"`
	AudioTokens int `json:"audio_tokens"`
}

// OutputItemEvent is response.output_item.added and .done.
type OutputItemEvent struct {
	Header
	ResponseID  string `json:"response_id"`
	OutputIndex int    `json:"output_index"`
	Item        any    `json:"item"`
}

// ContentPartEvent is response.content_part.added and .done.
type ContentPartEvent struct {
	Header
	ResponseID   string      `json:"response_id"`
	ItemID       string      `json:"item_id"`
	OutputIndex  int         `json:"output_index"`
	ContentIndex int         `json:"content_index"`
	Part         ContentPart `json:"part"`
}

// ContentPart is the part of a content part event: type "audio" carries
// the transcript, type "text" the text.
type ContentPart struct {
	Type       string  `json:"type"`
	Text       *string `json:"text,omitempty"`
	Transcript *string `json:"transcript,omitempty"`
}

// DeltaEvent is response.output_text.delta, .output_audio.delta and
// .output_audio_transcript.delta (and their beta names). An audio delta
// is base64 audio in the session's output format.
type DeltaEvent struct {
	Header
	ResponseID   string `json:"response_id"`
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Delta        string `json:"delta"`
}

// TextDoneEvent is response.output_text.done (beta response.text.done).
type TextDoneEvent struct {
	Header
	ResponseID   string `json:"response_id"`
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Text         string `json:"text"`
}

// TranscriptDoneEvent is response.output_audio_transcript.done (beta
// response.audio_transcript.done).
type TranscriptDoneEvent struct {
	Header
	ResponseID   string `json:"response_id"`
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Transcript   string `json:"transcript"`
}

// AudioDoneEvent is response.output_audio.done (beta response.audio.done).
type AudioDoneEvent struct {
	Header
	ResponseID   string `json:"response_id"`
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
}

// ArgumentsDeltaEvent is response.function_call_arguments.delta.
type ArgumentsDeltaEvent struct {
	Header
	ResponseID  string `json:"response_id"`
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	CallID      string `json:"call_id"`
	Delta       string `json:"delta"`
}

// ArgumentsDoneEvent is response.function_call_arguments.done.
type ArgumentsDoneEvent struct {
	Header
	ResponseID  string `json:"response_id"`
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	CallID      string `json:"call_id"`
	Name        string `json:"name"`
	Arguments   string `json:"arguments"`
}

// TruncatedEvent is conversation.item.truncated.
type TruncatedEvent struct {
	Header
	ItemID       string `json:"item_id"`
	ContentIndex int    `json:"content_index"`
	AudioEndMs   int64  `json:"audio_end_ms"`
}

// DeletedEvent is conversation.item.deleted.
type DeletedEvent struct {
	Header
	ItemID string `json:"item_id"`
}

// RetrievedEvent is conversation.item.retrieved.
type RetrievedEvent struct {
	Header
	Item any `json:"item"`
}
