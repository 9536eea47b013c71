package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

// wait bounds every wait in these tests; nothing sleeps.
const wait = 20 * time.Second

// envOptions configure a test server. Zero values give a scripted LLM
// ("scripted", echoing the last user message) loaded in the llm slot.
type envOptions struct {
	llm     *pipelinetest.LLM            // the LLM loaded as "scripted"; nil means a default one
	models  map[string]pipeline.Model    // more loadable models, by name
	load    map[pipeline.Category]string // loaded at start; nil means {llm: "scripted"}
	sched   *pipeline.SchedulerOptions
	sess    *sessions.Options
	opts    *transport.Options
	deps    func(*transport.Deps)
	noStart bool // build the httptest server without starting it
}

// env is a whole server stack on loopback: pinned thread, slots, scheduler,
// sessions, metrics and the HTTP server.
type env struct {
	t       testing.TB
	th      *pipeline.Thread
	slots   *pipeline.Slots
	sched   *pipeline.Scheduler
	reg     *sessions.Registry
	metrics *transport.Metrics
	srv     *transport.Server
	http    *httptest.Server
	url     string
	llm     *pipelinetest.LLM

	stopSched context.CancelFunc
	schedDone chan struct{}
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, llm: o.llm, metrics: transport.NewMetrics(), schedDone: make(chan struct{})}
	if e.llm == nil {
		e.llm = &pipelinetest.LLM{}
	}
	models := map[string]pipeline.Model{"scripted": e.llm, "scripted-tts": pipelinetest.Synthesizer{},
		"scripted-asr": &pipelinetest.Transcriber{Words: []string{"hello"}}}
	for k, v := range o.models {
		models[k] = v
	}
	loader := pipelinetest.Loader(models)
	e.th = pipeline.StartThread()
	e.slots = pipeline.NewSlots(e.th, map[pipeline.Category]pipeline.Loader{
		pipeline.LLMSlot: loader, pipeline.ASRSlot: loader, pipeline.TTSSlot: loader,
	}, &pipeline.SlotsOptions{Metrics: e.metrics})
	so := pipeline.SchedulerOptions{}
	if o.sched != nil {
		so = *o.sched
	}
	so.Metrics = e.metrics
	e.sched = pipeline.NewScheduler(e.th, e.slots, &so)
	ro := sessions.Options{}
	if o.sess != nil {
		ro = *o.sess
	}
	ro.Metrics = e.metrics
	e.reg = sessions.NewRegistry(&ro)
	ctx, cancel := context.WithCancel(context.Background())
	e.stopSched = cancel
	go func() { defer close(e.schedDone); _ = e.sched.Run(ctx) }()

	load := o.load
	if load == nil {
		load = map[pipeline.Category]string{pipeline.LLMSlot: "scripted"}
	}
	for c, name := range load {
		_, err := e.slots.Load(context.Background(), pipeline.ModelRef{Category: c, Name: name})
		require.NoError(t, err)
	}
	deps := transport.Deps{Scheduler: e.sched, Sessions: e.reg, Metrics: e.metrics, Version: "test"}
	if o.deps != nil {
		o.deps(&deps)
	}
	srv, err := transport.New(deps, o.opts)
	require.NoError(t, err)
	e.srv = srv
	e.http = httptest.NewUnstartedServer(srv)
	e.http.Config.ReadHeaderTimeout = 10 * time.Second
	if !o.noStart {
		e.start()
	}
	t.Cleanup(e.close)
	return e
}

func (e *env) start() {
	e.http.Start()
	e.url = e.http.URL
}

// close stops everything in the order cmd does: HTTP, scheduler, slots, thread.
func (e *env) close() {
	e.http.CloseClientConnections()
	e.http.Close()
	e.stopSched()
	<-e.schedDone
	e.slots.Close()
	e.th.Stop()
}

// post sends a JSON body and returns the response (caller closes it).
func (e *env) post(path, body string) *http.Response {
	e.t.Helper()
	resp, err := http.Post(e.url+path, "application/json", strings.NewReader(body))
	require.NoError(e.t, err)
	return resp
}

// get fetches path and returns the status and body.
func (e *env) get(path string) (int, []byte) {
	e.t.Helper()
	resp, err := http.Get(e.url + path)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, b
}

// readAll returns the status and body of resp and closes it.
func readAll(t testing.TB, resp *http.Response) (int, []byte) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// gauge reads a metric without labels (or the sum over its label sets).
func (e *env) gauge(name string) float64 {
	e.t.Helper()
	mfs, err := e.metrics.Registry().Gather()
	require.NoError(e.t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// idle waits until no work is left: every sequence released and the
// sessions-active gauge at zero.
func (e *env) idle() {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		return e.llm.Live() == 0 && e.gauge("ominix_sessions_active") == 0 && e.reg.Active() == 0
	}, wait, time.Millisecond, "work still running: live=%d active=%v", e.llm.Live(), e.gauge("ominix_sessions_active"))
}

// chatBody builds a chat request body with one user message and extra
// top-level members.
func chatBody(text string, extra map[string]any) string {
	req := map[string]any{"model": "anything", "messages": []map[string]any{{"role": "user", "content": text}}}
	for k, v := range extra {
		req[k] = v
	}
	b, _ := json.Marshal(req)
	return string(b)
}

// sseFrame is one parsed SSE frame.
type sseFrame struct {
	ID, Event string
	Data      string
	Comment   string
}

// readFrames parses an SSE stream until EOF.
func readFrames(t testing.TB, r io.Reader) []sseFrame {
	t.Helper()
	var out []sseFrame
	br := bufio.NewReader(r)
	for {
		f, err := nextFrame(br)
		if err != nil {
			return out
		}
		out = append(out, f)
	}
}

// nextFrame reads one frame (comment frames included).
func nextFrame(br *bufio.Reader) (sseFrame, error) {
	var f sseFrame
	var data []string
	seen := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if !seen {
				continue
			}
			f.Data = strings.Join(data, "\n")
			return f, nil
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			f.Comment = value
		case "id":
			f.ID = value
		case "event":
			f.Event = value
		case "data":
			data = append(data, value)
		}
	}
}

// chatStream is a parsed OpenAI chat stream.
type chatStream struct {
	chunks   []map[string]any
	raw      []string
	comments int
	done     bool
	errFrame map[string]any
}

// parseChatStream parses frames of an OpenAI chat stream and validates
// every data frame against the OpenAPI schemas.
func parseChatStream(t testing.TB, spec *oapitest.Spec, frames []sseFrame) chatStream {
	t.Helper()
	var cs chatStream
	for _, f := range frames {
		if f.Comment != "" && f.Data == "" {
			cs.comments++
			continue
		}
		require.False(t, cs.done, "a frame after [DONE]: %q", f.Data)
		if f.Data == "[DONE]" {
			cs.done = true
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(f.Data), &m), "frame %q", f.Data)
		if _, isErr := m["error"]; isErr {
			if spec != nil {
				spec.RequireStrict(t, "ErrorResponse", f.Data)
			}
			cs.errFrame = m
			continue
		}
		if spec != nil {
			spec.RequireStrict(t, "CreateChatCompletionStreamResponse", f.Data, "reasoning_content")
		}
		cs.chunks = append(cs.chunks, m)
		cs.raw = append(cs.raw, f.Data)
	}
	return cs
}

// content joins the content deltas of a parsed stream.
func (cs chatStream) content() string {
	var b strings.Builder
	for _, c := range cs.chunks {
		for _, ch := range c["choices"].([]any) {
			d := ch.(map[string]any)["delta"].(map[string]any)
			if s, ok := d["content"].(string); ok {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// finish returns the finish_reason of the stream's last choice chunk.
func (cs chatStream) finish() string {
	for i := len(cs.chunks) - 1; i >= 0; i-- {
		for _, ch := range cs.chunks[i]["choices"].([]any) {
			if f, ok := ch.(map[string]any)["finish_reason"].(string); ok {
				return f
			}
		}
	}
	return ""
}

// errBodyOf decodes an OpenAI error body.
func errBodyOf(t testing.TB, b []byte) errBody {
	t.Helper()
	var eb errBody
	require.NoError(t, json.Unmarshal(b, &eb), "body %q", b)
	require.NotEmpty(t, eb.Error.Message, "body %q", b)
	return eb
}

func compact(t testing.TB, b []byte) string {
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, b))
	return buf.String()
}

// newRequest builds a request carrying key as a Bearer token (none when empty).
func newRequest(method, url, key string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, nil)
	if err == nil && key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req, err
}

func do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (log handlers).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
