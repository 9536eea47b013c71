package mx_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// refSDPA computes attention in float64 over the first kvLen positions.
func refSDPA(q, k, v []float64, hq, tq, hkv, tk, d, kvLen int, causal bool, window int, mask []float64) []float64 {
	return refSDPAP(q, k, v, hq, tq, hkv, tk, d, kvLen, causal, window, mask, false)
}

// refSDPAP is refSDPA; with roundP the unnormalised probabilities
// exp(s-max) are rounded to float32 and then bfloat16 before they weight
// the values (the sum stays exact), as decode attention over a BF16 cache
// does.
func refSDPAP(q, k, v []float64, hq, tq, hkv, tk, d, kvLen int, causal bool, window int, mask []float64, roundP bool) []float64 {
	out := make([]float64, hq*tq*d)
	scale := 1 / math.Sqrt(float64(d))
	for h := 0; h < hq; h++ {
		kh := h / (hq / hkv)
		for t := 0; t < tq; t++ {
			pos := kvLen - tq + t
			s := make([]float64, kvLen)
			top := math.Inf(-1)
			for j := 0; j < kvLen; j++ {
				if (causal && j > pos) || (window > 0 && pos-j >= window) {
					s[j] = math.Inf(-1)
					continue
				}
				var dot float64
				for e := 0; e < d; e++ {
					dot += q[(h*tq+t)*d+e] * k[(kh*tk+j)*d+e]
				}
				s[j] = dot * scale
				if mask != nil {
					s[j] += mask[t*kvLen+j]
				}
				top = math.Max(top, s[j])
			}
			if math.IsInf(top, -1) {
				continue // nothing visible: zeros (mx.ScaledDotProductAttention's contract)
			}
			var sum float64
			for j := range s {
				s[j] = math.Exp(s[j] - top)
				sum += s[j]
			}
			for j := range s {
				p := s[j]
				if roundP {
					p = float64(mx.BF16ToF32(mx.F32ToBF16(float32(p))))
				}
				for e := 0; e < d; e++ {
					out[(h*tq+t)*d+e] += p / sum * v[(kh*tk+j)*d+e]
				}
			}
		}
	}
	return out
}

func TestScaledDotProductAttention(t *testing.T) {
	type tc struct {
		hq, hkv, tq, tk, kvLen, window int
		causal                         bool
		dt                             mx.DType
	}
	cases := []tc{
		{4, 4, 5, 5, 5, 0, true, mx.F32},   // prefill, MHA
		{8, 2, 5, 9, 9, 0, true, mx.F32},   // chunked prefill after 4 cached, GQA
		{8, 2, 1, 16, 7, 0, true, mx.BF16}, // decode into a bf16 cache of capacity 16
		{4, 1, 3, 12, 12, 4, true, mx.F16}, // sliding window
		{2, 2, 3, 6, 6, 0, false, mx.F32},  // bidirectional
		{6, 3, 4, 20, 10, 3, true, mx.F32}, // window + capacity
	}
	for _, d := range []int{16, 128} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("d%d/%+v", d, c), func(t *testing.T) {
				qv := randF32(1, c.hq*c.tq*d)
				k, kf := toDType(t, c.dt, randF32(2, c.hkv*c.tk*d), c.hkv, c.tk, d)
				v, vf := toDType(t, c.dt, randF32(3, c.hkv*c.tk*d), c.hkv, c.tk, d)
				got := mx.ScaledDotProductAttention(mx.FromFloat32(qv, c.hq, c.tq, d), k, v,
					mx.SDPAOptions{Causal: c.causal, KVLen: c.kvLen, Window: c.window})
				require.Equal(t, []int{c.hq, c.tq, d}, got.Shape())
				want := refSDPAP(sdpaQueries(qv, c.dt, c.tq, d), kf, vf, c.hq, c.tq, c.hkv, c.tk, d, c.kvLen, c.causal, c.window, nil,
					roundsProbs(c.dt, c.tq))
				assert.Less(t, maxErr(got.Float32s(), want), 2e-6)
			})
		}
	}
}

// sdpaQueries returns the queries attention multiplies: with a BF16 cache
// and the bf16 kernels, each scaled query q/√d is rounded to bfloat16.
func sdpaQueries(q []float32, cache mx.DType, tq, d int) []float64 {
	if !roundsProbs(cache, tq) {
		return f64(q)
	}
	scale := float32(1 / math.Sqrt(float64(d)))
	out := make([]float64, len(q))
	for i, v := range q {
		r := mx.BF16ToF32(mx.F32ToBF16(v * scale))
		out[i] = float64(r) / float64(scale)
	}
	return out
}

// roundsProbs reports whether attention rounds its queries and
// probabilities to bfloat16: a BF16 cache and the bf16 kernels.
func roundsProbs(cache mx.DType, tq int) bool {
	return cache == mx.BF16 && bf16Kernels()
}

// TestAttentionLongCache: decode and chunked prefill over a bfloat16 cache
// of Qwen3-0.6B's head shape, long enough for whole 16-key blocks and a
// tail (decode) and for several 64-query blocks (prefill).
func TestAttentionLongCache(t *testing.T) {
	const hq, hkv, tk, d = 4, 2, 200, 128
	for _, c := range []struct{ tq, kvLen int }{{1, 101}, {40, 101}, {150, 190}} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			qv := randF32(1, hq*c.tq*d)
			k, kf := toDType(t, mx.BF16, randF32(2, hkv*tk*d), hkv, tk, d)
			v, vf := toDType(t, mx.BF16, randF32(3, hkv*tk*d), hkv, tk, d)
			got := mx.ScaledDotProductAttention(mx.FromFloat32(qv, hq, c.tq, d), k, v, mx.SDPAOptions{Causal: true, KVLen: c.kvLen})
			want := refSDPAP(sdpaQueries(qv, mx.BF16, c.tq, d), kf, vf, hq, c.tq, hkv, tk, d, c.kvLen, true, 0, nil, roundsProbs(mx.BF16, c.tq))
			assert.Less(t, maxErr(got.Float32s(), want), 2e-6)
		})
	}
}

func TestScaledDotProductAttentionMask(t *testing.T) {
	for _, tq := range []int{3, 20} {
		testMask(t, tq)
	}
}

func testMask(t *testing.T, tq int) {
	const h, tk, d = 2, 24, 8
	mask := make([]float32, tq*tk)
	mask[1] = float32(math.Inf(-1))
	mask[5] = -1.5
	for j := range tk {
		mask[(tq-1)*tk+j] = float32(math.Inf(-1)) // a fully hidden row
	}
	qv, kv, vv := randF32(4, h*tq*d), randF32(5, h*tk*d), randF32(6, h*tk*d)
	got := mx.ScaledDotProductAttention(mx.FromFloat32(qv, h, tq, d), mx.FromFloat32(kv, h, tk, d),
		mx.FromFloat32(vv, h, tk, d), mx.SDPAOptions{Mask: mx.FromFloat32(mask, tq, tk)})
	want := refSDPA(f64(qv), f64(kv), f64(vv), h, tq, h, tk, d, tk, false, 0, f64(mask))
	assert.Less(t, maxErr(got.Float32s(), want), 2e-6)
}
