package openai_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func TestChatStreamGolden(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			golden(t, "chat_stream_"+sc.name+".golden", encode(sc))
		})
	}
}

// frames splits an SSE byte stream into the payloads of its data frames,
// checking the framing on the way.
func frames(t *testing.T, stream []byte) []string {
	t.Helper()
	require.True(t, bytes.HasSuffix(stream, []byte("\n\n")), "stream must end with a blank line")
	parts := strings.Split(strings.TrimSuffix(string(stream), "\n\n"), "\n\n")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		require.True(t, strings.HasPrefix(p, "data: "), "frame %q is not a data frame", p)
		payload := strings.TrimPrefix(p, "data: ")
		require.NotContains(t, payload, "\n", "a frame payload must be one line")
		out = append(out, payload)
	}
	return out
}

func TestChatStreamFramesMatchSchema(t *testing.T) {
	spec := oapitest.Load(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			for _, f := range frames(t, encode(sc)) {
				if f == "[DONE]" {
					continue
				}
				if strings.HasPrefix(f, `{"error":`) {
					spec.Require(t, "ErrorResponse", f)
					spec.RequireStrict(t, "ErrorResponse", f)
					continue
				}
				spec.Require(t, "CreateChatCompletionStreamResponse", f)
				// reasoning_content is our documented extension; the schema
				// leaves objects open, so only the strict check removes it.
				spec.RequireStrict(t, "CreateChatCompletionStreamResponse", f, "reasoning_content")
			}
		})
	}
}

func TestChatStreamInvariants(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			fs := frames(t, encode(sc))
			require.Equal(t, "[DONE]", fs[len(fs)-1], "every stream ends with [DONE]")
			failed := strings.HasPrefix(fs[len(fs)-2], `{"error":`)
			finishes, roles := 0, 0
			for i, f := range fs[:len(fs)-1] {
				if strings.HasPrefix(f, `{"error":`) {
					require.Equal(t, len(fs)-2, i, "an error frame is the last before [DONE]")
					continue
				}
				var c map[string]any
				require.NoError(t, json.Unmarshal([]byte(f), &c))
				assert.Equal(t, sc.opts.ID, c["id"], "one id for all chunks")
				assert.Equal(t, "chat.completion.chunk", c["object"])
				assert.EqualValues(t, sc.opts.Created, c["created"])
				usage, hasUsage := c["usage"]
				assert.Equal(t, sc.opts.IncludeUsage, hasUsage, "usage member present exactly with include_usage")
				choices := c["choices"].([]any)
				if len(choices) == 0 {
					require.True(t, sc.opts.IncludeUsage, "only the usage trailer has no choices")
					require.NotNil(t, usage)
					require.Equal(t, len(fs)-2, i, "the usage trailer is the last chunk")
					continue
				}
				if hasUsage {
					assert.Nil(t, usage, "usage is null on chunks before the trailer")
				}
				ch := choices[0].(map[string]any)
				delta := ch["delta"].(map[string]any)
				if _, ok := delta["role"]; ok {
					roles++
					assert.Zero(t, finishes)
				}
				if ch["finish_reason"] != nil {
					finishes++
					assert.Empty(t, delta, "the finishing chunk has an empty delta")
				}
			}
			assert.Equal(t, 1, roles, "exactly one chunk carries the role")
			if failed {
				assert.Zero(t, finishes)
			} else {
				assert.Equal(t, 1, finishes, "exactly one finish_reason")
			}
		})
	}
}

func TestChatStreamFirstToolCallCarriesRole(t *testing.T) {
	s := openai.NewChatStream(baseOptions())
	out := s.Encode(nil, pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, ID: "call_1", Name: "f"}}})
	fs := frames(t, out)
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0], `"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}],"refusal":null}`)
}

func TestChatStreamIgnoresAfterEnd(t *testing.T) {
	s := openai.NewChatStream(baseOptions())
	out := s.Encode(nil, &pipeline.Done{Finish: pipeline.FinishStop})
	require.True(t, s.Done())
	n := len(out)
	out = s.Encode(out, pipeline.TextDelta{Content: "late"})
	out = s.Start(out)
	out = s.Fail(out, pipeline.ErrOverloaded)
	assert.Len(t, out, n)
	fs := frames(t, out)
	assert.Len(t, fs, 3, "role chunk, finish chunk, [DONE]")
}

func TestChatStreamSkipsEmptyAndForeignEvents(t *testing.T) {
	s := openai.NewChatStream(baseOptions())
	out := s.Encode(nil, pipeline.TextDelta{})
	out = s.Encode(out, pipeline.TranscriptDelta{Text: "x"})
	out = s.Encode(out, pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0}}})
	assert.Empty(t, out)
}

func TestChatStreamLogprobsDroppedWhenNotRequested(t *testing.T) {
	s := openai.NewChatStream(baseOptions())
	out := s.Encode(nil, pipeline.TextDelta{Content: "a", Logprobs: []pipeline.TokenLogprobs{lp("a", -1)}})
	assert.NotContains(t, string(out), `"content":[`)
	assert.Contains(t, string(out), `"logprobs":null`)
}

func TestChatStreamNonFiniteLogprobs(t *testing.T) {
	inf := -1 / zero()
	s := openai.NewChatStream(withLogprobs(baseOptions()))
	out := s.Encode(nil, pipeline.TextDelta{Content: "a", Logprobs: []pipeline.TokenLogprobs{lp("a", inf, alt("b", inf))}})
	fs := frames(t, out)
	require.Len(t, fs, 2)
	assert.Contains(t, fs[1], `"logprob":-9999`)
	assert.NotContains(t, fs[1], "Inf")
}

func zero() float64 { return 0 }

func TestAppendFrame(t *testing.T) {
	out, err := openai.AppendFrame([]byte("x"), openai.NewTranscriptTextDelta("a<b\nc"))
	require.NoError(t, err)
	assert.Equal(t, "x"+`data: {"type":"transcript.text.delta","delta":"a<b\nc"}`+"\n\n", string(out))
}

func BenchmarkChatStreamToken(b *testing.B) {
	s := openai.NewChatStream(withUsage(baseOptions()))
	buf := s.Start(nil)
	ev := pipeline.TextDelta{Content: " token"}
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Encode(buf[:0], ev)
	}
}
