package llm_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/llm/sample"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/mlxrt/safetensors"
	"github.com/ominix/ominix-api/pipeline"
)

const goldenRoot = "../testdata/models"

// golden is the part of golden.json the tests read.
type golden struct {
	Name         string  `json:"name"`
	Family       string  `json:"family"`
	Weights      string  `json:"weights"`
	PromptIDs    []int32 `json:"prompt_ids"`
	GreedyIDs    []int32 `json:"greedy_ids"`
	GreedyMargin float64 `json:"greedy_min_margin"`
	Logits       struct {
		Shape []int `json:"shape"`
	} `json:"logits"`
	Batch []struct {
		PromptIDs []int32 `json:"prompt_ids"`
		GreedyIDs []int32 `json:"greedy_ids"`
		MinMargin float64 `json:"min_margin"`
	} `json:"batch"`
	Rope struct {
		InvFreq          []float32 `json:"inv_freq"`
		AttentionScaling float64   `json:"attention_scaling"`
	} `json:"rope"`
	Spread struct {
		ActInt8 float64 `json:"act_int8_vs_ref"`
		BF16    float64 `json:"bf16_compute_vs_ref"`
	} `json:"spread"`
	Tolerance struct {
		LogitsAtol float64 `json:"logits_atol"`
	} `json:"tolerance"`
}

type goldenModel struct {
	dir    string
	g      golden
	logits []float32 // [P, V]
}

// goldenModels lists the golden models of the families this package runs.
func goldenModels(t *testing.T) []goldenModel {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(goldenRoot, "*", "golden.json"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs, "golden data missing under %s", goldenRoot)
	var out []goldenModel
	for _, p := range dirs {
		var gm goldenModel
		gm.dir = filepath.Dir(p)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &gm.g))
		if !supportedFamily(gm.g.Family) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(gm.dir, "logits.f32"))
		require.NoError(t, err)
		gm.logits = make([]float32, len(raw)/4)
		for i := range gm.logits {
			gm.logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		require.Equal(t, gm.g.Logits.Shape[0]*gm.g.Logits.Shape[1], len(gm.logits))
		out = append(out, gm)
	}
	return out
}

func supportedFamily(f string) bool {
	for _, s := range config.Families {
		if string(s) == f {
			return true
		}
	}
	return false
}

// quantized reports whether the model's weights are MLX-quantized.
func (gm *goldenModel) quantized() bool { return gm.g.Weights == "mlx-affine" }

// mode is an engine configuration the golden data is checked under.
type mode struct {
	name string
	// exact runs float32 arithmetic throughout (F32 KV cache, quantized
	// weights expanded to float32), which must match transformers' float32
	// reference to the generator's tolerance.
	exact bool
}

var modes = []mode{{"exact", true}, {"default", false}}

// atol is the logits tolerance of a mode.
//
// exact: the generator's (1e-4 float, 2e-4 quantized: float32 rounding).
//
// default, bf16 weights: the KV cache is bf16 (as transformers and MLX keep
// it for bf16 models); the budget is twice the generator's measured spread
// of transformers' own bf16-compute run.
//
// default, quantized: prefill chunks multiply bfloat16-rounded activations
// with bfloat16-rounded dequantized weights (measured ≤ 0.22 on these
// models, below spread.bf16_compute_vs_ref); decode rows round activations
// to int8 per block of 32 and use the rounded values in both the scale and
// the bias term, so the error is Σw(x̂−x): the scheme the generator
// simulated (act_int8_vs_ref). TestGoldenDecodeLogits measures it through
// the decode path (the prompt fed one token at a time) at 0.35 (q4-g32),
// 0.40 (q4-g128) and 0.43 (q8-g64) with the AVX-512 kernels, 0.29–0.41
// with the portable ones (0.60–0.92 before the bias term used x̂). The
// budget is 1.5 times that spread (it was 3 times).
func (gm *goldenModel) atol(m mode) float64 {
	switch {
	case m.exact || gm.g.Weights == "float32":
		return gm.g.Tolerance.LogitsAtol
	case gm.quantized():
		return 1.5 * gm.g.Spread.ActInt8
	}
	return 2 * gm.g.Spread.BF16
}

// open builds an engine on the golden model's files with a tokenizer-free
// stub (the ids come from golden.json).
func (gm *goldenModel) open(t *testing.T, m mode, opts llm.Options) *llm.Engine {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(gm.dir, "config.json"))
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	st, err := safetensors.OpenModel(gm.dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	if m.exact {
		opts.CacheDType, opts.Dequantize = mx.F32, true
	}
	e, err := llm.New(cfg, nil, st, idTokenizer{vocab: cfg.VocabSize, eos: -1}, nil, &opts)
	require.NoError(t, err)
	return e
}

func TestGoldenRoPE(t *testing.T) {
	for _, gm := range goldenModels(t) {
		t.Run(gm.g.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(gm.dir, "config.json"))
			require.NoError(t, err)
			cfg, err := config.Parse(data)
			require.NoError(t, err)
			assert.Equal(t, gm.g.Rope.InvFreq, cfg.RoPE.InvFreq(len(gm.g.PromptIDs)), "bit-exact inverse frequencies")
			assert.Equal(t, gm.g.Rope.AttentionScaling, cfg.RoPE.AttentionFactor)
		})
	}
}

func TestGoldenLogits(t *testing.T) {
	for _, gm := range goldenModels(t) {
		for _, m := range modes {
			t.Run(gm.g.Name+"/"+m.name, func(t *testing.T) {
				e := gm.open(t, m, llm.Options{})
				got, err := e.Logits(gm.g.PromptIDs)
				require.NoError(t, err)
				require.Len(t, got, len(gm.logits))
				v := gm.g.Logits.Shape[1]
				worst, at := 0.0, 0
				for i := range got {
					if d := math.Abs(float64(got[i] - gm.logits[i])); d > worst {
						worst, at = d, i
					}
				}
				t.Logf("max |Δlogit| = %.3g at position %d (tolerance %.3g)", worst, at/v, gm.atol(m))
				assert.LessOrEqual(t, worst, gm.atol(m), "position %d token %d", at/v, at%v)
			})
		}
	}
}

// greedy decodes n tokens after prompt through Step (prefill chunks of the
// engine's size) and returns them with the top-1/top-2 margin of each step.
func greedy(t *testing.T, e *llm.Engine, prompt []int32, n int) ([]int32, []float64) {
	t.Helper()
	s, err := e.NewSequence(prompt, llm.SequenceOptions{IgnoreEOS: true, Sampling: logprobParams()})
	require.NoError(t, err)
	defer s.Release()
	var toks []int32
	var margins []float64
	out := make([]pipeline.TokenOutput, 1)
	for len(toks) < n {
		require.NoError(t, e.Step([]pipeline.Sequence{s}, out))
		require.NoError(t, out[0].Err)
		if out[0].Sampled {
			toks = append(toks, int32(out[0].Token))
			margins = append(margins, margin(out[0].Logprobs))
		}
	}
	return toks, margins
}

// logprobParams is greedy decoding that reports the two best candidates,
// so tests can see each step's margin.
func logprobParams() sample.Params { return sample.Params{Logprobs: true, TopLogprobs: 2} }

func margin(lp *pipeline.TokenLogprobs) float64 {
	if lp == nil || len(lp.Top) < 2 {
		return math.Inf(1)
	}
	return lp.Top[0].Logprob - lp.Top[1].Logprob
}

// agreeSteps is how many leading steps of got must equal want: all of them
// when the mode's tolerance is below the reference's smallest margin; else
// the steps before the first whose margin is within the tolerance (where
// the rounding of the fast kernels may flip the choice).
func (gm *goldenModel) agreeSteps(m mode, margins []float64) int {
	for i, mg := range margins {
		if mg <= 2*gm.atol(m) {
			return i
		}
	}
	return len(margins)
}

func TestGoldenGreedy(t *testing.T) {
	for _, gm := range goldenModels(t) {
		for _, m := range modes {
			for _, chunk := range []int{0, 7} {
				t.Run(gm.g.Name+"/"+m.name+"/chunk"+strconv.Itoa(chunk), func(t *testing.T) {
					e := gm.open(t, m, llm.Options{PrefillChunk: chunk})
					got, margins := greedy(t, e, gm.g.PromptIDs, len(gm.g.GreedyIDs))
					n := gm.agreeSteps(m, margins)
					same := 0
					for same < len(got) && got[same] == gm.g.GreedyIDs[same] {
						same++
					}
					t.Logf("greedy: first %d of %d tokens equal the reference (%d required: margins above twice the tolerance)", same, len(got), n)
					if m.exact {
						require.Equal(t, len(got), n, "exact arithmetic must follow every step")
					}
					assert.Equal(t, gm.g.GreedyIDs[:n], got[:n])
					assert.Zero(t, e.CacheBytes(), "released")
				})
			}
		}
	}
}

// TestGoldenBatch decodes the three batch prompts together: the second
// joins two steps after the first, the third five steps after, each leaves
// when it has its tokens; every sequence must produce exactly what it
// produces alone.
func TestGoldenBatch(t *testing.T) {
	for _, gm := range goldenModels(t) {
		m := modes[0]
		t.Run(gm.g.Name, func(t *testing.T) {
			e := gm.open(t, m, llm.Options{PrefillChunk: 8})
			type run struct {
				s       *llm.Sequence
				join    int
				want    []int32
				got     []int32
				margins []float64
			}
			var runs []*run
			for i, b := range gm.g.Batch {
				s, err := e.NewSequence(b.PromptIDs, llm.SequenceOptions{IgnoreEOS: true, Sampling: logprobParams()})
				require.NoError(t, err)
				runs = append(runs, &run{s: s, join: []int{0, 2, 5}[i], want: b.GreedyIDs})
			}
			for step := 0; ; step++ {
				var batch []pipeline.Sequence
				var active []*run
				for _, r := range runs {
					if step >= r.join && len(r.got) < len(r.want) {
						batch, active = append(batch, r.s), append(active, r)
					} else if len(r.got) == len(r.want) {
						r.s.Release()
					}
				}
				if len(batch) == 0 {
					break
				}
				out := make([]pipeline.TokenOutput, len(batch))
				require.NoError(t, e.Step(batch, out))
				for i, r := range active {
					require.NoError(t, out[i].Err)
					if out[i].Sampled {
						r.got = append(r.got, int32(out[i].Token))
						r.margins = append(r.margins, margin(out[i].Logprobs))
					}
				}
			}
			for i, r := range runs {
				n := gm.agreeSteps(m, r.margins)
				require.Equal(t, len(r.got), n, "sequence %d: a reference margin is below the tolerance", i)
				assert.Equal(t, r.want, r.got, "sequence %d", i)
			}
			assert.Zero(t, e.CacheBytes())
		})
	}
}

// maxAbsDiff returns the largest |got[i]-want[i]| and its index.
func maxAbsDiff(got, want []float32) (float64, int) {
	worst, at := 0.0, 0
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// top2 returns the index of the largest value of row and its lead over
// the second largest.
func top2(row []float32) (int32, float64) {
	best, second := 0, -1
	for i := 1; i < len(row); i++ {
		switch {
		case row[i] > row[best]:
			best, second = i, best
		case second < 0 || row[i] > row[second]:
			second = i
		}
	}
	return int32(best), float64(row[best] - row[second])
}

// TestGoldenDecodeLogits feeds the prompt one token at a time, as Step
// decodes, and checks the logits at every position against transformers'.
// In default mode this is the path the server decodes with: a bfloat16 KV
// cache and, for quantized models, activations rounded to int8 by the
// one-row kernels (TestGoldenLogits prefills all rows at once, which takes
// the GEMM path instead).
func TestGoldenDecodeLogits(t *testing.T) {
	for _, gm := range goldenModels(t) {
		for _, m := range modes {
			t.Run(gm.g.Name+"/"+m.name, func(t *testing.T) {
				e := gm.open(t, m, llm.Options{})
				got, err := e.DecodeLogits(gm.g.PromptIDs, len(gm.g.PromptIDs))
				require.NoError(t, err)
				require.Len(t, got, len(gm.logits))
				assert.Zero(t, e.CacheBytes(), "released")
				v := gm.g.Logits.Shape[1]
				worst, at := maxAbsDiff(got, gm.logits)
				t.Logf("token by token: max |Δlogit| = %.3g at position %d (tolerance %.3g)", worst, at/v, gm.atol(m))
				assert.LessOrEqual(t, worst, gm.atol(m), "position %d token %d", at/v, at%v)
			})
		}
	}
}

// TestGoldenDecodeContinuation teacher-forces the prompt and the reference
// greedy continuation one token at a time in both modes. Exact mode, which
// matches transformers, must predict every reference token. Default mode
// must stay within its tolerance of exact mode at every position that
// predicts a continuation token, and must pick the reference token wherever
// exact mode's lead of the best token over the second exceeds twice the
// tolerance (so rounding cannot flip it). Unlike free-running greedy
// decoding, teacher forcing keeps checking after a flip at a close call.
func TestGoldenDecodeContinuation(t *testing.T) {
	for _, gm := range goldenModels(t) {
		t.Run(gm.g.Name, func(t *testing.T) {
			p, want := len(gm.g.PromptIDs), gm.g.GreedyIDs
			ids := append(append([]int32(nil), gm.g.PromptIDs...), want[:len(want)-1]...)
			exact, err := gm.open(t, modes[0], llm.Options{}).DecodeLogits(ids, p)
			require.NoError(t, err)
			def, err := gm.open(t, modes[1], llm.Options{}).DecodeLogits(ids, p)
			require.NoError(t, err)
			v, tol := gm.g.Logits.Shape[1], gm.atol(modes[1])
			// Row p-1+i predicts want[i].
			from := (p - 1) * v
			worst, at := maxAbsDiff(def[from:], exact[from:])
			t.Logf("continuation: max |Δlogit| default vs exact = %.3g at step %d (tolerance %.3g)", worst, at/v, tol)
			assert.LessOrEqual(t, worst, tol, "step %d token %d", at/v, at%v)
			checked := 0
			for i, w := range want {
				r := (p - 1 + i) * v
				top, lead := top2(exact[r : r+v])
				require.Equal(t, w, top, "exact mode, step %d", i)
				if lead <= 2*tol {
					continue
				}
				checked++
				got, _ := top2(def[r : r+v])
				assert.Equal(t, w, got, "default mode, step %d (exact lead %.3g)", i, lead)
			}
			t.Logf("default argmax checked at %d of %d steps (exact lead above %.3g)", checked, len(want), 2*tol)
			assert.GreaterOrEqual(t, checked, len(want)/4, "too few steps leave room for the default mode's error")
		})
	}
}

// TestGoldenLogprobs checks the reported log probabilities of the first
// generated token against transformers: in exact mode the token's logprob
// and its top_logprobs must be log_softmax of the last row of the
// reference logits (computed here in float64), to the mode's tolerance,
// and the alternatives must be the 20 most likely tokens, best first.
func TestGoldenLogprobs(t *testing.T) {
	for _, gm := range goldenModels(t) {
		t.Run(gm.g.Name, func(t *testing.T) {
			m := modes[0]
			e := gm.open(t, m, llm.Options{})
			params := sample.Params{Logprobs: true, TopLogprobs: sample.MaxTopLogprobs}
			s, err := e.NewSequence(gm.g.PromptIDs, llm.SequenceOptions{IgnoreEOS: true, Sampling: params})
			require.NoError(t, err)
			defer s.Release()
			out := make([]pipeline.TokenOutput, 1)
			for !out[0].Sampled {
				require.NoError(t, e.Step([]pipeline.Sequence{s}, out))
				require.NoError(t, out[0].Err)
			}
			lp := out[0].Logprobs
			require.NotNil(t, lp)
			require.Len(t, lp.Top, sample.MaxTopLogprobs)

			v, p := gm.g.Logits.Shape[1], len(gm.g.PromptIDs)
			want := logSoftmax(gm.logits[(p-1)*v : p*v])
			tol := gm.atol(m)
			first := gm.g.GreedyIDs[0]
			require.Equal(t, first, int32(out[0].Token))
			assert.Equal(t, idToken(first), lp.Token)
			assert.InDelta(t, want[first], lp.Logprob, tol, "logprob of the sampled token")

			ranked := make([]float64, len(want))
			copy(ranked, want)
			slices.SortFunc(ranked, func(a, b float64) int { return cmpFloat(b, a) })
			worst := 0.0
			for i, c := range lp.Top {
				id, err := strconv.Atoi(strings.Trim(c.Token, "<>"))
				require.NoError(t, err, c.Token)
				worst = max(worst, math.Abs(c.Logprob-want[id]))
				assert.InDelta(t, want[id], c.Logprob, tol, "top %d (token %d)", i, id)
				// Rank i holds the i-th most likely token, up to ties
				// within the tolerance.
				assert.InDelta(t, ranked[i], want[id], 2*tol, "top %d (token %d)", i, id)
				if i > 0 {
					assert.LessOrEqual(t, c.Logprob, lp.Top[i-1].Logprob, "best first")
				}
			}
			t.Logf("max |Δlogprob| over the top %d = %.3g (tolerance %.3g)", len(lp.Top), worst, tol)
		})
	}
}

// logSoftmax returns log_softmax of row in float64.
func logSoftmax(row []float32) []float64 {
	hi := math.Inf(-1)
	for _, x := range row {
		hi = max(hi, float64(x))
	}
	sum := 0.0
	for _, x := range row {
		sum += math.Exp(float64(x) - hi)
	}
	lse := hi + math.Log(sum)
	out := make([]float64, len(row))
	for i, x := range row {
		out[i] = float64(x) - lse
	}
	return out
}

// idToken is the text idTokenizer gives token id.
func idToken(id int32) string { return "<" + strconv.Itoa(int(id)) + ">" }
