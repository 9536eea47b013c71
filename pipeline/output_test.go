package pipeline_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// collected is the sum of every delta of one generation.
type collected struct {
	content, reasoning string
	calls              []pipeline.ToolCall
	stopped            bool
}

func run(t *testing.T, info pipeline.ModelInfo, req *pipeline.ChatRequest, inReasoning bool, pieces []string) collected {
	t.Helper()
	p := pipeline.NewOutputParser(info, req, inReasoning)
	var c collected
	add := func(d pipeline.TextDelta) {
		c.content += d.Content
		c.reasoning += d.Reasoning
		for _, tc := range d.ToolCalls {
			if tc.ID != "" {
				require.Equal(t, len(c.calls), tc.Index, "calls start in order")
				require.NotEmpty(t, tc.Name)
				c.calls = append(c.calls, pipeline.ToolCall{ID: tc.ID, Name: tc.Name})
			}
			require.Less(t, tc.Index, len(c.calls), "arguments before header")
			c.calls[tc.Index].Arguments += tc.Arguments
		}
	}
	for _, s := range pieces {
		add(p.Push(s))
		if p.Stopped() {
			break
		}
	}
	add(p.Flush())
	c.stopped = p.Stopped()
	return c
}

// splits returns the text cut into single bytes, into random pieces, and whole.
func splits(text string) [][]string {
	var out [][]string
	out = append(out, []string{text})
	var bytes []string
	for i := 0; i < len(text); i++ {
		bytes = append(bytes, text[i:i+1])
	}
	out = append(out, bytes)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		var ps []string
		for rest := text; rest != ""; {
			n := min(len(rest), 1+r.IntN(7))
			ps = append(ps, rest[:n])
			rest = rest[n:]
		}
		out = append(out, ps)
	}
	return out
}

var qwen = pipeline.ModelInfo{ToolFormat: pipeline.ToolsHermes, ThinkOpen: "<think>", ThinkClose: "</think>"}

func withTools(stop ...string) *pipeline.ChatRequest {
	return &pipeline.ChatRequest{Stop: stop, Tools: []pipeline.Tool{{Name: "get_weather"}}}
}

func TestOutputPlainAndStop(t *testing.T) {
	for _, ps := range splits("Hello world. STOP here") {
		c := run(t, qwen, &pipeline.ChatRequest{Stop: []string{"STOP", "never"}}, false, ps)
		assert.Equal(t, "Hello world. ", c.content)
		assert.True(t, c.stopped)
	}
	for _, ps := range splits("No stop <b>here</b>, STO") {
		c := run(t, qwen, &pipeline.ChatRequest{Stop: []string{"STOP"}}, false, ps)
		assert.Equal(t, "No stop <b>here</b>, STO", c.content)
		assert.False(t, c.stopped)
	}
}

func TestOutputReasoning(t *testing.T) {
	for _, ps := range splits("<think>\nLet me think.\n</think>\n\nThe answer is 4.") {
		c := run(t, qwen, &pipeline.ChatRequest{}, false, ps)
		assert.Equal(t, "Let me think.\n", c.reasoning)
		assert.Equal(t, "The answer is 4.", c.content)
	}
	// The prompt already opened the thinking block.
	for _, ps := range splits("hmm\n</think>\n\nDone") {
		c := run(t, qwen, &pipeline.ChatRequest{}, true, ps)
		assert.Equal(t, "hmm\n", c.reasoning)
		assert.Equal(t, "Done", c.content)
	}
	// A think tag in the middle of an answer is just text.
	for _, ps := range splits("Use <think> tags") {
		c := run(t, qwen, &pipeline.ChatRequest{}, false, ps)
		assert.Equal(t, "Use <think> tags", c.content)
		assert.Empty(t, c.reasoning)
	}
}

func TestOutputHermesToolCalls(t *testing.T) {
	text := "<think>need weather</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2], \"q\": \"a \\\"}\\\" b\"}}\n</tool_call>\n<tool_call>\n{\"arguments\": {}, \"name\": \"get_time\"}\n</tool_call>"
	for _, ps := range splits(text) {
		c := run(t, qwen, withTools(), false, ps)
		assert.Equal(t, "need weather", c.reasoning)
		assert.Empty(t, c.content)
		require.Len(t, c.calls, 2)
		assert.Equal(t, "get_weather", c.calls[0].Name)
		assert.JSONEq(t, `{"city": "Paris", "days": [1, 2], "q": "a \"}\" b"}`, c.calls[0].Arguments)
		assert.Equal(t, "get_time", c.calls[1].Name)
		assert.JSONEq(t, `{}`, c.calls[1].Arguments)
		assert.True(t, strings.HasPrefix(c.calls[0].ID, "call_"))
	}
}

func TestOutputToolCallArgumentsAsString(t *testing.T) {
	text := `<tool_call>{"name": "f", "arguments": "{\"x\": 1}"}</tool_call>`
	for _, ps := range splits(text) {
		c := run(t, qwen, withTools(), false, ps)
		require.Len(t, c.calls, 1)
		assert.JSONEq(t, `{"x": 1}`, c.calls[0].Arguments)
	}
}

func TestOutputToolsDisabledOrMalformed(t *testing.T) {
	text := "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"
	c := run(t, qwen, &pipeline.ChatRequest{}, false, []string{text})
	assert.Equal(t, text, c.content, "no tools in the request: the text is content")

	req := withTools()
	req.ToolChoice.Mode = "none"
	c = run(t, qwen, req, false, []string{text})
	assert.Equal(t, text, c.content)

	for _, ps := range splits("Sure: <tool_call> not json") {
		c = run(t, qwen, withTools(), false, ps)
		assert.Equal(t, "Sure: <tool_call> not json", c.content)
		assert.Empty(t, c.calls)
	}
	// Generation cut off inside a call whose name never arrived.
	for _, ps := range splits(`<tool_call>{"argu`) {
		c = run(t, qwen, withTools(), false, ps)
		assert.Equal(t, `<tool_call>{"argu`, c.content)
		assert.Empty(t, c.calls)
	}
}

func TestOutputMistralToolCalls(t *testing.T) {
	info := pipeline.ModelInfo{ToolFormat: pipeline.ToolsMistral}
	text := `[TOOL_CALLS][{"name": "a", "arguments": {"k": "v"}}, {"name": "b", "arguments": {"n": 2}}]`
	for _, ps := range splits(text) {
		c := run(t, info, withTools(), false, ps)
		require.Len(t, c.calls, 2)
		assert.Equal(t, "a", c.calls[0].Name)
		assert.JSONEq(t, `{"k":"v"}`, c.calls[0].Arguments)
		assert.Equal(t, "b", c.calls[1].Name)
		assert.JSONEq(t, `{"n":2}`, c.calls[1].Arguments)
		assert.Empty(t, c.content)
	}
	text = `[TOOL_CALLS]get_weather[ARGS]{"city": "Oslo"}`
	for _, ps := range splits(text) {
		c := run(t, info, withTools(), false, ps)
		require.Len(t, c.calls, 1)
		assert.Equal(t, "get_weather", c.calls[0].Name)
		assert.JSONEq(t, `{"city":"Oslo"}`, c.calls[0].Arguments)
	}
}

func TestOutputLlama3ToolCalls(t *testing.T) {
	info := pipeline.ModelInfo{ToolFormat: pipeline.ToolsLlama3}
	text := ` {"name": "get_weather", "parameters": {"city": "Rome"}}`
	for _, ps := range splits(text) {
		c := run(t, info, withTools(), false, ps)
		require.Len(t, c.calls, 1)
		assert.JSONEq(t, `{"city":"Rome"}`, c.calls[0].Arguments)
		assert.Empty(t, c.content)
	}
	for _, ps := range splits("Plain {answer}") {
		c := run(t, info, withTools(), false, ps)
		assert.Equal(t, "Plain {answer}", c.content)
	}
}

func TestOutputArgumentsStreamIncrementally(t *testing.T) {
	p := pipeline.NewOutputParser(qwen, withTools(), false)
	d := p.Push(`<tool_call>{"name": "get_weather", "arguments": {"city": "Pa`)
	require.Len(t, d.ToolCalls, 1)
	assert.Equal(t, "get_weather", d.ToolCalls[0].Name)
	assert.Equal(t, `{"city": "Pa`, d.ToolCalls[0].Arguments, "arguments stream before the call is complete")
	d = p.Push(`ris"}}</tool_call>`)
	require.Len(t, d.ToolCalls, 1)
	assert.Equal(t, `ris"}`, d.ToolCalls[0].Arguments)
	assert.Empty(t, d.ToolCalls[0].ID)
}

func FuzzOutputParser(f *testing.F) {
	f.Add("<think>a</think>b<tool_call>{\"name\":\"x\",\"arguments\":{}}</tool_call>", 3)
	f.Add("[TOOL_CALLS][{\"name\":\"a\"}]", 1)
	f.Add(`{"name":"f","parameters":{"a":[1,{"b":"}"}]}}`, 2)
	f.Fuzz(func(t *testing.T, text string, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 1
		}
		for _, format := range []pipeline.ToolFormat{pipeline.ToolsHermes, pipeline.ToolsMistral, pipeline.ToolsLlama3} {
			info := pipeline.ModelInfo{ToolFormat: format, ThinkOpen: "<think>", ThinkClose: "</think>"}
			p := pipeline.NewOutputParser(info, withTools("STOP"), false)
			total := 0
			for i := 0; i < len(text); i += chunk {
				d := p.Push(text[i:min(len(text), i+chunk)])
				total += len(d.Content) + len(d.Reasoning)
				for _, tc := range d.ToolCalls {
					total += len(tc.Arguments)
				}
			}
			d := p.Flush()
			total += len(d.Content) + len(d.Reasoning)
			if total > len(text)*2+64 {
				t.Fatalf("output %d bytes from %d bytes of input", total, len(text))
			}
		}
	})
}

func TestOutputToolCallsAreValidJSON(t *testing.T) {
	text := "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": {\"b\": [1, 2, {\"c\": null}]}, \"t\": true}}\n</tool_call>"
	c := run(t, qwen, withTools(), false, []string{text})
	require.Len(t, c.calls, 1)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.calls[0].Arguments), &v))
}
