package llmtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
)

// Variant is how the weights are stored.
type Variant string

// The variants.
const (
	BF16 Variant = "bf16"
	Q8   Variant = "q8" // MLX affine, 8 bits, group 64
	Q4   Variant = "q4" // MLX affine, 4 bits, group 64
)

// Shape is the architecture of a Qwen3-style random model (tied
// embeddings, q/k norms, GQA).
type Shape struct {
	Hidden, Intermediate, Layers, Heads, KVHeads, HeadDim, Vocab int
}

// Qwen3_06B is the shape of Qwen3-0.6B.
var Qwen3_06B = Shape{Hidden: 1024, Intermediate: 3072, Layers: 28, Heads: 16, KVHeads: 8, HeadDim: 128, Vocab: 151936}

// Small is a few-megabyte shape for quick tests.
var Small = Shape{Hidden: 128, Intermediate: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, Vocab: 1000}

const version = 1

// key names the cache directory of a model.
func (s Shape) key(v Variant, seed uint64) string {
	return fmt.Sprintf("qwen3-h%d-i%d-l%d-a%d-k%d-d%d-v%d-%s-s%d-v%d",
		s.Hidden, s.Intermediate, s.Layers, s.Heads, s.KVHeads, s.HeadDim, s.Vocab, v, seed, version)
}

// ConfigJSON returns the config.json of the shape.
func (s Shape) ConfigJSON(v Variant) map[string]any {
	c := map[string]any{
		"architectures": []string{"Qwen3ForCausalLM"}, "model_type": "qwen3",
		"hidden_size": s.Hidden, "intermediate_size": s.Intermediate, "num_hidden_layers": s.Layers,
		"num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads, "head_dim": s.HeadDim,
		"vocab_size": s.Vocab, "max_position_embeddings": 40960, "rms_norm_eps": 1e-6,
		"rope_theta": 1000000, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
		"bos_token_id": 0, "eos_token_id": 1,
	}
	if spec, ok := quantSpec(v); ok {
		q := map[string]any{"group_size": spec.GroupSize, "bits": spec.Bits}
		c["quantization"], c["quantization_config"] = q, q
	}
	return c
}

func quantSpec(v Variant) (config.QuantSpec, bool) {
	switch v {
	case Q8:
		return config.QuantSpec{GroupSize: 64, Bits: 8}, true
	case Q4:
		return config.QuantSpec{GroupSize: 64, Bits: 4}, true
	}
	return config.QuantSpec{}, false
}

var dirMu sync.Mutex

// Dir returns the directory of the random model of shape s in variant v,
// writing it first when the cache does not have it. The directory holds
// config.json and model.safetensors.
func Dir(s Shape, v Variant, seed uint64) (string, error) {
	if _, ok := quantSpec(v); !ok && v != BF16 {
		return "", fmt.Errorf("llmtest: unknown variant %q", v)
	}
	dirMu.Lock()
	defer dirMu.Unlock()
	dir := filepath.Join(os.TempDir(), "ominix-llmtest", s.key(v, seed))
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "partial-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", err
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "partial-"); err != nil {
			return "", err
		}
	}
	defer os.RemoveAll(tmp)
	if err := write(tmp, s, v, seed); err != nil {
		return "", err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

func write(dir string, s Shape, v Variant, seed uint64) error {
	cfg, err := json.MarshalIndent(s.ConfigJSON(v), "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		return err
	}
	tensors := Tensors(s, v, seed)
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return err
	}
	if err := safetensors.Write(f, tensors, map[string]string{"format": "mlx"}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Tensors returns the random tensors of a model: linear weights uniform
// with standard deviation 0.02 (the transformers initializer's), norms 1,
// embeddings with standard deviation 1. Quantized variants get random
// codes with scales and biases that span the same range, as mx.Quantize
// would produce from such weights.
func Tensors(s Shape, v Variant, seed uint64) map[string]*mx.Array {
	spec, quant := quantSpec(v)
	t := map[string]*mx.Array{}
	n := uint64(0)
	add := func(name string, out, in int, std float32) {
		n++
		if quant {
			for k, a := range quantized(out, in, std, spec, seed*1000+n) {
				t[name+k] = a
			}
			return
		}
		t[name+".weight"] = randomBF16(out*in, std, seed*1000+n).Reshape(out, in)
	}
	ones := func(name string, d int) {
		t[name] = ones(d)
	}
	add("model.embed_tokens", s.Vocab, s.Hidden, 1)
	for l := range s.Layers {
		p := "model.layers." + strconv.Itoa(l) + "."
		ones(p+"input_layernorm.weight", s.Hidden)
		ones(p+"post_attention_layernorm.weight", s.Hidden)
		ones(p+"self_attn.q_norm.weight", s.HeadDim)
		ones(p+"self_attn.k_norm.weight", s.HeadDim)
		add(p+"self_attn.q_proj", s.Heads*s.HeadDim, s.Hidden, 0.02)
		add(p+"self_attn.k_proj", s.KVHeads*s.HeadDim, s.Hidden, 0.02)
		add(p+"self_attn.v_proj", s.KVHeads*s.HeadDim, s.Hidden, 0.02)
		add(p+"self_attn.o_proj", s.Hidden, s.Heads*s.HeadDim, 0.02)
		add(p+"mlp.gate_proj", s.Intermediate, s.Hidden, 0.02)
		add(p+"mlp.up_proj", s.Intermediate, s.Hidden, 0.02)
		add(p+"mlp.down_proj", s.Hidden, s.Intermediate, 0.02)
	}
	ones("model.norm.weight", s.Hidden)
	return t
}

func ones(d int) *mx.Array {
	a := mx.Zeros(mx.BF16, d)
	one := mx.F32ToBF16(1)
	for i, u := 0, a.Uint16View(); i < d; i++ {
		u[i] = one
	}
	return a
}

// fill runs f over [0, n) split across the cores, each part with its own
// generator state derived from seed.
func fill(n int, seed uint64, f func(lo, hi int, x uint64)) {
	parts := runtime.GOMAXPROCS(0) * 4
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi, splitmix(seed*0x9e3779b97f4a7c15+uint64(p)+1))
		}()
	}
	wg.Wait()
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// randomBF16 returns n bf16 values uniform with standard deviation std.
func randomBF16(n int, std float32, seed uint64) *mx.Array {
	a := mx.Zeros(mx.BF16, n)
	u := a.Uint16View()
	half := std * float32(math.Sqrt(3)) // uniform on [-half, half]
	fill(n, seed, func(lo, hi int, x uint64) {
		for i := lo; i < hi; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			f := (float32(x>>40)/float32(1<<24)*2 - 1) * half
			u[i] = mx.F32ToBF16(f)
		}
	})
	return a
}

// quantized returns random MLX affine tensors (.weight, .scales, .biases)
// whose values are uniform on about ±std·√3.
func quantized(out, in int, std float32, spec config.QuantSpec, seed uint64) map[string]*mx.Array {
	words := out * in * spec.Bits / 32
	w := mx.Zeros(mx.U32, out, in*spec.Bits/32)
	ws := w.Uint32View()
	fill(words, seed, func(lo, hi int, x uint64) {
		for i := lo; i < hi; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			ws[i] = uint32(x >> 16)
		}
	})
	half := std * float32(math.Sqrt(3))
	levels := float32(int(1)<<spec.Bits - 1)
	groups := out * in / spec.GroupSize
	scales, biases := mx.Zeros(mx.BF16, out, in/spec.GroupSize), mx.Zeros(mx.BF16, out, in/spec.GroupSize)
	sv, bv := scales.Uint16View(), biases.Uint16View()
	sc, bi := mx.F32ToBF16(2*half/levels), mx.F32ToBF16(-half)
	for g := range groups {
		sv[g], bv[g] = sc, bi
	}
	return map[string]*mx.Array{".weight": w, ".scales": scales, ".biases": biases}
}

// Open builds an engine on a model directory from Dir with a tokenizer
// that has no vocabulary (benchmarks feed token ids). The returned close
// function releases the weights.
func Open(dir string, opts *llm.Options) (*llm.Engine, func() error, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, nil, err
	}
	e, err := llm.New(cfg, nil, st, IDTokenizer{Vocab: cfg.VocabSize}, nil, opts)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return e, st.Close, nil
}

// IDTokenizer is an llm.Tokenizer without a vocabulary: it encodes nothing,
// and token id n decodes to "<n>". Nothing is special and no token stops.
type IDTokenizer struct{ Vocab int }

func (t IDTokenizer) Encode(string) []int32          { return nil }
func (t IDTokenizer) TokenBytes(id int32) []byte     { return []byte("<" + strconv.Itoa(int(id)) + ">") }
func (t IDTokenizer) TokenID(string) (int32, bool)   { return 0, false }
func (t IDTokenizer) IsSpecial(int32) bool           { return false }
func (t IDTokenizer) EOS() (int32, bool)             { return 0, false }
func (t IDTokenizer) VocabSize() int                 { return t.Vocab }
func (t IDTokenizer) NewDecoder([]int32) llm.Decoder { return idDecoder{t} }

type idDecoder struct{ t IDTokenizer }

func (d idDecoder) Add(id int32) string { return string(d.t.TokenBytes(id)) }
func (d idDecoder) Flush() string       { return "" }

// MemoryBandwidth measures the streaming read bandwidth in bytes per second
// the way the mx benchmarks' roofline does: every core summing its share of
// a 512 MiB buffer, best of five passes.
func MemoryBandwidth() float64 {
	const size = 512 << 20
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	best := 0.0
	for range 5 {
		start := time.Now()
		sum(buf)
		if d := time.Since(start).Seconds(); d > 0 {
			best = max(best, float64(size)/d)
		}
	}
	return best
}

var sink uint64

func sum(buf []uint64) {
	n := runtime.GOMAXPROCS(0)
	sums := make([]uint64, n)
	var wg sync.WaitGroup
	chunk := (len(buf) + n - 1) / n
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := buf[min(i*chunk, len(buf)):min((i+1)*chunk, len(buf))]
			var s0, s1, s2, s3, s4, s5, s6, s7 uint64
			for j := 0; j+8 <= len(part); j += 8 {
				s0 += part[j]
				s1 += part[j+1]
				s2 += part[j+2]
				s3 += part[j+3]
				s4 += part[j+4]
				s5 += part[j+5]
				s6 += part[j+6]
				s7 += part[j+7]
			}
			sums[i] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
		}()
	}
	wg.Wait()
	for _, v := range sums {
		sink += v
	}
}
