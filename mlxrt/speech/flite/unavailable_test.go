//go:build !(cgo && flite)

package flite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

func TestUnavailableWithoutTag(t *testing.T) {
	if speechtest.Required() {
		t.Fatalf("%s=1 but this test binary was built without the flite engine (build tags: cgo && flite; see .ci/tags.sh)", speechtest.RequireEnv)
	}
	_, err := flite.New(nil)
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
	assert.ErrorContains(t, err, "apt-get install flite1-dev")
	assert.ErrorIs(t, flite.Available(), pipeline.ErrUnavailable)
	_, err = flite.NewLoader(nil).Load(context.Background(), pipeline.ModelRef{Category: pipeline.TTSSlot, Name: "tts-1"})
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
}
