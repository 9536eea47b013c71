package llm_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
)

// This file converts float checkpoints to MLX affine quantization the way
// mlx_lm.convert does, expands them back independently of mx, and runs a
// reference forward pass that can round activations as the default mode's
// kernels do; golden_quant_test.go builds its checks on them.

// mlxAffine is an MLX affine quantization setting: bits-bit codes with a
// scale and a bias per group of group input elements.
type mlxAffine struct{ bits, group int }

func (q mlxAffine) String() string { return fmt.Sprintf("q%d-g%d", q.bits, q.group) }

// checkpoint is a model's tensors and parsed config.json.
type checkpoint struct {
	tensors map[string]*mx.Array
	config  map[string]any
}

// readCheckpoint opens the model in dir; the tensors stay mapped until the
// test ends.
func readCheckpoint(t *testing.T, dir string) checkpoint {
	t.Helper()
	st, err := safetensors.OpenModel(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	ck := checkpoint{tensors: map[string]*mx.Array{}}
	for _, n := range st.Names() {
		a, err := st.Array(n)
		require.NoError(t, err)
		ck.tensors[n] = a
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &ck.config))
	return ck
}

// parseConfig reads the config.json of the model in dir.
func parseConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	return cfg
}

// dtypeName is the name config.json gives dt.
func dtypeName(dt mx.DType) string {
	switch dt {
	case mx.F32:
		return "float32"
	case mx.F16:
		return "float16"
	case mx.BF16:
		return "bfloat16"
	}
	panic("no config name for " + dt.String())
}

// writeCheckpoint writes a model directory as mlx_lm.convert does and
// returns it: config.json (cfg with "dtype" and "torch_dtype" set to dt),
// safetensors files with metadata format "mlx", and
// model.safetensors.index.json. With shards > 1 the tensors are dealt out
// round-robin in name order, so a quantized module's weight, scales and
// biases land in different files.
func writeCheckpoint(t *testing.T, tensors map[string]*mx.Array, cfg map[string]any, dt mx.DType, shards int) string {
	t.Helper()
	dir := t.TempDir()
	c := maps.Clone(cfg)
	c["dtype"], c["torch_dtype"] = dtypeName(dt), dtypeName(dt)
	data, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))

	parts := make([]map[string]*mx.Array, shards)
	for s := range parts {
		parts[s] = map[string]*mx.Array{}
	}
	weightMap := map[string]string{}
	total := 0
	for i, n := range slices.Sorted(maps.Keys(tensors)) {
		parts[i%shards][n] = tensors[n]
		weightMap[n] = shardName(i%shards, shards)
		total += tensors[n].NBytes()
	}
	for s, part := range parts {
		require.NoError(t, safetensors.WriteFile(filepath.Join(dir, shardName(s, shards)), part, map[string]string{"format": "mlx"}))
	}
	index := map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}
	data, err = json.MarshalIndent(index, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), data, 0o644))
	return dir
}

func shardName(s, shards int) string {
	if shards == 1 {
		return safetensors.SingleFile
	}
	return fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, shards)
}

// castAll returns the checkpoint's tensors cast to dt, without an lm_head
// the config ties to the embeddings (MLX models drop it).
func (ck checkpoint) castAll(dt mx.DType) map[string]*mx.Array {
	tied, _ := ck.config["tie_word_embeddings"].(bool)
	out := map[string]*mx.Array{}
	for n, a := range ck.tensors {
		if !(tied && strings.HasPrefix(n, "lm_head.")) {
			out[n] = mx.AsType(a, dt)
		}
	}
	return out
}

// mlxConvert returns ck converted as
// `mlx_lm.convert --dtype dt -q --q-bits q.bits --q-group-size q.group`
// converts a float checkpoint: every tensor cast to dt, then every Linear
// and Embedding weight (the 2-D ".weight" tensors, lm_head included) whose
// input size is a multiple of the group size replaced by its MLX affine
// quantization (mx.Quantize, which follows mlx.core.quantize): a U32
// ".weight" with ".scales" and ".biases" in dt. Like mlx-lm's
// quantize_model it leaves weights whose input size the group size does
// not divide in float, as it does norms and the projections' bias vectors.
// quantized lists the modules quantized, in name order.
func (ck checkpoint) mlxConvert(t *testing.T, dt mx.DType, q mlxAffine) (tensors map[string]*mx.Array, cfg map[string]any, quantized []string) {
	t.Helper()
	tensors = ck.castAll(dt)
	for _, n := range slices.Sorted(maps.Keys(tensors)) {
		a := tensors[n]
		if !strings.HasSuffix(n, ".weight") || a.NDim() != 2 || a.Dim(1)%q.group != 0 {
			continue
		}
		qw, err := mx.Quantize(a, q.group, q.bits)
		require.NoError(t, err, n)
		module := strings.TrimSuffix(n, ".weight")
		tensors[n], tensors[module+".scales"], tensors[module+".biases"] = qw.W, qw.Scales, qw.Biases
		quantized = append(quantized, module)
	}
	cfg = maps.Clone(ck.config)
	spec := map[string]any{"group_size": q.group, "bits": q.bits, "mode": "affine"}
	cfg["quantization"], cfg["quantization_config"] = spec, spec
	return tensors, cfg, quantized
}

// dequantizeMLX expands an MLX affine quantized matrix to float32: element
// j of row r is code j of the row (bits-wide fields of its uint32 words,
// least significant first) times scales[r, j/group] plus
// biases[r, j/group]. It is written from the format's definition rather
// than with mx, so that the engine's reading of the layout is checked
// against an independent one.
func dequantizeMLX(w, scales, biases *mx.Array, bits, group int) []float32 {
	rows, words := w.Dim(0), w.Dim(1)
	in := words * 32 / bits
	codes, s, b := w.Uint32View(), scales.Float32s(), biases.Float32s()
	mask := uint32(1)<<bits - 1
	out := make([]float32, rows*in)
	for r := range rows {
		for j := range in {
			code := codes[r*words+j*bits/32] >> (j * bits % 32) & mask
			g := r*(in/group) + j/group
			// The explicit conversion rounds the product, so the compiler
			// cannot fuse it with the addition on any architecture.
			out[r*in+j] = float32(s[g]*float32(code)) + b[g]
		}
	}
	return out
}

// dequantized returns the tensors of the quantized checkpoint ck, whose
// setting is q, with every quantized module expanded by dequantizeMLX and
// every other tensor converted to float32: the float32 model whose
// arithmetic exact mode must reproduce. It also returns the names of the
// quantized modules.
func (ck checkpoint) dequantized(q mlxAffine) (map[string]*mx.Array, map[string]bool) {
	out, quantized := map[string]*mx.Array{}, map[string]bool{}
	for n, a := range ck.tensors {
		module, part := n, ""
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			module, part = n[:i], n[i+1:]
		}
		if ck.tensors[module+".scales"] == nil || part != "weight" && part != "scales" && part != "biases" {
			out[n] = mx.AsType(a, mx.F32)
			continue
		}
		if part == "scales" {
			w := ck.tensors[module+".weight"]
			out[module+".weight"] = mx.FromFloat32(dequantizeMLX(w, a, ck.tensors[module+".biases"], q.bits, q.group), w.Dim(0), w.Dim(1)*32/q.bits)
			quantized[module] = true
		}
	}
	return out, quantized
}

// rounding says how simulateForward rounds what the default mode rounds.
type rounding int

const (
	// noRounding is float32 throughout: exact mode's arithmetic.
	noRounding rounding = iota
	// actInt8 rounds the input rows of quantized projections to int8 per
	// block of 32 (scale max|x|/127, round half to even), as the decode
	// kernels do: the scheme the golden generator's act_int8_vs_ref
	// simulates.
	actInt8
	// decodeRounding rounds what default mode rounds when it decodes a
	// 16-bit or quantized checkpoint: the keys and values to bfloat16 (the
	// KV cache's type) and the projection inputs as actInt8 does. When the
	// first layer's attention output projection is float (here in the
	// group-128 checkpoints, which quantize only the down projections) the
	// engine does not treat the checkpoint as quantized and rounds every
	// projection input to bfloat16 first, as for a bfloat16 checkpoint.
	decodeRounding
)

// simulateForward runs one causal forward pass over ids through the model
// of config cfg with float32 weights w, rounding as r says (quantized names
// the modules whose inputs are rounded to int8), and returns the logits
// [len(ids), vocab]. It follows the transformers definition of the Qwen,
// Llama and Mistral decoders and uses mx's primitive operations only, not
// the engine's model code.
func simulateForward(cfg *config.Config, w map[string]*mx.Array, quantized map[string]bool, ids []int32, r rounding) []float32 {
	t := len(ids)
	bf16 := r == decodeRounding && !quantized["model.layers.0.self_attn.o_proj"]
	lin := func(module string, x *mx.Array) *mx.Array {
		if bf16 {
			x = mx.AsType(mx.AsType(x, mx.BF16), mx.F32)
		}
		if r != noRounding && quantized[module] {
			x = roundInt8(x)
		}
		return mx.Linear(x, w[module+".weight"], w[module+".bias"])
	}
	tokens := make([]int, t)
	for i, id := range ids {
		tokens[i] = int(id)
	}
	eps := float32(cfg.RMSNormEps)
	a := cfg.RoPE.AttentionFactor
	rope := mx.RoPEOptions{Dims: cfg.RoPE.Dim, Traditional: cfg.RoPE.Interleaved, InvFreq: cfg.RoPE.InvFreq(t)}
	h := mx.Take(w["model.embed_tokens.weight"], tokens)
	for l := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		x := mx.RMSNorm(h, w[p+"input_layernorm.weight"], eps)
		q := lin(p+"self_attn.q_proj", x).Reshape(t, cfg.NumHeads, cfg.HeadDim)
		k := lin(p+"self_attn.k_proj", x).Reshape(t, cfg.NumKVHeads, cfg.HeadDim)
		v := lin(p+"self_attn.v_proj", x).Reshape(t, cfg.NumKVHeads, cfg.HeadDim)
		if cfg.QKNorm {
			q = mx.RMSNorm(q, w[p+"self_attn.q_norm.weight"], eps)
			k = mx.RMSNorm(k, w[p+"self_attn.k_norm.weight"], eps)
		}
		q, k = mx.RoPE(q, rope), mx.RoPE(k, rope)
		kh, vh := mx.Transpose(k, 1, 0, 2), mx.Transpose(v, 1, 0, 2)
		if r == decodeRounding {
			kh, vh = mx.AsType(kh, mx.BF16), mx.AsType(vh, mx.BF16)
		}
		opts := mx.SDPAOptions{Scale: float32(a * a / math.Sqrt(float64(cfg.HeadDim))), Causal: true}
		if cfg.SlidingLayers[l] {
			opts.Window = cfg.SlidingWindow
		}
		o := mx.ScaledDotProductAttention(mx.Transpose(q, 1, 0, 2), kh, vh, opts)
		o = mx.Transpose(o, 1, 0, 2).Reshape(t, cfg.NumHeads*cfg.HeadDim)
		h = mx.Add(h, lin(p+"self_attn.o_proj", o))
		x = mx.RMSNorm(h, w[p+"post_attention_layernorm.weight"], eps)
		h = mx.Add(h, lin(p+"mlp.down_proj", mx.SwiGLU(lin(p+"mlp.gate_proj", x), lin(p+"mlp.up_proj", x))))
	}
	head := "lm_head"
	if cfg.TieWordEmbeddings {
		head = "model.embed_tokens"
	}
	return lin(head, mx.RMSNorm(h, w["model.norm.weight"], eps)).Float32s()
}

// roundInt8 returns x (rows a multiple of 32 long) with every block of 32
// rounded to int8 with scale max|x|/127, round half to even, as float32.
func roundInt8(x *mx.Array) *mx.Array {
	v := slices.Clone(x.Float32s())
	for b := 0; b < len(v); b += 32 {
		blk := v[b : b+32]
		var hi float32
		for _, e := range blk {
			hi = max(hi, float32(math.Abs(float64(e))))
		}
		if hi == 0 {
			continue
		}
		inv, scale := 127/hi, hi/127
		for i, e := range blk {
			blk[i] = float32(math.RoundToEven(float64(e*inv))) * scale
		}
	}
	return mx.FromFloat32(v, x.Shape()...)
}

// rmsDiff returns the root mean square of a-b.
func rmsDiff(a, b []float32) float64 {
	sum := 0.0
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(a)))
}
