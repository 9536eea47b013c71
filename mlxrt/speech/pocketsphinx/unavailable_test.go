//go:build !(cgo && pocketsphinx)

package pocketsphinx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

func TestUnavailableWithoutTag(t *testing.T) {
	if speechtest.Required() {
		t.Fatalf("%s=1 but this test binary was built without the pocketsphinx engine (build tags: cgo && pocketsphinx; see .ci/tags.sh)", speechtest.RequireEnv)
	}
	_, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), nil)
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
	assert.ErrorContains(t, err, "apt-get install libpocketsphinx-dev pocketsphinx-en-us")
	assert.ErrorIs(t, pocketsphinx.Available(), pipeline.ErrUnavailable)

	_, err = pocketsphinx.NewLoader(nil).Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot, Name: "whisper-1"})
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
}
