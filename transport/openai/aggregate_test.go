package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func aggregate(sc scenario) (openai.ChatCompletion, error) {
	a := openai.NewChatAggregator(sc.opts)
	for _, ev := range sc.events {
		a.Add(ev)
	}
	return a.Result()
}

// aggregatedBody is the JSON body a handler sends for a scenario: the
// chat.completion object, or the error it ended with.
func aggregatedBody(t *testing.T, sc scenario) (body []byte, failed bool) {
	t.Helper()
	res, err := aggregate(sc)
	var v any = res
	if err != nil {
		v = openai.NewErrorResponse(err)
	}
	b, mErr := openai.Marshal(v)
	require.NoError(t, mErr)
	return b, err != nil
}

func TestChatAggregatorGolden(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			b, _ := aggregatedBody(t, sc)
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, b, "", "  "))
			golden(t, "chat_completion_"+sc.name+".golden", append(pretty.Bytes(), '\n'))
		})
	}
}

func TestChatAggregatorMatchesSchema(t *testing.T) {
	spec := oapitest.Load(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			b, failed := aggregatedBody(t, sc)
			if failed {
				spec.RequireStrict(t, "ErrorResponse", b)
				return
			}
			spec.Require(t, "CreateChatCompletionResponse", b)
			spec.RequireStrict(t, "CreateChatCompletionResponse", b, "reasoning_content")
		})
	}
}

func TestChatAggregatorContent(t *testing.T) {
	byName := map[string]scenario{}
	for _, sc := range scenarios() {
		byName[sc.name] = sc
	}
	res, err := aggregate(byName["plain"])
	require.NoError(t, err)
	msg := res.Choices[0].Message
	content, ok := msg.Content.Get()
	require.True(t, ok)
	assert.Equal(t, "Hello, <world> & \"friends\"!\n", content)
	assert.Equal(t, "stop", res.Choices[0].FinishReason)
	assert.Equal(t, 16, res.Usage.TotalTokens)
	assert.Equal(t, 8, res.Usage.PromptTokensDetails.CachedTokens)
	assert.Nil(t, res.Choices[0].Logprobs)

	res, err = aggregate(byName["tool_call"])
	require.NoError(t, err)
	msg = res.Choices[0].Message
	assert.True(t, msg.Content.IsNull(), "content is null when the message is only tool calls")
	require.Len(t, msg.ToolCalls, 2)
	assert.Equal(t, openai.ToolCall{ID: "call_w1", Type: "function",
		Function: openai.FunctionCall{Name: "get_weather", Arguments: `{"city": "Paris"}`}}, msg.ToolCalls[0])
	assert.Equal(t, "get_time", msg.ToolCalls[1].Function.Name)
	assert.Equal(t, "tool_calls", res.Choices[0].FinishReason)

	res, err = aggregate(byName["reasoning"])
	require.NoError(t, err)
	assert.Equal(t, "2 plus 2 is 4.", res.Choices[0].Message.ReasoningContent)
	assert.Equal(t, 8, res.Usage.CompletionTokensDetails.ReasoningTokens)

	res, err = aggregate(byName["logprobs"])
	require.NoError(t, err)
	require.NotNil(t, res.Choices[0].Logprobs)
	assert.Len(t, res.Choices[0].Logprobs.Content, 2)
}

func TestChatAggregatorFailures(t *testing.T) {
	a := openai.NewChatAggregator(baseOptions())
	assert.False(t, a.Add(pipeline.TextDelta{Content: "x"}))
	_, err := a.Result()
	assert.Equal(t, pipeline.KindInternal, pipeline.AsError(err).Kind, "no terminal event")

	cause := &pipeline.Error{Kind: pipeline.KindTimeout, Message: "too slow"}
	assert.True(t, a.Add(&pipeline.Failed{Err: cause}))
	assert.True(t, a.Add(pipeline.Done{Finish: pipeline.FinishStop}), "events after the end are ignored")
	_, err = a.Result()
	assert.Same(t, cause, err)

	a = openai.NewChatAggregator(baseOptions())
	a.Add(pipeline.Done{Finish: pipeline.FinishCancelled})
	_, err = a.Result()
	assert.True(t, errors.Is(err, pipeline.ErrCancelled))
}

func TestChatAggregatorEmptyLogprobsIsList(t *testing.T) {
	a := openai.NewChatAggregator(withLogprobs(baseOptions()))
	a.Add(pipeline.Done{Finish: pipeline.FinishStop})
	res, err := a.Result()
	require.NoError(t, err)
	b, err := json.Marshal(res.Choices[0].Logprobs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"content":[],"refusal":null}`, string(b))
}
