package realtime

import (
	"encoding/json"
)

// Client event types this package decodes.
const (
	EventSessionUpdate              = "session.update"
	EventTranscriptionSessionUpdate = "transcription_session.update"
	EventInputAudioBufferAppend     = "input_audio_buffer.append"
	EventInputAudioBufferCommit     = "input_audio_buffer.commit"
	EventInputAudioBufferClear      = "input_audio_buffer.clear"
)

// conversationEvents are the client events of conversation sessions
// (session.type "realtime"). They parse as valid events whose payload stays
// in ClientEvent.Raw; a transcription session answers them with an error.
var conversationEvents = map[string]bool{
	"conversation.item.create":   true,
	"conversation.item.delete":   true,
	"conversation.item.retrieve": true,
	"conversation.item.truncate": true,
	"response.create":            true,
	"response.cancel":            true,
	"output_audio_buffer.clear":  true,
}

// Server event types.
const (
	EventError                         = "error"
	EventSessionCreated                = "session.created"
	EventSessionUpdated                = "session.updated"
	EventTranscriptionSessionCreated   = "transcription_session.created"
	EventTranscriptionSessionUpdated   = "transcription_session.updated"
	EventInputAudioBufferSpeechStarted = "input_audio_buffer.speech_started"
	EventInputAudioBufferSpeechStopped = "input_audio_buffer.speech_stopped"
	EventInputAudioBufferCommitted     = "input_audio_buffer.committed"
	EventInputAudioBufferCleared       = "input_audio_buffer.cleared"
	EventConversationItemCreated       = "conversation.item.created" // beta
	EventConversationItemAdded         = "conversation.item.added"   // GA
	EventConversationItemDone          = "conversation.item.done"    // GA
	EventInputAudioTranscriptionDelta  = "conversation.item.input_audio_transcription.delta"
	EventInputAudioTranscriptionDone   = "conversation.item.input_audio_transcription.completed"
	EventInputAudioTranscriptionFailed = "conversation.item.input_audio_transcription.failed"
)

// Session types (session.type).
const (
	SessionTranscription = "transcription"
	SessionRealtime      = "realtime"
)

// Input audio formats, GA names then beta names.
const (
	FormatPCM  = "audio/pcm"
	FormatPCMU = "audio/pcmu"
	FormatPCMA = "audio/pcma"
	BetaPCM16  = "pcm16"
	BetaULaw   = "g711_ulaw"
	BetaALaw   = "g711_alaw"
)

// Turn detection types; only server_vad is implemented.
const (
	TurnServerVAD   = "server_vad"
	TurnSemanticVAD = "semantic_vad"
)

const (
	objectTranscriptionSession = "realtime.transcription_session"
	objectRealtimeSession      = "realtime.session"
	objectItem                 = "realtime.item"
	errorTypeInvalidRequest    = "invalid_request_error"
	contentInputAudio          = "input_audio"
	defaultInputRate           = 24000
	g711Rate                   = 8000
	minPCMRate, maxPCMRate     = 8000, 48000
	defaultVADThreshold        = 0.5
	defaultVADPrefixPaddingMs  = 300
	defaultVADSilenceMs        = 500
	minCommitMs                = 100
	usageTypeDuration          = "duration"
)

// Error codes of error events. They follow OpenAI's vocabulary where it has
// a code for the situation.
const (
	CodeInvalidJSON      = "invalid_json"                    // the message is not a JSON object
	CodeInvalidEvent     = "invalid_event"                   // no "type", or a binary message
	CodeInvalidValue     = "invalid_value"                   // a member has a value we cannot use
	CodeInvalidType      = "invalid_type"                    // a member has the wrong JSON type
	CodeMissingParameter = "missing_required_parameter"      // a required member is absent
	CodeCommitEmpty      = "input_audio_buffer_commit_empty" // commit with less than 100 ms of audio
	CodeBufferFull       = "input_audio_buffer_full"         // uncommitted audio over the bound
	CodeUnsupported      = "unsupported_session_type"        // a conversation session was asked for
)

// Header is the part every server event shares. EventID is unique per
// event; the Machine assigns it.
type Header struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
}

func (h *Header) header() *Header { return h }

// ServerEvent is one event for the client. Values are pointers to the event
// structs below; encode them with encoding/json.
type ServerEvent interface {
	header() *Header
}

// TypeOf returns a server event's type.
func TypeOf(ev ServerEvent) string { return ev.header().Type }

// IDOf returns a server event's event_id.
func IDOf(ev ServerEvent) string { return ev.header().EventID }

// ErrorEvent is the "error" server event.
type ErrorEvent struct {
	Header
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes a failure. EventID is the event_id of the client
// event that caused it, when it had one.
type ErrorDetail struct {
	Type    string  `json:"type"`
	Code    *string `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
	EventID *string `json:"event_id"`
}

// SessionEvent is session.created / session.updated (Session is a
// *SessionGA for transcription sessions, a *RealtimeSessionGA for
// conversation sessions) and transcription_session.created / .updated
// (Session is a *SessionBeta).
type SessionEvent struct {
	Header
	Session any `json:"session"`
}

// SessionGA is the GA transcription session object
// (RealtimeTranscriptionSessionCreateResponseGA).
type SessionGA struct {
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Object    string   `json:"object"`
	ExpiresAt int64    `json:"expires_at"`
	Audio     AudioGA  `json:"audio"`
	Include   []string `json:"include,omitempty"`
}

// RealtimeSessionGA is the GA conversation session object
// (RealtimeSessionCreateResponseGA): a connection opened with ?model=
// starts as one (and may become a transcription session while its
// conversation is empty).
type RealtimeSessionGA struct {
	Type             string       `json:"type"`
	ID               string       `json:"id"`
	Object           string       `json:"object"`
	ExpiresAt        int64        `json:"expires_at"`
	Model            string       `json:"model,omitempty"`
	OutputModalities []string     `json:"output_modalities"`
	Instructions     string       `json:"instructions"`
	Audio            AudioGA      `json:"audio"`
	MaxOutputTokens  any          `json:"max_output_tokens"`
	Tools            []ToolObject `json:"tools"`
	ToolChoice       any          `json:"tool_choice"`
	Include          []string     `json:"include,omitempty"`
}

// RealtimeSessionBeta is the beta conversation session object
// (RealtimeSession). Nullable members are null when off.
type RealtimeSessionBeta struct {
	ID                       string           `json:"id"`
	Object                   string           `json:"object"`
	ExpiresAt                int64            `json:"expires_at"`
	Model                    string           `json:"model,omitempty"`
	Modalities               []string         `json:"modalities"`
	Instructions             string           `json:"instructions"`
	Voice                    string           `json:"voice"`
	InputAudioFormat         string           `json:"input_audio_format"`
	OutputAudioFormat        string           `json:"output_audio_format"`
	InputAudioTranscription  *Transcription   `json:"input_audio_transcription"`
	TurnDetection            *TurnDetectionGA `json:"turn_detection"`
	InputAudioNoiseReduction *NoiseReduction  `json:"input_audio_noise_reduction,omitempty"`
	Speed                    float64          `json:"speed"`
	Temperature              *float64         `json:"temperature,omitempty"`
	MaxResponseOutputTokens  any              `json:"max_response_output_tokens"`
	Tools                    []ToolObject     `json:"tools"`
	ToolChoice               string           `json:"tool_choice"`
	Include                  []string         `json:"include,omitempty"`
}

// ToolObject is a function tool as sessions report it.
type ToolObject struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"`
}

// AudioGA is the session's "audio" member; Output is set for
// conversation sessions.
type AudioGA struct {
	Input  AudioInputGA   `json:"input"`
	Output *AudioOutputGA `json:"output,omitempty"`
}

// AudioOutputGA is "audio.output" of a conversation session.
type AudioOutputGA struct {
	Format FormatGA `json:"format"`
	Voice  string   `json:"voice"`
	Speed  float64  `json:"speed"`
}

// AudioInputGA is "audio.input". TurnDetection is always present: null
// when the client commits turns itself.
type AudioInputGA struct {
	Format         FormatGA         `json:"format"`
	Transcription  *Transcription   `json:"transcription,omitempty"`
	NoiseReduction *NoiseReduction  `json:"noise_reduction,omitempty"`
	TurnDetection  *TurnDetectionGA `json:"turn_detection"`
}

// FormatGA is a GA audio format. Rate is set for audio/pcm only.
type FormatGA struct {
	Type string `json:"type"`
	Rate int    `json:"rate,omitempty"`
}

// Transcription is the transcription configuration both dialects share.
// Members the client did not set are left out.
type Transcription struct {
	Model    string `json:"model,omitempty"`
	Language string `json:"language,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
}

// NoiseReduction is accepted and echoed; this server does not apply it.
type NoiseReduction struct {
	Type string `json:"type"`
}

// TurnDetectionGA is server_vad's configuration as the session reports it.
// CreateResponse and InterruptResponse are set for conversation sessions
// only.
type TurnDetectionGA struct {
	Type              string  `json:"type"`
	Threshold         float64 `json:"threshold"`
	PrefixPaddingMs   int     `json:"prefix_padding_ms"`
	SilenceDurationMs int     `json:"silence_duration_ms"`
	CreateResponse    *bool   `json:"create_response,omitempty"`
	InterruptResponse *bool   `json:"interrupt_response,omitempty"`
}

// SessionBeta is the beta transcription session object
// (RealtimeTranscriptionSessionCreateResponse). There are no ephemeral
// keys here, so ClientSecret is always empty. TurnDetection is left out
// when turns are committed by the client (the beta schema has no null).
type SessionBeta struct {
	ID                       string           `json:"id"`
	Object                   string           `json:"object"`
	ExpiresAt                int64            `json:"expires_at"`
	ClientSecret             ClientSecret     `json:"client_secret"`
	InputAudioFormat         string           `json:"input_audio_format"`
	InputAudioTranscription  *Transcription   `json:"input_audio_transcription,omitempty"`
	TurnDetection            *TurnDetectionGA `json:"turn_detection,omitempty"`
	InputAudioNoiseReduction *NoiseReduction  `json:"input_audio_noise_reduction,omitempty"`
	Include                  []string         `json:"include,omitempty"`
}

// ClientSecret is the beta session's ephemeral key; always empty here.
type ClientSecret struct {
	Value     string `json:"value"`
	ExpiresAt int64  `json:"expires_at"`
}

// SpeechStartedEvent is input_audio_buffer.speech_started.
type SpeechStartedEvent struct {
	Header
	AudioStartMs int64  `json:"audio_start_ms"`
	ItemID       string `json:"item_id"`
}

// SpeechStoppedEvent is input_audio_buffer.speech_stopped.
type SpeechStoppedEvent struct {
	Header
	AudioEndMs int64  `json:"audio_end_ms"`
	ItemID     string `json:"item_id"`
}

// CommittedEvent is input_audio_buffer.committed.
type CommittedEvent struct {
	Header
	PreviousItemID *string `json:"previous_item_id"`
	ItemID         string  `json:"item_id"`
}

// ClearedEvent is input_audio_buffer.cleared.
type ClearedEvent struct {
	Header
}

// ItemEvent is conversation.item.created (beta) or conversation.item.added
// and conversation.item.done (GA). Item is a *MessageItem, a
// *FunctionCallItem or a *FunctionCallOutputItem.
type ItemEvent struct {
	Header
	PreviousItemID *string `json:"previous_item_id"`
	Item           any     `json:"item"`
}

// ItemContent is one content part of a message item: input_text and
// output_text carry Text, input_audio and output_audio carry Transcript
// (the audio itself is never echoed). A user audio part has no transcript
// until recognition completes.
type ItemContent struct {
	Type       string  `json:"type"`
	Text       *string `json:"text,omitempty"`
	Transcript *string `json:"transcript,omitempty"`
}

// TranscriptionDeltaEvent is conversation.item.input_audio_transcription.delta.
type TranscriptionDeltaEvent struct {
	Header
	ItemID       string `json:"item_id"`
	ContentIndex int    `json:"content_index"`
	Delta        string `json:"delta"`
}

// TranscriptionCompletedEvent is
// conversation.item.input_audio_transcription.completed.
type TranscriptionCompletedEvent struct {
	Header
	ItemID       string `json:"item_id"`
	ContentIndex int    `json:"content_index"`
	Transcript   string `json:"transcript"`
	Usage        Usage  `json:"usage"`
}

// Usage is the duration usage of a transcription: seconds of audio.
type Usage struct {
	Type    string  `json:"type"`
	Seconds float64 `json:"seconds"`
}

// TranscriptionFailedEvent is
// conversation.item.input_audio_transcription.failed.
type TranscriptionFailedEvent struct {
	Header
	ItemID       string        `json:"item_id"`
	ContentIndex int           `json:"content_index"`
	Error        FailureDetail `json:"error"`
}

// FailureDetail is the error of a failed transcription.
type FailureDetail struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// Encode returns ev as JSON text.
func Encode(ev ServerEvent) ([]byte, error) { return json.Marshal(ev) }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
