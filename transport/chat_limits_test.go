package transport_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

// smallContext reports a context far shorter than its scripted model
// accepts, so the scheduler's own context checks (clamping max_tokens,
// refusing a prompt that does not fit) are what limit the request.
type smallContext struct {
	*pipelinetest.LLM
	n int
}

func (m *smallContext) Info() pipeline.ModelInfo {
	info := m.LLM.Info()
	info.ContextLength = m.n
	return info
}

// smallContextEnv serves a never-ending scripted model whose context is 16
// tokens. The scripted tokenizer counts 3 + 4 + ceil(len/4) tokens for one
// user message: "hi" takes 8, leaving room for 8.
func smallContextEnv(t *testing.T) *env {
	llm := &pipelinetest.LLM{NoEOS: true}
	return newEnv(t, envOptions{llm: llm, models: map[string]pipeline.Model{"small": &smallContext{LLM: llm, n: 16}},
		load: map[pipeline.Category]string{pipeline.LLMSlot: "small"}})
}

func TestChatMaxTokensClampedToContext(t *testing.T) {
	spec := oapitest.Load(t)
	e := smallContextEnv(t)
	for _, extra := range []map[string]any{{"max_tokens": 1000}, {"max_completion_tokens": 1 << 20}, nil} {
		code, body := readAll(t, e.post("/v1/chat/completions", chatBody("hi", extra)))
		require.Equal(t, 200, code, "%v: %s", extra, body)
		spec.RequireStrict(t, "CreateChatCompletionResponse", body, "reasoning_content")
		var res struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			} `json:"usage"`
		}
		require.NoError(t, json.Unmarshal(body, &res))
		assert.Equal(t, "length", res.Choices[0].FinishReason, "%v: cut by the context", extra)
		assert.Equal(t, 8, res.Usage.PromptTokens)
		assert.Equal(t, 8, res.Usage.CompletionTokens, "%v: the room the prompt left", extra)
		assert.Equal(t, 16, res.Usage.TotalTokens, "%v: the whole context", extra)
	}

	resp := e.post("/v1/chat/completions", chatBody("hi", map[string]any{"max_tokens": 1000, "stream": true,
		"stream_options": map[string]any{"include_usage": true}}))
	require.Equal(t, 200, resp.StatusCode)
	cs := parseChatStream(t, spec, readFrames(t, resp.Body))
	resp.Body.Close()
	require.True(t, cs.done)
	require.Nil(t, cs.errFrame)
	assert.Equal(t, "length", cs.finish())
	assert.EqualValues(t, 8, cs.chunks[len(cs.chunks)-1]["usage"].(map[string]any)["completion_tokens"])

	// Within the room, max_tokens itself ends the answer, also with "length".
	code, body := readAll(t, e.post("/v1/chat/completions", chatBody("hi", map[string]any{"max_tokens": 3})))
	require.Equal(t, 200, code, "%s", body)
	assert.Contains(t, compact(t, body), `"completion_tokens":3,`)
	assert.Contains(t, compact(t, body), `"finish_reason":"length"`)
	e.idle()
}

func TestChatPromptBeyondContext(t *testing.T) {
	spec := oapitest.Load(t)
	e := smallContextEnv(t)
	long := strings.Repeat("word ", 8) // 40 bytes: 3 + 4 + 10 = 17 tokens > 16
	for _, stream := range []bool{false, true} {
		resp := e.post("/v1/chat/completions", chatBody(long, map[string]any{"stream": stream}))
		code, body := readAll(t, resp)
		require.Equal(t, 400, code, "stream %v: %s", stream, body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "refused before any streaming")
		spec.RequireStrict(t, "ErrorResponse", body)
		eb := errBodyOf(t, body)
		assert.Equal(t, "invalid_request_error", eb.Error.Type)
		require.NotNil(t, eb.Error.Code)
		assert.Equal(t, "context_length_exceeded", *eb.Error.Code)
		require.NotNil(t, eb.Error.Param)
		assert.Equal(t, "messages", *eb.Error.Param)
		assert.Contains(t, eb.Error.Message, "maximum context length is 16 tokens")
		assert.Contains(t, eb.Error.Message, "17 tokens")
	}
	assert.Zero(t, e.llm.Tokens(), "nothing was generated")
	e.idle()
}
