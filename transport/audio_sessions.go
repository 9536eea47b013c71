package transport

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/audioapi"
)

// Native session types of the audio routes (POST /v1/sessions).
//
// "transcription": request (a language the recognizer lacks is a 400,
// param request.language, code unsupported_language)
//
//	{"language", "prompt", "words": bool,
//	 "format": "pcm16" (default) | "g711_ulaw" | "g711_alaw",
//	 "rate": 24000 (pcm16 only; 8000..48000),
//	 "turn_detection": {"type": "server_vad", "threshold", "prefix_padding_ms",
//	                    "silence_duration_ms"} (the default) | null}
//
// Audio goes in over the session's WebSocket as binary messages (raw bytes
// in the format) or as text messages {"type": "input_audio_buffer.append",
// "audio": base64}; {"type": "input_audio_buffer.commit"} ends the current
// utterance (needed with turn_detection null; with server_vad each turn
// ends by itself), {"type": "input_audio_buffer.end"} ends the session
// after the audio sent so far. Events out (SSE or WebSocket, see native.go):
// speech.started / speech.stopped (server_vad), transcript.delta (the whole
// current hypothesis), transcript.done per utterance, done.
//
// "speech": request {"input", "voice", "speed", "instructions",
// "keep_open": bool}. The input is spoken and the session ends, unless
// keep_open is set: then text messages {"type": "input_text", "text"} add
// text, {"type": "flush", "voice": optional} speaks what is pending (an
// audio.mark event follows its audio; a voice given applies to later
// text), {"type": "end"} ends the session after the text sent. Events out:
// audio.chunk (base64 16-bit PCM with its rate) per clause, audio.mark,
// done with usage.

const (
	nativeTranscriptionMaxMessage = 1 << 20
	nativeDefaultRate             = 24000
)

type transcriptionSessionRequest struct {
	Language      string          `json:"language"`
	Prompt        string          `json:"prompt"`
	Words         bool            `json:"words"`
	Format        string          `json:"format"`
	Rate          int             `json:"rate"`
	TurnDetection json.RawMessage `json:"turn_detection"`
}

// nativeTranscription is the input side of a "transcription" session,
// attached to it. Its methods are safe for concurrent use (several
// WebSocket clients may send audio to one session).
type nativeTranscription struct {
	mu     sync.Mutex
	sess   *sessions.Session
	tr     *pipeline.Transcription
	format string
	rate   int
	carry  []byte
	rs     *dsp.Resampler // nil when rate equals the recognizer's
	turns  *audioapi.Turns
	open   string // the item receiving audio
	err    error  // the first Push failure
}

func (s *Server) startTranscriptionSession(_ *http.Request, sess *sessions.Session, request json.RawMessage) error {
	var req transcriptionSessionRequest
	if len(request) > 0 && string(request) != "null" {
		if err := json.Unmarshal(request, &req); err != nil {
			return pipeline.Invalid("request", "Invalid 'request': %s.", clip(err.Error(), 200))
		}
	}
	nt, err := newNativeTranscription(req)
	if err != nil {
		return err
	}
	if err := pipeline.CheckLanguage(s.asrLanguages(), "request.language", req.Language); err != nil {
		return err
	}
	tr, err := s.deps.Scheduler.Transcribe(sess.Context(), pipeline.TranscribeOptions{
		Language: req.Language, Prompt: req.Prompt, Words: req.Words}, sess)
	if err != nil {
		return err
	}
	sess.Started()
	nt.sess, nt.tr = sess, tr
	if nt.rate != tr.Rate() {
		if nt.rs, err = dsp.NewResampler(nt.rate, tr.Rate()); err != nil {
			tr.Close()
			return err
		}
	}
	sess.Attach(nt)
	return nil
}

func newNativeTranscription(req transcriptionSessionRequest) (*nativeTranscription, error) {
	nt := &nativeTranscription{format: req.Format, rate: req.Rate}
	switch nt.format {
	case "", "pcm16":
		nt.format = "pcm16"
		if nt.rate == 0 {
			nt.rate = nativeDefaultRate
		}
		if nt.rate < 8000 || nt.rate > 48000 {
			return nil, pipeline.Invalid("request.rate", "Invalid 'rate': %d is outside 8000 to 48000.", nt.rate)
		}
	case "g711_ulaw", "g711_alaw":
		nt.rate = 8000
	default:
		return nil, pipeline.Invalid("request.format", "Invalid value: '%s'. Supported values are: 'pcm16', 'g711_ulaw' and 'g711_alaw'.", clip(nt.format, 32))
	}
	if len(req.Language) > 64 || len(req.Prompt) > 16<<10 {
		return nil, pipeline.Invalid("request", "'language' or 'prompt' is too long.")
	}
	if string(req.TurnDetection) == "null" {
		return nt, nil
	}
	vad := dsp.DefaultVADOptions()
	if len(req.TurnDetection) > 0 {
		var td struct {
			Type              string   `json:"type"`
			Threshold         *float64 `json:"threshold"`
			PrefixPaddingMs   *int     `json:"prefix_padding_ms"`
			SilenceDurationMs *int     `json:"silence_duration_ms"`
		}
		if err := json.Unmarshal(req.TurnDetection, &td); err != nil || (td.Type != "" && td.Type != "server_vad") {
			return nil, pipeline.Invalid("request.turn_detection", "Invalid 'turn_detection': use null or {\"type\": \"server_vad\", …}.")
		}
		if td.Threshold != nil {
			vad.Threshold = *td.Threshold
		}
		if td.PrefixPaddingMs != nil {
			vad.PrefixPaddingMs = *td.PrefixPaddingMs
		}
		if td.SilenceDurationMs != nil {
			vad.SilenceDurationMs = *td.SilenceDurationMs
		}
	}
	vad.MaxSpeechMs = 60_000
	turns, err := audioapi.NewTurns(nt.rate, vad)
	if err != nil {
		return nil, pipeline.Invalid("request.turn_detection", "Invalid 'turn_detection': %v.", err)
	}
	nt.turns = turns
	return nt, nil
}

type nativeAudioMessage struct {
	Type  string `json:"type"`
	Audio string `json:"audio"`
}

// transcriptionInput handles a client message of a "transcription" session.
func (s *Server) transcriptionInput(_ context.Context, sess *sessions.Session, typ websocket.MessageType, data []byte) error {
	nt, ok := sess.Attached().(*nativeTranscription)
	if !ok {
		return pipeline.Invalid("", "This session takes no input.")
	}
	if typ == websocket.MessageBinary {
		return nt.append(data)
	}
	var m nativeAudioMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return pipeline.Invalid("", "Send audio as binary messages or JSON events with a \"type\".")
	}
	switch m.Type {
	case "input_audio_buffer.append":
		b, err := base64.StdEncoding.DecodeString(m.Audio)
		if err != nil {
			return pipeline.Invalid("audio", "Invalid 'audio': not valid base64.")
		}
		return nt.append(b)
	case "input_audio_buffer.commit":
		nt.commit()
		return nil
	case "input_audio_buffer.end":
		nt.end()
		return nil
	}
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "type", Code: "invalid_value",
		Message: fmt.Sprintf("Unknown message type %q; use input_audio_buffer.append, .commit or .end (or send binary audio).", clip(m.Type, 64))}
}

func (nt *nativeTranscription) decode(b []byte) []float32 {
	switch nt.format {
	case "g711_ulaw":
		return dsp.AppendMuLaw(nil, b)
	case "g711_alaw":
		return dsp.AppendALaw(nil, b)
	}
	if len(nt.carry) > 0 {
		b = append(nt.carry, b...)
		nt.carry = nil
	}
	n := len(b) &^ 1
	if n < len(b) {
		nt.carry = []byte{b[n]}
	}
	return dsp.AppendS16LE(nil, b[:n])
}

func (nt *nativeTranscription) append(b []byte) error {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	s := nt.decode(b)
	if nt.turns != nil {
		nt.turns.Feed(s, nt)
	} else {
		if nt.open == "" {
			nt.begin()
		}
		nt.push(s)
	}
	err := nt.err
	nt.err = nil
	return err
}

func (nt *nativeTranscription) begin() {
	nt.open = pipeline.NewID("item_")
	if nt.rs != nil {
		nt.rs.Reset()
	}
	nt.tr.Item(nt.open)
}

func (nt *nativeTranscription) push(s []float32) {
	if nt.rs != nil {
		s = nt.rs.Process(nil, s)
	}
	if err := nt.tr.Push(s); err != nil && nt.err == nil {
		nt.err = err
	}
}

func (nt *nativeTranscription) finishItem() {
	if nt.open == "" {
		return
	}
	if nt.rs != nil {
		nt.push(nt.rs.Flush(nil))
	}
	nt.tr.Commit()
	nt.open = ""
}

func (nt *nativeTranscription) commit() {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if nt.turns != nil {
		nt.turns.End(nt)
		return
	}
	nt.finishItem()
}

func (nt *nativeTranscription) end() {
	nt.commit()
	nt.tr.Close()
}

// TurnStarted, TurnAudio and TurnStopped make server_vad turns items and
// report them as speech.started / speech.stopped events; nt.mu is held.
func (nt *nativeTranscription) TurnStarted(ev audioapi.TurnEvent) {
	nt.begin()
	nt.sess.Emit(pipeline.SpeechStarted{ItemID: nt.open, AudioMs: int(ev.Ms)})
}

func (nt *nativeTranscription) TurnAudio(s []float32) {
	if nt.open != "" {
		nt.push(s)
	}
}

func (nt *nativeTranscription) TurnStopped(ev audioapi.TurnEvent) {
	if nt.open == "" {
		return
	}
	nt.sess.Emit(pipeline.SpeechStopped{ItemID: nt.open, AudioMs: int(ev.Ms)})
	nt.finishItem()
}

type speechSessionRequest struct {
	Input        string   `json:"input"`
	Voice        string   `json:"voice"`
	Speed        *float64 `json:"speed"`
	Instructions string   `json:"instructions"`
	KeepOpen     bool     `json:"keep_open"`
}

// nativeSpeech is the input side of a "speech" session.
type nativeSpeech struct {
	mu   sync.Mutex
	s    *Server
	syn  *pipeline.Synthesis
	opts pipeline.SpeechOptions
	n    int
}

func (s *Server) startSpeechSession(_ *http.Request, sess *sessions.Session, request json.RawMessage) error {
	var req speechSessionRequest
	if len(request) > 0 && string(request) != "null" {
		if err := json.Unmarshal(request, &req); err != nil {
			return pipeline.Invalid("request", "Invalid 'request': %s.", clip(err.Error(), 200))
		}
	}
	sr := &audioapi.SpeechRequest{Voice: strings.TrimSpace(req.Voice), Speed: 1}
	if req.Speed != nil {
		sr.Speed = *req.Speed
	}
	switch {
	case !(sr.Speed >= 0.25 && sr.Speed <= 4):
		return pipeline.Invalid("request.speed", "Invalid 'speed': %v is outside 0.25 to 4.", sr.Speed)
	case utf8.RuneCountInString(req.Input) > audioapi.MaxSpeechInput:
		return pipeline.Invalid("request.input", "'input' is longer than %d characters.", audioapi.MaxSpeechInput)
	case strings.TrimSpace(req.Input) == "" && !req.KeepOpen:
		return pipeline.Invalid("request.input", "'input' is empty: give the text to speak, or set keep_open to send it later.")
	}
	if err := s.checkVoice(sr); err != nil {
		return underRequest(err)
	}
	opts := pipeline.SpeechOptions{Voice: sr.Voice, Speed: sr.Speed, Instructions: req.Instructions}
	syn, err := s.deps.Scheduler.Speak(sess.Context(), opts, sess)
	if err != nil {
		return err
	}
	sess.Started()
	sess.Attach(&nativeSpeech{s: s, syn: syn, opts: opts})
	if req.Input != "" {
		if err := syn.Push(req.Input); err != nil {
			syn.Close()
			return err
		}
	}
	if !req.KeepOpen {
		syn.Close()
	}
	return nil
}

type nativeSpeechMessage struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Voice string `json:"voice"`
}

// speechInput handles a client message of a "speech" session.
func (s *Server) speechInput(_ context.Context, sess *sessions.Session, typ websocket.MessageType, data []byte) error {
	ns, ok := sess.Attached().(*nativeSpeech)
	var m nativeSpeechMessage
	if !ok || typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
		return pipeline.Invalid("", "Send JSON text messages: input_text, flush or end.")
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch m.Type {
	case "input_text":
		if utf8.RuneCountInString(m.Text) > audioapi.MaxSpeechInput {
			return pipeline.Invalid("text", "'text' is longer than %d characters.", audioapi.MaxSpeechInput)
		}
		return ns.syn.Push(m.Text)
	case "flush":
		next := ns.opts
		if v := strings.TrimSpace(m.Voice); v != "" {
			if err := ns.s.checkVoice(&audioapi.SpeechRequest{Voice: v}); err != nil {
				return err
			}
			next.Voice = v
		}
		ns.n++
		ns.syn.Mark(fmt.Sprintf("flush:%d", ns.n), next)
		ns.opts = next
		return nil
	case "end":
		ns.syn.Close()
		return nil
	}
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "type", Code: "invalid_value",
		Message: fmt.Sprintf("Unknown message type %q; use input_text, flush or end.", clip(m.Type, 64))}
}
