package pipeline

import (
	"errors"
	"image"
)

// Event is one typed item of a session's output. The concrete types below are
// the complete set; transports encode them, they never parse them back.
type Event interface {
	// EventType names the event in the native session protocol, e.g. "text.delta".
	EventType() string
}

// FinishReason says why a generation ended, with OpenAI's names.
type FinishReason string

// Finish reasons. Cancelled is ours: the client or the server stopped the work.
const (
	FinishStop      FinishReason = "stop"
	FinishLength    FinishReason = "length"
	FinishToolCalls FinishReason = "tool_calls"
	FinishCancelled FinishReason = "cancelled"
)

// Usage counts what a piece of work consumed. Fields that do not apply stay zero.
type Usage struct {
	PromptTokens       int     `json:"prompt_tokens,omitempty"`
	CompletionTokens   int     `json:"completion_tokens,omitempty"`
	ReasoningTokens    int     `json:"reasoning_tokens,omitempty"`
	CachedTokens       int     `json:"cached_tokens,omitempty"`
	InputAudioSeconds  float64 `json:"input_audio_seconds,omitempty"`
	OutputAudioSeconds float64 `json:"output_audio_seconds,omitempty"`
	InputCharacters    int     `json:"input_characters,omitempty"`
}

// TokenLogprob is the log probability of one sampled or candidate token.
type TokenLogprob struct {
	Token   string  `json:"token"`
	Bytes   []byte  `json:"bytes"`
	Logprob float64 `json:"logprob"`
}

// TokenLogprobs is one sampled token with its most likely alternatives.
type TokenLogprobs struct {
	TokenLogprob
	Top []TokenLogprob `json:"top_logprobs"`
}

// ToolCallDelta is a fragment of a streamed tool call. The first fragment of a
// call carries Index, ID and Name; later ones carry Index and Arguments text.
type ToolCallDelta struct {
	Index     int    `json:"index"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// TextDelta is newly generated chat output. Content is answer text, Reasoning
// is text the model produced inside its thinking block; Logprobs, when asked
// for, describe the tokens behind Content.
type TextDelta struct {
	Content   string          `json:"content,omitempty"`
	Reasoning string          `json:"reasoning,omitempty"`
	ToolCalls []ToolCallDelta `json:"tool_calls,omitempty"`
	Logprobs  []TokenLogprobs `json:"logprobs,omitempty"`
	// Tokens is how many tokens were generated since the previous
	// TextDelta of the generation (text the parser held back is counted
	// with the delta that follows it). It lets a consumer that stops a
	// generation early still account for what was generated; Done's usage
	// is the exact total.
	Tokens int `json:"-"`
}

// Done ends a piece of work successfully (or by cancellation) with its usage.
type Done struct {
	Finish FinishReason `json:"finish_reason"`
	Usage  Usage        `json:"usage"`
}

// Failed ends a piece of work with an error. Err is usually an *Error.
type Failed struct {
	Err error `json:"-"`
}

// TranscriptDelta is a partial recognition result of the utterance in
// progress. Text is the whole current hypothesis; it may revise earlier words.
type TranscriptDelta struct {
	ItemID string `json:"item_id,omitempty"`
	Text   string `json:"text"`
}

// TranscriptDone is the final result of one utterance (or of a whole file).
type TranscriptDone struct {
	ItemID     string `json:"item_id,omitempty"`
	Transcript `json:"transcript"`
	Usage      Usage `json:"usage"`
}

// SpeechStarted and SpeechStopped report voice activity, in milliseconds of
// audio since the stream began.
type SpeechStarted struct {
	ItemID  string `json:"item_id,omitempty"`
	AudioMs int    `json:"audio_start_ms"`
}

// SpeechStopped reports the end of a voiced region, see SpeechStarted.
type SpeechStopped struct {
	ItemID  string `json:"item_id,omitempty"`
	AudioMs int    `json:"audio_end_ms"`
}

// AudioChunk is synthesized audio, in order. Text is the clause it speaks.
type AudioChunk struct {
	Audio Audio  `json:"audio"`
	Text  string `json:"text,omitempty"`
}

// AudioMark reports that every clause pushed before Synthesis.Mark(Tag)
// has been spoken; protocols that frame audio per message use it.
type AudioMark struct {
	Tag string `json:"tag"`
}

// ImageProgress reports one finished denoising step; Preview, when the
// generator provides one, is decoded from the intermediate latents.
type ImageProgress struct {
	Step    int         `json:"step"`
	Steps   int         `json:"steps"`
	Preview image.Image `json:"-"`
}

// ImageDone carries the finished images.
type ImageDone struct {
	Images []image.Image `json:"-"`
	Usage  Usage         `json:"usage"`
}

func (TextDelta) EventType() string       { return "text.delta" }
func (Done) EventType() string            { return "done" }
func (Failed) EventType() string          { return "error" }
func (TranscriptDelta) EventType() string { return "transcript.delta" }
func (TranscriptDone) EventType() string  { return "transcript.done" }
func (SpeechStarted) EventType() string   { return "speech.started" }
func (SpeechStopped) EventType() string   { return "speech.stopped" }
func (AudioChunk) EventType() string      { return "audio.chunk" }
func (AudioMark) EventType() string       { return "audio.mark" }
func (ImageProgress) EventType() string   { return "image.progress" }
func (ImageDone) EventType() string       { return "image.done" }

// Terminal reports whether ev ends the work it belongs to.
func Terminal(ev Event) bool {
	switch ev.(type) {
	case Done, *Done, Failed, *Failed, ImageDone, *ImageDone:
		return true
	}
	return false
}

// ErrorOf returns the error carried by a Failed event, or nil.
func ErrorOf(ev Event) error {
	var f Failed
	switch e := ev.(type) {
	case Failed:
		f = e
	case *Failed:
		f = *e
	default:
		return nil
	}
	if f.Err == nil {
		return errors.New("unknown failure")
	}
	return f.Err
}
