package realtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ominix/ominix-api/pipeline"
)

// Bounds on the text members of a session update.
const (
	maxEventIDLen = 512 // OpenAI's schema bound
	maxModelLen   = 256
	maxLangLen    = 64
	maxPromptLen  = 16 << 10
)

// ClientEvent is one decoded client event. Only the members of its Type
// are set.
type ClientEvent struct {
	Type    string
	EventID string
	// Session is the normalized configuration of session.update and
	// transcription_session.update.
	Session *SessionUpdate
	// Audio is the decoded payload of input_audio_buffer.append.
	Audio []byte
	// Raw is the whole event as received.
	Raw json.RawMessage
	// Item and PreviousItemID are conversation.item.create's members
	// (PreviousItemID "" appends, "root" inserts first).
	Item           *ItemParams
	PreviousItemID string
	// ItemID, ContentIndex and AudioEndMs are the members of
	// conversation.item.truncate (ItemID also of .delete and .retrieve).
	ItemID       string
	ContentIndex int
	AudioEndMs   int64
	// Response is response.create's "response" (defaults when absent).
	Response *ResponseParams
	// ResponseID is response.cancel's optional response_id.
	ResponseID string
}

// SessionUpdate is a session configuration change in either dialect,
// normalized. Nil members (and false Set flags) leave the setting as it is.
type SessionUpdate struct {
	// Beta is set when the update used the beta shape: flat members
	// (input_audio_format, input_audio_transcription, turn_detection).
	Beta bool
	// Type is session.type ("transcription" or "realtime"); a beta
	// transcription_session.update reports "transcription", a beta
	// session.update "realtime".
	Type          string
	Format        *InputFormat
	Transcription *Transcription
	// TurnDetectionSet reports that turn_detection was given; a nil
	// TurnDetection then means null: the client commits turns itself.
	TurnDetectionSet bool
	TurnDetection    *TurnDetectionGA
	// NoiseReductionSet reports that noise reduction was given (nil: off).
	NoiseReductionSet bool
	NoiseReduction    *NoiseReduction
	Include           []string

	// Members of conversation sessions (session.type "realtime", or a beta
	// session.update); nil leaves the setting as it is.
	Realtime *RealtimeUpdate
}

// RealtimeUpdate holds the members of a conversation session's update, in
// either dialect, normalized. Nil members leave the setting as it is.
type RealtimeUpdate struct {
	// Modalities is output_modalities (GA) or modalities (beta).
	Modalities   []string
	Instructions *string
	OutputFormat *InputFormat
	Voice        *string
	Speed        *float64
	// MaxOutputTokens is max_output_tokens (GA) or
	// max_response_output_tokens (beta); 0 means "inf".
	MaxOutputTokens *int
	Temperature     *float64
	// CreateResponse and InterruptResponse are turn_detection's members.
	CreateResponse    *bool
	InterruptResponse *bool
	// TranscriptionOff is set when the transcription member
	// (audio.input.transcription, beta input_audio_transcription) is null:
	// the session sends no input transcription events (the turns are
	// still recognized, for the LLM). A transcription object turns them
	// back on.
	TranscriptionOff bool
	Tools            *[]pipeline.Tool
	ToolChoice       *pipeline.ToolChoice
}

// InputFormat is the input audio encoding: FormatPCM (16-bit little-endian
// at Rate), FormatPCMU or FormatPCMA (8 kHz G.711).
type InputFormat struct {
	Type string
	Rate int
}

// ProtocolError is a client event the server cannot act on. It becomes an
// "error" server event; the connection stays open.
type ProtocolError struct {
	Code    string
	Message string
	Param   string
	// EventID is the client event's event_id, when it could be read.
	EventID string
}

func (e *ProtocolError) Error() string { return e.Message }

func protoErr(code, param, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// ParseClientEvent decodes one client event (a WebSocket text message).
// Malformed JSON, a missing or unknown type and members of the wrong type
// or out of range fail with a *ProtocolError naming the member (its Param)
// and carrying the event's event_id when that much could be read. Members
// this server does not use are ignored. It is safe for concurrent use.
func ParseClientEvent(data []byte) (ClientEvent, *ProtocolError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return ClientEvent{}, protoErr(CodeInvalidJSON, "", "The message is not a JSON object: %s", jsonProblem(err))
	}
	ev := ClientEvent{Raw: json.RawMessage(data)}
	if raw, ok := m["event_id"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &ev.EventID); err != nil {
			return ClientEvent{}, protoErr(CodeInvalidType, "event_id", "Invalid type for 'event_id': expected a string.")
		}
		if len(ev.EventID) > maxEventIDLen {
			return ClientEvent{}, protoErr(CodeInvalidValue, "event_id", "'event_id' is longer than %d characters.", maxEventIDLen)
		}
	}
	perr := ev.decode(m)
	if perr != nil {
		perr.EventID = ev.EventID
		return ClientEvent{}, perr
	}
	return ev, nil
}

func (ev *ClientEvent) decode(m map[string]json.RawMessage) *ProtocolError {
	raw, ok := m["type"]
	if !ok || isNull(raw) {
		return protoErr(CodeMissingParameter, "type", "Missing required parameter: 'type'.")
	}
	if err := json.Unmarshal(raw, &ev.Type); err != nil {
		return protoErr(CodeInvalidType, "type", "Invalid type for 'type': expected a string.")
	}
	switch ev.Type {
	case EventInputAudioBufferAppend:
		return ev.decodeAppend(m["audio"])
	case EventInputAudioBufferCommit, EventInputAudioBufferClear:
		return nil
	case EventSessionUpdate:
		s, perr := decodeSession(m["session"], false)
		ev.Session = s
		return perr
	case EventTranscriptionSessionUpdate:
		s, perr := decodeSession(m["session"], true)
		ev.Session = s
		return perr
	}
	if conversationEvents[ev.Type] {
		return ev.decodeConversationEvent(m)
	}
	return protoErr(CodeInvalidValue, "type", "Invalid value: '%s'. Supported values are: '%s'.",
		clip(ev.Type, 64), strings.Join(supportedTypes(), "', '"))
}

func supportedTypes() []string {
	return []string{EventSessionUpdate, EventTranscriptionSessionUpdate, EventInputAudioBufferAppend,
		EventInputAudioBufferCommit, EventInputAudioBufferClear, EventConversationItemCreate,
		EventConversationItemDelete, EventConversationItemRetrieve, EventConversationItemTruncate,
		EventResponseCreate, EventResponseCancel}
}

func (ev *ClientEvent) decodeAppend(raw json.RawMessage) *ProtocolError {
	if raw == nil || isNull(raw) {
		return protoErr(CodeMissingParameter, "audio", "Missing required parameter: 'audio'.")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return protoErr(CodeInvalidType, "audio", "Invalid type for 'audio': expected a base64-encoded string.")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return protoErr(CodeInvalidValue, "audio", "Invalid 'audio': not valid base64 (%v).", err)
	}
	ev.Audio = b
	return nil
}

// gaSession is the GA session.update "session" member.
type gaSession struct {
	Type  *string `json:"type"`
	Audio *struct {
		Input *struct {
			Format         json.RawMessage `json:"format"`
			Transcription  json.RawMessage `json:"transcription"`
			TurnDetection  json.RawMessage `json:"turn_detection"`
			NoiseReduction json.RawMessage `json:"noise_reduction"`
		} `json:"input"`
		Output *struct {
			Format json.RawMessage `json:"format"`
			Voice  json.RawMessage `json:"voice"`
			Speed  json.RawMessage `json:"speed"`
		} `json:"output"`
	} `json:"audio"`
	Include          []string        `json:"include"`
	OutputModalities json.RawMessage `json:"output_modalities"`
	Instructions     json.RawMessage `json:"instructions"`
	MaxOutputTokens  json.RawMessage `json:"max_output_tokens"`
	Tools            json.RawMessage `json:"tools"`
	ToolChoice       json.RawMessage `json:"tool_choice"`
}

// betaSession is transcription_session.update's "session" member.
type betaSession struct {
	InputAudioFormat         json.RawMessage `json:"input_audio_format"`
	InputAudioTranscription  json.RawMessage `json:"input_audio_transcription"`
	TurnDetection            json.RawMessage `json:"turn_detection"`
	InputAudioNoiseReduction json.RawMessage `json:"input_audio_noise_reduction"`
	Include                  []string        `json:"include"`
}

func decodeSession(raw json.RawMessage, beta bool) (*SessionUpdate, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, protoErr(CodeMissingParameter, "session", "Missing required parameter: 'session'.")
	}
	if !isObject(raw) {
		return nil, protoErr(CodeInvalidType, "session", "Invalid type for 'session': expected an object.")
	}
	if beta {
		var b betaSession
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, typeError("session", err)
		}
		return b.normalize()
	}
	var g gaSession
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, typeError("session", err)
	}
	if g.Type == nil {
		// A beta conversation session.update has no type; it configures a
		// conversation ("realtime") session with flat members.
		var b betaRealtimeSession
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, typeError("session", err)
		}
		return b.normalize()
	}
	return g.normalize()
}

func (g *gaSession) normalize() (*SessionUpdate, *ProtocolError) {
	u := &SessionUpdate{Type: *g.Type}
	switch u.Type {
	case SessionTranscription, SessionRealtime:
	default:
		return nil, protoErr(CodeInvalidValue, "session.type", "Invalid value: '%s'. Supported values are: 'transcription' and 'realtime'.", clip(u.Type, 64))
	}
	if err := checkInclude("session.include", g.Include); err != nil {
		return nil, err
	}
	u.Include = g.Include
	if g.Audio == nil || g.Audio.Input == nil {
		if u.Type == SessionRealtime {
			if perr := g.realtime(u, turnFlags{}); perr != nil {
				return nil, perr
			}
		}
		return u, nil
	}
	in := g.Audio.Input
	const p = "session.audio.input."
	var perr *ProtocolError
	if u.Format, perr = decodeFormatGA(p+"format", in.Format); perr != nil {
		return nil, perr
	}
	if u.Transcription, perr = decodeTranscription(p+"transcription", in.Transcription); perr != nil {
		return nil, perr
	}
	var flags turnFlags
	if in.TurnDetection != nil {
		u.TurnDetectionSet = true
		if u.TurnDetection, flags, perr = decodeTurnDetection(p+"turn_detection", in.TurnDetection); perr != nil {
			return nil, perr
		}
	}
	if in.NoiseReduction != nil {
		u.NoiseReductionSet = true
		if u.NoiseReduction, perr = decodeNoiseReduction(p+"noise_reduction", in.NoiseReduction); perr != nil {
			return nil, perr
		}
	}
	if u.Type == SessionRealtime {
		if perr := g.realtime(u, flags); perr != nil {
			return nil, perr
		}
	}
	return u, nil
}

func (b *betaSession) normalize() (*SessionUpdate, *ProtocolError) {
	u := &SessionUpdate{Beta: true, Type: SessionTranscription}
	if err := checkInclude("session.include", b.Include); err != nil {
		return nil, err
	}
	u.Include = b.Include
	var perr *ProtocolError
	if u.Format, perr = decodeFormatBeta("session.input_audio_format", b.InputAudioFormat); perr != nil {
		return nil, perr
	}
	if u.Transcription, perr = decodeTranscription("session.input_audio_transcription", b.InputAudioTranscription); perr != nil {
		return nil, perr
	}
	if b.TurnDetection != nil {
		u.TurnDetectionSet = true
		if u.TurnDetection, _, perr = decodeTurnDetection("session.turn_detection", b.TurnDetection); perr != nil {
			return nil, perr
		}
	}
	if b.InputAudioNoiseReduction != nil {
		u.NoiseReductionSet = true
		if u.NoiseReduction, perr = decodeNoiseReduction("session.input_audio_noise_reduction", b.InputAudioNoiseReduction); perr != nil {
			return nil, perr
		}
	}
	return u, nil
}

func decodeFormatGA(param string, raw json.RawMessage) (*InputFormat, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var f struct {
		Type *string `json:"type"`
		Rate *int    `json:"rate"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, typeError(param, err)
	}
	if f.Type == nil {
		return nil, protoErr(CodeMissingParameter, param+".type", "Missing required parameter: '%s.type'.", param)
	}
	switch *f.Type {
	case FormatPCM:
		rate := defaultInputRate
		if f.Rate != nil {
			rate = *f.Rate
		}
		if rate < minPCMRate || rate > maxPCMRate {
			return nil, protoErr(CodeInvalidValue, param+".rate", "Invalid '%s.rate': %d Hz is outside %d to %d Hz.", param, rate, minPCMRate, maxPCMRate)
		}
		return &InputFormat{Type: FormatPCM, Rate: rate}, nil
	case FormatPCMU, FormatPCMA:
		return &InputFormat{Type: *f.Type, Rate: g711Rate}, nil
	}
	return nil, protoErr(CodeInvalidValue, param+".type", "Invalid value: '%s'. Supported values are: 'audio/pcm', 'audio/pcmu' and 'audio/pcma'.", clip(*f.Type, 64))
}

func decodeFormatBeta(param string, raw json.RawMessage) (*InputFormat, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected a string.", param)
	}
	switch s {
	case BetaPCM16:
		return &InputFormat{Type: FormatPCM, Rate: defaultInputRate}, nil
	case BetaULaw:
		return &InputFormat{Type: FormatPCMU, Rate: g711Rate}, nil
	case BetaALaw:
		return &InputFormat{Type: FormatPCMA, Rate: g711Rate}, nil
	}
	return nil, protoErr(CodeInvalidValue, param, "Invalid value: '%s'. Supported values are: 'pcm16', 'g711_ulaw' and 'g711_alaw'.", clip(s, 64))
}

func decodeTranscription(param string, raw json.RawMessage) (*Transcription, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var t Transcription
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, typeError(param, err)
	}
	switch {
	case len(t.Model) > maxModelLen:
		return nil, protoErr(CodeInvalidValue, param+".model", "'%s.model' is longer than %d characters.", param, maxModelLen)
	case len(t.Language) > maxLangLen:
		return nil, protoErr(CodeInvalidValue, param+".language", "'%s.language' is longer than %d characters.", param, maxLangLen)
	case len(t.Prompt) > maxPromptLen:
		return nil, protoErr(CodeInvalidValue, param+".prompt", "'%s.prompt' is longer than %d bytes.", param, maxPromptLen)
	}
	return &t, nil
}

// turnFlags are turn_detection's members for conversation sessions.
type turnFlags struct {
	create, interrupt *bool
}

// decodeTurnDetection reads server_vad's configuration (nil for null)
// and, for conversation sessions, create_response and interrupt_response.
func decodeTurnDetection(param string, raw json.RawMessage) (*TurnDetectionGA, turnFlags, *ProtocolError) {
	var flags turnFlags
	if isNull(raw) {
		return nil, flags, nil
	}
	var td struct {
		Type              *string  `json:"type"`
		Threshold         *float64 `json:"threshold"`
		PrefixPaddingMs   *int     `json:"prefix_padding_ms"`
		SilenceDurationMs *int     `json:"silence_duration_ms"`
		CreateResponse    *bool    `json:"create_response"`
		InterruptResponse *bool    `json:"interrupt_response"`
	}
	if err := json.Unmarshal(raw, &td); err != nil {
		return nil, flags, typeError(param, err)
	}
	flags = turnFlags{create: td.CreateResponse, interrupt: td.InterruptResponse}
	t := &TurnDetectionGA{Type: TurnServerVAD, Threshold: defaultVADThreshold,
		PrefixPaddingMs: defaultVADPrefixPaddingMs, SilenceDurationMs: defaultVADSilenceMs}
	if td.Type != nil && *td.Type != TurnServerVAD {
		if *td.Type == TurnSemanticVAD {
			return nil, flags, protoErr(CodeInvalidValue, param+".type", "Turn detection 'semantic_vad' is not available on this server; use 'server_vad' or null.")
		}
		return nil, flags, protoErr(CodeInvalidValue, param+".type", "Invalid value: '%s'. Supported values are: 'server_vad'.", clip(*td.Type, 64))
	}
	if td.Threshold != nil {
		if !(*td.Threshold >= 0 && *td.Threshold <= 1) {
			return nil, flags, protoErr(CodeInvalidValue, param+".threshold", "Invalid '%s.threshold': %v is outside 0 to 1.", param, *td.Threshold)
		}
		t.Threshold = *td.Threshold
	}
	if td.PrefixPaddingMs != nil {
		if *td.PrefixPaddingMs < 0 || *td.PrefixPaddingMs > 10000 {
			return nil, flags, protoErr(CodeInvalidValue, param+".prefix_padding_ms", "Invalid '%s.prefix_padding_ms': %d is outside 0 to 10000.", param, *td.PrefixPaddingMs)
		}
		t.PrefixPaddingMs = *td.PrefixPaddingMs
	}
	if td.SilenceDurationMs != nil {
		if *td.SilenceDurationMs < 1 || *td.SilenceDurationMs > 10000 {
			return nil, flags, protoErr(CodeInvalidValue, param+".silence_duration_ms", "Invalid '%s.silence_duration_ms': %d is outside 1 to 10000.", param, *td.SilenceDurationMs)
		}
		t.SilenceDurationMs = *td.SilenceDurationMs
	}
	return t, flags, nil
}

func decodeNoiseReduction(param string, raw json.RawMessage) (*NoiseReduction, *ProtocolError) {
	if isNull(raw) {
		return nil, nil
	}
	var n NoiseReduction
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, typeError(param, err)
	}
	if n.Type != "near_field" && n.Type != "far_field" {
		return nil, protoErr(CodeInvalidValue, param+".type", "Invalid value: '%s'. Supported values are: 'near_field' and 'far_field'.", clip(n.Type, 64))
	}
	return &n, nil
}

func checkInclude(param string, include []string) *ProtocolError {
	for _, s := range include {
		if s != "item.input_audio_transcription.logprobs" {
			return protoErr(CodeInvalidValue, param, "Invalid value: '%s'. Supported values are: 'item.input_audio_transcription.logprobs'.", clip(s, 64))
		}
	}
	return nil
}

// typeError turns a decoding error of the member at param into a
// ProtocolError naming the innermost member at fault.
func typeError(param string, err error) *ProtocolError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := param
		if te.Field != "" {
			p += "." + te.Field
		}
		return protoErr(CodeInvalidType, p, "Invalid type for '%s': expected %s.", p, jsonKind(te.Type.Kind().String()))
	}
	return protoErr(CodeInvalidValue, param, "Invalid '%s': %s.", param, jsonProblem(err))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	}
	return "an object"
}

func jsonProblem(err error) string {
	if err == nil {
		return "null"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected an object, got " + te.Value
	}
	return err.Error()
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// clip shortens client-supplied text quoted in error messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
