//go:build unix

package llm_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
)

// A FIFO planted as a model file fails the load at once instead of
// blocking the loader.
func TestLoadRefusesFIFO(t *testing.T) {
	src := filepath.Join(goldenRoot, "qwen3-f32")
	dir := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "model.safetensors"), 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := llm.Load(context.Background(), dir, nil)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "not a regular file")
	case <-time.After(20 * time.Second):
		t.Fatal("loading a FIFO blocked")
	}
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "generation_config.json"), 0o600))
	_, err := llm.Load(context.Background(), dir, nil)
	assert.ErrorContains(t, err, "generation_config.json: not a regular file")
}
