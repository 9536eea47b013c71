package llm_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/pipeline"
)

// randomWeights returns random tensors of every shape cfg implies,
// quantizing with mx.Quantize the modules cfg quantizes (when their input
// size is a multiple of the group size, as mlx-lm does).
func randomWeights(t testing.TB, cfg *config.Config, seed uint64) memSource {
	r := rand.New(rand.NewPCG(seed, 1))
	m := memSource{}
	vec := func(n int, base, spread float64) *mx.Array {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(base + spread*r.NormFloat64())
		}
		return mx.FromFloat32(v, n)
	}
	lin := func(name string, out, in int, bias bool) {
		w := vec(out*in, 0, 1/math.Sqrt(float64(in))).Reshape(out, in)
		if spec, ok := cfg.Quant.For(name); ok && in%spec.GroupSize == 0 {
			q, err := mx.Quantize(w, spec.GroupSize, spec.Bits)
			require.NoError(t, err)
			m[name+".weight"], m[name+".scales"], m[name+".biases"] = q.W, q.Scales, q.Biases
		} else {
			m[name+".weight"] = w
		}
		if bias {
			m[name+".bias"] = vec(out, 0, 0.1)
		}
	}
	h, qd, kvd := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.KVDim()
	lin("model.embed_tokens", cfg.VocabSize, h, false)
	for l := range cfg.NumLayers {
		p := "model.layers." + strconv.Itoa(l) + "."
		m[p+"input_layernorm.weight"] = vec(h, 1, 0.1)
		m[p+"post_attention_layernorm.weight"] = vec(h, 1, 0.1)
		lin(p+"self_attn.q_proj", qd, h, cfg.QKVBias)
		lin(p+"self_attn.k_proj", kvd, h, cfg.QKVBias)
		lin(p+"self_attn.v_proj", kvd, h, cfg.QKVBias)
		lin(p+"self_attn.o_proj", h, qd, cfg.OBias)
		if cfg.QKNorm {
			m[p+"self_attn.q_norm.weight"] = vec(cfg.HeadDim, 1, 0.1)
			m[p+"self_attn.k_norm.weight"] = vec(cfg.HeadDim, 1, 0.1)
		}
		if cfg.FusedGateUp {
			lin(p+"mlp.gate_up_proj", 2*cfg.IntermediateSize, h, cfg.MLPBias)
		} else {
			lin(p+"mlp.gate_proj", cfg.IntermediateSize, h, cfg.MLPBias)
			lin(p+"mlp.up_proj", cfg.IntermediateSize, h, cfg.MLPBias)
		}
		lin(p+"mlp.down_proj", h, cfg.IntermediateSize, cfg.MLPBias)
		if cfg.PostNorms {
			m[p+"post_self_attn_layernorm.weight"] = vec(h, 1, 0.1)
			m[p+"post_mlp_layernorm.weight"] = vec(h, 1, 0.1)
		}
	}
	m["model.norm.weight"] = vec(h, 1, 0.1)
	if !cfg.TieWordEmbeddings {
		lin("lm_head", cfg.VocabSize, h, false)
	}
	return m
}

// FuzzEngine parses arbitrary config.json documents, builds random weights
// of the shapes they imply (then perhaps breaks one tensor), and runs the
// engine: a config that parses and weights that match must run without
// panicking; broken weights must fail to load with an error.
func FuzzEngine(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join(goldenRoot, "*", "config.json"))
	for i, p := range dirs {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data, uint8(i), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, breakWhat uint8, seed uint64) {
		cfg, err := config.Parse(data)
		if err != nil {
			return
		}
		// Keep each run small.
		c := cfg
		if c.NumLayers > 3 || c.HiddenSize > 256 || c.IntermediateSize > 512 || c.VocabSize > 2048 ||
			c.NumHeads*c.HeadDim > 512 || c.HeadDim > 128 {
			return
		}
		m := randomWeights(t, cfg, seed)
		broken := breakWhat%3 != 0
		if broken {
			names := m.Names()
			name := names[int(seed%uint64(len(names)))]
			if breakWhat%3 == 1 {
				delete(m, name)
			} else {
				m[name] = mx.Zeros(mx.F32, m[name].Size()+1)
			}
		}
		e, err := llm.New(cfg, nil, m, idTokenizer{vocab: cfg.VocabSize, eos: -1}, nil, &llm.Options{PrefillChunk: 3})
		if broken {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		prompt := []int32{0, int32(cfg.VocabSize - 1), int32(seed % uint64(cfg.VocabSize)), 1 % int32(cfg.VocabSize)}
		if e.Info().ContextLength <= len(prompt)+2 {
			return
		}
		logits, err := e.Logits(prompt)
		require.NoError(t, err)
		require.Len(t, logits, len(prompt)*cfg.VocabSize)
		a, err := e.NewSequence(prompt, llm.SequenceOptions{IgnoreEOS: true})
		require.NoError(t, err)
		b, err := e.NewSequence(prompt[:1], llm.SequenceOptions{IgnoreEOS: true})
		require.NoError(t, err)
		out := make([]pipeline.TokenOutput, 2)
		for range 3 {
			require.NoError(t, e.Step([]pipeline.Sequence{a, b}, out))
		}
		a.Release()
		b.Release()
		require.Zero(t, e.CacheBytes())
	})
}
