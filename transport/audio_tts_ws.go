package transport

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/audioapi"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/ws"
)

// The seed's WebSocket TTS protocol (MiniMax T2A style) at /ws/v1/tts.
// Every message is a JSON object with "event":
//
//	server → {"event":"connected_success","session_id"} on connect
//	client → {"event":"task_start","voice_setting":{"voice_id","speed"},
//	          "audio_setting":{"format":"wav"|"pcm"|"mp3"|"flac"|"opus","sample_rate"}}
//	server → {"event":"task_started","session_id"}
//	client → {"event":"task_continue","text":"…","voice_id":"optional override"}
//	server → {"event":"task_progress","data":{"audio":"<hex>"},"is_final":false}…
//	         then one with "is_final":true closing that message's audio
//	client → {"event":"task_finish"}
//	server → {"event":"task_finished","session_id"} once everything is spoken, then closes (1000)
//	server → {"event":"error","message","code"} on a bad message (the
//	         connection stays open) or a failed synthesis (then closes, 1011)
//
// Each task_continue's audio is a complete stream of the format of its own
// (a WAV file per message, header first), so a client can play or save
// each message separately. A voice_id override applies to that message
// only. The default format is wav, 24 kHz mono.

// ttsMaxMessage bounds one client message of the TTS WebSocket.
const ttsMaxMessage = 64 << 10

type ttsMessage struct {
	Event        string `json:"event"`
	Text         string `json:"text"`
	VoiceID      string `json:"voice_id"`
	VoiceSetting struct {
		VoiceID string   `json:"voice_id"`
		Speed   *float64 `json:"speed"`
	} `json:"voice_setting"`
	AudioSetting struct {
		Format     string `json:"format"`
		SampleRate int    `json:"sample_rate"`
	} `json:"audio_setting"`
}

type ttsReply struct {
	Event     string    `json:"event"`
	SessionID string    `json:"session_id,omitempty"`
	Data      *ttsAudio `json:"data,omitempty"`
	IsFinal   *bool     `json:"is_final,omitempty"`
	Message   string    `json:"message,omitempty"`
	Code      string    `json:"code,omitempty"`
}

type ttsAudio struct {
	Audio string `json:"audio"`
}

// ttsWS answers GET /ws/v1/tts.
func (s *Server) ttsWS(w http.ResponseWriter, r *http.Request) {
	c, err := s.AcceptWebSocket(w, r, ttsMaxMessage)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(s.base) // the request's context ends at the upgrade
	defer cancel()
	t := &ttsConn{s: s, c: c, ctx: ctx, id: pipeline.NewID("tts_")}
	t.run()
	cancel()
	t.stop()
}

// ttsConn is one /ws/v1/tts connection. The reading goroutine (run) owns
// the task's input; the writer goroutine turns synthesis events into
// task_progress messages.
type ttsConn struct {
	s   *Server
	c   *websocket.Conn
	ctx context.Context
	id  string

	sess   *sessions.Session
	sub    *sessions.Subscriber
	syn    *pipeline.Synthesis
	base   pipeline.SpeechOptions
	cur    pipeline.SpeechOptions
	format pipeline.AudioFormat
	rate   int
	n      int
	wg     sync.WaitGroup
}

func (t *ttsConn) send(v ttsReply) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ws.Send(t.ctx, t.c, t.s.opts.WriteTimeout, b)
}

func (t *ttsConn) sendError(err error) error {
	e := openai.NewError(err)
	code := ""
	if e.Code != nil {
		code = *e.Code
	}
	return t.send(ttsReply{Event: "error", Message: e.Message, Code: code})
}

func (t *ttsConn) run() {
	if t.send(ttsReply{Event: "connected_success", SessionID: t.id}) != nil {
		return
	}
	for {
		typ, data, err := t.c.Read(t.ctx)
		if err != nil {
			return
		}
		var m ttsMessage
		if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
			err = pipeline.Invalid("", "Send JSON text messages with an \"event\" member.")
		} else {
			var finished bool
			finished, err = t.handle(m)
			if finished {
				return
			}
		}
		if err != nil && t.sendError(err) != nil {
			return
		}
	}
}

// handle acts on one client message; finished reports task_finish.
func (t *ttsConn) handle(m ttsMessage) (finished bool, err error) {
	switch m.Event {
	case "task_start":
		return false, t.start(m)
	case "task_continue":
		return false, t.continueTask(m)
	case "task_finish":
		if t.syn == nil {
			_ = t.c.Close(websocket.StatusNormalClosure, "no task")
			return true, nil
		}
		t.syn.Close()
		t.wg.Wait() // the writer sends task_finished and closes the connection
		return true, nil
	}
	return false, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "event", Code: "invalid_value",
		Message: fmt.Sprintf("Unknown event %q; use task_start, task_continue or task_finish.", clip(m.Event, 64))}
}

func (t *ttsConn) start(m ttsMessage) error {
	if t.syn != nil {
		return pipeline.Invalid("event", "A task is already started on this connection.")
	}
	req := &audioapi.SpeechRequest{Voice: strings.TrimSpace(m.VoiceSetting.VoiceID), Speed: 1}
	if m.VoiceSetting.Speed != nil {
		req.Speed = *m.VoiceSetting.Speed
	}
	if !(req.Speed >= 0.25 && req.Speed <= 4) {
		return pipeline.Invalid("voice_setting.speed", "Invalid 'voice_setting.speed': %v is outside 0.25 to 4.", req.Speed)
	}
	t.format = pipeline.AudioFormat(m.AudioSetting.Format)
	if t.format == "" {
		t.format = pipeline.FormatWAV
	}
	t.rate = m.AudioSetting.SampleRate
	if t.rate != 0 && (t.rate < 8000 || t.rate > 48000) {
		return pipeline.Invalid("audio_setting.sample_rate", "Invalid 'audio_setting.sample_rate': %d is outside 8000 to 48000.", t.rate)
	}
	if s := t.s; s.Codecs() == nil {
		return &pipeline.Error{Kind: pipeline.KindUnavailable, Message: "This server was started without audio codecs."}
	} else if _, err := s.Codecs().NewEncoder(io.Discard, t.format, t.rate); err != nil {
		return underParam(err, "audio_setting.format")
	}
	if err := t.s.checkVoice(req); err != nil {
		return underParam(err, "voice_setting.voice_id")
	}
	t.base = pipeline.SpeechOptions{Voice: req.Voice, Speed: req.Speed}
	t.cur = t.base
	var syn *pipeline.Synthesis
	sess, sub, err := t.s.startRequestWork(t.ctx, sessions.KindSpeech, func(sess *sessions.Session) (err error) {
		syn, err = t.s.deps.Scheduler.Speak(sess.Context(), t.base, sess)
		return err
	})
	if err != nil {
		return err
	}
	sess.Attach(syn)
	t.sess, t.sub, t.syn = sess, sub, syn
	if err := t.send(ttsReply{Event: "task_started", SessionID: t.id}); err != nil {
		return err
	}
	t.wg.Add(1)
	go t.write()
	return nil
}

func (t *ttsConn) continueTask(m ttsMessage) error {
	if t.syn == nil {
		return pipeline.Invalid("event", "Send task_start before task_continue.")
	}
	if strings.TrimSpace(m.Text) == "" {
		return pipeline.Invalid("text", "'text' is empty.")
	}
	if utf8.RuneCountInString(m.Text) > audioapi.MaxSpeechInput {
		return pipeline.Invalid("text", "'text' is longer than %d characters; send it in several messages.", audioapi.MaxSpeechInput)
	}
	opts := t.base
	if v := strings.TrimSpace(m.VoiceID); v != "" {
		if err := t.s.checkVoice(&audioapi.SpeechRequest{Voice: v}); err != nil {
			return underParam(err, "voice_id")
		}
		opts.Voice = v
	}
	if opts != t.cur {
		t.syn.Mark("voice", opts) // nothing is pending: this only switches the voice
		t.cur = opts
	}
	if err := t.syn.Push(m.Text); err != nil {
		return err
	}
	t.n++
	t.syn.Mark(fmt.Sprintf("msg:%d", t.n), t.cur)
	return nil
}

// write sends each message's audio as task_progress messages, the last
// of a message with is_final true, then task_finished when the task ends.
func (t *ttsConn) write() {
	defer t.wg.Done()
	var buf bytes.Buffer
	var enc pipeline.AudioEncoder
	progress := func(final bool) error {
		audio := hex.EncodeToString(buf.Bytes())
		buf.Reset()
		if audio == "" && !final {
			return nil
		}
		return t.send(ttsReply{Event: "task_progress", Data: &ttsAudio{Audio: audio}, IsFinal: &final})
	}
	for {
		e, err := t.sub.Next(t.ctx)
		if errors.Is(err, io.EOF) {
			if t.send(ttsReply{Event: "task_finished", SessionID: t.id}) == nil {
				_ = t.c.Close(websocket.StatusNormalClosure, "task finished")
			}
			return
		}
		if err == nil {
			err = pipeline.ErrorOf(e.Event)
		}
		if err != nil {
			if t.ctx.Err() == nil && t.sendError(err) == nil {
				_ = t.c.Close(websocket.StatusInternalError, "synthesis failed")
			}
			return
		}
		if enc == nil {
			if enc, err = t.s.Codecs().NewEncoder(&buf, t.format, t.rate); err != nil {
				_ = t.sendError(err)
				return
			}
		}
		switch ev := e.Event.(type) {
		case pipeline.AudioChunk:
			err = enc.Write(ev.Audio)
			if err == nil {
				err = progress(false)
			}
		case pipeline.AudioMark:
			if !strings.HasPrefix(ev.Tag, "msg:") {
				continue
			}
			err = enc.Close()
			enc = nil
			if err == nil {
				err = progress(true)
			}
		}
		if err != nil {
			return
		}
	}
}

// stop ends the task: the subscriber leaving cancels unfinished work.
func (t *ttsConn) stop() {
	if t.sub != nil {
		t.sub.Close()
		t.s.EndSession(t.sess, nil)
	}
	t.wg.Wait()
}

// underParam names param as the culprit of a validation error that had
// none or a request-body name.
func underParam(err error, param string) error {
	e := pipeline.AsError(err)
	if e.Kind != pipeline.KindInvalid {
		return err
	}
	out := *e
	out.Param = param
	return &out
}
