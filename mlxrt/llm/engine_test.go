package llm_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/llm/sample"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
	"github.com/ominix/ominix-api/mlxrt/tokenizer"
	"github.com/ominix/ominix-api/pipeline"
)

// stubTemplate renders "<role>: content" lines plus a fixed suffix and
// records what it was given.
type stubTemplate struct {
	suffix string
	err    error
	tools  []pipeline.Tool
	kwargs map[string]any
	gen    bool
}

func (s *stubTemplate) Render(msgs []pipeline.Message, tools []pipeline.Tool, gen bool, kwargs map[string]any) (string, error) {
	s.tools, s.kwargs, s.gen = tools, kwargs, gen
	if s.err != nil {
		return "", s.err
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Role + ": " + m.Content + "\n")
	}
	return b.String() + s.suffix, nil
}

// openReal builds an engine for a golden model with its real tokenizer.
func openReal(t *testing.T, name string, tmpl llm.Template, opts *llm.Options) *llm.Engine {
	t.Helper()
	dir := filepath.Join(goldenRoot, name)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	st, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	tok, err := tokenizer.Load(dir, nil)
	require.NoError(t, err)
	e, err := llm.New(cfg, nil, st, llm.TokenizerFrom(tok), tmpl, opts)
	require.NoError(t, err)
	return e
}

func userChat(text string) *pipeline.ChatRequest {
	return &pipeline.ChatRequest{Messages: []pipeline.Message{{Role: "user", Content: text}}}
}

func TestInfo(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, &llm.Options{ID: "tiny"})
	info := e.Info()
	assert.Equal(t, "tiny", info.ID)
	assert.Equal(t, pipeline.LLMSlot, info.Category)
	assert.Equal(t, "qwen3", info.Family)
	assert.Equal(t, 256, info.ContextLength)
	assert.Equal(t, pipeline.ToolsHermes, info.ToolFormat)
	assert.Equal(t, "<think>", info.ThinkOpen)
	assert.Equal(t, "</think>", info.ThinkClose)

	e = openReal(t, "mistral-f32", nil, nil)
	assert.Equal(t, pipeline.ToolsMistral, e.Info().ToolFormat)
	assert.Empty(t, e.Info().ThinkOpen)
	e = openReal(t, "llama3-f32", nil, &llm.Options{ContextLength: 100})
	assert.Equal(t, pipeline.ToolsLlama3, e.Info().ToolFormat)
	assert.Equal(t, 100, e.Info().ContextLength)
	e = openReal(t, "llama2-f32", nil, &llm.Options{ContextLength: 1 << 20})
	assert.Equal(t, pipeline.ToolsNone, e.Info().ToolFormat)
	assert.Equal(t, 256, e.Info().ContextLength, "clamped to max_position_embeddings")
	e = openReal(t, "llama-dynamic-f32", nil, nil)
	assert.Equal(t, 128, e.Info().ContextLength, "dynamic NTK extends the context by its factor")
}

func TestPrepare(t *testing.T) {
	tmpl := &stubTemplate{suffix: "<|im_start|>assistant\n"}
	e := openReal(t, "qwen3-f32", tmpl, nil)
	req := userChat("the quick brown fox")
	req.Tools = []pipeline.Tool{{Name: "f"}}
	yes := true
	req.EnableThinking = &yes
	req.TemplateKwargs = map[string]any{"x": 1}
	seq, err := e.Prepare(req)
	require.NoError(t, err)
	defer seq.Release()
	assert.Greater(t, seq.PromptTokens(), 5)
	assert.False(t, seq.InReasoning())
	assert.True(t, tmpl.gen, "add_generation_prompt")
	assert.Len(t, tmpl.tools, 1)
	assert.Equal(t, map[string]any{"x": 1, "enable_thinking": true}, tmpl.kwargs)
	assert.Equal(t, map[string]any{"x": 1}, req.TemplateKwargs, "the request is not modified")
	assert.Zero(t, req.MaxTokens, "Prepare leaves max_tokens to the scheduler (see TestDefaultMaxTokens)")

	req.ToolChoice.Mode = "none"
	_, err = e.Prepare(req)
	require.NoError(t, err)
	assert.Nil(t, tmpl.tools, "tool_choice none leaves tools out of the prompt")

	tmpl.suffix = "<|im_start|>assistant\n<think>\n"
	seq, err = e.Prepare(userChat("hi"))
	require.NoError(t, err)
	assert.True(t, seq.InReasoning())
	tmpl.suffix = "<|im_start|>assistant\n<think>\n\n</think>\n\n"
	seq, err = e.Prepare(userChat("hi"))
	require.NoError(t, err)
	assert.False(t, seq.InReasoning())
}

func TestPrepareErrors(t *testing.T) {
	tmpl := &stubTemplate{}
	e := openReal(t, "qwen3-f32", tmpl, &llm.Options{ContextLength: 20})

	_, err := e.Prepare(userChat(strings.Repeat("many words here ", 20)))
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, pipeline.KindInvalid, pe.Kind)
	assert.Equal(t, "context_length_exceeded", pe.Code)
	assert.Equal(t, "messages", pe.Param)
	assert.Contains(t, pe.Message, "maximum context length is 20 tokens")

	tmpl.err = errors.New("Conversation roles must alternate")
	_, err = e.Prepare(userChat("hi"))
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, pipeline.KindInvalid, pe.Kind)
	assert.Contains(t, pe.Message, "roles must alternate")
	tmpl.err = nil

	bad := -1.0
	req := userChat("hi")
	req.Sampling.TopP = &bad
	_, err = e.Prepare(req)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "top_p", pe.Param)

	none := openReal(t, "qwen3-f32", nil, nil)
	_, err = none.Prepare(userChat("hi"))
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "no_chat_template", pe.Code)
}

// stepAll steps batch until every sequence has n sampled tokens or fails,
// returning the tokens and the texts.
func stepAll(t *testing.T, e *llm.Engine, batch []pipeline.Sequence, n int) ([][]int, []string, []error) {
	t.Helper()
	toks := make([][]int, len(batch))
	texts := make([]string, len(batch))
	errs := make([]error, len(batch))
	for range 10000 {
		var live []pipeline.Sequence
		var idx []int
		for i, s := range batch {
			if errs[i] == nil && len(toks[i]) < n {
				live, idx = append(live, s), append(idx, i)
			}
		}
		if len(live) == 0 {
			return toks, texts, errs
		}
		out := make([]pipeline.TokenOutput, len(live))
		require.NoError(t, e.Step(live, out))
		for j, o := range out {
			i := idx[j]
			switch {
			case o.Err != nil:
				errs[i] = o.Err
			case o.Sampled:
				toks[i] = append(toks[i], o.Token)
				texts[i] += o.Text
				if o.EOS {
					errs[i] = errEOS
				}
			}
		}
	}
	t.Fatal("sequences never finished")
	return nil, nil, nil
}

var errEOS = errors.New("eos")

func TestStepErrors(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, nil)
	other := openReal(t, "qwen3-f32", nil, nil)
	s, err := e.NewSequence([]int32{1, 2, 3}, llm.SequenceOptions{})
	require.NoError(t, err)
	foreign, err := other.NewSequence([]int32{1, 2, 3}, llm.SequenceOptions{})
	require.NoError(t, err)
	released, err := e.NewSequence([]int32{1, 2, 3}, llm.SequenceOptions{})
	require.NoError(t, err)
	released.Release()
	released.Release()

	out := make([]pipeline.TokenOutput, 3)
	require.NoError(t, e.Step([]pipeline.Sequence{s, foreign, released}, out))
	assert.True(t, out[0].Sampled)
	assert.Equal(t, 3, out[0].Prefilled)
	assert.Error(t, out[1].Err)
	assert.Error(t, out[2].Err)
	assert.Error(t, e.Step([]pipeline.Sequence{s}, out), "output length must match")
	require.NoError(t, e.Step([]pipeline.Sequence{s, s}, out[:2]))
	assert.True(t, out[0].Sampled)
	assert.ErrorContains(t, out[1].Err, "twice")
	s.Release()
	assert.Zero(t, e.CacheBytes())
	require.NoError(t, e.Step(nil, nil))

	_, err = e.NewSequence(nil, llm.SequenceOptions{})
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
	_, err = e.NewSequence([]int32{5000}, llm.SequenceOptions{})
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
	_, err = e.NewSequence([]int32{1}, llm.SequenceOptions{Sampling: sample.Params{TopK: -1}})
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
}

func TestContextExhaustion(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, &llm.Options{ContextLength: 10, CacheChunk: 4})
	s, err := e.NewSequence([]int32{1, 2, 3, 4, 5, 6, 7}, llm.SequenceOptions{IgnoreEOS: true})
	require.NoError(t, err)
	defer s.Release()
	toks, _, errs := stepAll(t, e, []pipeline.Sequence{s}, 100)
	// 7 prompt tokens + 3 generated fill the context; the fourth cannot be
	// fed back.
	assert.Len(t, toks[0], 4)
	var pe *pipeline.Error
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, "context_length_exceeded", pe.Code)

	_, err = e.NewSequence(make([]int32, 10), llm.SequenceOptions{})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "context_length_exceeded", pe.Code)
}

func TestCacheBudget(t *testing.T) {
	// qwen3-f32: 2 layers × k,v × 2 heads × 32 dims × 4 bytes = 1 KiB per
	// token; room for one 16-token chunk.
	e := openReal(t, "qwen3-f32", nil, &llm.Options{CacheChunk: 16, MaxCacheBytes: 16 << 10})
	a, err := e.NewSequence([]int32{1, 2, 3}, llm.SequenceOptions{IgnoreEOS: true})
	require.NoError(t, err)
	b, err := e.NewSequence([]int32{4, 5, 6}, llm.SequenceOptions{IgnoreEOS: true})
	require.NoError(t, err)
	out := make([]pipeline.TokenOutput, 2)
	require.NoError(t, e.Step([]pipeline.Sequence{a, b}, out))
	require.NoError(t, out[0].Err)
	assert.True(t, out[0].Sampled)
	var pe *pipeline.Error
	require.ErrorAs(t, out[1].Err, &pe)
	assert.Equal(t, pipeline.KindOverloaded, pe.Kind)
	assert.Equal(t, "kv_cache_full", pe.Code)
	assert.Equal(t, int64(16<<10), e.CacheBytes())
	a.Release()
	assert.Zero(t, e.CacheBytes())
	require.NoError(t, e.Step([]pipeline.Sequence{b}, out[:1]))
	require.NoError(t, out[0].Err, "memory freed by a released sequence is reused")
	b.Release()
}

// TestCacheGrowth checks that growing the cache in small chunks (copying
// it each time) and prefilling in small chunks change nothing.
func TestCacheGrowth(t *testing.T) {
	gm := goldenByName(t, "mistral-f32")
	for _, o := range []llm.Options{{CacheChunk: 3, PrefillChunk: 5}, {CacheChunk: 1, PrefillChunk: 1}, {CacheDType: mx.F32, CacheChunk: 1000}} {
		e := gm.open(t, modes[0], o)
		got, _ := greedy(t, e, gm.g.PromptIDs, 32)
		assert.Equal(t, gm.g.GreedyIDs, got, "%+v", o)
	}
}

func goldenByName(t *testing.T, name string) goldenModel {
	for _, gm := range goldenModels(t) {
		if gm.g.Name == name {
			return gm
		}
	}
	t.Fatalf("no golden model %s", name)
	return goldenModel{}
}

// TestPrefillShares checks that sequences reading long prompts share a
// step's token budget and never stall a decoding sequence.
func TestPrefillShares(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, &llm.Options{PrefillChunk: 64, StepTokens: 64})
	long := make([]int32, 100)
	for i := range long {
		long[i] = int32(i + 1)
	}
	a, _ := e.NewSequence(long, llm.SequenceOptions{IgnoreEOS: true})
	b, _ := e.NewSequence(long, llm.SequenceOptions{IgnoreEOS: true})
	c, _ := e.NewSequence([]int32{1}, llm.SequenceOptions{IgnoreEOS: true})
	defer a.Release()
	defer b.Release()
	defer c.Release()
	out := make([]pipeline.TokenOutput, 3)
	require.NoError(t, e.Step([]pipeline.Sequence{a, b, c}, out))
	// Three prefilling sequences share 64 tokens.
	assert.Equal(t, []int{21, 21, 1}, []int{out[0].Prefilled, out[1].Prefilled, out[2].Prefilled})
	assert.True(t, out[2].Sampled)
	require.NoError(t, e.Step([]pipeline.Sequence{a, b, c}, out))
	assert.Equal(t, []int{32, 32, 0}, []int{out[0].Prefilled, out[1].Prefilled, out[2].Prefilled})
	assert.True(t, out[2].Sampled, "the decoding sequence advances every step")
	assert.False(t, out[0].Sampled)
}

func TestSeededSamplingInBatch(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, nil)
	seed := func(n uint64) llm.SequenceOptions {
		return llm.SequenceOptions{IgnoreEOS: true, Sampling: sample.Params{Temperature: 1, TopP: 0.95, Seed: n}}
	}
	prompt := []int32{10, 20, 30, 40}
	alone, _ := e.NewSequence(prompt, seed(7))
	want, _, _ := stepAll(t, e, []pipeline.Sequence{alone}, 20)
	alone.Release()

	x, _ := e.NewSequence(prompt, seed(7))
	y, _ := e.NewSequence(prompt, seed(8))
	got, _, _ := stepAll(t, e, []pipeline.Sequence{x, y}, 20)
	x.Release()
	y.Release()
	assert.Equal(t, want[0], got[0], "same seed, same tokens, batched or not")
	assert.NotEqual(t, got[0], got[1], "another seed, other tokens")
}

func TestLogprobs(t *testing.T) {
	e := openReal(t, "qwen3-f32", nil, nil)
	s, _ := e.NewSequence([]int32{10, 20, 30}, llm.SequenceOptions{Sampling: sample.Params{Logprobs: true, TopLogprobs: 5}})
	defer s.Release()
	out := make([]pipeline.TokenOutput, 1)
	require.NoError(t, e.Step([]pipeline.Sequence{s}, out))
	lp := out[0].Logprobs
	require.NotNil(t, lp)
	require.Len(t, lp.Top, 5)
	assert.Equal(t, lp.TokenLogprob, lp.Top[0], "greedy picks the most likely token")
	assert.NotEmpty(t, lp.Bytes)
	assert.Equal(t, string(lp.Bytes), lp.Token)
	assert.True(t, slices.IsSortedFunc(lp.Top, func(a, b pipeline.TokenLogprob) int {
		return -cmpFloat(a.Logprob, b.Logprob)
	}))
	assert.Less(t, lp.Top[0].Logprob, 0.0)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// memSource is an in-memory TensorSource.
type memSource map[string]*mx.Array

func (m memSource) Names() []string { return slices.Sorted(maps.Keys(m)) }
func (m memSource) Has(n string) bool {
	_, ok := m[n]
	return ok
}
func (m memSource) Array(n string) (*mx.Array, error) { return m[n], nil }

func TestBadWeights(t *testing.T) {
	dir := filepath.Join(goldenRoot, "qwen3-f32")
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	st, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	defer st.Close()
	base := memSource{}
	for _, n := range st.Names() {
		base[n], err = st.Array(n)
		require.NoError(t, err)
	}
	tok := idTokenizer{vocab: cfg.VocabSize, eos: -1}
	_, err = llm.New(cfg, nil, base, tok, nil, nil)
	require.NoError(t, err)

	cases := []struct {
		name string
		edit func(m memSource)
		want string
	}{
		{"missing", func(m memSource) { delete(m, "model.layers.1.mlp.up_proj.weight") }, "model.layers.1.mlp.up_proj.weight is missing"},
		{"shape", func(m memSource) { m["model.norm.weight"] = mx.Zeros(mx.F32, 65) }, "model.norm.weight has shape [65]; the config implies [64]"},
		{"dtype", func(m memSource) { m["model.norm.weight"] = mx.Zeros(mx.I32, 64) }, "dtype I32"},
		{"extra", func(m memSource) { m["model.layers.9.mlp.up_proj.weight"] = mx.Zeros(mx.F32, 1) }, "unexpected tensors model.layers.9"},
		{"bias", func(m memSource) { m["model.layers.0.self_attn.o_proj.bias"] = mx.Zeros(mx.F32, 64) }, "o_proj.bias is present"},
		{"scales", func(m memSource) { m["model.layers.0.mlp.up_proj.scales"] = mx.Zeros(mx.F32, 128, 2) }, "does not quantize"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := maps.Clone(base)
			tc.edit(m)
			_, err := llm.New(cfg, nil, m, tok, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err = llm.New(cfg, nil, base, idTokenizer{vocab: cfg.VocabSize + 1}, nil, nil)
	assert.ErrorContains(t, err, "the model's vocabulary is")
	_, err = llm.New(cfg, nil, base, tok, nil, &llm.Options{CacheDType: mx.I32})
	assert.ErrorContains(t, err, "cache dtype")
}

func TestBadQuantizedWeights(t *testing.T) {
	dir := filepath.Join(goldenRoot, "qwen3-q4-g32")
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	st, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	defer st.Close()
	base := memSource{}
	for _, n := range st.Names() {
		base[n], _ = st.Array(n)
	}
	tok := idTokenizer{vocab: cfg.VocabSize, eos: -1}
	cases := []struct {
		name string
		edit func(m memSource)
		want string
	}{
		{"packed shape", func(m memSource) { m["model.layers.0.mlp.up_proj.weight"] = mx.Zeros(mx.U32, 128, 16) }, "4-bit [128, 64] packs to [128 8]"},
		{"packed dtype", func(m memSource) { m["model.layers.0.mlp.up_proj.weight"] = mx.Zeros(mx.F32, 128, 8) }, "quantized weights are U32"},
		{"scales shape", func(m memSource) { m["model.layers.0.mlp.up_proj.scales"] = mx.Zeros(mx.BF16, 128, 3) }, "up_proj.scales has shape"},
		{"no biases", func(m memSource) { delete(m, "model.layers.0.mlp.up_proj.biases") }, "biases is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := maps.Clone(base)
			tc.edit(m)
			_, err := llm.New(cfg, nil, m, tok, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
