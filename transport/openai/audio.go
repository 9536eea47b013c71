package openai

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// Event type names of OpenAI's streamed audio responses.
const (
	EventTranscriptTextDelta = "transcript.text.delta"
	EventTranscriptTextDone  = "transcript.text.done"
	EventSpeechAudioDelta    = "speech.audio.delta"
	EventSpeechAudioDone     = "speech.audio.done"
)

// Transcription is OpenAI's CreateTranscriptionResponseJson, the json
// response_format of POST /v1/audio/transcriptions.
type Transcription struct {
	Text  string         `json:"text"`
	Usage *DurationUsage `json:"usage,omitempty"`
}

// VerboseTranscription is OpenAI's CreateTranscriptionResponseVerboseJson,
// the verbose_json response_format.
type VerboseTranscription struct {
	Task     string                 `json:"task"`
	Language string                 `json:"language"`
	Duration float64                `json:"duration"`
	Text     string                 `json:"text"`
	Segments []TranscriptionSegment `json:"segments,omitempty"`
	Words    []TranscriptionWord    `json:"words,omitempty"`
	Usage    *DurationUsage         `json:"usage,omitempty"`
}

// TranscriptionSegment is OpenAI's TranscriptionSegment. Every member is
// required by the schema; engines without a value report zero (Tokens is
// then an empty list).
type TranscriptionSegment struct {
	ID               int     `json:"id"`
	Seek             int     `json:"seek"`
	Start            float64 `json:"start"`
	End              float64 `json:"end"`
	Text             string  `json:"text"`
	Tokens           []int   `json:"tokens"`
	Temperature      float64 `json:"temperature"`
	AvgLogprob       float64 `json:"avg_logprob"`
	CompressionRatio float64 `json:"compression_ratio"`
	NoSpeechProb     float64 `json:"no_speech_prob"`
}

// TranscriptionWord is OpenAI's TranscriptionWord.
type TranscriptionWord struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// DurationUsage is OpenAI's TranscriptTextUsageDuration: audio seconds.
type DurationUsage struct {
	Type    string  `json:"type"` // always "duration"
	Seconds float64 `json:"seconds"`
}

// TokenUsage is OpenAI's TranscriptTextUsageTokens.
type TokenUsage struct {
	Type              string             `json:"type"` // always "tokens"
	InputTokens       int                `json:"input_tokens"`
	InputTokenDetails *InputTokenDetails `json:"input_token_details,omitempty"`
	OutputTokens      int                `json:"output_tokens"`
	TotalTokens       int                `json:"total_tokens"`
}

// InputTokenDetails splits input tokens into text and audio.
type InputTokenDetails struct {
	TextTokens  int `json:"text_tokens"`
	AudioTokens int `json:"audio_tokens"`
}

// TranscriptTextDeltaEvent is OpenAI's transcript.text.delta SSE event.
type TranscriptTextDeltaEvent struct {
	Type  string `json:"type"`
	Delta string `json:"delta"`
}

// TranscriptTextDoneEvent is OpenAI's transcript.text.done SSE event.
type TranscriptTextDoneEvent struct {
	Type  string      `json:"type"`
	Text  string      `json:"text"`
	Usage *TokenUsage `json:"usage,omitempty"`
}

// SpeechAudioDeltaEvent is OpenAI's speech.audio.delta SSE event; Audio is
// base64.
type SpeechAudioDeltaEvent struct {
	Type  string `json:"type"`
	Audio string `json:"audio"`
}

// SpeechAudioDoneEvent is OpenAI's speech.audio.done SSE event.
type SpeechAudioDoneEvent struct {
	Type  string      `json:"type"`
	Usage SpeechUsage `json:"usage"`
}

// SpeechUsage is the usage of a speech.audio.done event.
type SpeechUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// NewTranscription builds the json response of a finished transcript; the
// usage is the audio duration in seconds.
func NewTranscription(t pipeline.Transcript) Transcription {
	return Transcription{Text: t.Text, Usage: &DurationUsage{Type: "duration", Seconds: t.Duration}}
}

// NewVerboseTranscription builds the verbose_json response. Language falls
// back to "english" (OpenAI reports language names, not codes, here); with
// no segments from the engine, one segment spans the whole transcript.
func NewVerboseTranscription(t pipeline.Transcript) VerboseTranscription {
	v := VerboseTranscription{
		Task: "transcribe", Language: languageName(t.Language), Duration: t.Duration, Text: t.Text,
		Usage: &DurationUsage{Type: "duration", Seconds: t.Duration},
	}
	for i, s := range segments(t) {
		v.Segments = append(v.Segments, TranscriptionSegment{
			ID: i, Start: s.Start, End: s.End, Text: s.Text, Tokens: []int{}, AvgLogprob: finite0(s.Logprob),
		})
	}
	for _, w := range t.Words {
		v.Words = append(v.Words, TranscriptionWord{Word: w.Word, Start: w.Start, End: w.End})
	}
	return v
}

func finite0(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// languageName maps the ISO-639-1 codes our engines report to the English
// names OpenAI's verbose_json uses; unknown codes pass through.
func languageName(code string) string {
	names := map[string]string{
		"": "english", "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "fr": "french",
		"it": "italian", "ja": "japanese", "ko": "korean", "pt": "portuguese", "ru": "russian",
	}
	if n, ok := names[strings.ToLower(code)]; ok {
		return n
	}
	return code
}

// segments returns the transcript's segments, or one covering all of it.
func segments(t pipeline.Transcript) []pipeline.Segment {
	if len(t.Segments) > 0 || strings.TrimSpace(t.Text) == "" {
		return t.Segments
	}
	return []pipeline.Segment{{Start: 0, End: t.Duration, Text: t.Text}}
}

// NewTranscriptTextDelta builds a transcript.text.delta event.
func NewTranscriptTextDelta(delta string) TranscriptTextDeltaEvent {
	return TranscriptTextDeltaEvent{Type: EventTranscriptTextDelta, Delta: delta}
}

// NewTranscriptTextDone builds a transcript.text.done event. OpenAI's
// schema gives this event only token usage (TranscriptTextUsageTokens),
// and makes it optional: input tokens are u.PromptTokens (counted as audio
// tokens) and output tokens u.CompletionTokens. Engines that count no
// tokens (pocketsphinx decodes frames, not tokens) get no usage member at
// all rather than zeros that would read as "free"; the audio seconds they
// measured are reported where the schemas allow it (the json and
// verbose_json responses, and realtime's completed event).
func NewTranscriptTextDone(text string, u pipeline.Usage) TranscriptTextDoneEvent {
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return TranscriptTextDoneEvent{Type: EventTranscriptTextDone, Text: text}
	}
	return TranscriptTextDoneEvent{Type: EventTranscriptTextDone, Text: text, Usage: &TokenUsage{
		Type: "tokens", InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens,
		TotalTokens:       u.PromptTokens + u.CompletionTokens,
		InputTokenDetails: &InputTokenDetails{AudioTokens: u.PromptTokens},
	}}
}

// NewSpeechAudioDelta builds a speech.audio.delta event carrying encoded
// audio bytes (base64, standard alphabet with padding).
func NewSpeechAudioDelta(audio []byte) SpeechAudioDeltaEvent {
	return SpeechAudioDeltaEvent{Type: EventSpeechAudioDelta, Audio: base64.StdEncoding.EncodeToString(audio)}
}

// NewSpeechAudioDone builds a speech.audio.done event, whose usage the
// schema requires as three token counts. They mean:
//   - input_tokens: u.PromptTokens when the engine tokenizes its input;
//     otherwise u.InputCharacters, the characters spoken, which is the
//     unit engines without a tokenizer (flite) consume and the unit
//     OpenAI bills tts-1 by;
//   - output_tokens: u.CompletionTokens, the audio tokens a neural engine
//     generates; an engine that makes samples directly (flite) generates
//     none, so it is 0. The seconds of audio made (u.OutputAudioSeconds)
//     have no field in this event;
//   - total_tokens: their sum.
func NewSpeechAudioDone(u pipeline.Usage) SpeechAudioDoneEvent {
	in := u.PromptTokens
	if in == 0 {
		in = u.InputCharacters
	}
	return SpeechAudioDoneEvent{Type: EventSpeechAudioDone, Usage: SpeechUsage{
		InputTokens: in, OutputTokens: u.CompletionTokens, TotalTokens: in + u.CompletionTokens,
	}}
}

// FormatSRT renders a transcript as SubRip subtitles: numbered cues with
// "HH:MM:SS,mmm --> HH:MM:SS,mmm" times, one cue per segment (one for the
// whole text when the engine gave no segments). Cue text is on one line.
func FormatSRT(t pipeline.Transcript) string {
	var b strings.Builder
	n := 0
	for _, s := range segments(t) {
		text := cueText(s.Text)
		if text == "" {
			continue
		}
		n++
		start, end := cueTimes(s)
		fmt.Fprintf(&b, "%d\n%s --> %s\n%s\n\n", n, timestamp(start, ','), timestamp(end, ','), text)
	}
	return b.String()
}

// FormatVTT renders a transcript as WebVTT: a "WEBVTT" header, then one cue
// per segment with "HH:MM:SS.mmm" times. Cue text is escaped as WebVTT
// requires (&, <, > and the "-->" arrow).
func FormatVTT(t pipeline.Transcript) string {
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for _, s := range segments(t) {
		text := cueText(s.Text)
		if text == "" {
			continue
		}
		start, end := cueTimes(s)
		fmt.Fprintf(&b, "%s --> %s\n%s\n\n", timestamp(start, '.'), timestamp(end, '.'), vttEscape(text))
	}
	return b.String()
}

// cueText collapses whitespace, so text never contains the blank line that
// would end a cue.
func cueText(s string) string { return strings.Join(strings.Fields(s), " ") }

var vttEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func vttEscape(s string) string { return vttEscaper.Replace(s) }

func cueTimes(s pipeline.Segment) (start, end float64) {
	start, end = s.Start, s.End
	if !(start > 0) { // also NaN
		start = 0
	}
	if !(end >= start) {
		end = start
	}
	return start, end
}

// timestamp formats seconds as HH:MM:SS followed by sep and milliseconds.
func timestamp(sec float64, sep byte) string {
	ms := int64(math.Round(sec * 1000))
	if sec > 1e9 { // absurd times would overflow; cap at ~31 years
		ms = 1e12
	}
	h, ms := ms/3600000, ms%3600000
	m, ms := ms/60000, ms%60000
	s, ms := ms/1000, ms%1000
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", h, m, s, sep, ms)
}
