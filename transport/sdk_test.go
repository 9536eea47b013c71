package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

// The official Go SDK (github.com/openai/openai-go/v3) against a real server
// on loopback with scripted engines. Every body and chunk the SDK sees is
// also validated against OpenAI's OpenAPI schemas.

func sdkClient(e *env) openai.Client {
	return openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey("sk-unused"), option.WithMaxRetries(0))
}

func userParams(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: "qwen3", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}}
}

// streamAll runs a streaming completion and accumulates it, validating
// every chunk.
func streamAll(t *testing.T, spec *oapitest.Spec, client openai.Client, p openai.ChatCompletionNewParams) (openai.ChatCompletionAccumulator, []openai.ChatCompletionChunk) {
	t.Helper()
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		c := stream.Current()
		spec.RequireStrict(t, "CreateChatCompletionStreamResponse", c.RawJSON(), "reasoning_content")
		require.True(t, acc.AddChunk(c), "the accumulator accepts chunk %s", c.RawJSON())
		chunks = append(chunks, c)
	}
	require.NoError(t, stream.Err())
	return acc, chunks
}

func TestSDKChat(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{})
	client := sdkClient(e)

	res, err := client.Chat.Completions.New(context.Background(), userParams("hello from go"))
	require.NoError(t, err)
	spec.RequireStrict(t, "CreateChatCompletionResponse", res.RawJSON(), "reasoning_content")
	assert.Equal(t, "hello from go", res.Choices[0].Message.Content)
	assert.Equal(t, "scripted", res.Model)
	assert.Equal(t, "stop", res.Choices[0].FinishReason)
	assert.EqualValues(t, 4, res.Usage.CompletionTokens)
	assert.Equal(t, res.Usage.PromptTokens+res.Usage.CompletionTokens, res.Usage.TotalTokens)

	p := userParams("streamed words arrive")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	acc, chunks := streamAll(t, spec, client, p)
	assert.Equal(t, "streamed words arrive", acc.Choices[0].Message.Content)
	assert.Equal(t, "stop", acc.Choices[0].FinishReason)
	assert.EqualValues(t, 4, acc.Usage.CompletionTokens, "the usage trailer")
	last := chunks[len(chunks)-1]
	assert.Empty(t, last.Choices)
	assert.True(t, last.JSON.Usage.Valid())
	assert.False(t, chunks[0].JSON.Usage.Valid(), "usage is null on content chunks")
	for _, c := range chunks {
		assert.Equal(t, chunks[0].ID, c.ID)
	}
	e.idle()
}

func TestSDKToolCalls(t *testing.T) {
	spec := oapitest.Load(t)
	llm := &pipelinetest.LLM{Tools: pipeline.ToolsHermes, Script: pipelinetest.Fixed(
		"<tool_call>", `{"name": "get_weather", `, `"arguments": {"city": `, `"Paris"}}`, "</tool_call>")}
	e := newEnv(t, envOptions{llm: llm})
	client := sdkClient(e)
	p := userParams("weather in Paris?")
	p.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:       "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	})}

	res, err := client.Chat.Completions.New(context.Background(), p)
	require.NoError(t, err)
	spec.RequireStrict(t, "CreateChatCompletionResponse", res.RawJSON(), "reasoning_content")
	require.Len(t, res.Choices[0].Message.ToolCalls, 1)
	call := res.Choices[0].Message.ToolCalls[0]
	assert.Equal(t, "get_weather", call.Function.Name)
	assert.JSONEq(t, `{"city": "Paris"}`, call.Function.Arguments)
	assert.Regexp(t, `^call_`, call.ID)
	assert.Equal(t, "tool_calls", res.Choices[0].FinishReason)

	acc, chunks := streamAll(t, spec, client, p)
	require.Len(t, acc.Choices[0].Message.ToolCalls, 1)
	assert.Equal(t, "get_weather", acc.Choices[0].Message.ToolCalls[0].Function.Name)
	assert.JSONEq(t, `{"city": "Paris"}`, acc.Choices[0].Message.ToolCalls[0].Function.Arguments)
	assert.Equal(t, "tool_calls", acc.Choices[0].FinishReason)
	var fragments int
	for _, c := range chunks {
		if len(c.Choices) > 0 && len(c.Choices[0].Delta.ToolCalls) > 0 {
			fragments++
		}
	}
	assert.Greater(t, fragments, 1, "arguments arrive in fragments")
	e.idle()
}

func TestSDKStopLogprobsReasoning(t *testing.T) {
	spec := oapitest.Load(t)
	llm := &pipelinetest.LLM{Think: true, Script: func(req *pipeline.ChatRequest) []string {
		if strings.Contains(req.Messages[0].Content, "think") {
			return []string{"<think>", "2 plus 2", " is 4", "</think>", "\n\n", "4"}
		}
		return pipelinetest.Echo(req)
	}}
	e := newEnv(t, envOptions{llm: llm})
	client := sdkClient(e)

	p := userParams("one two three four")
	p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{" thr"}}
	res, err := client.Chat.Completions.New(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, "one two", res.Choices[0].Message.Content, "the stop string is cut and never emitted")
	acc, _ := streamAll(t, spec, client, p)
	assert.Equal(t, "one two", acc.Choices[0].Message.Content)

	p = userParams("a b")
	p.Logprobs = openai.Bool(true)
	p.TopLogprobs = openai.Int(1)
	res, err = client.Chat.Completions.New(context.Background(), p)
	require.NoError(t, err)
	spec.RequireStrict(t, "CreateChatCompletionResponse", res.RawJSON(), "reasoning_content")
	require.Len(t, res.Choices[0].Logprobs.Content, 2)
	assert.Equal(t, "a", res.Choices[0].Logprobs.Content[0].Token)
	assert.Len(t, res.Choices[0].Logprobs.Content[0].TopLogprobs, 1)
	acc, _ = streamAll(t, spec, client, p)
	assert.Len(t, acc.Choices[0].Logprobs.Content, 2)

	p = userParams("think first")
	res, err = client.Chat.Completions.New(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, "4", res.Choices[0].Message.Content)
	rc, ok := res.Choices[0].Message.JSON.ExtraFields["reasoning_content"]
	require.True(t, ok, "reasoning_content reaches the SDK: %s", res.RawJSON())
	assert.Equal(t, `"2 plus 2 is 4"`, rc.Raw())
	_, chunks := streamAll(t, spec, client, p)
	var reasoning strings.Builder
	for _, c := range chunks {
		if len(c.Choices) == 0 {
			continue
		}
		if f, ok := c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
			reasoning.WriteString(strings.Trim(f.Raw(), `"`))
		}
	}
	assert.Equal(t, "2 plus 2 is 4", reasoning.String())
	e.idle()
}

func TestSDKErrors(t *testing.T) {
	gate := make(chan struct{})
	llm := &pipelinetest.LLM{Gate: gate}
	e := newEnv(t, envOptions{llm: llm, sched: &pipeline.SchedulerOptions{MaxInFlight: 1, MaxBacklog: 1, MaxBatch: 1}})
	client := sdkClient(e)

	p := userParams("x")
	p.Temperature = openai.Float(9)
	_, err := client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Equal(t, "temperature", apiErr.Param)
	assert.Equal(t, "invalid_request_error", apiErr.Type)

	// A burst while the engine is held still: at most 2 fit (1 in flight,
	// 1 waiting); the excess is refused with 429 and Retry-After.
	var wg sync.WaitGroup
	var answered atomic.Int32
	errs := make(chan error, 12)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Chat.Completions.New(context.Background(), userParams("a b c d e f g h i j"))
			answered.Add(1)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return answered.Load() >= 10 }, wait, time.Millisecond)
	close(gate)
	wg.Wait()
	close(errs)
	rejected := 0
	for err := range errs {
		if err == nil {
			continue
		}
		var apiErr *openai.Error
		require.True(t, errors.As(err, &apiErr), "%v", err)
		assert.Equal(t, 429, apiErr.StatusCode)
		assert.NotEmpty(t, apiErr.Response.Header.Get("Retry-After"))
		assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
		rejected++
	}
	assert.Positive(t, rejected)

	stream := client.Chat.Completions.NewStreaming(context.Background(), p) // temperature 9
	for stream.Next() {
	}
	require.Error(t, stream.Err(), "an invalid request is refused before streaming")
	require.ErrorAs(t, stream.Err(), &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	stream.Close()
	e.idle()
}

// TestSDKMidStreamError: a generation that fails after some tokens reaches
// the Go SDK as stream.Err(), carrying the server's error object, after the
// chunks sent before the failure.
func TestSDKMidStreamError(t *testing.T) {
	spec := oapitest.Load(t)
	llm := &pipelinetest.LLM{FailAfter: 2, FailErr: &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "model_unloaded",
		Message: "The model was unloaded while generating; retry the request."}}
	e := newEnv(t, envOptions{llm: llm})
	client := sdkClient(e)

	stream := client.Chat.Completions.NewStreaming(context.Background(), userParams("a b c d e"))
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		c := stream.Current()
		spec.RequireStrict(t, "CreateChatCompletionStreamResponse", c.RawJSON(), "reasoning_content")
		acc.AddChunk(c)
	}
	assert.Equal(t, "a b", acc.Choices[0].Message.Content, "the tokens before the failure arrived")
	err := stream.Err()
	require.Error(t, err, "the failure is not mistaken for the end of the stream")
	assert.Contains(t, err.Error(), "The model was unloaded while generating")
	var se *ssestream.StreamError
	require.ErrorAs(t, err, &se)
	spec.RequireStrict(t, "ErrorResponse", se.Event.Data)
	var body struct {
		Error struct{ Message, Type, Code string }
	}
	require.NoError(t, json.Unmarshal(se.Event.Data, &body))
	assert.Equal(t, "The model was unloaded while generating; retry the request.", body.Error.Message)
	assert.Equal(t, "server_error", body.Error.Type)
	assert.Equal(t, "model_unloaded", body.Error.Code)
	e.idle()
}
