package transport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func TestChatNonStreaming(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{})
	code, body := readAll(t, e.post("/v1/chat/completions", chatBody("hello brave world", map[string]any{"logprobs": true, "top_logprobs": 1})))
	require.Equal(t, 200, code, "%s", body)
	spec.RequireStrict(t, "CreateChatCompletionResponse", body, "reasoning_content")
	var res struct {
		ID      string `json:"id"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
			Logprobs     struct {
				Content []struct {
					Token string `json:"token"`
				} `json:"content"`
			} `json:"logprobs"`
		} `json:"choices"`
		Usage struct {
			PromptTokens, CompletionTokens, TotalTokens int
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(body, &res))
	assert.Regexp(t, `^chatcmpl-`, res.ID)
	assert.Equal(t, "scripted", res.Model, "the loaded model's id, not the requested name")
	assert.Equal(t, "hello brave world", res.Choices[0].Message.Content)
	assert.Equal(t, "stop", res.Choices[0].FinishReason)
	assert.Len(t, res.Choices[0].Logprobs.Content, 3)
	e.idle()
}

func TestChatStreaming(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{})
	resp := e.post("/v1/chat/completions", chatBody("one two three", map[string]any{
		"stream": true, "stream_options": map[string]any{"include_usage": true}}))
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	cs := parseChatStream(t, spec, readFrames(t, resp.Body))
	require.True(t, cs.done)
	require.Nil(t, cs.errFrame)
	first := cs.chunks[0]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	assert.Equal(t, "assistant", first["role"], "role comes first")
	ids := map[any]bool{}
	for _, c := range cs.chunks {
		ids[c["id"]] = true
		assert.Equal(t, "scripted", c["model"])
	}
	assert.Len(t, ids, 1, "one id per stream")
	assert.Equal(t, "one two three", cs.content())
	assert.Equal(t, "stop", cs.finish())
	last := cs.chunks[len(cs.chunks)-1]
	assert.Empty(t, last["choices"], "the usage trailer has no choices")
	assert.EqualValues(t, 4, last["usage"].(map[string]any)["completion_tokens"])
	e.idle()
}

func TestChatKeepAliveDuringPrefill(t *testing.T) {
	gate := make(chan struct{})
	llm := &pipelinetest.LLM{Gate: gate}
	e := newEnv(t, envOptions{llm: llm, opts: &transport.Options{KeepAlive: 10 * time.Millisecond}})
	resp := e.post("/v1/chat/completions", chatBody("hi", map[string]any{"stream": true}))
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	f, err := nextFrame(br)
	require.NoError(t, err)
	assert.Contains(t, f.Data, `"role":"assistant"`, "the role chunk opens the stream before any token")
	f, err = nextFrame(br)
	require.NoError(t, err)
	assert.Equal(t, "keepalive", f.Comment, "comments fill the silence of a long prefill")
	close(gate)
	cs := parseChatStream(t, nil, readFrames(t, br))
	assert.True(t, cs.done)
	e.idle()
}

func TestChatErrorsBeforeStreaming(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{opts: &transport.Options{MaxBodyBytes: 4096}})
	cases := []struct {
		name, body string
		status     int
		param      string
	}{
		{"malformed", `{"messages": [`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"empty", ``, 400, ""},
		{"missing messages", `{"model":"x"}`, 400, "messages"},
		{"bad temperature", chatBody("x", map[string]any{"temperature": 9}), 400, "temperature"},
		{"oversize", chatBody(strings.Repeat("x", 8000), nil), 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := readAll(t, e.post("/v1/chat/completions", c.body))
			assert.Equal(t, c.status, code, "%s", body)
			spec.RequireStrict(t, "ErrorResponse", body)
			eb := errBodyOf(t, body)
			if c.param != "" {
				require.NotNil(t, eb.Error.Param)
				assert.Equal(t, c.param, *eb.Error.Param)
			}
		})
	}
	// A chunked body over the limit (no Content-Length) is refused too.
	req, err := http.NewRequest("POST", e.url+"/v1/chat/completions", io.MultiReader(strings.NewReader(`{"x":"`), strings.NewReader(strings.Repeat("y", 8000)+`"}`)))
	require.NoError(t, err)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	code, body := readAll(t, resp)
	assert.Equal(t, 413, code, "%s", body)

	// No model loaded: 503 with Retry-After, before any streaming.
	_, err = e.slots.Unload(pipeline.LLMSlot)
	require.NoError(t, err)
	resp = e.post("/v1/chat/completions", chatBody("x", map[string]any{"stream": true}))
	code, body = readAll(t, resp)
	assert.Equal(t, 503, code)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	spec.RequireStrict(t, "ErrorResponse", body)
	e.idle()
}

func TestChatMidStreamError(t *testing.T) {
	spec := oapitest.Load(t)
	llm := &pipelinetest.LLM{FailAfter: 2, FailErr: &pipeline.Error{Kind: pipeline.KindInternal, Message: "device lost"}}
	e := newEnv(t, envOptions{llm: llm})
	resp := e.post("/v1/chat/completions", chatBody("a b c d e", map[string]any{"stream": true}))
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	cs := parseChatStream(t, spec, readFrames(t, resp.Body))
	assert.Equal(t, "a b", cs.content())
	require.NotNil(t, cs.errFrame, "the stream ends with an error frame")
	assert.Equal(t, "device lost", cs.errFrame["error"].(map[string]any)["message"])
	assert.True(t, cs.done, "then [DONE]")

	code, body := readAll(t, e.post("/v1/chat/completions", chatBody("a b c d e", nil)))
	assert.Equal(t, 500, code)
	assert.Equal(t, "device lost", errBodyOf(t, body).Error.Message)
	e.idle()
}

func TestChatCancelMidStream(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}
	e := newEnv(t, envOptions{llm: llm})
	resp := e.post("/v1/chat/completions", chatBody("la la la", map[string]any{"stream": true}))
	br := bufio.NewReader(resp.Body)
	for range 5 {
		_, err := nextFrame(br)
		require.NoError(t, err)
	}
	require.Equal(t, 1.0, e.gauge("ominix_sessions_active"))
	resp.Body.Close() // the client goes away mid-stream
	e.idle()
	steps := llm.Steps()
	require.Never(t, func() bool { return llm.Steps() != steps }, 50*time.Millisecond, 5*time.Millisecond,
		"nothing steps a cancelled sequence")
}

// TestChatClientNeverReads: a raw TCP client sends its request and never
// reads. The server drops it (slow-consumer policy or write deadline) and
// cancels its work; other streams meanwhile complete at normal speed.
func TestChatClientNeverReads(t *testing.T) {
	big := strings.Repeat("x", 8<<10)
	llm := &pipelinetest.LLM{NoEOS: true, Script: func(req *pipeline.ChatRequest) []string {
		if strings.Contains(req.Messages[0].Content, "flood") {
			return []string{big}
		}
		return pipelinetest.Echo(req)
	}}
	e := newEnv(t, envOptions{llm: llm, noStart: true,
		sess: &sessions.Options{MaxPendingBytes: 256 << 10},
		opts: &transport.Options{WriteTimeout: 300 * time.Millisecond}})
	e.http.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && st == http.StateNew {
			_ = tc.SetWriteBuffer(32 << 10)
		}
	}
	e.start()

	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(16<<10))
	body := chatBody("flood", map[string]any{"stream": true, "max_tokens": 1 << 20})
	_, err = fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return llm.Tokens() > 10 }, wait, time.Millisecond, "the flood starts")

	// Others are unaffected while the flood is being dropped.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp := e.post("/v1/chat/completions", chatBody("quick reply", map[string]any{"stream": true, "max_tokens": 50}))
			defer resp.Body.Close()
			cs := parseChatStream(t, nil, readFrames(t, resp.Body))
			assert.True(t, cs.done)
			assert.Less(t, time.Since(start), 10*time.Second)
		}()
	}
	wg.Wait()
	e.idle() // the flood's work was cancelled although its client never left
	assert.Equal(t, 1.0, e.gauge("ominix_slow_consumer_disconnects_total"), "dropped by the token policy")
}

// TestChatBurstBeyondBacklog: more requests than in-flight places and
// backlog: the excess get 429 with Retry-After before any streaming,
// nothing hangs, every accepted stream finishes. The engine is held still
// until every excess request was answered, so the split is deterministic.
func TestChatBurstBeyondBacklog(t *testing.T) {
	spec := oapitest.Load(t)
	gate := make(chan struct{})
	llm := &pipelinetest.LLM{Gate: gate}
	e := newEnv(t, envOptions{llm: llm, sched: &pipeline.SchedulerOptions{MaxInFlight: 2, MaxBacklog: 2, MaxBatch: 2}})
	const n = 24
	var ok, rejected atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := e.post("/v1/chat/completions", chatBody("a b c d e f g h", map[string]any{"stream": i%2 == 0}))
			code, body := readAll(t, resp)
			switch code {
			case 200:
				ok.Add(1)
				if i%2 == 0 {
					cs := parseChatStream(t, spec, readFrames(t, strings.NewReader(string(body))))
					assert.True(t, cs.done)
					assert.Equal(t, "a b c d e f g h", cs.content())
				}
			case 429:
				rejected.Add(1)
				assert.NotEmpty(t, resp.Header.Get("Retry-After"))
				spec.RequireStrict(t, "ErrorResponse", body)
			default:
				t.Errorf("status %d: %s", code, body)
			}
		}()
	}
	// At most 4 fit (2 in flight, 2 waiting); the rest are refused at once.
	require.Eventually(t, func() bool { return rejected.Load() >= n-4 }, wait, time.Millisecond)
	close(gate)
	wg.Wait()
	t.Logf("accepted %d, rejected %d", ok.Load(), rejected.Load())
	assert.Equal(t, int32(n), ok.Load()+rejected.Load())
	assert.Positive(t, ok.Load())
	e.idle()
}

// TestGracefulShutdownUnderLoad: http.Server.Shutdown together with the
// scheduler's Shutdown and a short grace: streams that can finish in time
// finish; the others end with a clear error frame and [DONE].
func TestGracefulShutdownUnderLoad(t *testing.T) {
	spec := oapitest.Load(t)
	endless := make([]string, 100000) // at a step per millisecond, far longer than the grace
	for i := range endless {
		endless[i] = " la"
	}
	llm := &pipelinetest.LLM{StepDelay: time.Millisecond, Script: func(req *pipeline.ChatRequest) []string {
		if strings.Contains(req.Messages[0].Content, "forever") {
			return endless
		}
		return pipelinetest.Echo(req)
	}}
	e := newEnv(t, envOptions{llm: llm})
	type result struct{ cs chatStream }
	results := make(chan result, 6)
	start := func(text string, maxTokens int) {
		extra := map[string]any{"stream": true}
		if maxTokens > 0 {
			extra["max_tokens"] = maxTokens
		}
		resp := e.post("/v1/chat/completions", chatBody(text, extra))
		require.Equal(t, 200, resp.StatusCode)
		br := bufio.NewReader(resp.Body)
		_, err := nextFrame(br) // the role chunk: the stream is open
		require.NoError(t, err)
		go func() {
			defer resp.Body.Close()
			results <- result{parseChatStream(t, spec, readFrames(t, br))}
		}()
	}
	for range 3 {
		start("forever", 1<<20)
	}
	for range 3 {
		start("short answer", 0)
	}

	graceCtx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	schedDone := make(chan error, 1)
	go func() { schedDone <- e.sched.Shutdown(graceCtx) }()
	shutCtx, cancel2 := context.WithTimeout(context.Background(), wait)
	defer cancel2()
	require.NoError(t, e.http.Config.Shutdown(shutCtx), "every handler returned")
	<-schedDone

	finished, failed := 0, 0
	for range 6 {
		r := <-results
		require.True(t, r.cs.done, "every stream ends with [DONE]")
		if r.cs.errFrame != nil {
			failed++
			assert.Equal(t, "server_shutting_down", r.cs.errFrame["error"].(map[string]any)["code"])
		} else {
			finished++
			assert.Equal(t, "stop", r.cs.finish())
		}
	}
	assert.Equal(t, 3, failed, "the endless streams were cut with a final error")
	assert.Equal(t, 3, finished, "the short ones finished")
}

func TestChatSessionBound(t *testing.T) {
	gate := make(chan struct{})
	llm := &pipelinetest.LLM{Gate: gate}
	e := newEnv(t, envOptions{llm: llm, sess: &sessions.Options{MaxSessions: 1}})
	resp := e.post("/v1/chat/completions", chatBody("x", map[string]any{"stream": true}))
	defer resp.Body.Close()
	code, body := readAll(t, e.post("/v1/chat/completions", chatBody("y", nil)))
	assert.Equal(t, 429, code, "%s", body)
	assert.Equal(t, "too_many_sessions", *errBodyOf(t, body).Error.Code)
	close(gate)
	_, _ = io.Copy(io.Discard, resp.Body)
	e.idle()
}

func TestParallelToolCallsFalseKeepsFirstCall(t *testing.T) {
	llm := &pipelinetest.LLM{Tools: pipeline.ToolsHermes, Script: pipelinetest.Fixed(
		`<tool_call>{"name": "a", "arguments": {}}</tool_call>`, `<tool_call>{"name": "b", "arguments": {}}</tool_call>`)}
	e := newEnv(t, envOptions{llm: llm})
	tools := []map[string]any{{"type": "function", "function": map[string]any{"name": "a"}},
		{"type": "function", "function": map[string]any{"name": "b"}}}
	for _, parallel := range []bool{true, false} {
		code, body := readAll(t, e.post("/v1/chat/completions", chatBody("call", map[string]any{"tools": tools, "parallel_tool_calls": parallel})))
		require.Equal(t, 200, code, "%s", body)
		var res struct {
			Choices []struct {
				Message struct {
					ToolCalls []struct {
						Function struct{ Name string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		require.NoError(t, json.Unmarshal(body, &res))
		want := 2
		if !parallel {
			want = 1
		}
		assert.Len(t, res.Choices[0].Message.ToolCalls, want)
		assert.Equal(t, "tool_calls", res.Choices[0].FinishReason)
	}
	e.idle()
}

// TestChatToolStreamDefersRole: a stream that may answer with a tool call
// opens without the role chunk (keepalive comments show it is alive during
// prefill); its first chunk is the tool call, carrying the role and
// "content": null, as OpenAI sends it.
func TestChatToolStreamDefersRole(t *testing.T) {
	spec := oapitest.Load(t)
	gate := make(chan struct{})
	llm := &pipelinetest.LLM{Tools: pipeline.ToolsHermes, Gate: gate, Script: goldenScript}
	e := newEnv(t, envOptions{llm: llm, opts: &transport.Options{KeepAlive: 10 * time.Millisecond}})
	resp := e.post("/v1/chat/completions", chatBody("weather?", map[string]any{"stream": true, "tools": goldenTools()}))
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	br := bufio.NewReader(resp.Body)
	f, err := nextFrame(br)
	require.NoError(t, err)
	assert.Equal(t, "keepalive", f.Comment, "no chunk before the model's first output, only keepalives")
	assert.Empty(t, f.Data)
	close(gate)
	cs := parseChatStream(t, spec, readFrames(t, br))
	require.True(t, cs.done)
	require.NotEmpty(t, cs.chunks)
	delta := cs.chunks[0]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	assert.Equal(t, "assistant", delta["role"])
	assert.Contains(t, delta, "content")
	assert.Nil(t, delta["content"], "content is null on a tool-call chunk")
	require.Len(t, delta["tool_calls"], 1)
	assert.Equal(t, "get_weather", delta["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)["name"])
	for _, c := range cs.chunks[1:] {
		for _, ch := range c["choices"].([]any) {
			assert.NotContains(t, ch.(map[string]any)["delta"], "role", "the role is sent once")
		}
	}
	assert.Equal(t, "tool_calls", cs.finish())
	e.idle()
}
