package transport_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport"
)

// FuzzChatHandler sends random bodies through the whole router in process
// (middleware, body limit, decoding, scheduling, streaming or aggregation).
// The server must never panic or answer 500, and every answer that is not
// a 200 must be an OpenAI error object.
func FuzzChatHandler(f *testing.F) {
	seeds := []string{
		chatBody("hello", nil),
		chatBody("hello", map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}),
		chatBody("a b", map[string]any{"logprobs": true, "top_logprobs": 2, "stop": []string{"b"}, "max_tokens": 1}),
		chatBody("call", map[string]any{"tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "f"}}}, "tool_choice": "required"}),
		`{"messages":[{"role":"system","content":[{"type":"text","text":"x"}]},{"role":"user","content":"y"}],"max_completion_tokens":5}`,
		`{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"1"}]}`,
		`{"messages": [`, `null`, `[]`, `{}`, `{"messages":[]}`, `{"messages":[{"role":"user","content":"x"}],"n":2}`,
		`{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
		"\xff\xfe", strings.Repeat("[", 10000),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	llm := &pipelinetest.LLM{Tools: pipeline.ToolsHermes, Context: 512}
	e := newEnv(f, envOptions{llm: llm, noStart: true, opts: &transport.Options{MaxBodyBytes: 64 << 10}})
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		served := make(chan struct{})
		go func() { defer close(served); e.srv.ServeHTTP(rec, req) }()
		select {
		case <-served:
		case <-time.After(wait):
			t.Fatalf("no answer within %v for %q", wait, body)
		}
		switch rec.Code {
		case 200:
			return
		case 400, 413, 429, 503:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		var eb struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Message == "" || eb.Error.Type == "" {
			t.Fatalf("status %d without an OpenAI error for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
