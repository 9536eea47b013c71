package flite

import (
	"context"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/pipeline"
)

// NewLoader returns the TTS slot's loader. It accepts the names "",
// speech.FliteID and speech.SpeechAliases; anything else is a KindNotFound
// error with Param "model". Loading touches no Flite state (see Activate).
func NewLoader(opts *Options) pipeline.Loader {
	return pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		if ref.Category != "" && ref.Category != pipeline.TTSSlot {
			return nil, pipeline.Invalid("model", "flite is a speech synthesizer, not a %s model", ref.Category)
		}
		if ref.Name != "" && ref.Name != speech.FliteID && !speech.IsAlias(ref.Name, speech.SpeechAliases) {
			return nil, &pipeline.Error{Kind: pipeline.KindNotFound, Param: "model",
				Message: "flite has no model " + ref.Name + "; use \"flite\" (or tts-1, tts-1-hd, gpt-4o-mini-tts)"}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return New(opts)
	})
}
