package pocketsphinx

import (
	"context"
	"fmt"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/pipeline"
)

// NewLoader returns the ASR slot's loader. A ModelRef whose Name is empty,
// speech.PocketsphinxID or one of speech.TranscriptionAliases loads Debian's
// en-us model from DefaultPaths; any other Name is a model directory (for
// example ASR_MODEL_DIR, already checked against the allowed roots by the
// caller) resolved with ResolveDir. Loading honours ctx between decoders.
func NewLoader(opts *Options) pipeline.Loader {
	return pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		if ref.Category != "" && ref.Category != pipeline.ASRSlot {
			return nil, pipeline.Invalid("model", "pocketsphinx is a speech recognizer, not a %s model", ref.Category)
		}
		if ref.Name == "" || ref.Name == speech.PocketsphinxID || speech.IsAlias(ref.Name, speech.TranscriptionAliases) {
			return New(ctx, DefaultPaths(), opts)
		}
		paths, err := ResolveDir(ref.Name)
		if err != nil {
			return nil, &pipeline.Error{
				Kind:    pipeline.KindInvalid,
				Param:   "model",
				Message: fmt.Sprintf("%s is not a pocketsphinx model directory: %v", ref.Name, err),
				Err:     err,
			}
		}
		return New(ctx, paths, opts)
	})
}
