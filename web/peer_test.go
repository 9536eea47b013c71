package web_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/web"
)

// scriptedPeer is the server side of one OpenAI Realtime conversation
// (GA dialect), played from a script so that voice.html's protocol
// handling — turns, streamed answer audio, barge-in with truncation — is
// tested independently of the real server, with timings the test controls
// (the real server's answer is too short to barge into reliably). It
// serves the demo pages, a /v1/models list and /v1/realtime on an
// httptest server. It is test code: it recognizes and
// generates nothing (a loudness threshold finds the turn; the answer is a
// tone).
type scriptedPeer struct {
	srv *httptest.Server
	wg  sync.WaitGroup

	// bargeIn tells the peer to report that the person started speaking
	// again (input_audio_buffer.speech_started) while the answer plays.
	bargeIn chan struct{}
	// session receives the client's session.update; truncate its
	// conversation.item.truncate.
	session  chan map[string]any
	truncate chan map[string]any

	mu       sync.Mutex
	appended int // samples of input audio received
	errs     []string
}

const (
	peerUserItem   = "item_user_1"
	peerAnswerItem = "item_answer_1"
	peerResponse   = "resp_1"
	peerTranscript = "scripted user turn"
	peerAnswer     = "This is a scripted answer."
	peerAnswerMs   = 3000
)

func newScriptedPeer(t *testing.T) *scriptedPeer {
	p := &scriptedPeer{
		bargeIn:  make(chan struct{}, 1),
		session:  make(chan map[string]any, 1),
		truncate: make(chan map[string]any, 1),
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(web.FS()))
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[
			{"id":"scripted-llm","object":"model","created":0,"owned_by":"test","type":"llm"},
			{"id":"scripted-asr","object":"model","created":0,"owned_by":"test","type":"asr"},
			{"id":"scripted-tts","object":"model","created":0,"owned_by":"test","type":"tts"}]}`))
	})
	mux.HandleFunc("GET /v1/realtime", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"realtime"}})
		if err != nil {
			p.fail("accept: %v", err)
			return
		}
		p.wg.Add(1)
		defer p.wg.Done()
		if c.Subprotocol() != "realtime" {
			p.fail("sub-protocol %q, want realtime", c.Subprotocol())
		}
		c.SetReadLimit(1 << 20)
		p.converse(r.Context(), c)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		p.srv.Close()
		p.wg.Wait()
	})
	return p
}

func (p *scriptedPeer) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

func (p *scriptedPeer) problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// converse plays the script until the client goes away.
func (p *scriptedPeer) converse(ctx context.Context, c *websocket.Conn) {
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan map[string]any)
	go func() {
		defer close(msgs)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(data, &ev); err != nil {
				p.fail("client sent invalid JSON: %v", err)
				continue
			}
			select {
			case msgs <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	s := &script{peer: p, c: c, ctx: ctx}
	s.send(map[string]any{"type": "session.created", "session": map[string]any{"type": "realtime", "id": "sess_scripted"}})
	for {
		select {
		case ev, ok := <-msgs:
			if !ok {
				return
			}
			s.client(ev)
		case <-p.bargeIn:
			s.interrupt()
		case <-ctx.Done():
			return
		}
	}
}

// script is the state of one scripted conversation.
type script struct {
	peer     *scriptedPeer
	c        *websocket.Conn
	ctx      context.Context
	samples  int // input samples so far
	speaking bool
	quiet    int // samples of quiet since the last loud chunk
	answered bool
	seq      int
}

func (s *script) send(ev map[string]any) {
	s.seq++
	ev["event_id"] = fmt.Sprintf("event_%d", s.seq)
	data, _ := json.Marshal(ev)
	if err := s.c.Write(s.ctx, websocket.MessageText, data); err != nil && s.ctx.Err() == nil {
		s.peer.fail("write %s: %v", ev["type"], err)
	}
}

func (s *script) ms() int { return s.samples * 1000 / 24000 }

func (s *script) client(ev map[string]any) {
	switch ev["type"] {
	case "session.update":
		select {
		case s.peer.session <- ev:
		default:
		}
		s.send(map[string]any{"type": "session.updated", "session": ev["session"]})
	case "input_audio_buffer.append":
		s.audio(ev)
	case "conversation.item.truncate":
		select {
		case s.peer.truncate <- ev:
		default:
		}
		s.send(map[string]any{"type": "conversation.item.truncated", "item_id": ev["item_id"],
			"content_index": ev["content_index"], "audio_end_ms": ev["audio_end_ms"]})
		// The interruption is a turn of its own; end it so the page settles.
		s.send(map[string]any{"type": "input_audio_buffer.speech_stopped", "audio_end_ms": s.ms(), "item_id": "item_user_2"})
		s.send(map[string]any{"type": "conversation.item.input_audio_transcription.completed",
			"item_id": "item_user_2", "content_index": 0, "transcript": "scripted interruption"})
	default:
		s.peer.fail("unexpected client event %v", ev["type"])
	}
}

// audio runs a loudness threshold over the appended PCM: the first loud
// chunk starts the turn, 500 ms of quiet after it ends the turn, and the
// scripted answer follows at once.
func (s *script) audio(ev map[string]any) {
	b64, _ := ev["audio"].(string)
	pcm, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pcm)%2 != 0 {
		s.peer.fail("append: audio is not base64 PCM16 (%v, %d bytes)", err, len(pcm))
		return
	}
	n := len(pcm) / 2
	var sum float64
	for i := range n {
		v := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
		sum += v * v
	}
	rms := math.Sqrt(sum / float64(max(n, 1)))
	s.samples += n
	s.peer.mu.Lock()
	s.peer.appended += n
	s.peer.mu.Unlock()
	switch {
	case s.answered:
	case !s.speaking && rms > 0.02:
		s.speaking = true
		s.send(map[string]any{"type": "input_audio_buffer.speech_started", "audio_start_ms": s.ms(), "item_id": peerUserItem})
	case s.speaking && rms < 0.005:
		s.quiet += n
		if s.quiet >= 24000/2 {
			s.answered = true
			s.answer()
		}
	case s.speaking:
		s.quiet = 0
	}
}

func (s *script) answer() {
	s.send(map[string]any{"type": "input_audio_buffer.speech_stopped", "audio_end_ms": s.ms(), "item_id": peerUserItem})
	s.send(map[string]any{"type": "input_audio_buffer.committed", "item_id": peerUserItem, "previous_item_id": nil})
	for _, d := range []string{"scripted ", "user ", "turn"} {
		s.send(map[string]any{"type": "conversation.item.input_audio_transcription.delta", "item_id": peerUserItem, "content_index": 0, "delta": d})
	}
	s.send(map[string]any{"type": "conversation.item.input_audio_transcription.completed", "item_id": peerUserItem, "content_index": 0, "transcript": peerTranscript})
	s.send(map[string]any{"type": "response.created", "response": map[string]any{"id": peerResponse, "object": "realtime.response", "status": "in_progress"}})
	s.send(map[string]any{"type": "response.output_item.added", "response_id": peerResponse, "output_index": 0,
		"item": map[string]any{"id": peerAnswerItem, "type": "message", "role": "assistant", "status": "in_progress"}})
	for _, d := range []string{"This is ", "a scripted ", "answer."} {
		s.send(map[string]any{"type": "response.output_audio_transcript.delta", "response_id": peerResponse,
			"item_id": peerAnswerItem, "output_index": 0, "content_index": 0, "delta": d})
	}
	// The answer's audio: a quiet 440 Hz tone, in 100 ms chunks.
	const chunk = 2400
	total := peerAnswerMs * 24
	for off := 0; off < total; off += chunk {
		pcm := make([]byte, 2*chunk)
		for i := range chunk {
			v := 0.2 * math.Sin(2*math.Pi*440*float64(off+i)/24000)
			binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(v*32767)))
		}
		s.send(map[string]any{"type": "response.output_audio.delta", "response_id": peerResponse, "item_id": peerAnswerItem,
			"output_index": 0, "content_index": 0, "delta": base64.StdEncoding.EncodeToString(pcm)})
	}
	s.send(map[string]any{"type": "response.output_audio.done", "response_id": peerResponse, "item_id": peerAnswerItem, "output_index": 0, "content_index": 0})
	s.send(map[string]any{"type": "response.done", "response": map[string]any{"id": peerResponse, "object": "realtime.response", "status": "completed",
		"usage": map[string]any{"total_tokens": 0}}})
}

func (s *script) interrupt() {
	s.send(map[string]any{"type": "input_audio_buffer.speech_started", "audio_start_ms": s.ms(), "item_id": "item_user_2"})
}
