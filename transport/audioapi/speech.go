package audioapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/ominix/ominix-api/pipeline"
)

// Speech stream formats.
const (
	StreamAudio = "audio"
	StreamSSE   = "sse"
)

// MaxSpeechInput is the longest input, in characters, OpenAI's speech
// endpoint accepts (and so do we).
const MaxSpeechInput = 4096

// CodeVoiceCloning is the error code of requests that need a voice-cloning
// engine when none is loaded.
const CodeVoiceCloning = "voice_cloning_unavailable"

// SpeechRequest is a validated POST /v1/audio/speech body.
type SpeechRequest struct {
	Model string
	Input string
	// Voice is the voice as given ("" when the request named none).
	Voice string
	// Instructions are accepted and ignored by engines that cannot follow
	// them.
	Instructions string
	// ResponseFormat defaults to mp3, as OpenAI's.
	ResponseFormat pipeline.AudioFormat
	// Speed is 0.25..4; 1 by default.
	Speed float64
	// StreamFormat is StreamAudio (raw audio bytes, the default) or
	// StreamSSE (speech.audio.delta events).
	StreamFormat string
	// CloneParam names the member that asks for a cloned voice: the seed's
	// "reference_audio", or "voice" for an OpenAI custom voice object
	// ({"id": "voice_…"}); "" when none does.
	CloneParam string
}

type speechBody struct {
	Model          string          `json:"model"`
	Input          *string         `json:"input"`
	Voice          json.RawMessage `json:"voice"`
	Instructions   string          `json:"instructions"`
	ResponseFormat string          `json:"response_format"`
	Speed          *float64        `json:"speed"`
	StreamFormat   string          `json:"stream_format"`
	ReferenceAudio json.RawMessage `json:"reference_audio"`
}

// ParseSpeechRequest decodes and validates a speech request body. Every
// failure is a KindInvalid *pipeline.Error naming the member: missing or
// empty input, input over MaxSpeechInput characters, speed outside
// 0.25..4, an unknown response_format or stream_format, and aac (no AAC
// encoder is built in). Unknown members are ignored.
func ParseSpeechRequest(body []byte) (*SpeechRequest, error) {
	var b speechBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, pipeline.Invalid("", "The request body is not valid JSON for this endpoint: %s.", clip(err.Error(), 200))
	}
	req := &SpeechRequest{Model: b.Model, Instructions: b.Instructions, Speed: 1,
		ResponseFormat: pipeline.AudioFormat(b.ResponseFormat), StreamFormat: b.StreamFormat}
	if b.Input == nil {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "input", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'input'."}
	}
	req.Input = *b.Input
	if err := req.setVoice(b.Voice); err != nil {
		return nil, err
	}
	if len(b.ReferenceAudio) > 0 && !isJSONNull(b.ReferenceAudio) && string(b.ReferenceAudio) != `""` {
		req.CloneParam = "reference_audio"
	}
	if b.Speed != nil {
		req.Speed = *b.Speed
	}
	return req, req.validate()
}

// setVoice accepts a voice name or OpenAI's custom voice object {"id": …}.
func (req *SpeechRequest) setVoice(raw json.RawMessage) error {
	if len(raw) == 0 || isJSONNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, &req.Voice); err == nil {
		req.Voice = strings.TrimSpace(req.Voice)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.ID == "" {
		return pipeline.Invalid("voice", "Invalid 'voice': expected a voice name or {\"id\": \"voice_…\"}.")
	}
	req.Voice, req.CloneParam = obj.ID, "voice"
	return nil
}

func (req *SpeechRequest) validate() error {
	n := utf8.RuneCountInString(req.Input)
	switch {
	case strings.TrimSpace(req.Input) == "":
		return pipeline.Invalid("input", "'input' is empty: give the text to speak.")
	case n > MaxSpeechInput:
		return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "input", Code: "string_above_max_length",
			Message: "'input' is longer than 4096 characters; split the text into several requests."}
	case utf8.RuneCountInString(req.Instructions) > MaxSpeechInput:
		return pipeline.Invalid("instructions", "'instructions' is longer than 4096 characters.")
	case !(req.Speed >= 0.25 && req.Speed <= 4):
		return pipeline.Invalid("speed", "Invalid 'speed': %v is outside 0.25 to 4.", req.Speed)
	case len(req.Voice) > 256:
		return pipeline.Invalid("voice", "'voice' is longer than 256 characters.")
	}
	switch req.ResponseFormat {
	case "":
		req.ResponseFormat = pipeline.FormatMP3
	case pipeline.FormatMP3, pipeline.FormatOpus, pipeline.FormatFLAC, pipeline.FormatWAV, pipeline.FormatPCM:
	case pipeline.FormatAAC:
		return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "response_format", Code: "unsupported_format",
			Message: "response_format 'aac' is not supported by this server (no AAC encoder is built in); use mp3, opus, flac, wav or pcm."}
	default:
		return pipeline.Invalid("response_format", "Invalid value: '%s'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav' and 'pcm'.", clip(string(req.ResponseFormat), 32))
	}
	switch req.StreamFormat {
	case "":
		req.StreamFormat = StreamAudio
	case StreamAudio, StreamSSE:
	default:
		return pipeline.Invalid("stream_format", "Invalid value: '%s'. Supported values are: 'sse' and 'audio'.", clip(req.StreamFormat, 32))
	}
	return nil
}

// CloneVoice reports whether a voice string names reference audio or a
// cloned voice rather than a built-in voice: an OpenAI custom voice id
// ("voice_…"), the seed's "ref:…" and "clone:…" forms, or a path to an
// audio file. Case and surrounding space are ignored.
func CloneVoice(voice string) bool {
	v := strings.ToLower(strings.TrimSpace(voice))
	for _, p := range []string{"voice_", "ref:", "clone:"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	for _, ext := range []string{".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".webm"} {
		if strings.HasSuffix(v, ext) {
			return true
		}
	}
	return false
}

// ErrNoCloning is the answer to a request for a cloned voice when no
// voice-cloning engine is loaded (HTTP 400, code voice_cloning_unavailable).
func ErrNoCloning(param string) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: CodeVoiceCloning,
		Message: "Voice cloning is not available: no voice-cloning TTS engine is loaded, so reference audio cannot be used. " +
			"Use one of the built-in voices (see the 'voice' values in the documentation)."}
}

// CheckVoice validates a requested voice against the synthesizer's voices
// (compared ignoring case). refAudio is the server's configured reference
// audio (TTS_REF_AUDIO): when set, a request that names no voice asks for
// that cloned voice. Cloned voices fail with ErrNoCloning, unknown ones
// with a KindInvalid error (param voice) listing the voices.
func CheckVoice(req *SpeechRequest, voices []string, refAudio string) error {
	switch {
	case req.CloneParam != "":
		return ErrNoCloning(req.CloneParam)
	case CloneVoice(req.Voice):
		return ErrNoCloning("voice")
	case req.Voice == "" && refAudio != "":
		return ErrNoCloning("voice")
	case req.Voice == "":
		return nil
	}
	for _, v := range voices {
		if strings.EqualFold(v, req.Voice) {
			return nil
		}
	}
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "voice", Code: "invalid_value",
		Message: "Unknown voice '" + clip(req.Voice, 64) + "'. Supported voices: " + strings.Join(voices, ", ") + "."}
}

func isJSONNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }
