package llm_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/pipeline"
)

// templateCase is one entry of testdata/templates/cases.json.
type templateCase struct {
	Name     string            `json:"name"`
	Model    string            `json:"model"`
	Messages []json.RawMessage `json:"messages"`
	Tools    []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	AddGenerationPrompt bool           `json:"add_generation_prompt"`
	Kwargs              map[string]any `json:"kwargs"`
	IDs                 []int32        `json:"ids"`
	Error               string         `json:"error"`
}

type caseMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Reasoning  string          `json:"reasoning_content"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// request converts a case to a chat request; ok is false for shapes a
// ChatRequest cannot carry (content parts, non-function tools).
func (c *templateCase) request(t *testing.T) (*pipeline.ChatRequest, bool) {
	req := &pipeline.ChatRequest{TemplateKwargs: map[string]any{}}
	for _, raw := range c.Messages {
		var m caseMessage
		require.NoError(t, json.Unmarshal(raw, &m))
		var content string
		if len(m.Content) > 0 && string(m.Content) != "null" {
			if json.Unmarshal(m.Content, &content) != nil {
				return nil, false
			}
		}
		pm := pipeline.Message{Role: m.Role, Content: content, Reasoning: m.Reasoning, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			args := string(tc.Function.Arguments)
			var s string
			if json.Unmarshal(tc.Function.Arguments, &s) == nil {
				args = s
			}
			pm.ToolCalls = append(pm.ToolCalls, pipeline.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
		}
		req.Messages = append(req.Messages, pm)
	}
	for _, tl := range c.Tools {
		if tl.Type != "function" {
			return nil, false
		}
		req.Tools = append(req.Tools, pipeline.Tool{Name: tl.Function.Name, Description: tl.Function.Description, Parameters: tl.Function.Parameters})
	}
	for k, v := range c.Kwargs {
		if k == "enable_thinking" {
			b := v.(bool)
			req.EnableThinking = &b
			continue
		}
		req.TemplateKwargs[k] = v
	}
	return req, true
}

// TestLoadPreparesLikeTransformers loads each golden model directory the
// way the server does and checks that Prepare's prompt ids equal
// tokenizer.encode(apply_chat_template(...)) from transformers.
func TestLoadPreparesLikeTransformers(t *testing.T) {
	data, err := os.ReadFile("../testdata/templates/cases.json")
	require.NoError(t, err)
	var file struct {
		Cases []templateCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	engines := map[string]*llm.Engine{}
	defer func() {
		for _, e := range engines {
			require.NoError(t, e.Close())
		}
	}()
	checked := 0
	for _, c := range file.Cases {
		if !c.AddGenerationPrompt && c.Error == "" {
			continue // Prepare always asks for the generation prompt
		}
		req, ok := c.request(t)
		if !ok {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			e := engines[c.Model]
			if e == nil {
				e, err = llm.Load(context.Background(), filepath.Join(goldenRoot, c.Model), nil)
				require.NoError(t, err)
				engines[c.Model] = e
			}
			ids, _, err := e.Tokenize(req)
			if c.Error != "" {
				assert.ErrorIs(t, err, pipeline.ErrInvalid)
				_, err = e.Prepare(req)
				assert.ErrorIs(t, err, pipeline.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.IDs, ids)
			checked++
			if len(ids) >= e.Info().ContextLength {
				return
			}
			seq, err := e.Prepare(req)
			require.NoError(t, err)
			defer seq.Release()
			assert.Equal(t, ids, seq.(*llm.Sequence).Prompt())
		})
	}
	assert.Greater(t, checked, 15)
}

// TestLoadChat runs a chat through Load, Prepare and Step to its end and
// checks the text the way a client sees it.
func TestLoadChat(t *testing.T) {
	e, err := llm.Load(context.Background(), filepath.Join(goldenRoot, "qwen3-f32"), nil)
	require.NoError(t, err)
	defer e.Close()
	assert.Equal(t, "qwen3-f32", e.Info().ID)
	zero := 0.0
	req := userChat("Hello there")
	req.Sampling.Temperature = &zero
	seq, err := e.Prepare(req)
	require.NoError(t, err)
	defer seq.Release()
	_, texts, errs := stepAll(t, e, []pipeline.Sequence{seq}, 40)
	if errs[0] != nil && errs[0] != errEOS {
		t.Fatal(errs[0])
	}
	assert.NotEmpty(t, texts[0])
	assert.True(t, strings.ToValidUTF8(texts[0], "") == texts[0], "streamed text is valid UTF-8")
	assert.NotContains(t, texts[0], "<|im_end|>")
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	_, err := llm.Load(ctx, t.TempDir(), nil)
	assert.ErrorContains(t, err, "config.json")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"gpt2"}`), 0o644))
	_, err = llm.Load(ctx, dir, nil)
	assert.ErrorContains(t, err, "unsupported")

	// A good config without tokenizer or weights.
	src := filepath.Join(goldenRoot, "qwen3-f32")
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644))
	_, err = llm.Load(ctx, dir, nil)
	assert.ErrorContains(t, err, "load qwen3: tokenizer")

	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	_, err = llm.Load(ctx, dir, nil)
	assert.ErrorContains(t, err, "load qwen3: weights")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"temperature": -3}`), 0o644))
	_, err = llm.Load(ctx, dir, nil)
	assert.ErrorContains(t, err, "generation_config.json")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = llm.Load(cancelled, src, nil)
	assert.ErrorIs(t, err, context.Canceled)

	// A config larger than the bound is an error, not a truncated read.
	big := append([]byte(`{"model_type":"qwen3","pad":"`), make([]byte, config.MaxConfigBytes)...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), big, 0o644))
	_, err = llm.Load(ctx, dir, nil)
	assert.ErrorContains(t, err, "config.json exceeds")
}
