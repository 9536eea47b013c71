package llm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ominix/ominix-api/mlxrt/chattmpl"
	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
	"github.com/ominix/ominix-api/mlxrt/tokenizer"
	"github.com/ominix/ominix-api/pipeline"
)

// Options tune an Engine. A nil *Options means all defaults.
type Options struct {
	// ID is the public model name in ModelInfo. Zero means the base name
	// of the model directory (Load) or the family (New).
	ID string
	// ContextLength caps prompt plus completion tokens per sequence. Zero
	// means max_position_embeddings (times the factor for dynamic NTK
	// RoPE scaling); larger values are clamped to it.
	ContextLength int
	// PrefillChunk is the most prompt tokens one sequence reads in one
	// Step, so a long prompt never holds the thread for long. Zero means 128.
	PrefillChunk int
	// StepTokens bounds the prompt tokens all sequences read in one Step;
	// they share it evenly (at least 16 each). Zero means 4×PrefillChunk.
	StepTokens int
	// CacheDType is the KV cache element type: mx.F32, mx.F16 or mx.BF16.
	// Zero (mx.Invalid) means F32 for float32 checkpoints and BF16 for
	// the others.
	CacheDType mx.DType
	// MaxCacheBytes bounds the KV cache memory of all sequences together;
	// a step that would exceed it fails for that sequence with a
	// KindOverloaded error (code "kv_cache_full"). Zero means 4 GiB.
	MaxCacheBytes int64
	// CacheChunk is the granularity, in tokens, in which caches grow.
	// Zero means 256.
	CacheChunk int
	// Dequantize expands MLX-quantized weights to float32 at load and runs
	// them through the float kernels: exact reference arithmetic for
	// verification, at 4–8 times the weight memory and bandwidth. The
	// default runs the quantized kernels, which round activations to int8.
	Dequantize bool
}

func (o *Options) withDefaults(w *weights) Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.PrefillChunk <= 0 {
		r.PrefillChunk = 128
	}
	if r.StepTokens <= 0 {
		r.StepTokens = 4 * r.PrefillChunk
	}
	if r.CacheDType == mx.Invalid {
		r.CacheDType = mx.BF16
		if w.dtype == mx.F32 && w.embed.q == nil {
			r.CacheDType = mx.F32
		}
	}
	if r.MaxCacheBytes <= 0 {
		r.MaxCacheBytes = 4 << 30
	}
	if r.CacheChunk <= 0 {
		r.CacheChunk = 256
	}
	return r
}

// Engine is a loaded language model implementing pipeline.LLM. Prepare
// and Info may be called from any goroutine; Step, Release, Logits and
// Close must run on the pinned model thread (one goroutine at a time).
type Engine struct {
	cfg    *config.Config
	gen    *config.Generation
	w      *weights
	model  *model
	tok    Tokenizer
	tmpl   Template // nil when the model has no chat template
	opts   Options
	info   pipeline.ModelInfo
	text   textRules
	budget cacheBudget
	closer func() error
}

var (
	_ pipeline.LLM      = (*Engine)(nil)
	_ pipeline.Sequence = (*Sequence)(nil)
)

// Load opens the model in dir: config.json, generation_config.json
// (optional), the safetensors weights (single or sharded, memory-mapped),
// tokenizer.json with tokenizer_config.json, and the chat template. It only
// reads and maps files, so it runs off the pinned thread; it also reads
// every page of the mapped weights so the first steps do not stall the
// thread on disk reads. ctx cancels it between files and tensors. Errors
// name the family and the file at fault.
func Load(ctx context.Context, dir string, opts *Options) (*Engine, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	e, err := loadFamily(ctx, dir, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", cfg.Family, err)
	}
	return e, nil
}

func loadFamily(ctx context.Context, dir string, cfg *config.Config, opts *Options) (*Engine, error) {
	gen, err := readGeneration(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var tmpl Template
	switch t, err := chattmpl.Load(dir, nil); {
	case errors.Is(err, chattmpl.ErrNoTemplate):
	case err != nil:
		return nil, fmt.Errorf("chat template: %w", err)
	default:
		tmpl = t
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.ID == "" {
		o.ID = filepath.Base(filepath.Clean(dir))
	}
	e, err := New(cfg, gen, st, TokenizerFrom(tok), tmpl, &o)
	if err == nil {
		err = e.w.prefault(ctx)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	e.closer = st.Close
	return e, nil
}

// readFile reads a JSON file of the model directory: only a regular file,
// at most config.MaxConfigBytes (a larger one is an error, not a
// truncated read).
func readFile(dir, name string, required bool) ([]byte, error) {
	data, err := smallfile.Read(filepath.Join(dir, name), config.MaxConfigBytes, errTooLarge)
	if err != nil {
		if !required && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

var errTooLarge = errors.New("file too large")

func readConfig(dir string) (*config.Config, error) {
	data, err := readFile(dir, "config.json", true)
	if err != nil {
		return nil, err
	}
	return config.Parse(data)
}

func readGeneration(dir string) (*config.Generation, error) {
	data, err := readFile(dir, "generation_config.json", false)
	if err != nil || data == nil {
		return nil, err
	}
	return config.ParseGeneration(data)
}

// New builds an engine from a parsed config, optional generation defaults
// (nil for none), a tensor source checked against the config, a tokenizer
// and an optional chat template (nil: Prepare fails, NewSequence works).
// The engine does not own src; Load's engines close their files on Close.
func New(cfg *config.Config, gen *config.Generation, src TensorSource, tok Tokenizer, tmpl Template, opts *Options) (*Engine, error) {
	if n := tok.VocabSize(); n > cfg.VocabSize {
		return nil, fmt.Errorf("the tokenizer has %d tokens but the model's vocabulary is %d", n, cfg.VocabSize)
	}
	w, err := loadWeights(src, cfg)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if opts != nil && opts.Dequantize {
		w.dequantize()
	}
	o := opts.withDefaults(w)
	switch o.CacheDType {
	case mx.F32, mx.F16, mx.BF16:
	default:
		return nil, fmt.Errorf("cache dtype %v: want F32, F16 or BF16", o.CacheDType)
	}
	ctxLen := cfg.MaxPositions
	if cfg.RoPE.Dynamic() {
		// Dynamic NTK scaling exists to run past max_position_embeddings:
		// up to factor times it.
		ctxLen = min(int(float64(ctxLen)*cfg.RoPE.Factor), config.MaxPositions)
	}
	if o.ContextLength > 0 && o.ContextLength < ctxLen {
		ctxLen = o.ContextLength
	}
	e := &Engine{cfg: cfg, gen: gen, w: w, model: newModel(cfg, w), tok: tok, tmpl: tmpl, opts: o}
	e.budget = cacheBudget{max: o.MaxCacheBytes, growth: o.CacheChunk, ctx: ctxLen, layers: cfg.NumLayers,
		heads: cfg.NumKVHeads, headDim: cfg.HeadDim, dtype: o.CacheDType}
	var genEOS []int
	if gen != nil {
		genEOS = gen.EOSTokenIDs
	}
	e.buildTextRules(cfg.EOSTokenIDs, genEOS)
	id := o.ID
	if id == "" {
		id = string(cfg.Family)
	}
	e.info = pipeline.ModelInfo{
		ID: id, Category: pipeline.LLMSlot, Family: string(cfg.Family), Created: time.Now().Unix(),
		ContextLength: ctxLen, ToolFormat: e.text.toolFormat, ThinkOpen: e.text.thinkOpen, ThinkClose: e.text.thinkClose,
	}
	if gen != nil && gen.MaxNewTokens != nil {
		e.info.DefaultMaxTokens = *gen.MaxNewTokens // the scheduler applies it to requests without max_tokens
	}
	return e, nil
}

// Info describes the model. Safe for concurrent use.
func (e *Engine) Info() pipeline.ModelInfo { return e.info }

// Config returns the model's parsed configuration (do not modify it).
func (e *Engine) Config() *config.Config { return e.cfg }

// WeightBytesPerToken is the weight data one decode step reads for one
// sequence: every projection, the norms, the lm_head and one embedding
// row. Decoding is memory-bound, so this over the memory bandwidth is the
// roofline time per decode step.
func (e *Engine) WeightBytesPerToken() int64 { return e.w.bytesPerToken(e.cfg) }

// CacheBytes is the KV cache memory the engine's sequences hold. Call it
// on the pinned thread.
func (e *Engine) CacheBytes() int64 { return e.budget.used }

// Close releases the weights (unmapping the files Load opened). It runs on
// the pinned thread after every sequence was released.
func (e *Engine) Close() error {
	if e.closer == nil {
		return nil
	}
	c := e.closer
	e.closer = nil
	return c()
}

// Logits runs ids through the model from an empty cache in one forward
// pass and returns the logits at every position, row-major [len(ids),
// vocab]. It serves evaluation and tests; call it on the pinned thread.
func (e *Engine) Logits(ids []int32) ([]float32, error) {
	if err := e.checkPrompt(ids); err != nil {
		return nil, err
	}
	c, err := e.budget.ensure(nil, len(ids))
	if err != nil {
		return nil, err
	}
	defer e.budget.release(c)
	sp := []span{{cache: c, n: len(ids), ropeLen: len(ids)}}
	return e.model.forward(toInts(ids), sp, true).Float32View(), nil
}

func toInts(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// checkPrompt rejects empty prompts, ids outside the vocabulary and
// prompts that leave no room for a generated token.
func (e *Engine) checkPrompt(ids []int32) error {
	if len(ids) == 0 {
		return pipeline.Invalid("messages", "the prompt is empty")
	}
	if len(ids) >= e.info.ContextLength {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "context_length_exceeded", Param: "messages",
			Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens.",
				e.info.ContextLength, len(ids))}
	}
	for _, id := range ids {
		if id < 0 || int(id) >= e.cfg.VocabSize {
			return pipeline.Invalid("messages", "token id %d is outside the vocabulary of %d", id, e.cfg.VocabSize)
		}
	}
	return nil
}
