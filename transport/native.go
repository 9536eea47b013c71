package transport

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

// The native session protocol: every pipeline event of a session is one
// JSON object, the same on SSE (the frame's id is Seq, its event name is
// Type, its data the object) and on WebSocket (one object per text
// message). Every object has "type" (pipeline.Event.EventType) and "seq"
// (the event's 1-based sequence number in the session). The other members
// by type:
//
//	text.delta        content, reasoning, tool_calls [{index, id, name, arguments}],
//	                  logprobs [{token, logprob, bytes, top_logprobs}] (each omitted when empty)
//	done              finish_reason, usage
//	error             error {message, type, param, code} (OpenAI's error object)
//	transcript.delta  item_id, text (the whole current hypothesis)
//	transcript.done   item_id, text, language, duration, segments, words, usage
//	speech.started    item_id, audio_start_ms
//	speech.stopped    item_id, audio_end_ms
//	audio.chunk       audio (base64 of 16-bit little-endian mono PCM), rate (Hz), text
//	audio.mark        tag
//	image.progress    step, steps, preview (base64 PNG, when the generator made one)
//	image.done        images [base64 PNG], usage
//
// usage holds prompt_tokens, completion_tokens, reasoning_tokens,
// cached_tokens, input_audio_seconds, output_audio_seconds and
// input_characters, each omitted when zero. An event type this table does
// not know yet is sent as {"type", "seq", "data": <its JSON>}.

// nativeUsage is the usage member of native events.
type nativeUsage struct {
	PromptTokens       int     `json:"prompt_tokens,omitempty"`
	CompletionTokens   int     `json:"completion_tokens,omitempty"`
	ReasoningTokens    int     `json:"reasoning_tokens,omitempty"`
	CachedTokens       int     `json:"cached_tokens,omitempty"`
	InputAudioSeconds  float64 `json:"input_audio_seconds,omitempty"`
	OutputAudioSeconds float64 `json:"output_audio_seconds,omitempty"`
	InputCharacters    int     `json:"input_characters,omitempty"`
}

func newNativeUsage(u pipeline.Usage) nativeUsage {
	return nativeUsage{
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, ReasoningTokens: u.ReasoningTokens,
		CachedTokens: u.CachedTokens, InputAudioSeconds: finiteOr0(u.InputAudioSeconds),
		OutputAudioSeconds: finiteOr0(u.OutputAudioSeconds), InputCharacters: u.InputCharacters,
	}
}

type nativeHead struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
}

type nativeToolCall struct {
	Index     int    `json:"index"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

type nativeTextDelta struct {
	nativeHead
	Content   string                `json:"content,omitempty"`
	Reasoning string                `json:"reasoning,omitempty"`
	ToolCalls []nativeToolCall      `json:"tool_calls,omitempty"`
	Logprobs  []openai.TokenLogprob `json:"logprobs,omitempty"`
}

type nativeDone struct {
	nativeHead
	FinishReason string      `json:"finish_reason"`
	Usage        nativeUsage `json:"usage"`
}

type nativeError struct {
	nativeHead
	Error openai.ErrorObject `json:"error"`
}

type nativeTranscriptDelta struct {
	nativeHead
	ItemID string `json:"item_id,omitempty"`
	Text   string `json:"text"`
}

type nativeTranscriptDone struct {
	nativeHead
	ItemID   string             `json:"item_id,omitempty"`
	Text     string             `json:"text"`
	Language string             `json:"language,omitempty"`
	Duration float64            `json:"duration"`
	Segments []pipeline.Segment `json:"segments,omitempty"`
	Words    []pipeline.Word    `json:"words,omitempty"`
	Usage    nativeUsage        `json:"usage"`
}

type nativeSpeechStarted struct {
	nativeHead
	ItemID  string `json:"item_id,omitempty"`
	AudioMs int    `json:"audio_start_ms"`
}

type nativeSpeechStopped struct {
	nativeHead
	ItemID  string `json:"item_id,omitempty"`
	AudioMs int    `json:"audio_end_ms"`
}

type nativeAudioChunk struct {
	nativeHead
	Audio string `json:"audio"`
	Rate  int    `json:"rate"`
	Text  string `json:"text,omitempty"`
}

type nativeAudioMark struct {
	nativeHead
	Tag string `json:"tag"`
}

type nativeImageProgress struct {
	nativeHead
	Step    int    `json:"step"`
	Steps   int    `json:"steps"`
	Preview string `json:"preview,omitempty"`
}

type nativeImageDone struct {
	nativeHead
	Images []string    `json:"images"`
	Usage  nativeUsage `json:"usage"`
}

type nativeOther struct {
	nativeHead
	Data any `json:"data"`
}

// EncodeNativeEvent returns the native protocol's JSON for the event with
// sequence number seq: one line of compact JSON (see the table above). It
// fails only for an image that cannot be encoded as PNG or an event of an
// unknown type that encoding/json cannot marshal.
func EncodeNativeEvent(seq uint64, ev pipeline.Event) ([]byte, error) {
	v, err := nativeValue(nativeHead{Type: ev.EventType(), Seq: seq}, ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.EventType(), err)
	}
	b, err := openai.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.EventType(), err)
	}
	return b, nil
}

func nativeValue(h nativeHead, ev pipeline.Event) (any, error) {
	switch e := deref(ev).(type) {
	case pipeline.TextDelta:
		return nativeText(h, e), nil
	case pipeline.Done:
		return nativeDone{nativeHead: h, FinishReason: string(e.Finish), Usage: newNativeUsage(e.Usage)}, nil
	case pipeline.Failed:
		return nativeError{nativeHead: h, Error: openai.NewError(pipeline.ErrorOf(e))}, nil
	case pipeline.TranscriptDelta:
		return nativeTranscriptDelta{nativeHead: h, ItemID: e.ItemID, Text: e.Text}, nil
	case pipeline.TranscriptDone:
		return nativeTranscriptDone{nativeHead: h, ItemID: e.ItemID, Text: e.Text, Language: e.Language,
			Duration: finiteOr0(e.Duration), Segments: e.Segments, Words: e.Words, Usage: newNativeUsage(e.Usage)}, nil
	case pipeline.SpeechStarted:
		return nativeSpeechStarted{nativeHead: h, ItemID: e.ItemID, AudioMs: e.AudioMs}, nil
	case pipeline.SpeechStopped:
		return nativeSpeechStopped{nativeHead: h, ItemID: e.ItemID, AudioMs: e.AudioMs}, nil
	case pipeline.AudioChunk:
		return nativeAudioChunk{nativeHead: h, Audio: base64.StdEncoding.EncodeToString(PCM16(e.Audio.Samples)),
			Rate: e.Audio.Rate, Text: e.Text}, nil
	case pipeline.AudioMark:
		return nativeAudioMark{nativeHead: h, Tag: e.Tag}, nil
	case pipeline.ImageProgress:
		p := nativeImageProgress{nativeHead: h, Step: e.Step, Steps: e.Steps}
		if e.Preview != nil {
			b, err := pngBase64(e.Preview)
			if err != nil {
				return nil, err
			}
			p.Preview = b
		}
		return p, nil
	case pipeline.ImageDone:
		d := nativeImageDone{nativeHead: h, Images: make([]string, 0, len(e.Images)), Usage: newNativeUsage(e.Usage)}
		for _, img := range e.Images {
			b, err := pngBase64(img)
			if err != nil {
				return nil, err
			}
			d.Images = append(d.Images, b)
		}
		return d, nil
	}
	if _, err := json.Marshal(ev); err != nil {
		return nil, err
	}
	return nativeOther{nativeHead: h, Data: ev}, nil
}

// deref turns pointers to event types into values, so both encode alike.
func deref(ev pipeline.Event) pipeline.Event {
	switch e := ev.(type) {
	case *pipeline.TextDelta:
		return *e
	case *pipeline.Done:
		return *e
	case *pipeline.Failed:
		return *e
	case *pipeline.TranscriptDelta:
		return *e
	case *pipeline.TranscriptDone:
		return *e
	case *pipeline.AudioChunk:
		return *e
	}
	return ev
}

func nativeText(h nativeHead, e pipeline.TextDelta) nativeTextDelta {
	d := nativeTextDelta{nativeHead: h, Content: e.Content, Reasoning: e.Reasoning}
	for _, c := range e.ToolCalls {
		d.ToolCalls = append(d.ToolCalls, nativeToolCall(c))
	}
	for _, lp := range e.Logprobs {
		t := openai.NewTokenLogprob(lp)
		t.Logprob = finiteLogprob(t.Logprob)
		for i := range t.TopLogprobs {
			t.TopLogprobs[i].Logprob = finiteLogprob(t.TopLogprobs[i].Logprob)
		}
		d.Logprobs = append(d.Logprobs, t)
	}
	return d
}

// PCM16 converts samples in [-1, 1] to 16-bit signed little-endian PCM,
// clamping values outside the range (NaN becomes silence).
func PCM16(samples []float32) []byte {
	out := make([]byte, 2*len(samples))
	for i, v := range samples {
		f := float64(v)
		switch {
		case math.IsNaN(f):
			f = 0
		case f > 1:
			f = 1
		case f < -1:
			f = -1
		}
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Round(f*32767))))
	}
	return out
}

func pngBase64(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode PNG: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func finiteOr0(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func finiteLogprob(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return openai.MinLogprob
	}
	return f
}
