package openai_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

func decode(t *testing.T, body string, opts *openai.DecodeOptions) *openai.ChatParams {
	t.Helper()
	p, err := openai.DecodeChatRequest([]byte(body), opts)
	require.NoError(t, err)
	return p
}

func TestDecodeMinimal(t *testing.T) {
	p := decode(t, `{"model":"qwen3","messages":[{"role":"user","content":"hi"}]}`, nil)
	assert.Equal(t, "qwen3", p.Request.Model)
	assert.Equal(t, []pipeline.Message{{Role: "user", Content: "hi"}}, p.Request.Messages)
	assert.False(t, p.Stream)
	assert.True(t, p.ParallelToolCalls)
	assert.Equal(t, "text", p.ResponseFormat.Type)
	assert.Equal(t, "none", p.Request.ToolChoice.Mode)
	assert.Zero(t, p.Request.MaxTokens)
	assert.Equal(t, pipeline.Sampling{}, p.Request.Sampling)
}

func TestDecodeFull(t *testing.T) {
	body := `{
	  "model": "m", "stream": true, "stream_options": {"include_usage": true, "include_obfuscation": false},
	  "messages": [
	    {"role": "developer", "content": [{"type": "text", "text": "be brief"}]},
	    {"role": "system", "content": "sys", "name": "boss"},
	    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
	    {"role": "assistant", "content": null, "reasoning_content": "hmm",
	     "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
	    {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "42"}]},
	    {"role": "assistant", "content": [{"type": "text", "text": "ok"}, {"type": "refusal", "refusal": "no"}]}
	  ],
	  "max_tokens": 10, "max_completion_tokens": 20, "temperature": 0.7, "top_p": 0.9, "n": 1, "seed": -9007199254740993,
	  "stop": ["\n\n", "END", ""], "presence_penalty": -2, "frequency_penalty": 2,
	  "logprobs": true, "top_logprobs": 20,
	  "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true}},
	            {"type": "function", "function": {"name": "g-2_x"}}],
	  "tool_choice": {"type": "function", "function": {"name": "g-2_x"}}, "parallel_tool_calls": false,
	  "response_format": {"type": "json_object"}, "user": "u", "metadata": {"a": "b"}, "store": false,
	  "service_tier": "auto", "unknown_member": {"deep": [1, 2]},
	  "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1,
	  "chat_template_kwargs": {"enable_thinking": false, "custom": 3},
	  "prediction": {"type": "content", "content": "x"}, "modalities": ["text"], "logit_bias": {},
	  "reasoning_effort": "low"
	}`
	body = strings.Replace(body, `"content": "sys"`, `"content": "sys, reply in JSON"`, 1)
	p := decode(t, body, nil)
	r := p.Request
	assert.True(t, p.Stream)
	assert.True(t, p.IncludeUsage)
	assert.False(t, p.ParallelToolCalls)
	assert.Equal(t, "json_object", p.ResponseFormat.Type)
	require.Len(t, r.Messages, 6)
	assert.Equal(t, pipeline.Message{Role: "developer", Content: "be brief"}, r.Messages[0])
	assert.Equal(t, "boss", r.Messages[1].Name)
	assert.Equal(t, "a\nb", r.Messages[2].Content)
	assert.Equal(t, pipeline.Message{Role: "assistant", Reasoning: "hmm",
		ToolCalls: []pipeline.ToolCall{{ID: "call_1", Name: "f", Arguments: `{"x":1}`}}}, r.Messages[3])
	assert.Equal(t, pipeline.Message{Role: "tool", Content: "42", ToolCallID: "call_1"}, r.Messages[4])
	assert.Equal(t, "ok\nno", r.Messages[5].Content)
	assert.Equal(t, 20, r.MaxTokens, "max_completion_tokens wins")
	assert.InDelta(t, 0.7, *r.Sampling.Temperature, 1e-12)
	assert.InDelta(t, 0.9, *r.Sampling.TopP, 1e-12)
	assert.Equal(t, int64(-9007199254740993), *r.Sampling.Seed, "seeds keep full int64 precision")
	assert.Equal(t, []string{"\n\n", "END"}, r.Stop)
	assert.Equal(t, -2.0, r.Sampling.PresencePenalty)
	assert.Equal(t, 2.0, r.Sampling.FrequencyPenalty)
	assert.True(t, r.Logprobs)
	assert.Equal(t, 20, r.TopLogprobs)
	require.Len(t, r.Tools, 2)
	assert.Equal(t, pipeline.Tool{Name: "f", Description: "d", Parameters: json.RawMessage(`{"type": "object"}`), Strict: true}, r.Tools[0])
	assert.Equal(t, pipeline.ToolChoice{Mode: "function", Name: "g-2_x"}, r.ToolChoice)
	assert.Equal(t, 40, *r.Sampling.TopK)
	assert.InDelta(t, 0.05, *r.Sampling.MinP, 1e-12)
	assert.InDelta(t, 1.1, r.Sampling.RepetitionPenalty, 1e-12)
	require.NotNil(t, r.EnableThinking)
	assert.False(t, *r.EnableThinking)
	assert.Equal(t, map[string]any{"custom": float64(3)}, r.TemplateKwargs)
}

func TestDecodeDefaultsAndNulls(t *testing.T) {
	p := decode(t, `{"messages":[{"role":"user","content":""}],"temperature":null,"stop":null,"tools":null,
		"tool_choice":null,"stream":null,"n":null,"max_tokens":null,"top_k":-1,"seed":1.0,"max_tokens":5.0}`, nil)
	assert.Nil(t, p.Request.Sampling.Temperature)
	assert.Nil(t, p.Request.Sampling.TopK, "top_k -1 means off")
	assert.Equal(t, int64(1), *p.Request.Sampling.Seed, "integral decimals are integers")
	assert.Equal(t, 5, p.Request.MaxTokens)
	assert.Empty(t, p.Request.Model, "model may be omitted: the loaded model answers")

	p = decode(t, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, nil)
	assert.Equal(t, "auto", p.Request.ToolChoice.Mode, "auto is the default with tools")
	p = decode(t, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}`, nil)
	assert.Equal(t, "required", p.Request.ToolChoice.Mode)
	p = decode(t, `{"messages":[{"role":"user","content":"x"}],"tool_choice":"auto","tools":[]}`, nil)
	assert.Equal(t, "none", p.Request.ToolChoice.Mode, "no tools means no tool calls")
	p = decode(t, `{"messages":[{"role":"user","content":"x"}],"stop":"###"}`, nil)
	assert.Equal(t, []string{"###"}, p.Request.Stop)
}

func TestDecodeJSONSchemaOption(t *testing.T) {
	body := `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
		"json_schema":{"name":"point","schema":{"type":"object","properties":{"x":{"type":"number"}}},"strict":true}}}`
	_, err := openai.DecodeChatRequest([]byte(body), nil)
	e := requireInvalid(t, err, "response_format.type", "unsupported_value")
	assert.Contains(t, e.Message, "json_object")
	p := decode(t, body, &openai.DecodeOptions{AllowJSONSchema: true})
	assert.Equal(t, "json_schema", p.ResponseFormat.Type)
	assert.Equal(t, "point", p.ResponseFormat.Name)
	assert.True(t, p.ResponseFormat.Strict)
	assert.JSONEq(t, `{"type":"object","properties":{"x":{"type":"number"}}}`, string(p.ResponseFormat.Schema))
}

func requireInvalid(t *testing.T, err error, param, code string) *pipeline.Error {
	t.Helper()
	require.Error(t, err)
	var e *pipeline.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, pipeline.KindInvalid, e.Kind)
	assert.Equal(t, param, e.Param, "param of %q", e.Message)
	if code != "" {
		assert.Equal(t, code, e.Code, "code of %q", e.Message)
	}
	assert.NotEmpty(t, e.Message)
	return e
}

const user = `"messages":[{"role":"user","content":"x"}]`

func TestDecodeErrors(t *testing.T) {
	small := &openai.DecodeOptions{MaxMessages: 2, MaxMessageBytes: 8, MaxTotalBytes: 12, MaxTools: 1, MaxStopBytes: 3, MaxCompletionTokens: 100}
	cases := []struct {
		name, body     string
		opts           *openai.DecodeOptions
		param, code    string
		messageContain string
	}{
		{"empty body", ``, nil, "", "invalid_json", "empty"},
		{"syntax", `{"messages": [}`, nil, "", "invalid_json", "byte offset 14"},
		{"truncated", `{"messages": [`, nil, "", "invalid_json", "ends in the middle"},
		{"array body", `[1]`, nil, "", "invalid_type", "got an array"},
		{"null body", `null`, nil, "", "invalid_type", "got null"},
		{"no messages", `{"model":"m"}`, nil, "messages", "missing_required_parameter", "Missing required parameter: 'messages'."},
		{"messages not array", `{"messages":{}}`, nil, "messages", "invalid_type", "expected an array, but got an object"},
		{"empty messages", `{"messages":[]}`, nil, "messages", "empty_array", ""},
		{"too many messages", `{"messages":[{"role":"user","content":"a"},{"role":"user","content":"a"},{"role":"user","content":"a"}]}`, small, "messages", "array_above_max_length", "maximum length 2"},
		{"message not object", `{"messages":["hi"]}`, nil, "messages[0]", "invalid_type", ""},
		{"no role", `{"messages":[{"content":"x"}]}`, nil, "messages[0].role", "missing_required_parameter", ""},
		{"bad role", `{"messages":[{"role":"robot","content":"x"}]}`, nil, "messages[0].role", "invalid_value", "Supported values are"},
		{"function role", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, nil, "messages[0].role", "unsupported_value", "tool"},
		{"no content", `{"messages":[{"role":"user"}]}`, nil, "messages[0].content", "missing_required_parameter", ""},
		{"content number", `{"messages":[{"role":"user","content":5}]}`, nil, "messages[0].content", "invalid_type", "one of a string or array of objects"},
		{"empty parts", `{"messages":[{"role":"user","content":[]}]}`, nil, "messages[0].content", "empty_array", ""},
		{"image part", `{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"http://x"}}]}]}`, nil, "messages[1].content[1].type", "unsupported_content", "Image content parts are not supported"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"","format":"wav"}}]}]}`, nil, "messages[0].content[0].type", "unsupported_content", "Audio"},
		{"image in system", `{"messages":[{"role":"system","content":[{"type":"image_url"}]}]}`, nil, "messages[0].content[0].type", "invalid_value", "'text'"},
		{"part without text", `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, nil, "messages[0].content[0].text", "missing_required_parameter", ""},
		{"part text number", `{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, nil, "messages[0].content[0].text", "invalid_type", ""},
		{"message too long", `{"messages":[{"role":"user","content":"123456789"}]}`, small, "messages[0].content", "string_above_max_length", "maximum length 8"},
		{"parts too long", `{"messages":[{"role":"user","content":[{"type":"text","text":"12345"},{"type":"text","text":"1234"}]}]}`, small, "messages[0].content", "string_above_max_length", ""},
		{"total too long", `{"messages":[{"role":"user","content":"1234567"},{"role":"user","content":"1234567"}]}`, small, "messages", "string_above_max_length", "12 bytes"},
		{"tool msg without id", `{"messages":[{"role":"tool","content":"x"}]}`, nil, "messages[0].tool_call_id", "missing_required_parameter", ""},
		{"assistant tool call no id", `{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, nil, "messages[0].tool_calls[0].id", "missing_required_parameter", ""},
		{"assistant tool call no args", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f"}}]}]}`, nil, "messages[0].tool_calls[0].function.arguments", "missing_required_parameter", ""},
		{"assistant tool call custom", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"custom","custom":{}}]}]}`, nil, "messages[0].tool_calls[0].type", "unsupported_value", ""},
		{"name not string", `{"messages":[{"role":"user","content":"x","name":1}]}`, nil, "messages[0].name", "invalid_type", ""},
		{"model not string", `{"model":1,` + user + `}`, nil, "model", "invalid_type", "expected a string, but got an integer"},
		{"temperature high", `{` + user + `,"temperature":2.5}`, nil, "temperature", "decimal_above_max_value", "Expected a value <= 2, but got 2.5 instead."},
		{"temperature low", `{` + user + `,"temperature":-0.1}`, nil, "temperature", "decimal_below_min_value", ""},
		{"temperature string", `{` + user + `,"temperature":"hot"}`, nil, "temperature", "invalid_type", "expected a number, but got a string"},
		{"top_p zero", `{` + user + `,"top_p":0}`, nil, "top_p", "decimal_below_min_value", "> 0"},
		{"top_p high", `{` + user + `,"top_p":1.01}`, nil, "top_p", "decimal_above_max_value", ""},
		{"presence", `{` + user + `,"presence_penalty":3}`, nil, "presence_penalty", "decimal_above_max_value", ""},
		{"frequency", `{` + user + `,"frequency_penalty":-2.01}`, nil, "frequency_penalty", "decimal_below_min_value", ""},
		{"huge number", `{` + user + `,"temperature":1e400}`, nil, "temperature", "invalid_value", ""},
		{"n=2", `{` + user + `,"n":2}`, nil, "n", "unsupported_value", "'n' must be 1"},
		{"n=0", `{` + user + `,"n":0}`, nil, "n", "integer_below_min_value", ""},
		{"n fraction", `{` + user + `,"n":1.5}`, nil, "n", "invalid_type", "expected an integer"},
		{"seed too big", `{` + user + `,"seed":99999999999999999999}`, nil, "seed", "invalid_type", ""},
		{"max_tokens zero", `{` + user + `,"max_tokens":0}`, nil, "max_tokens", "integer_below_min_value", ""},
		{"max_completion_tokens bound", `{` + user + `,"max_completion_tokens":101}`, small, "max_completion_tokens", "integer_above_max_value", "<= 100"},
		{"max_tokens string", `{` + user + `,"max_tokens":"5"}`, nil, "max_tokens", "invalid_type", "expected an integer, but got a string"},
		{"stop too many", `{` + user + `,"stop":["a","b","c","d","e"]}`, nil, "stop", "array_above_max_length", "maximum length 4"},
		{"stop too long", `{` + user + `,"stop":["abcd"]}`, small, "stop[0]", "string_above_max_length", ""},
		{"stop single too long", `{` + user + `,"stop":"abcd"}`, small, "stop", "string_above_max_length", ""},
		{"stop number", `{` + user + `,"stop":[1]}`, nil, "stop[0]", "invalid_type", ""},
		{"stop object", `{` + user + `,"stop":{}}`, nil, "stop", "invalid_type", "a string or an array of strings"},
		{"top_logprobs without logprobs", `{` + user + `,"top_logprobs":3}`, nil, "top_logprobs", "invalid_value", "'logprobs' must be set to true"},
		{"top_logprobs high", `{` + user + `,"logprobs":true,"top_logprobs":21}`, nil, "top_logprobs", "integer_above_max_value", ""},
		{"logprobs string", `{` + user + `,"logprobs":"yes"}`, nil, "logprobs", "invalid_type", "expected a boolean"},
		{"stream_options without stream", `{` + user + `,"stream_options":{"include_usage":true}}`, nil, "stream_options", "invalid_value", "only allowed when 'stream' is enabled"},
		{"include_usage string", `{` + user + `,"stream":true,"stream_options":{"include_usage":"yes"}}`, nil, "stream_options.include_usage", "invalid_type", ""},
		{"tools too many", `{` + user + `,"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}`, small, "tools", "array_above_max_length", ""},
		{"tool bad name", `{` + user + `,"tools":[{"type":"function","function":{"name":"get weather"}}]}`, nil, "tools[0].function.name", "invalid_value", "pattern"},
		{"tool long name", `{` + user + `,"tools":[{"type":"function","function":{"name":"` + strings.Repeat("a", 65) + `"}}]}`, nil, "tools[0].function.name", "invalid_value", ""},
		{"tool no type", `{` + user + `,"tools":[{"function":{"name":"a"}}]}`, nil, "tools[0].type", "missing_required_parameter", ""},
		{"tool custom", `{` + user + `,"tools":[{"type":"custom","custom":{"name":"a"}}]}`, nil, "tools[0].type", "unsupported_value", ""},
		{"tool no function", `{` + user + `,"tools":[{"type":"function"}]}`, nil, "tools[0].function", "missing_required_parameter", ""},
		{"tool params array", `{` + user + `,"tools":[{"type":"function","function":{"name":"a","parameters":[]}}]}`, nil, "tools[0].function.parameters", "invalid_type", ""},
		{"tool duplicate", `{` + user + `,"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"a"}}]}`, nil, "tools[1].function.name", "invalid_value", "duplicate"},
		{"tool_choice required no tools", `{` + user + `,"tool_choice":"required"}`, nil, "tool_choice", "invalid_value", "only allowed when 'tools' are specified"},
		{"tool_choice bad string", `{` + user + `,"tool_choice":"always"}`, nil, "tool_choice", "invalid_value", ""},
		{"tool_choice unknown function", `{` + user + `,"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}`, nil, "tool_choice.function.name", "invalid_value", "'b'"},
		{"tool_choice function no tools", `{` + user + `,"tool_choice":{"type":"function","function":{"name":"b"}}}`, nil, "tool_choice", "invalid_value", ""},
		{"tool_choice allowed_tools", `{` + user + `,"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{}}}`, nil, "tool_choice.type", "unsupported_value", ""},
		{"tool_choice number", `{` + user + `,"tool_choice":1}`, nil, "tool_choice", "invalid_type", ""},
		{"json_object without json", `{` + user + `,"response_format":{"type":"json_object"}}`, nil, "messages", "invalid_value", "must contain the word 'json'"},
		{"response_format bad", `{` + user + `,"response_format":{"type":"yaml"}}`, nil, "response_format.type", "invalid_value", ""},
		{"response_format no type", `{` + user + `,"response_format":{}}`, nil, "response_format.type", "missing_required_parameter", ""},
		{"json_schema bad name", `{` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"a b"}}}`, &openai.DecodeOptions{AllowJSONSchema: true}, "response_format.json_schema.name", "invalid_value", ""},
		{"functions", `{` + user + `,"functions":[{"name":"f"}]}`, nil, "functions", "unsupported_parameter", "tools"},
		{"audio out", `{` + user + `,"audio":{"voice":"alloy","format":"wav"}}`, nil, "audio", "unsupported_parameter", ""},
		{"modalities audio", `{` + user + `,"modalities":["text","audio"]}`, nil, "modalities[1]", "unsupported_value", ""},
		{"logit_bias", `{` + user + `,"logit_bias":{"50256":-100}}`, nil, "logit_bias", "unsupported_parameter", ""},
		{"top_k", `{` + user + `,"top_k":-2}`, nil, "top_k", "integer_below_min_value", ""},
		{"min_p", `{` + user + `,"min_p":1.5}`, nil, "min_p", "decimal_above_max_value", ""},
		{"repetition_penalty", `{` + user + `,"repetition_penalty":0}`, nil, "repetition_penalty", "decimal_below_min_value", ""},
		{"kwargs not object", `{` + user + `,"chat_template_kwargs":[]}`, nil, "chat_template_kwargs", "invalid_type", ""},
		{"enable_thinking string", `{` + user + `,"chat_template_kwargs":{"enable_thinking":"no"}}`, nil, "chat_template_kwargs.enable_thinking", "invalid_type", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := openai.DecodeChatRequest([]byte(c.body), c.opts)
			e := requireInvalid(t, err, c.param, c.code)
			if c.messageContain != "" {
				assert.Contains(t, e.Message, c.messageContain)
			}
		})
	}
}

func TestDecodeExactMemberNames(t *testing.T) {
	_, err := openai.DecodeChatRequest([]byte(`{"Messages":[{"role":"user","content":"x"}]}`), nil)
	requireInvalid(t, err, "messages", "missing_required_parameter")
}

func TestDecodeErrorBecomesOpenAIError(t *testing.T) {
	_, err := openai.DecodeChatRequest([]byte(`{`+user+`,"temperature":3}`), nil)
	b, mErr := openai.Marshal(openai.NewErrorResponse(err))
	require.NoError(t, mErr)
	assert.JSONEq(t, `{"error":{"message":"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
		"type":"invalid_request_error","param":"temperature","code":"decimal_above_max_value"}}`, string(b))
}

func benchBody() []byte {
	var sb strings.Builder
	sb.WriteString(`{"model":"qwen3","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"You are helpful."}`)
	for i := range 20 {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		sb.WriteString(`,{"role":"` + role + `","content":"` + strings.Repeat("word ", 100) + `"}`)
	}
	sb.WriteString(`],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"string"}}}}}],"temperature":0.7}`)
	return []byte(sb.String())
}

func BenchmarkDecodeChatRequest(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openai.DecodeChatRequest(body, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeChatRequestBaseline is a plain json.Unmarshal of the same
// body into a naive struct (no validation), the yardstick for the above.
func BenchmarkDecodeChatRequestBaseline(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
			Tools       []json.RawMessage `json:"tools"`
			Temperature *float64          `json:"temperature"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
