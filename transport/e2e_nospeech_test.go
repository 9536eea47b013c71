//go:build !(cgo && pocketsphinx && flite)

package transport_test

import (
	"errors"
	"testing"

	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

// speechModels reports that this binary was built without the real
// speech engines; their end-to-end tests are not compiled.
func speechModels() (pipeline.Transcriber, pipeline.Synthesizer, error) {
	return nil, nil, errors.New("this test binary was built without the pocketsphinx and flite engines (build with the tags of .ci/tags.sh)")
}

// TestE2ESpeechEngines stands for the end-to-end speech tests left out of
// this build: it skips, or fails under OMINIX_REQUIRE_SPEECH=1.
func TestE2ESpeechEngines(t *testing.T) {
	_, _, err := speechModels()
	speechtest.Missing(t, "%v", err)
}
