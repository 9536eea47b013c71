package openai_test

import (
	"errors"
	"testing"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

func FuzzDecodeChatRequest(f *testing.F) {
	seeds := []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"1"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"messages":[{"role":"user","content":"json"}],"stream":true,"stream_options":{"include_usage":true},"stop":["a","b"],"logprobs":true,"top_logprobs":2,"response_format":{"type":"json_object"}}`,
		`{"messages":[{"role":"user","content":"x"}],"temperature":1e308,"top_p":1,"seed":-1,"max_completion_tokens":1.0,"n":1,"top_k":0,"min_p":0,"repetition_penalty":2,"chat_template_kwargs":{"enable_thinking":true}}`,
		`{"messages": [}`, `[]`, `null`, `{"messages":[{"role":"\u0000","content":"\ud800"}]}`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	opts := &openai.DecodeOptions{MaxMessages: 8, MaxMessageBytes: 256, MaxTotalBytes: 512, MaxTools: 4, AllowJSONSchema: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := openai.DecodeChatRequest(body, opts)
		if err != nil {
			var e *pipeline.Error
			if !errors.As(err, &e) || e.Kind != pipeline.KindInvalid || e.Message == "" {
				t.Fatalf("error is not a KindInvalid *pipeline.Error with a message: %#v", err)
			}
			return
		}
		r := p.Request
		switch {
		case len(r.Messages) == 0 || len(r.Messages) > 8:
			t.Fatalf("message count %d out of bounds", len(r.Messages))
		case len(r.Tools) > 4:
			t.Fatalf("tool count %d out of bounds", len(r.Tools))
		case len(r.Stop) > openai.MaxStopSequences:
			t.Fatalf("stop count %d out of bounds", len(r.Stop))
		case r.TopLogprobs < 0 || r.TopLogprobs > 20 || (r.TopLogprobs > 0 && !r.Logprobs):
			t.Fatalf("top_logprobs %d invalid", r.TopLogprobs)
		case r.MaxTokens < 0:
			t.Fatalf("negative max tokens")
		case p.IncludeUsage && !p.Stream:
			t.Fatalf("include_usage without stream")
		}
		total := 0
		for _, m := range r.Messages {
			total += len(m.Content)
			if len(m.Content) > 256 {
				t.Fatalf("message content of %d bytes passed a 256-byte bound", len(m.Content))
			}
		}
		if total > 512 {
			t.Fatalf("total content of %d bytes passed a 512-byte bound", total)
		}
		if s := r.Sampling; s.Temperature != nil && (*s.Temperature < 0 || *s.Temperature > 2) {
			t.Fatalf("temperature %v out of range", *s.Temperature)
		}
		if m := r.ToolChoice.Mode; m == "required" || m == "function" {
			if len(r.Tools) == 0 {
				t.Fatalf("tool_choice %q without tools", m)
			}
		}
	})
}
