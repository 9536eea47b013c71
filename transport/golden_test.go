package transport_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport"
)

var update = flag.Bool("update", false, "rewrite the server-level golden files in testdata/golden")

// Server-level golden streams: the real handler, scheduler and output
// parser run a scripted model, and the SSE bytes the client receives are
// compared with testdata/golden (rewritten with -update) after the values
// that change every run (completion id, created, tool call ids) are
// normalized. They are also held against the encoder's goldens in
// openai/testdata, which are built from events directly: the server must
// send what those transcripts show.

var (
	reCompletionID = regexp.MustCompile(`"id":"chatcmpl-[A-Za-z0-9]+"`)
	reCreated      = regexp.MustCompile(`"created":[0-9]+`)
	reCallID       = regexp.MustCompile(`"call_[A-Za-z0-9]+"`)
)

// normalizeStream replaces the completion id and created time with the
// encoder goldens' values and numbers tool call ids in order of first
// appearance ("call_0", "call_1", …).
func normalizeStream(b []byte) string {
	s := reCompletionID.ReplaceAllString(string(b), `"id":"chatcmpl-ominix0123456789"`)
	s = reCreated.ReplaceAllString(s, `"created":1767225600`)
	calls := map[string]string{}
	return reCallID.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := calls[id]; !ok {
			calls[id] = fmt.Sprintf(`"call_%d"`, len(calls))
		}
		return calls[id]
	})
}

// goldenScript answers like the encoder goldens' scenarios: with tools,
// two Hermes tool calls whose arguments arrive in fragments; without tools,
// or when asked for text, the plain scenario's three pieces.
func goldenScript(req *pipeline.ChatRequest) []string {
	if len(req.Tools) == 0 || req.Messages[len(req.Messages)-1].Content == "answer in text" {
		return []string{"Hello", `, <world> & "friends"`, "!\n"}
	}
	return []string{
		"<tool_call>", `{"name": "get_weather", "arguments": `, `{"city": `, `"Paris"}`, "}", "</tool_call>", "\n",
		"<tool_call>", `{"name": "get_time", "arguments": `, `{"tz": "Europe/Paris"}`, "}", "</tool_call>",
	}
}

func goldenTools() []map[string]any {
	tool := func(name, param string) map[string]any {
		return map[string]any{"type": "function", "function": map[string]any{"name": name, "parameters": map[string]any{
			"type": "object", "properties": map[string]any{param: map[string]any{"type": "string"}}}}}
	}
	return []map[string]any{tool("get_weather", "city"), tool("get_time", "tz")}
}

func TestChatStreamServerGolden(t *testing.T) {
	llm := &pipelinetest.LLM{Name: "qwen3-0.6b", Tools: pipeline.ToolsHermes, Script: goldenScript}
	e := newEnv(t, envOptions{llm: llm, opts: &transport.Options{SystemFingerprint: "fp_ominix", KeepAlive: -1}})
	cases := []struct {
		name    string
		prompt  string
		extra   map[string]any
		encoder string // the encoder golden whose frames the server must send
		// skipUsage leaves the usage trailer out of that comparison: its
		// token counts are the scripted model's.
		skipUsage bool
	}{
		{name: "plain", prompt: "golden", encoder: "plain", extra: map[string]any{"stream": true}},
		{name: "tool_call", prompt: "golden", encoder: "tool_call", skipUsage: true, extra: map[string]any{
			"stream": true, "tools": goldenTools(), "stream_options": map[string]any{"include_usage": true}}},
		// Tools offered, text answered: the deferred role chunk still comes
		// first, with "content": "", exactly as in a plain stream.
		{name: "tools_text_answer", prompt: "answer in text", encoder: "plain", extra: map[string]any{
			"stream": true, "tools": goldenTools()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := readAll(t, e.post("/v1/chat/completions", chatBody(c.prompt, c.extra)))
			require.Equal(t, 200, code, "%s", body)
			got := normalizeStream(body)
			serverGolden(t, "chat_stream_"+c.name+".golden", got)

			enc, err := os.ReadFile(filepath.Join("openai", "testdata", "chat_stream_"+c.encoder+".golden"))
			require.NoError(t, err)
			want, have := sseDataFrames(normalizeStream(enc)), sseDataFrames(got)
			if c.skipUsage {
				want, have = withoutUsageTrailer(want), withoutUsageTrailer(have)
			}
			require.Equal(t, want, have, "the server sends the encoder golden's frames")
		})
	}
	e.idle()
}

// sseDataFrames splits a stream of data-only SSE frames.
func sseDataFrames(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n")
}

func withoutUsageTrailer(frames []string) []string {
	var out []string
	for _, f := range frames {
		if !strings.Contains(f, `"choices":[]`) {
			out = append(out, f)
		}
	}
	return out
}

// serverGolden compares got with testdata/golden/name, or rewrites it with
// -update.
func serverGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run: go test ./transport -run %s -update", t.Name())
	require.Equal(t, string(want), got, "golden %s differs; if the change is intended, run with -update", path)
}
