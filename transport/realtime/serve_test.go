package realtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/realtime"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stack is a scheduler with the scripted recognizer and a registry.
type stack struct {
	sched *pipeline.Scheduler
	reg   *sessions.Registry
}

func newStack(t *testing.T) *stack {
	th := pipeline.StartThread()
	asr := &pipelinetest.Transcriber{Words: []string{"one", "two", "three"}}
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{
		pipeline.ASRSlot: pipelinetest.Loader(map[string]pipeline.Model{"asr": asr}),
	}, nil)
	_, err := slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot, Name: "asr"})
	require.NoError(t, err)
	sched := pipeline.NewScheduler(th, slots, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sched.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		slots.Close()
		th.Stop()
	})
	return &stack{sched: sched, reg: sessions.NewRegistry(nil)}
}

// serve runs Serve behind an httptest server; cancelling ctx shuts the
// connections down.
func (s *stack) serve(t *testing.T, ctx context.Context, cfg realtime.Config) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{realtime.Subprotocol}})
		if err != nil {
			return
		}
		cfg.Transcriber, cfg.Sessions = s.sched, s.reg
		cfg.Machine.Beta = realtime.BetaRequested(r)
		_ = realtime.Serve(ctx, c, cfg)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestServeShutdownClosesGoingAway(t *testing.T) {
	s := newStack(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := s.serve(t, ctx, realtime.Config{Machine: realtime.Options{Intent: "transcription"}})
	c := rt.Dial(t, url, &websocket.DialOptions{HTTPHeader: http.Header{"OpenAI-Beta": {"realtime=v1"}}})
	assert.Equal(t, "transcription_session.created", c.Next().Type)
	c.Append(rt.PCM16(rt.Utterances(24000, 1, 300, 300, 700)))
	c.WaitFor("conversation.item.input_audio_transcription.completed")
	// A turn in progress when the server stops.
	c.Append(rt.PCM16(append(rt.Silence(24000, 300), rt.Tone(24000, 300, 440, 0.5)...)))
	c.WaitFor("input_audio_buffer.speech_started")
	cancel()
	_, err := func() (rt.Event, error) {
		for {
			ev, err := c.Read()
			if err != nil {
				return ev, err
			}
		}
	}()
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
	require.Eventually(t, func() bool { return s.reg.Active() == 0 && s.reg.Len() == 0 }, 10*time.Second, time.Millisecond)
}

func TestServeSmallReadLimit(t *testing.T) {
	s := newStack(t)
	url := s.serve(t, context.Background(), realtime.Config{Machine: realtime.Options{Intent: "transcription"}, ReadLimit: 1024})
	c := rt.Dial(t, url, nil)
	c.Next()
	c.Append(make([]byte, 600)) // 800 bytes of base64 in a message under 1 KiB
	c.Send(map[string]any{"type": "input_audio_buffer.clear"})
	c.WaitFor("input_audio_buffer.cleared")
	c.Append(make([]byte, 2000))
	_, err := c.Read()
	for err == nil {
		_, err = c.Read()
	}
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err))
}

func TestServeNeedsDependencies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err == nil {
			assert.Error(t, realtime.Serve(context.Background(), c, realtime.Config{}))
		}
	}))
	defer srv.Close()
	c := rt.Dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	_, err := c.Read()
	assert.Equal(t, websocket.StatusInternalError, websocket.CloseStatus(err))
}

// Without a Responder, responses fail with service_unavailable and the
// connection goes on.
func TestServeWithoutResponder(t *testing.T) {
	s := newStack(t)
	url := s.serve(t, context.Background(), realtime.Config{Machine: realtime.Options{Model: "m"}})
	c := rt.Dial(t, url, nil)
	assert.Equal(t, "session.created", c.Next().Type)
	c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
		"content": []map[string]any{{"type": "input_text", "text": "hi"}}}})
	c.Send(map[string]any{"type": "response.create"})
	assert.Equal(t, "service_unavailable", c.WaitFor("error").Get("error", "code"))
	done := c.WaitFor("response.done")
	assert.Equal(t, "failed", done.Get("response", "status"))
	c.Send(map[string]any{"type": "response.create"})
	assert.Equal(t, "failed", c.WaitFor("response.done").Get("response", "status"))
	require.Eventually(t, func() bool { return s.reg.Active() == 0 && s.reg.Len() == 0 }, 10*time.Second, time.Millisecond)
}
