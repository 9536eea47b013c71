package pocketsphinx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

// fakeModel lays out empty files the way ResolveDir expects; the files are
// never given to the library.
func fakeModel(t *testing.T, hmmSub string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	hmm := filepath.Join(dir, hmmSub)
	require.NoError(t, os.MkdirAll(hmm, 0o755))
	for _, f := range []string{"mdef", "means", "variances", "transition_matrices", "sendump", "feat.params"} {
		require.NoError(t, os.WriteFile(filepath.Join(hmm, f), nil, 0o644))
	}
	for _, f := range append([]string{"x.lm.bin", "x-phone.lm.bin", "x.dict"}, extra...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	return dir
}

func TestResolveDirLayouts(t *testing.T) {
	dir := fakeModel(t, "acoustic")
	p, err := pocketsphinx.ResolveDir(dir)
	require.NoError(t, err)
	assert.Equal(t, pocketsphinx.ModelPaths{
		HMM:  filepath.Join(dir, "acoustic"),
		LM:   filepath.Join(dir, "x.lm.bin"),
		Dict: filepath.Join(dir, "x.dict"),
	}, p)
	require.NoError(t, p.Check())

	flat := fakeModel(t, ".")
	p, err = pocketsphinx.ResolveDir(flat)
	require.NoError(t, err)
	assert.Equal(t, flat, p.HMM)
}

func TestResolveDirRejects(t *testing.T) {
	_, err := pocketsphinx.ResolveDir(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)

	_, err = pocketsphinx.ResolveDir(t.TempDir())
	assert.ErrorContains(t, err, "no acoustic model")

	_, err = pocketsphinx.ResolveDir(fakeModel(t, "am", "y.lm"))
	assert.ErrorContains(t, err, "more than one language model")

	_, err = pocketsphinx.ResolveDir(fakeModel(t, "am", "y.dict"))
	assert.ErrorContains(t, err, "more than one dictionary")

	noWeights := fakeModel(t, "am")
	require.NoError(t, os.Remove(filepath.Join(noWeights, "am", "sendump")))
	_, err = pocketsphinx.ResolveDir(noWeights)
	assert.ErrorContains(t, err, "no acoustic model")
}

func TestResolveDebianModel(t *testing.T) {
	if _, err := os.Stat(pocketsphinx.DefaultModelDir); err != nil {
		speechtest.Missing(t, "pocketsphinx-en-us is not installed")
	}
	p, err := pocketsphinx.ResolveDir(pocketsphinx.DefaultModelDir)
	require.NoError(t, err)
	assert.Equal(t, pocketsphinx.DefaultPaths(), p)
}

func TestLoaderRejectsBadRefs(t *testing.T) {
	l := pocketsphinx.NewLoader(nil)
	_, err := l.Load(context.Background(), pipeline.ModelRef{Category: pipeline.LLMSlot})
	assert.ErrorIs(t, err, pipeline.ErrInvalid)

	_, err = l.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot, Name: t.TempDir()})
	var pe *pipeline.Error
	require.True(t, errors.As(err, &pe), "%v", err)
	if pe.Kind != pipeline.KindUnavailable { // built without the engine: any name is unavailable
		assert.Equal(t, pipeline.KindInvalid, pe.Kind)
		assert.Equal(t, "model", pe.Param)
		assert.Contains(t, pe.Message, "not a pocketsphinx model directory")
	}
}
