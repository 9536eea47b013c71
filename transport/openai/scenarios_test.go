package openai_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// scenario is a scripted chat completion: the options of the response and
// the events the pipeline would deliver.
type scenario struct {
	name   string
	opts   openai.ChatStreamOptions
	start  bool // call Start before the first event, as a handler does on open
	events []pipeline.Event
}

func baseOptions() openai.ChatStreamOptions {
	return openai.ChatStreamOptions{
		ID: "chatcmpl-ominix0123456789", Created: 1767225600, Model: "qwen3-0.6b", SystemFingerprint: "fp_ominix",
	}
}

func withUsage(o openai.ChatStreamOptions) openai.ChatStreamOptions { o.IncludeUsage = true; return o }

func withLogprobs(o openai.ChatStreamOptions) openai.ChatStreamOptions { o.Logprobs = true; return o }

func lp(token string, logprob float64, top ...pipeline.TokenLogprob) pipeline.TokenLogprobs {
	return pipeline.TokenLogprobs{TokenLogprob: pipeline.TokenLogprob{Token: token, Logprob: logprob}, Top: top}
}

func alt(token string, logprob float64) pipeline.TokenLogprob {
	return pipeline.TokenLogprob{Token: token, Logprob: logprob}
}

// scenarios are the chat streams with golden files in testdata.
func scenarios() []scenario {
	usage := pipeline.Usage{PromptTokens: 12, CompletionTokens: 4, CachedTokens: 8}
	return []scenario{
		{name: "plain", opts: baseOptions(), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Hello"},
			pipeline.TextDelta{Content: ", <world> & \"friends\""},
			pipeline.TextDelta{Content: "!\n"},
			pipeline.Done{Finish: pipeline.FinishStop, Usage: usage},
		}},
		{name: "usage", opts: withUsage(baseOptions()), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Hi"},
			pipeline.TextDelta{Content: " there."},
			pipeline.Done{Finish: pipeline.FinishStop, Usage: usage},
		}},
		{name: "tool_call", opts: withUsage(baseOptions()), events: []pipeline.Event{
			pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, ID: "call_w1", Name: "get_weather"}}},
			pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, Arguments: `{"city": `}}},
			pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, Arguments: `"Paris"}`}}},
			pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 1, ID: "call_t2", Name: "get_time"}}},
			pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 1, Arguments: `{"tz": "Europe/Paris"}`}}},
			pipeline.Done{Finish: pipeline.FinishToolCalls, Usage: pipeline.Usage{PromptTokens: 80, CompletionTokens: 31}},
		}},
		// The stop sequence itself is cut upstream; the encoder only ever
		// sees the text before it and a "stop" finish.
		{name: "stop_sequence", opts: baseOptions(), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "1, 2, 3"},
			pipeline.Done{Finish: pipeline.FinishStop, Usage: pipeline.Usage{PromptTokens: 9, CompletionTokens: 6}},
		}},
		{name: "length", opts: baseOptions(), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Once upon"},
			pipeline.Done{Finish: pipeline.FinishLength, Usage: pipeline.Usage{PromptTokens: 9, CompletionTokens: 2}},
		}},
		{name: "reasoning", opts: withUsage(baseOptions()), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Reasoning: "2 plus 2"},
			pipeline.TextDelta{Reasoning: " is 4."},
			pipeline.TextDelta{Content: "4"},
			pipeline.Done{Finish: pipeline.FinishStop, Usage: pipeline.Usage{PromptTokens: 14, CompletionTokens: 9, ReasoningTokens: 8}},
		}},
		{name: "logprobs", opts: withLogprobs(baseOptions()), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Yes", Logprobs: []pipeline.TokenLogprobs{lp("Yes", -0.25, alt("Yes", -0.25), alt("No", -1.5))}},
			pipeline.TextDelta{Content: ".", Logprobs: []pipeline.TokenLogprobs{lp(".", 0, alt(".", 0), alt("!", -9999))}},
			pipeline.Done{Finish: pipeline.FinishStop, Usage: pipeline.Usage{PromptTokens: 5, CompletionTokens: 2}},
		}},
		{name: "error_midstream", opts: withUsage(baseOptions()), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Partial"},
			pipeline.Failed{Err: &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "model_unloaded",
				Message: "The model was unloaded while generating; retry the request.", Err: errors.New("slot switched")}},
		}},
		{name: "internal_error", opts: baseOptions(), start: true, events: []pipeline.Event{
			pipeline.Failed{Err: errors.New("kernel exploded at 0xdeadbeef")},
		}},
		{name: "cancelled", opts: baseOptions(), start: true, events: []pipeline.Event{
			pipeline.TextDelta{Content: "Never fin"},
			pipeline.Done{Finish: pipeline.FinishCancelled},
		}},
	}
}

// encode runs a scenario through a ChatStream and returns the bytes.
func encode(sc scenario) []byte {
	s := openai.NewChatStream(sc.opts)
	var out []byte
	if sc.start {
		out = s.Start(out)
	}
	for _, ev := range sc.events {
		out = s.Encode(out, ev)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run: go test ./transport/openai -run %s -update", t.Name())
	require.Equal(t, string(want), string(got), "golden %s differs; if the change is intended, run with -update", path)
}
