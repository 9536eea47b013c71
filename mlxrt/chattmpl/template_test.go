package chattmpl_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/chattmpl"
	"github.com/ominix/ominix-api/pipeline"
)

const chatML = `{%- for m in messages -%}
<|im_start|>{{ m.role }}
{% if m.content %}{{ m.content }}{% endif %}
{%- for c in m.tool_calls | default([]) %}
<tool_call>{{ c.function.name }} {{ c.function.arguments | tojson if c.function.arguments is mapping else c.function.arguments }}</tool_call>
{%- endfor %}<|im_end|>
{% endfor -%}
{%- if tools %}TOOLS {{ tools | map(attribute='function.name') | join(',') }} {{ tools[0] | tojson }}
{% endif -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% if enable_thinking is defined and not enable_thinking %}<think>

</think>

{% endif %}{% endif %}`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestLoadFromJinjaFileAndRender(t *testing.T) {
	cfg := `{"bos_token": {"content": "<s>", "special": true}, "eos_token": "<|im_end|>", "pad_token": null,
		"chat_template": "ignored {{ bos_token }}"}`
	dir := writeFiles(t, map[string]string{"tokenizer_config.json": cfg, "chat_template.jinja": chatML + "{{ bos_token }}{{ eos_token }}"})
	tpl, err := chattmpl.Load(dir, nil)
	require.NoError(t, err)
	msgs := []pipeline.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "Weather?"},
		{Role: "assistant", ToolCalls: []pipeline.ToolCall{{ID: "1", Name: "get", Arguments: `{"z": 1, "a": "Zürich"}`}, {ID: "2", Name: "raw", Arguments: `not json`}}},
		{Role: "tool", Content: "21C", ToolCallID: "1"},
	}
	tools := []pipeline.Tool{{Name: "get", Description: "d", Parameters: json.RawMessage(`{"type":"object","properties":{"z":{},"a":{}}}`)}}
	out, err := tpl.Render(msgs, tools, true, map[string]any{"enable_thinking": false})
	require.NoError(t, err)
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n" +
		"<tool_call>get {\"z\": 1, \"a\": \"Zürich\"}</tool_call><tool_call>raw not json</tool_call><|im_end|>\n" +
		"<|im_start|>tool\n21C<|im_end|>\n" +
		"TOOLS get {\"type\": \"function\", \"function\": {\"name\": \"get\", \"description\": \"d\", \"parameters\": {\"type\": \"object\", \"properties\": {\"z\": {}, \"a\": {}}}}}\n" +
		"<|im_start|>assistant\n<think>\n\n</think>\n\n<s><|im_end|>"
	assert.Equal(t, want, out)
}

func TestLoadNamedTemplatesFromConfig(t *testing.T) {
	cfg := `{"chat_template": [{"name": "default", "template": "D{{ tools is none }}"}, {"name": "tool_use", "template": "T{{ tools | length }}"}]}`
	dir := writeFiles(t, map[string]string{"tokenizer_config.json": cfg})
	tpl, err := chattmpl.Load(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"tool_use"}, tpl.Variants())
	out, err := tpl.Render([]pipeline.Message{{Role: "user", Content: "x"}}, nil, false, nil)
	require.NoError(t, err)
	assert.Equal(t, "DTrue", out)
	out, err = tpl.Render(oneUser, []pipeline.Tool{{Name: "a"}, {Name: "b"}}, false, nil)
	require.NoError(t, err)
	assert.Equal(t, "T2", out)
}

func TestLoadWithoutTemplate(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tokenizer_config.json": `{"eos_token": "</s>"}`})
	_, err := chattmpl.Load(dir, nil)
	require.ErrorIs(t, err, chattmpl.ErrNoTemplate)
	_, err = chattmpl.Load(t.TempDir(), nil)
	require.ErrorIs(t, err, chattmpl.ErrNoTemplate)
}

func TestRaiseExceptionIsRejected(t *testing.T) {
	tpl, err := chattmpl.Parse(`{% if messages[0].role != 'user' %}{{ raise_exception('First message must be from the user.') }}{% endif %}ok`, nil, nil)
	require.NoError(t, err)
	_, err = tpl.Render([]pipeline.Message{{Role: "assistant", Content: "x"}}, nil, false, nil)
	require.ErrorIs(t, err, chattmpl.ErrRejected)
	assert.Contains(t, err.Error(), "First message must be from the user.")
}

func TestLoopBombStops(t *testing.T) {
	tpl, err := chattmpl.Parse(`{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}`, nil,
		&chattmpl.Options{MaxSteps: 1 << 30, Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	start := time.Now()
	_, err = tpl.Render(oneUser, nil, false, nil)
	require.ErrorIs(t, err, chattmpl.ErrLimit)
	assert.Less(t, time.Since(start), 5*time.Second)

	tpl, err = chattmpl.Parse(`{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}`, nil, nil)
	require.NoError(t, err)
	_, err = tpl.Render(oneUser, nil, false, nil)
	require.ErrorIs(t, err, chattmpl.ErrLimit)
}

func TestSourceAndOutputCaps(t *testing.T) {
	_, err := chattmpl.Parse("0123456789", nil, &chattmpl.Options{MaxSourceBytes: 5})
	require.ErrorIs(t, err, chattmpl.ErrLimit)
	tpl, err := chattmpl.Parse(`{% for i in range(1000) %}xxxxxxxxxx{% endfor %}`, nil, &chattmpl.Options{MaxOutputBytes: 100})
	require.NoError(t, err)
	_, err = tpl.Render(oneUser, nil, false, nil)
	require.ErrorIs(t, err, chattmpl.ErrLimit)
}

func TestStrftimeNowUsesClock(t *testing.T) {
	now := time.Date(2024, 2, 29, 13, 5, 0, 0, time.UTC)
	tpl, err := chattmpl.Parse(`{{ strftime_now('%d %b %Y %I%p') }}`, nil, &chattmpl.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	out, err := tpl.Render(oneUser, nil, false, nil)
	require.NoError(t, err)
	assert.Equal(t, "29 Feb 2024 01PM", out)
}

func TestIncludeIsRejected(t *testing.T) {
	_, err := chattmpl.Parse(`{% include "/etc/passwd" %}`, nil, nil)
	require.Error(t, err)
}

var oneUser = []pipeline.Message{{Role: "user", Content: "x"}}

func TestEmptyConversationIsRejected(t *testing.T) {
	tpl, err := chattmpl.Parse(`x`, nil, nil)
	require.NoError(t, err)
	_, err = tpl.Render(nil, nil, true, nil)
	require.ErrorIs(t, err, chattmpl.ErrRejected)
}
