package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/hub"
	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/pipeline"
)

// DefaultLLM is loaded when LLM_MODEL is empty: small enough for a CPU.
// LLM_MODEL=none starts without a language model.
const DefaultLLM = "mlx-community/Qwen3-0.6B-4bit"

// engines is what cmd wires into the pipeline: a loader per slot, the
// audio codecs, and the models to load at start.
type engines struct {
	loaders map[pipeline.Category]pipeline.Loader
	codecs  pipeline.Codecs
	initial []pipeline.ModelRef
}

// newEngines builds the real engines from the configuration. Nothing is
// loaded yet; see loadInitial.
func newEngines(cfg Config, hubOpts *hub.Options, log *slog.Logger) (*engines, error) {
	e := &engines{
		loaders: map[pipeline.Category]pipeline.Loader{
			pipeline.LLMSlot: llmLoader(hubOpts),
			pipeline.ASRSlot: pocketsphinx.NewLoader(&pocketsphinx.Options{Decoders: cfg.ASRStreams}),
			pipeline.TTSSlot: flite.NewLoader(nil),
		},
		codecs: audio.New(),
	}
	switch name := strings.TrimSpace(cfg.LLMModel); name {
	case "none":
	case "":
		e.initial = append(e.initial, pipeline.ModelRef{Category: pipeline.LLMSlot, Name: DefaultLLM})
	default:
		ref, err := localOrHub(name)
		if err != nil {
			return nil, fmt.Errorf("LLM_MODEL: %w", err)
		}
		e.initial = append(e.initial, pipeline.ModelRef{Category: pipeline.LLMSlot, Name: ref})
	}
	if err := pocketsphinx.Available(); err != nil && cfg.ASRModelDir == "" {
		log.Warn("speech recognition is unavailable", "err", err)
	} else {
		name := ""
		if cfg.ASRModelDir != "" {
			abs, err := filepath.Abs(cfg.ASRModelDir)
			if err != nil {
				return nil, fmt.Errorf("ASR_MODEL_DIR: %w", err)
			}
			name = abs
		}
		e.initial = append(e.initial, pipeline.ModelRef{Category: pipeline.ASRSlot, Name: name})
	}
	if err := flite.Available(); err != nil {
		log.Warn("speech synthesis is unavailable", "err", err)
	} else {
		e.initial = append(e.initial, pipeline.ModelRef{Category: pipeline.TTSSlot, Name: ""})
	}
	if cfg.TTSRefAudio != "" {
		log.Warn("TTS_REF_AUDIO is set, but no voice-cloning engine is built in; requests for cloned voices will fail", "path", cfg.TTSRefAudio)
	}
	if cfg.ImageModel != "" || cfg.FluxModelDir != "" || cfg.ZImageModelDir != "" {
		log.Warn("an image model is configured, but no image engine is built in yet; /v1/images/generations answers 503")
	}
	return e, nil
}

// localOrHub turns an operator-given model name into an absolute directory
// when it names one that exists, and otherwise checks it is a hub id.
func localOrHub(name string) (string, error) {
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		return abs, nil
	}
	if filepath.IsAbs(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("%s is not a model directory", name)
	}
	if !hub.IsRepoID(name) {
		return "", fmt.Errorf("%q is neither a local model directory nor a Hugging Face repo id (org/name)", name)
	}
	return name, nil
}

// llmLoader loads a language model from an absolute local directory (names
// from clients were checked against the model roots by the transport) or
// from the Hugging Face hub cache, downloading what is missing.
func llmLoader(hubOpts *hub.Options) pipeline.Loader {
	return pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		dir, id := ref.Name, filepath.Base(ref.Name)
		if !filepath.IsAbs(ref.Name) {
			if !hub.IsRepoID(ref.Name) {
				return nil, pipeline.Invalid("model", "%q is not a Hugging Face repo id (org/name) or an allowed local directory", ref.Name)
			}
			var err error
			if dir, err = hub.Resolve(ctx, ref.Name, hubOpts); err != nil {
				kind := pipeline.KindUnavailable
				if errors.Is(err, hub.ErrNotFound) {
					kind = pipeline.KindNotFound
				}
				return nil, &pipeline.Error{Kind: kind, Param: "model", Code: "model_download_failed", Message: err.Error()}
			}
			id = ref.Name
		}
		e, err := llm.Load(ctx, dir, &llm.Options{ID: id})
		if err != nil {
			return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Code: "model_load_failed", Message: err.Error()}
		}
		return e, nil
	})
}
