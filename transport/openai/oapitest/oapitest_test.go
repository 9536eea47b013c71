package oapitest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

const chunk = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}]%s}`

func TestPathHonoursEnv(t *testing.T) {
	t.Setenv(oapitest.EnvPath, "/some/where/openapi.json")
	p, err := oapitest.Path()
	require.NoError(t, err)
	assert.Equal(t, "/some/where/openapi.json", p)
}

func TestPathWalksUpToRepoRoot(t *testing.T) {
	t.Setenv(oapitest.EnvPath, "")
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	deep := filepath.Join(repo, "transport", "openai")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644))
	t.Chdir(deep)
	p, err := oapitest.Path()
	require.NoError(t, err)
	want := filepath.Join(tmp, "shared", "openai", "openapi.json")
	gotDir, err := filepath.EvalSymlinks(filepath.Dir(filepath.Dir(filepath.Dir(p))))
	require.NoError(t, err)
	wantDir, err := filepath.EvalSymlinks(tmp)
	require.NoError(t, err)
	assert.Equal(t, wantDir, gotDir)
	assert.Equal(t, filepath.Base(want), filepath.Base(p))
	assert.Equal(t, "openai", filepath.Base(filepath.Dir(p)))
}

func TestValidAndInvalidChunks(t *testing.T) {
	spec := oapitest.Load(t)
	cases := []struct {
		name string
		json string
		ok   bool
	}{
		{"plain", fmt.Sprintf(chunk, ""), true},
		{"usage null (nullable $ref)", fmt.Sprintf(chunk, `,"usage":null`), true},
		{"usage object", fmt.Sprintf(chunk, `,"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}`), true},
		{"usage missing total", fmt.Sprintf(chunk, `,"usage":{"prompt_tokens":1,"completion_tokens":2}`), false},
		{"wrong object", `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[]}`, false},
		{"missing id", `{"object":"chat.completion.chunk","created":1,"model":"m","choices":[]}`, false},
		{"bad finish reason", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"done"}]}`, false},
		{"created as string", `{"id":"c","object":"chat.completion.chunk","created":"1","model":"m","choices":[]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := spec.Validate("CreateChatCompletionStreamResponse", c.json)
			if c.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestStrictRejectsUnknownMembersUnlessExtension(t *testing.T) {
	spec := oapitest.Load(t)
	withExt := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":"hm"},"logprobs":null,"finish_reason":null}]}`
	require.NoError(t, spec.Validate("CreateChatCompletionStreamResponse", withExt), "the schema leaves objects open")
	require.Error(t, spec.ValidateStrict("CreateChatCompletionStreamResponse", withExt))
	require.NoError(t, spec.ValidateStrict("CreateChatCompletionStreamResponse", withExt, "reasoning_content"))
	typo := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reasn":null,"finish_reason":null}]}`
	require.Error(t, spec.ValidateStrict("CreateChatCompletionStreamResponse", typo))
}

func TestValidateGoValues(t *testing.T) {
	spec := oapitest.Load(t)
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := map[string]any{"object": "list", "data": []model{{"m", "model", 1, "me"}}}
	require.NoError(t, spec.ValidateStrict("ListModelsResponse", list))
	require.Error(t, spec.Validate("ListModelsResponse", map[string]any{"object": "list"}))
	require.Error(t, spec.Validate("NoSuchSchema", list))
}
