package transport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	r3sse "github.com/r3labs/sse/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/cenkalti/backoff.v1"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
)

type sessionObj struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	Type        string  `json:"type"`
	Created     int64   `json:"created"`
	Status      string  `json:"status"`
	LastEventID *uint64 `json:"last_event_id"`
	EventsURL   string  `json:"events_url"`
	WSURL       string  `json:"ws_url"`
}

// nativeEvent is the JSON of a native session event (the members tests read).
type nativeEvent struct {
	Type         string `json:"type"`
	Seq          uint64 `json:"seq"`
	Content      string `json:"content"`
	FinishReason string `json:"finish_reason"`
	Error        *struct {
		Message string  `json:"message"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func (e *env) createSession(t *testing.T, body string) sessionObj {
	t.Helper()
	code, b := readAll(t, e.post("/v1/sessions", body))
	require.Equal(t, 200, code, "%s", b)
	var s sessionObj
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

func chatSessionBody(text string) string {
	return `{"type":"chat","request":` + chatBody(text, nil) + `}`
}

func TestSessionCreateGetDelete(t *testing.T) {
	e := newEnv(t, envOptions{llm: &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}})
	s := e.createSession(t, chatSessionBody("la la"))
	assert.Regexp(t, `^sess_`, s.ID)
	assert.Equal(t, "session", s.Object)
	assert.Equal(t, "chat", s.Type)
	assert.Equal(t, "running", s.Status)
	assert.Equal(t, "/v1/sessions/"+s.ID+"/events", s.EventsURL)
	assert.Equal(t, "/v1/sessions/"+s.ID+"/ws", s.WSURL)
	assert.Positive(t, s.Created)

	require.Eventually(t, func() bool {
		_, b := e.get("/v1/sessions/" + s.ID)
		var got sessionObj
		return json.Unmarshal(b, &got) == nil && got.LastEventID != nil && *got.LastEventID > 3
	}, wait, time.Millisecond)

	req, err := newRequest("DELETE", e.url+"/v1/sessions/"+s.ID, "")
	require.NoError(t, err)
	code, b := readAll(t, do(t, req))
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"id":"`+s.ID+`","object":"session.deleted","deleted":true}`, string(b))
	e.idle() // deleting cancels the work
	code, b = e.get("/v1/sessions/" + s.ID)
	assert.Equal(t, 404, code)
	assert.Equal(t, "session_not_found", *errBodyOf(t, b).Error.Code)
	code, _ = readAll(t, do(t, req))
	assert.Equal(t, 404, code)
}

func TestSessionCreateErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []struct{ body, param string }{
		{`{"type":"video","request":{}}`, "type"},
		{`{"type":"chat"}`, "request"},
		{`{"type":"chat","request":{"messages":"nope"}}`, "request.messages"},
		{`{"type":`, ""},
	}
	for _, c := range cases {
		code, b := readAll(t, e.post("/v1/sessions", c.body))
		assert.Equal(t, 400, code, "%s", b)
		eb := errBodyOf(t, b)
		if c.param != "" {
			require.NotNil(t, eb.Error.Param, "%s", b)
			assert.Equal(t, c.param, *eb.Error.Param)
		}
	}
	_, err := e.slots.Unload(pipeline.LLMSlot)
	require.NoError(t, err)
	resp := e.post("/v1/sessions", chatSessionBody("x"))
	code, _ := readAll(t, resp)
	assert.Equal(t, 503, code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Zero(t, e.reg.Len(), "a session whose work could not start is forgotten")
	e.idle()
}

// TestSessionEventsSSEFrames checks the frames byte by byte and the
// resume points.
func TestSessionEventsSSEFrames(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := e.createSession(t, chatSessionBody("one two"))
	require.Eventually(t, func() bool { sess, ok := e.reg.Get(s.ID); return ok && sess.Finished() }, wait, time.Millisecond)

	resp, err := http.Get(e.url + s.EventsURL)
	require.NoError(t, err)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	_, body := readAll(t, resp)
	want := "id: 1\ndata: {\"type\":\"text.delta\",\"seq\":1,\"content\":\"one\"}\nevent: text.delta\n\n"
	assert.True(t, strings.HasPrefix(string(body), want), "got %q", body)
	frames := readFrames(t, strings.NewReader(string(body)))
	require.Len(t, frames, 3)
	for i, f := range frames {
		assert.Equal(t, strconv.Itoa(i+1), f.ID)
		var ev nativeEvent
		require.NoError(t, json.Unmarshal([]byte(f.Data), &ev))
		assert.Equal(t, f.Event, ev.Type)
		assert.EqualValues(t, i+1, ev.Seq)
	}
	assert.Equal(t, "done", frames[2].Event)
	assert.JSONEq(t, `{"type":"done","seq":3,"finish_reason":"stop","usage":{"prompt_tokens":9,"completion_tokens":3}}`, frames[2].Data)

	// Resume points: the header wins over ?after=.
	req, err := newRequest("GET", e.url+s.EventsURL+"?after=0", "")
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", "2")
	_, body = readAll(t, do(t, req))
	frames = readFrames(t, strings.NewReader(string(body)))
	require.Len(t, frames, 1)
	assert.Equal(t, "3", frames[0].ID)
	_, body = e.get(s.EventsURL + "?after=1")
	assert.Len(t, readFrames(t, strings.NewReader(string(body))), 2)

	for _, bad := range []string{"?after=x", "?after=-1", "?after=99", "?after=%2B1"} {
		code, body := e.get(s.EventsURL + bad)
		assert.Equal(t, 400, code, "%s: %s", bad, body)
		errBodyOf(t, body)
	}
	code, _ := e.get("/v1/sessions/sess_nope/events")
	assert.Equal(t, 404, code)
}

func TestSessionReplayGap(t *testing.T) {
	e := newEnv(t, envOptions{sess: &sessions.Options{ReplayEvents: 2}})
	s := e.createSession(t, chatSessionBody("a b c d e"))
	require.Eventually(t, func() bool { sess, ok := e.reg.Get(s.ID); return ok && sess.Finished() }, wait, time.Millisecond)
	code, body := e.get(s.EventsURL)
	assert.Equal(t, 404, code)
	assert.Equal(t, "replay_unavailable", *errBodyOf(t, body).Error.Code)
	code, body = e.get(s.EventsURL + "?after=4")
	assert.Equal(t, 200, code)
	assert.Len(t, readFrames(t, strings.NewReader(string(body))), 2)
}

func TestSessionEventsKeepAlive(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, envOptions{llm: &pipelinetest.LLM{Gate: gate}, opts: &transport.Options{KeepAlive: 10 * time.Millisecond}})
	s := e.createSession(t, chatSessionBody("x"))
	resp, err := http.Get(e.url + s.EventsURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	f, err := nextFrame(br)
	require.NoError(t, err)
	assert.Equal(t, "keepalive", f.Comment)
	close(gate)
	frames := readFrames(t, br)
	var types []string
	for _, f := range frames {
		if f.Event != "" {
			types = append(types, f.Event)
		}
	}
	assert.Equal(t, []string{"text.delta", "done"}, types)
	e.idle()
}

// TestSessionResumeWithR3labsClient consumes a native session with the
// r3labs SSE client, disconnects mid-way, and resumes with the client's
// Last-Event-ID: every event arrives exactly once, in order.
func TestSessionResumeWithR3labsClient(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, envOptions{llm: &pipelinetest.LLM{Gate: gate}})
	s := e.createSession(t, chatSessionBody("a b c d e f"))

	client := r3sse.NewClient(e.url + s.EventsURL)
	client.ReconnectStrategy = &backoff.StopBackOff{}
	var got []*r3sse.Event
	events := make(chan *r3sse.Event)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		first <- client.SubscribeRawWithContext(ctx, func(ev *r3sse.Event) {
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		})
	}()
	for range 3 {
		gate <- struct{}{}
		select {
		case ev := <-events:
			got = append(got, ev)
		case <-time.After(wait):
			t.Fatal("no event")
		}
	}
	cancel() // disconnect mid-stream
	<-first
	assert.Equal(t, "3", string(client.LastEventID.Load().([]byte)))

	close(gate) // the rest is generated while nobody listens
	require.Eventually(t, func() bool { sess, ok := e.reg.Get(s.ID); return ok && sess.Finished() }, wait, time.Millisecond)
	err := client.SubscribeRawWithContext(context.Background(), func(ev *r3sse.Event) { got = append(got, ev) })
	require.NoError(t, err)

	var text strings.Builder
	for i, ev := range got {
		assert.Equal(t, strconv.Itoa(i+1), string(ev.ID), "every event once, in order")
		var ne nativeEvent
		require.NoError(t, json.Unmarshal(ev.Data, &ne))
		assert.Equal(t, string(ev.Event), ne.Type)
		text.WriteString(ne.Content)
	}
	assert.Equal(t, "a b c d e f", text.String())
	assert.Equal(t, "done", string(got[len(got)-1].Event))
	e.idle()
}

func TestSessionWebSocket(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := e.createSession(t, chatSessionBody("x y z"))
	require.Eventually(t, func() bool { sess, ok := e.reg.Get(s.ID); return ok && sess.LastSeq() >= 1 }, wait, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+s.WSURL+"?after=1", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	var evs []nativeEvent
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
			break
		}
		assert.Equal(t, websocket.MessageText, typ)
		var ev nativeEvent
		require.NoError(t, json.Unmarshal(data, &ev))
		evs = append(evs, ev)
	}
	require.Len(t, evs, 3, "after=1 skips the first event")
	assert.EqualValues(t, 2, evs[0].Seq)
	assert.Equal(t, " y", evs[0].Content)
	assert.Equal(t, "done", evs[2].Type)
	assert.Equal(t, "stop", evs[2].FinishReason)

	code, body := e.get(s.WSURL)
	assert.Equal(t, 400, code, "a plain GET is not an upgrade")
	assert.Equal(t, "websocket_upgrade_required", *errBodyOf(t, body).Error.Code)
	e.idle()
}

func TestSessionWebSocketCancel(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}
	e := newEnv(t, envOptions{llm: llm})
	s := e.createSession(t, chatSessionBody("la"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+s.WSURL, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)))
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"cancel"}`)))
	var unknown, final *nativeEvent
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err))
			break
		}
		var ev nativeEvent
		require.NoError(t, json.Unmarshal(data, &ev))
		if ev.Type == "error" && ev.Seq == 0 {
			unknown = &ev
		} else if ev.Type == "error" {
			final = &ev
		}
	}
	require.NotNil(t, unknown, "an unknown client message is answered with an error")
	assert.Equal(t, "unknown_event", *unknown.Error.Code)
	require.NotNil(t, final, "the cancelled work ends with an error event")
	assert.Equal(t, "cancelled_by_client", *final.Error.Code)
	e.idle()
}

// TestSessionEventsSlowReader: a native SSE reader that never reads is
// dropped by the write deadline, its handler (and r3labs' goroutines) end,
// and other readers of the session are unaffected.
func TestSessionEventsSlowReader(t *testing.T) {
	big := strings.Repeat("y", 16<<10)
	llm := &pipelinetest.LLM{Script: func(*pipeline.ChatRequest) []string {
		out := make([]string, 200)
		for i := range out {
			out[i] = big
		}
		return out
	}}
	logs := &syncBuffer{}
	e := newEnv(t, envOptions{llm: llm, noStart: true,
		opts: &transport.Options{WriteTimeout: time.Second},
		sess: &sessions.Options{ReplayBytes: 64 << 20, ReplayEvents: 1000, MaxPendingBytes: 64 << 20},
		deps: func(d *transport.Deps) { d.Logger = slog.New(slog.NewTextHandler(logs, nil)) }})
	e.http.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && st == http.StateNew {
			_ = tc.SetWriteBuffer(32 << 10)
		}
	}
	e.start()
	s := e.createSession(t, chatSessionBody("x"))
	require.Eventually(t, func() bool { sess, ok := e.reg.Get(s.ID); return ok && sess.Finished() }, wait, time.Millisecond)

	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(16<<10))
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", s.EventsURL)
	require.NoError(t, err)
	path := "path=" + s.EventsURL
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), path) }, wait, time.Millisecond,
		"the handler of the reader that never reads returns")

	code, body := e.get(s.EventsURL)
	require.Equal(t, 200, code)
	assert.Len(t, readFrames(t, strings.NewReader(string(body))), 201, "another reader gets every event")
}
