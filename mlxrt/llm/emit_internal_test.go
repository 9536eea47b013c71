package llm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
	"github.com/ominix/ominix-api/mlxrt/tokenizer"
	"github.com/ominix/ominix-api/pipeline"
)

func openGolden(t *testing.T, name string, gen *config.Generation) *Engine {
	t.Helper()
	dir := filepath.Join("../testdata/models", name)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	st, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	tok, err := tokenizer.Load(dir, nil)
	require.NoError(t, err)
	e, err := New(cfg, gen, st, TokenizerFrom(tok), nil, nil)
	require.NoError(t, err)
	return e
}

// force emits token id through the sequence as if the model chose it.
func force(s *Sequence, id int32) pipeline.TokenOutput {
	logits := make([]float32, s.e.cfg.VocabSize)
	logits[id] = 100
	var o pipeline.TokenOutput
	s.emit(logits, &o)
	return o
}

func id(t *testing.T, e *Engine, tok string) int32 {
	t.Helper()
	v, ok := e.tok.TokenID(tok)
	require.True(t, ok, tok)
	return v
}

func TestEmitText(t *testing.T) {
	e := openGolden(t, "qwen3-f32", nil)
	s, err := e.NewSequence([]int32{1, 2}, SequenceOptions{})
	require.NoError(t, err)
	text := func(ids ...int32) string {
		var out string
		for _, v := range ids {
			out += force(s, v).Text
		}
		return out
	}
	hello := e.tok.Encode("Hi <think>ok</think> 你好 <tool_call>{}</tool_call>")
	assert.Equal(t, "Hi <think>ok</think> 你好 <tool_call>{}</tool_call>", text(hello...),
		"reasoning and tool-call tags stay in the text")
	assert.Empty(t, text(id(t, e, "<|im_start|>")), "other control tokens produce no text")

	// A multi-byte character split over tokens is held back until whole.
	ni := e.tok.Encode("你")
	if len(ni) > 1 {
		assert.Empty(t, force(s, ni[0]).Text)
	}

	o := force(s, id(t, e, "<|im_end|>"))
	assert.True(t, o.EOS)
	assert.True(t, o.Sampled)
	o = force(s, id(t, e, "<|endoftext|>"))
	assert.True(t, o.EOS, "every end-of-turn token stops")
}

func TestStopTokens(t *testing.T) {
	e := openGolden(t, "qwen3-f32", &config.Generation{EOSTokenIDs: []int{42}})
	assert.True(t, e.text.stop[42], "generation_config eos_token_id")
	for _, id := range e.cfg.EOSTokenIDs {
		assert.True(t, e.text.stop[int32(id)], "config eos_token_id")
	}
	assert.True(t, e.text.stop[id(t, e, "<|im_end|>")])
	assert.False(t, e.text.stop[id(t, e, "<|im_start|>")])

	s, err := e.NewSequence([]int32{1}, SequenceOptions{IgnoreEOS: true})
	require.NoError(t, err)
	o := force(s, 42)
	assert.False(t, o.EOS, "IgnoreEOS")
	assert.False(t, s.finished)
}

func TestInReasoning(t *testing.T) {
	assert.False(t, inReasoning("abc", "", ""))
	assert.False(t, inReasoning("abc", "<think>", "</think>"))
	assert.True(t, inReasoning("a<think>\n", "<think>", "</think>"))
	assert.False(t, inReasoning("a<think>b</think>", "<think>", "</think>"))
	assert.True(t, inReasoning("<think>b</think> <think>", "<think>", "</think>"))
}

func TestSamplingParams(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	k := func(v int) *int { return &v }
	yes, no := true, false
	gen := &config.Generation{DoSample: &yes, Temperature: f(0.6), TopP: f(0.95), TopK: k(20), RepetitionPenalty: f(1.1)}

	p, err := samplingParams(&pipeline.ChatRequest{}, gen)
	require.NoError(t, err)
	assert.Equal(t, 0.6, p.Temperature)
	assert.Equal(t, 0.95, p.TopP)
	assert.Equal(t, 20, p.TopK)
	assert.Equal(t, 1.1, p.RepetitionPenalty)

	seed := int64(-5)
	req := &pipeline.ChatRequest{Sampling: pipeline.Sampling{Temperature: f(0), TopK: k(3), Seed: &seed, RepetitionPenalty: 1.3, PresencePenalty: 0.5}, Logprobs: true, TopLogprobs: 4}
	p, err = samplingParams(req, gen)
	require.NoError(t, err)
	assert.Zero(t, p.Temperature, "the request wins")
	assert.Equal(t, 3, p.TopK)
	assert.Equal(t, 0.95, p.TopP, "unset fields fall back to the file")
	assert.Equal(t, uint64(seed), p.Seed)
	assert.Equal(t, 1.3, p.RepetitionPenalty)
	assert.Equal(t, 0.5, p.PresencePenalty)
	assert.True(t, p.Logprobs)
	assert.Equal(t, 4, p.TopLogprobs)

	gen.DoSample = &no
	p, err = samplingParams(&pipeline.ChatRequest{}, gen)
	require.NoError(t, err)
	assert.Zero(t, p.Temperature, "do_sample false means greedy by default")
	p, err = samplingParams(&pipeline.ChatRequest{}, nil)
	require.NoError(t, err)
	assert.Zero(t, p.Temperature)
	assert.Equal(t, 1.0, p.TopP)

	_, err = samplingParams(&pipeline.ChatRequest{Sampling: pipeline.Sampling{Temperature: f(-1)}}, nil)
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "temperature", pe.Param)
	_, err = samplingParams(&pipeline.ChatRequest{Logprobs: true, TopLogprobs: 21}, nil)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "top_logprobs", pe.Param)
}
