package llm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
	"github.com/ominix/ominix-api/pipeline"
)

// f16Copy writes gm's checkpoint with every tensor rounded to float16 (and
// config.json saying so, as a float16 export does) into a temporary
// directory and returns the golden model pointed at it.
func f16Copy(t *testing.T, gm goldenModel) goldenModel {
	t.Helper()
	st, err := safetensors.OpenModel(gm.dir)
	require.NoError(t, err)
	defer st.Close()
	tensors := map[string]*mx.Array{}
	for _, n := range st.Names() {
		a, err := st.Array(n)
		require.NoError(t, err)
		require.Equal(t, mx.F32, a.DType(), n)
		tensors[n] = mx.AsType(a, mx.F16)
	}
	dir := t.TempDir()
	require.NoError(t, safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFile), tensors, map[string]string{"format": "pt"}))

	data, err := os.ReadFile(filepath.Join(gm.dir, "config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(data, &cfg))
	// transformers 5 writes "dtype", earlier versions "torch_dtype"; the
	// engine reads neither (the tensors carry their dtype), so both are
	// set to what a float16 export would say.
	cfg["dtype"], cfg["torch_dtype"] = "float16", "float16"
	data, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))

	gm.dir = dir
	return gm
}

// TestGoldenF16 runs a float16 checkpoint: qwen3-f32's weights rounded to
// float16.
//
// Exact mode (float32 arithmetic on the float16 weights) differs from
// transformers' float32 logits only by the weight rounding. To first order
// the logits move linearly with the relative weight perturbation, and the
// golden data measures that for bfloat16: qwen3-bf16 is the same model with
// its weights rounded to bfloat16, computed in float32. Float16 keeps 3
// more mantissa bits than bfloat16 (unit roundoff 2⁻¹¹ against 2⁻⁸), so its
// effect is about an eighth of the measured bfloat16 one; the tolerance
// allows twice that, since the maximum over a different rounding pattern
// varies. (Weights small enough to be float16 subnormals round with an
// absolute error of at most 2⁻²⁵, far below the typical weight's.)
//
// Default mode (bfloat16 KV cache and bfloat16 activations, as for every
// 16-bit checkpoint) must stay within the bfloat16 budget of exact mode on
// the same weights, prefilling and decoding; both must predict the
// reference continuation wherever the lead of the best token leaves room
// for their error.
func TestGoldenF16(t *testing.T) {
	ref := goldenByName(t, "qwen3-f32")
	bf := goldenByName(t, "qwen3-bf16")
	require.Equal(t, ref.g.PromptIDs, bf.g.PromptIDs)
	bf16Effect, _ := maxAbsDiff(bf.logits, ref.logits)
	f16Tol := 2*bf16Effect/8 + ref.g.Tolerance.LogitsAtol
	defTol := 2 * bf.g.Spread.BF16
	require.Positive(t, bf16Effect)
	require.Positive(t, defTol)

	gm := f16Copy(t, ref)
	exact := gm.open(t, modes[0], llm.Options{})
	def := gm.open(t, modes[1], llm.Options{})
	v := gm.g.Logits.Shape[1]

	exactPrefill, err := exact.Logits(gm.g.PromptIDs)
	require.NoError(t, err)
	worst, at := maxAbsDiff(exactPrefill, gm.logits)
	t.Logf("exact f16 vs transformers f32: max |Δlogit| = %.3g at position %d (tolerance %.3g: bf16 weights moved them %.3g)",
		worst, at/v, f16Tol, bf16Effect)
	assert.LessOrEqual(t, worst, f16Tol, "position %d token %d", at/v, at%v)
	assert.Greater(t, worst, ref.g.Tolerance.LogitsAtol, "the weights were rounded")

	defPrefill, err := def.Logits(gm.g.PromptIDs)
	require.NoError(t, err)
	worst, at = maxAbsDiff(defPrefill, exactPrefill)
	t.Logf("default vs exact f16, prefill: max |Δlogit| = %.3g at position %d (tolerance %.3g)", worst, at/v, defTol)
	assert.LessOrEqual(t, worst, defTol, "position %d token %d", at/v, at%v)

	p, want := len(gm.g.PromptIDs), gm.g.GreedyIDs
	ids := append(append([]int32(nil), gm.g.PromptIDs...), want[:len(want)-1]...)
	refDecode, err := ref.open(t, modes[0], llm.Options{}).DecodeLogits(ids, p)
	require.NoError(t, err)
	exactDecode, err := exact.DecodeLogits(ids, p)
	require.NoError(t, err)
	defDecode, err := def.DecodeLogits(ids, p)
	require.NoError(t, err)
	worst, at = maxAbsDiff(exactDecode, refDecode)
	t.Logf("exact f16 vs f32, decode: max |Δlogit| = %.3g at position %d (tolerance %.3g)", worst, at/v, f16Tol)
	assert.LessOrEqual(t, worst, f16Tol, "position %d token %d", at/v, at%v)
	worst, at = maxAbsDiff(defDecode, exactDecode)
	t.Logf("default vs exact f16, decode: max |Δlogit| = %.3g at position %d (tolerance %.3g)", worst, at/v, defTol)
	assert.LessOrEqual(t, worst, defTol, "position %d token %d", at/v, at%v)

	// Row p-1+i predicts want[i]; the float32 model's lead says how close
	// each choice is.
	var exactChecked, defChecked int
	for i, w := range want {
		r := (p - 1 + i) * v
		_, lead := top2(refDecode[r : r+v])
		if lead > 2*f16Tol {
			exactChecked++
			got, _ := top2(exactDecode[r : r+v])
			assert.Equal(t, w, got, "exact f16, step %d (f32 lead %.3g)", i, lead)
		}
		if lead > 2*(f16Tol+defTol) {
			defChecked++
			got, _ := top2(defDecode[r : r+v])
			assert.Equal(t, w, got, "default f16, step %d (f32 lead %.3g)", i, lead)
		}
	}
	t.Logf("greedy tokens checked: exact f16 %d of %d, default f16 %d of %d", exactChecked, len(want), defChecked, len(want))
	assert.GreaterOrEqual(t, exactChecked, len(want)*3/4)
	assert.GreaterOrEqual(t, defChecked, len(want)/4)

	// A 16-bit checkpoint gets a 16-bit KV cache by default: 2 layers ×
	// (k, v) × 2 KV heads × 32 dims × 2 bytes per position, in chunks of
	// 256 positions.
	s, err := def.NewSequence(gm.g.PromptIDs, llm.SequenceOptions{})
	require.NoError(t, err)
	out := make([]pipeline.TokenOutput, 1)
	require.NoError(t, def.Step([]pipeline.Sequence{s}, out))
	require.NoError(t, out[0].Err)
	assert.Equal(t, int64(2*2*2*32*2*256), def.CacheBytes())
	s.Release()
}
