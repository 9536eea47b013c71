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
	out := make([]float64, hq*tq*d)
	scale := 1 / math.Sqrt(float64(d))
	for h := 0; h < hq; h++ {
		kh := h / (hq / hkv)
		for t := 0; t < tq; t++ {
			pos := kvLen - tq + t
			s := make([]float64, kvLen)
			mx := math.Inf(-1)
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
				mx = math.Max(mx, s[j])
			}
			if math.IsInf(mx, -1) {
				continue // nothing visible: zeros (mx.ScaledDotProductAttention's contract)
			}
			var sum float64
			for j := range s {
				s[j] = math.Exp(s[j] - mx)
				sum += s[j]
			}
			for j := range s {
				for e := 0; e < d; e++ {
					out[(h*tq+t)*d+e] += s[j] / sum * v[(kh*tk+j)*d+e]
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
	const d = 16
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			qv := randF32(1, c.hq*c.tq*d)
			k, kf := toDType(t, c.dt, randF32(2, c.hkv*c.tk*d), c.hkv, c.tk, d)
			v, vf := toDType(t, c.dt, randF32(3, c.hkv*c.tk*d), c.hkv, c.tk, d)
			got := mx.ScaledDotProductAttention(mx.FromFloat32(qv, c.hq, c.tq, d), k, v,
				mx.SDPAOptions{Causal: c.causal, KVLen: c.kvLen, Window: c.window})
			require.Equal(t, []int{c.hq, c.tq, d}, got.Shape())
			want := refSDPA(f64(qv), kf, vf, c.hq, c.tq, c.hkv, c.tk, d, c.kvLen, c.causal, c.window, nil)
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
