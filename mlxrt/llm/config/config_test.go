package config_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
)

func load(t *testing.T, name string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	c, err := config.Parse(data)
	require.NoError(t, err)
	return c
}

func TestParseQwen3(t *testing.T) {
	c := load(t, "qwen3-0.6b.json")
	assert.Equal(t, config.Qwen3, c.Family)
	assert.Equal(t, 1024, c.HiddenSize)
	assert.Equal(t, 3072, c.IntermediateSize)
	assert.Equal(t, 28, c.NumLayers)
	assert.Equal(t, 16, c.NumHeads)
	assert.Equal(t, 8, c.NumKVHeads)
	assert.Equal(t, 128, c.HeadDim, "explicit head_dim wins over hidden/heads = 64")
	assert.Equal(t, 151936, c.VocabSize)
	assert.Equal(t, 40960, c.MaxPositions)
	assert.True(t, c.TieWordEmbeddings)
	assert.True(t, c.QKNorm)
	assert.False(t, c.QKVBias)
	assert.Zero(t, c.SlidingWindow)
	assert.Equal(t, config.RoPEDefault, c.RoPE.Type)
	assert.Equal(t, 1e6, c.RoPE.Theta)
	assert.Equal(t, []int{151645}, c.EOSTokenIDs)
	assert.Equal(t, 151643, c.BOSTokenID)
	assert.Nil(t, c.Quant)
	assert.Equal(t, 1024, c.KVDim())
}

func TestParseQuantized(t *testing.T) {
	c := load(t, "qwen3-0.6b-4bit.json")
	require.NotNil(t, c.Quant)
	spec, ok := c.Quant.For("model.layers.0.mlp.up_proj")
	assert.True(t, ok)
	assert.Equal(t, config.QuantSpec{GroupSize: 64, Bits: 4}, spec)
}

func TestParseLlama31(t *testing.T) {
	c := load(t, "llama-3.1-8b.json")
	assert.Equal(t, config.Llama, c.Family)
	assert.Equal(t, 128, c.HeadDim)
	assert.False(t, c.TieWordEmbeddings)
	assert.Equal(t, []int{128001, 128008, 128009}, c.EOSTokenIDs)
	assert.Equal(t, config.RoPELlama3, c.RoPE.Type)
	assert.Equal(t, 8192, c.RoPE.OriginalMaxPositions)
}

func TestParseMistral(t *testing.T) {
	v1 := load(t, "mistral-7b-v0.1.json")
	assert.Equal(t, 4096, v1.SlidingWindow)
	for _, s := range v1.SlidingLayers {
		assert.True(t, s)
	}
	v3 := load(t, "mistral-7b-v0.3.json")
	assert.Zero(t, v3.SlidingWindow, "null sliding_window disables the window")
	assert.NotContains(t, v3.SlidingLayers, true)
}

func TestParseQwen2(t *testing.T) {
	c := load(t, "qwen2.5-0.5b.json")
	assert.Equal(t, config.Qwen2, c.Family)
	assert.True(t, c.QKVBias)
	assert.False(t, c.OBias)
	assert.Equal(t, 64, c.HeadDim)
	assert.Zero(t, c.SlidingWindow, "use_sliding_window false")
}

// edit returns the named testdata config with fields replaced (nil deletes).
func edit(t *testing.T, name string, changes map[string]any) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestQwenSlidingLayers(t *testing.T) {
	c, err := config.Parse(edit(t, "qwen2.5-0.5b.json", map[string]any{
		"use_sliding_window": true, "sliding_window": 16, "max_window_layers": 20,
	}))
	require.NoError(t, err)
	assert.Equal(t, 16, c.SlidingWindow)
	for i, s := range c.SlidingLayers {
		assert.Equal(t, i >= 20, s, "layer %d", i)
	}
	types := make([]string, 24)
	for i := range types {
		types[i] = "full_attention"
	}
	types[3] = "sliding_attention"
	c, err = config.Parse(edit(t, "qwen2.5-0.5b.json", map[string]any{
		"use_sliding_window": true, "sliding_window": 16, "layer_types": types,
	}))
	require.NoError(t, err)
	assert.Equal(t, []int{3}, trueIndexes(c.SlidingLayers))
}

func trueIndexes(b []bool) []int {
	var out []int
	for i, v := range b {
		if v {
			out = append(out, i)
		}
	}
	return out
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		base    string
		changes map[string]any
		want    string
	}{
		{"unknown model type", "qwen3-0.6b.json", map[string]any{"model_type": "gemma", "architectures": nil}, `model_type "gemma": unsupported`},
		{"unknown architecture", "qwen3-0.6b.json", map[string]any{"model_type": nil, "architectures": []string{"GPT2LMHeadModel"}}, "GPT2LMHeadModel"},
		{"contradiction", "qwen3-0.6b.json", map[string]any{"architectures": []string{"LlamaForCausalLM"}}, "contradicts"},
		{"nothing", "qwen3-0.6b.json", map[string]any{"architectures": nil, "model_type": nil}, "neither model_type nor architectures"},
		{"missing hidden", "qwen3-0.6b.json", map[string]any{"hidden_size": nil}, "hidden_size is missing"},
		{"zero layers", "qwen3-0.6b.json", map[string]any{"num_hidden_layers": 0}, "num_hidden_layers = 0"},
		{"huge vocab", "qwen3-0.6b.json", map[string]any{"vocab_size": 1 << 40}, "vocab_size"},
		{"gqa", "qwen3-0.6b.json", map[string]any{"num_key_value_heads": 5}, "not a multiple"},
		{"kv more than q", "qwen3-0.6b.json", map[string]any{"num_key_value_heads": 32}, "num_key_value_heads = 32"},
		{"head dim", "qwen2.5-0.5b.json", map[string]any{"hidden_size": 900}, "not a multiple of num_attention_heads"},
		{"odd head dim", "qwen3-0.6b.json", map[string]any{"head_dim": 127}, "odd"},
		{"eps", "qwen3-0.6b.json", map[string]any{"rms_norm_eps": -1}, "rms_norm_eps"},
		{"act", "qwen3-0.6b.json", map[string]any{"hidden_act": "gelu"}, "hidden_act"},
		{"theta", "qwen3-0.6b.json", map[string]any{"rope_theta": 0}, "rope_theta"},
		{"rope type", "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{"rope_type": "longrope"}}, "longrope"},
		{"rope factor", "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{"type": "linear"}}, "needs factor"},
		{"rope factor small", "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{"type": "linear", "factor": 0.5}}, "factor = 0.5"},
		{"llama3 keys", "llama-3.1-8b.json", map[string]any{"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8.0}}, "low_freq_factor"},
		{"both rope", "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{"type": "linear", "factor": 2}, "rope_parameters": map[string]any{"rope_type": "default"}}, "both"},
		{"theta contradiction", "qwen3-0.6b.json", map[string]any{"rope_parameters": map[string]any{"rope_type": "default", "rope_theta": 5}}, "contradicts"},
		{"quant bits", "qwen3-0.6b.json", map[string]any{"quantization": map[string]any{"group_size": 64, "bits": 3}}, "bits = 3"},
		{"quant group", "qwen3-0.6b.json", map[string]any{"quantization": map[string]any{"group_size": 48, "bits": 4}}, "group_size = 48"},
		{"quant method", "qwen3-0.6b.json", map[string]any{"quantization_config": map[string]any{"quant_method": "gptq", "bits": 4}}, "gptq"},
		{"quant mode", "qwen3-0.6b.json", map[string]any{"quantization": map[string]any{"group_size": 32, "bits": 4, "mode": "mxfp4"}}, "mxfp4"},
		{"eos range", "qwen3-0.6b.json", map[string]any{"eos_token_id": 999999}, "outside the vocabulary"},
		{"eos negative", "qwen3-0.6b.json", map[string]any{"eos_token_id": []int{1, -2}}, "negative"},
		{"layer types", "qwen3-0.6b.json", map[string]any{"layer_types": []string{"full_attention"}}, "layer_types has 1"},
		{"sliding without window", "qwen2.5-0.5b.json", map[string]any{"layer_types": make24("sliding_attention")}, "no sliding window"},
		{"partial rotary", "qwen3-0.6b.json", map[string]any{"partial_rotary_factor": 0.5}, "partial_rotary_factor"},
		{"not json", "qwen3-0.6b.json", map[string]any{"hidden_size": "big"}, "hidden_size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(edit(t, tc.base, tc.changes))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "config.json: "), err.Error())
		})
	}
}

func make24(s string) []string {
	out := make([]string, 24)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestParseTooLarge(t *testing.T) {
	_, err := config.Parse(make([]byte, config.MaxConfigBytes+1))
	require.ErrorContains(t, err, "more than")
}

func TestQuantOverrides(t *testing.T) {
	c, err := config.Parse(edit(t, "qwen3-0.6b.json", map[string]any{"quantization": map[string]any{
		"group_size": 64, "bits": 4,
		"model.embed_tokens":           map[string]any{"group_size": 32, "bits": 8},
		"model.layers.0.mlp.gate_proj": false,
	}}))
	require.NoError(t, err)
	s, ok := c.Quant.For("model.embed_tokens")
	assert.True(t, ok)
	assert.Equal(t, config.QuantSpec{GroupSize: 32, Bits: 8}, s)
	_, ok = c.Quant.For("model.layers.0.mlp.gate_proj")
	assert.False(t, ok)
	s, ok = c.Quant.For("model.layers.1.mlp.gate_proj")
	assert.True(t, ok)
	assert.Equal(t, 4, s.Bits)
}

func TestParseGeneration(t *testing.T) {
	g, err := config.ParseGeneration([]byte(`{"bos_token_id":151643,"do_sample":true,
		"eos_token_id":[151645,151643],"pad_token_id":151643,"temperature":0.6,"top_k":20,"top_p":0.95,
		"max_new_tokens":2048}`))
	require.NoError(t, err)
	assert.True(t, *g.DoSample)
	assert.Equal(t, 0.6, *g.Temperature)
	assert.Equal(t, 20, *g.TopK)
	assert.Equal(t, 0.95, *g.TopP)
	assert.Nil(t, g.MinP)
	assert.Equal(t, []int{151645, 151643}, g.EOSTokenIDs)
	assert.Equal(t, 151643, g.BOSTokenID)
	assert.Equal(t, 2048, *g.MaxNewTokens)

	g, err = config.ParseGeneration([]byte(`{"max_new_tokens":null}`))
	require.NoError(t, err)
	assert.Nil(t, g.MaxNewTokens, "null is unset")

	for _, bad := range []string{`{"temperature":-1}`, `{"top_p":1.5}`, `{"top_k":-3}`, `{"repetition_penalty":0}`, `{"eos_token_id":"x"}`, `{"max_new_tokens":0}`, `{"max_new_tokens":1.5}`, `[`} {
		_, err := config.ParseGeneration([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestInvFreqDefault(t *testing.T) {
	c := load(t, "qwen3-0.6b.json")
	inv := c.RoPE.InvFreq(10)
	require.Len(t, inv, 64)
	for i, f := range inv {
		want := math.Pow(1e6, -float64(2*i)/128)
		assert.InEpsilon(t, want, float64(f), 2e-7, "i=%d", i)
	}
	assert.Equal(t, float32(1), c.RoPE.AttentionFactorF32())
}

func TestInvFreqLinearAndDynamic(t *testing.T) {
	base := load(t, "qwen3-0.6b.json").RoPE.InvFreq(1)
	lin, err := config.Parse(edit(t, "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{"rope_type": "linear", "factor": 4.0}}))
	require.NoError(t, err)
	for i, f := range lin.RoPE.InvFreq(1) {
		assert.Equal(t, base[i]/4, f)
	}
	dyn, err := config.Parse(edit(t, "qwen3-0.6b.json", map[string]any{
		"rope_scaling": map[string]any{"rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings": 100,
	}))
	require.NoError(t, err)
	assert.True(t, dyn.RoPE.Dynamic())
	assert.Equal(t, base, dyn.RoPE.InvFreq(100), "within max positions the base is unchanged")
	long := dyn.RoPE.InvFreq(300)
	// base' = base · (2·300/100 − 1)^(128/126)
	nb := 1e6 * math.Pow(5, 128.0/126)
	for i, f := range long {
		assert.InEpsilon(t, math.Pow(nb, -float64(2*i)/128), float64(f), 1e-6, "i=%d", i)
	}
}

func TestInvFreqLlama3(t *testing.T) {
	c := load(t, "llama-3.1-8b.json")
	inv := c.RoPE.InvFreq(1)
	require.Len(t, inv, 64)
	for i, f := range inv {
		orig := math.Pow(500000, -float64(2*i)/128)
		wavelen := 2 * math.Pi / orig
		switch {
		case wavelen < 8192/4.0:
			assert.InEpsilon(t, orig, float64(f), 1e-6, "high frequency %d kept", i)
		case wavelen > 8192:
			assert.InEpsilon(t, orig/8, float64(f), 1e-6, "low frequency %d divided", i)
		default:
			smooth := (8192/wavelen - 1) / 3
			want := (1-smooth)*orig/8 + smooth*orig
			assert.InEpsilon(t, want, float64(f), 1e-5, "medium frequency %d smoothed", i)
		}
	}
}

func TestInvFreqYarn(t *testing.T) {
	c, err := config.Parse(edit(t, "qwen3-0.6b.json", map[string]any{"rope_scaling": map[string]any{
		"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768,
	}, "max_position_embeddings": 131072}))
	require.NoError(t, err)
	inv := c.RoPE.InvFreq(1)
	assert.InEpsilon(t, 1.0, float64(inv[0]), 1e-7, "fastest dimension extrapolated")
	last := math.Pow(1e6, -126.0/128)
	assert.InEpsilon(t, last/4, float64(inv[63]), 1e-6, "slowest dimension interpolated")
	assert.InEpsilon(t, 0.1*math.Log(4)+1, float64(c.RoPE.AttentionFactorF32()), 1e-6)
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"qwen3-0.6b.json", "llama-3.1-8b.json", "mistral-7b-v0.1.json", "qwen2.5-0.5b.json", "qwen3-0.6b-4bit.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data)
		if err != nil {
			return
		}
		// A parsed config is internally consistent.
		require.Positive(t, c.HeadDim)
		require.Zero(t, c.NumHeads%c.NumKVHeads)
		require.Len(t, c.SlidingLayers, c.NumLayers)
		require.Len(t, c.RoPE.InvFreq(c.MaxPositions+1), c.HeadDim/2)
	})
}

func FuzzParseGeneration(f *testing.F) {
	f.Add([]byte(`{"do_sample":true,"temperature":0.7,"top_p":0.8,"top_k":20,"eos_token_id":[1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = config.ParseGeneration(data)
	})
}

func TestParseGLM4(t *testing.T) {
	data, err := os.ReadFile("../../testdata/models/glm4-f32/config.json")
	require.NoError(t, err)
	c, err := config.Parse(data)
	require.NoError(t, err)
	assert.Equal(t, config.GLM4, c.Family)
	assert.True(t, c.QKVBias)
	assert.False(t, c.OBias)
	assert.True(t, c.PostNorms)
	assert.True(t, c.FusedGateUp)
	assert.True(t, c.RoPE.Interleaved)
	assert.Equal(t, 8, c.RoPE.Dim, "half of head_dim 16 rotates")
	assert.Len(t, c.RoPE.InvFreq(1), 4)

	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	m["partial_rotary_factor"] = 0.25
	bad, _ := json.Marshal(m)
	_, err = config.Parse(bad)
	assert.ErrorContains(t, err, "contradicts")
	delete(m, "partial_rotary_factor")
	m["rope_parameters"].(map[string]any)["partial_rotary_factor"] = 0.1
	bad, _ = json.Marshal(m)
	_, err = config.Parse(bad)
	assert.ErrorContains(t, err, "rotary dimensions")
}
