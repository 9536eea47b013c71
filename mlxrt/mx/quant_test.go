package mx_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// refQuantize is a float64-free transcription of mlx.core.quantize (affine)
// for one group, used to check Quantize element by element.
func refQuantizeGroup(g []float32, bits int) (q []uint32, scale, bias float32) {
	nBins := float32(int(1)<<bits - 1)
	lo, hi := g[0], g[0]
	for _, v := range g {
		lo, hi = min(lo, v), max(hi, v)
	}
	scale = max((hi-lo)/nBins, 1e-7)
	edge := hi
	if float32(math.Abs(float64(lo))) > float32(math.Abs(float64(hi))) {
		edge = lo
	} else {
		scale = -scale
	}
	q0 := float32(math.RoundToEven(float64(edge / scale)))
	if q0 != 0 {
		scale, bias = edge/q0, edge
	}
	for _, v := range g {
		x := float32(math.RoundToEven(float64((v - bias) / scale)))
		q = append(q, uint32(min(max(x, 0), nBins)))
	}
	return q, scale, bias
}

func TestQuantizeMatchesMLXScheme(t *testing.T) {
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			t.Run(fmt.Sprintf("b%d/g%d", bits, gs), func(t *testing.T) {
				n, k := 5, 256
				v := randF32(9, n*k)
				v[3] = 0 // exercise a group with q0 handling near zero
				qw, err := mx.Quantize(mx.FromFloat32(v, n, k), gs, bits)
				require.NoError(t, err)
				assert.Equal(t, []int{n, k * bits / 32}, qw.W.Shape())
				assert.Equal(t, []int{n, k / gs}, qw.Scales.Shape())
				words := qw.W.Uint32View()
				sc, bi := qw.Scales.Float32s(), qw.Biases.Float32s()
				epw := 32 / bits
				for g := 0; g < n*k/gs; g++ {
					q, s, b := refQuantizeGroup(v[g*gs:(g+1)*gs], bits)
					require.Equal(t, s, sc[g])
					require.Equal(t, b, bi[g])
					for j, want := range q {
						e := g*gs + j
						got := words[e/epw] >> (uint(e%epw) * uint(bits)) & (1<<bits - 1)
						require.Equal(t, want, got, "group %d element %d", g, j)
					}
				}
				// Dequantize reproduces w within half a step, plus up to one
				// step of clipping at the far edge: MLX snaps the scale so
				// that the larger-magnitude edge is exact (|q0| ≥ nBins/2),
				// which moves the other edge by at most one step.
				deq := mx.Dequantize(qw).Float32s()
				for i := range v {
					step := math.Abs(float64(sc[i/gs]))
					assert.InDelta(t, v[i], deq[i], 1.5*step+1e-6)
				}
			})
		}
	}
}

func TestQuantizeBF16KeepsDType(t *testing.T) {
	w := mx.AsType(mx.FromFloat32(randF32(1, 4*64), 4, 64), mx.BF16)
	qw, err := mx.Quantize(w, 64, 4)
	require.NoError(t, err)
	assert.Equal(t, mx.BF16, qw.Scales.DType())
	assert.Equal(t, mx.BF16, qw.Biases.DType())
	_, err = mx.Quantize(w, 48, 4)
	assert.Error(t, err)
	_, err = mx.Quantize(w, 64, 3)
	assert.Error(t, err)
}

func TestNewQuantizedWeightChecksShapes(t *testing.T) {
	w := mx.Zeros(mx.U32, 8, 16) // 8 x 128 at 4 bits
	s := mx.Zeros(mx.BF16, 8, 2)
	_, err := mx.NewQuantizedWeight(w, s, s, 64, 4)
	require.NoError(t, err)
	_, err = mx.NewQuantizedWeight(w, s, s, 32, 4)
	assert.ErrorContains(t, err, "do not fit")
	_, err = mx.NewQuantizedWeight(w, s, s, 64, 2)
	assert.ErrorContains(t, err, "bits")
	_, err = mx.NewQuantizedWeight(mx.Zeros(mx.F32, 8, 16), s, s, 64, 4)
	assert.ErrorContains(t, err, "U32")
	_, err = mx.NewQuantizedWeight(w, mx.Zeros(mx.I32, 8, 2), s, 64, 4)
	assert.ErrorContains(t, err, "dtype")
	_, err = mx.NewQuantizedWeight(w, nil, s, 64, 4)
	assert.Error(t, err)
}

// roundActivations returns x rounded the way QuantizedLinear rounds decode
// activations: per block of 32 elements to int8 with scale max|x_blk|/127,
// round half to even, as float64 values XS·q.
func roundActivations(x []float32) []float64 {
	const epw = 32
	out := make([]float64, len(x))
	for b0 := 0; b0+epw <= len(x); b0 += epw {
		var m float32
		for _, v := range x[b0 : b0+epw] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		if m == 0 {
			continue
		}
		s, inv := m/127, 127/m
		for j, v := range x[b0 : b0+epw] {
			out[b0+j] = float64(s) * math.RoundToEven(float64(v*inv))
		}
	}
	return out
}

// quantBound is the documented worst case of QuantizedLinear's decode path
// against the exact product with the dequantized weight: each element of
// x is rounded by at most max|x_blk|/254 for its block of 32 elements,
// times |w|; plus float32 rounding.
func quantBound(x []float32, w []float32, k int) float64 {
	const epw = 32
	var b float64
	for blk := 0; blk < k/epw; blk++ {
		var mxv float64
		for _, v := range x[blk*epw : (blk+1)*epw] {
			mxv = math.Max(mxv, math.Abs(float64(v)))
		}
		for _, wv := range w[blk*epw : (blk+1)*epw] {
			b += math.Abs(float64(wv)) * mxv / 254
		}
	}
	return b*1.0001 + linTol(k)
}

// TestQuantizedLinearWithinActivationQuantizationBound checks the decode
// path (fewer than 16 rows) two ways: within the documented bound, and —
// tighter — equal to the exact product of the dequantized weight with the
// rounded activations x̂ up to float32 rounding (both the scale and the bias
// term of each group use x̂, so the only error is Σw(x̂−x)).
func TestQuantizedLinearWithinActivationQuantizationBound(t *testing.T) {
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			for _, m := range []int{1, 3, 4, 9, 15} {
				for _, k := range []int{128, 384, 416} {
					if k%gs != 0 {
						continue
					}
					t.Run(fmt.Sprintf("b%d/g%d/m%d/k%d", bits, gs, m, k), func(t *testing.T) {
						n := 70
						qw, err := mx.Quantize(mx.AsType(mx.FromFloat32(randF32(5, n*k), n, k), mx.BF16), gs, bits)
						require.NoError(t, err)
						deq := mx.Dequantize(qw).Float32s()
						xv := randF32(6, m*k)
						xv[0] = 40 // an outlier only hurts its own block
						bv := randF32(7, n)
						got := mx.QuantizedLinear(mx.FromFloat32(xv, m, k), qw, mx.FromFloat32(bv)).Float32s()
						want := refLinear(f64(xv), f64(deq), m, n, k)
						var xh []float64
						for i := 0; i < m; i++ {
							xh = append(xh, roundActivations(xv[i*k:(i+1)*k])...)
						}
						wantHat := refLinear(xh, f64(deq), m, n, k)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								g := float64(got[i*n+j]) - float64(bv[j])
								bound := quantBound(xv[i*k:(i+1)*k], deq[j*k:(j+1)*k], k)
								require.LessOrEqual(t, math.Abs(g-want[i*n+j]), bound, "row %d col %d", i, j)
								require.InDelta(t, wantHat[i*n+j], g, 40*linTol(k), "row %d col %d: not the product with x̂", i, j)
							}
						}
					})
				}
			}
		}
	}
}

// TestQuantizedLinearPrefill checks the prefill path (16 rows or more):
// with the bfloat16 kernels it is the product of the bfloat16-rounded
// dequantized weights and activations accumulated in float32; without them
// the exact float32 product.
func TestQuantizedLinearPrefill(t *testing.T) {
	lowp := bf16Kernels()
	round := func(v []float32) []float64 {
		if !lowp {
			return f64(v)
		}
		held := mx.AsType(mx.FromFloat32(v), mx.BF16).Float32s()
		return f64(held)
	}
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			for _, m := range []int{16, 20, 33} {
				for _, k := range []int{128, 384, 416} {
					if k%gs != 0 {
						continue
					}
					t.Run(fmt.Sprintf("b%d/g%d/m%d/k%d", bits, gs, m, k), func(t *testing.T) {
						n := 70
						qw, err := mx.Quantize(mx.AsType(mx.FromFloat32(randF32(5, n*k), n, k), mx.BF16), gs, bits)
						require.NoError(t, err)
						deq := mx.Dequantize(qw).Float32s()
						xv := randF32(6, m*k)
						xv[0] = 40
						bv := randF32(7, n)
						for _, x := range []*mx.Array{mx.FromFloat32(xv, m, k), mx.AsType(mx.FromFloat32(xv, m, k), mx.BF16)} {
							want := refLinear(round(x.Float32s()), round(deq), m, n, k)
							got := mx.QuantizedLinear(x, qw, mx.FromFloat32(bv)).Float32s()
							for i := 0; i < m; i++ {
								for j := 0; j < n; j++ {
									require.InDelta(t, want[i*n+j]+float64(bv[j]), got[i*n+j], 40*linTol(k), "%v row %d col %d", x.DType(), i, j)
								}
							}
						}
					})
				}
			}
		}
	}
}

func TestTakeQuantized(t *testing.T) {
	qw, err := mx.Quantize(mx.FromFloat32(randF32(8, 20*64), 20, 64), 32, 4)
	require.NoError(t, err)
	deq := mx.Dequantize(qw).Float32s()
	got := mx.TakeQuantized(qw, []int{19, 2}).Float32s()
	assert.Equal(t, deq[19*64:20*64], got[:64])
	assert.Equal(t, deq[2*64:3*64], got[64:])
	assert.Panics(t, func() { mx.TakeQuantized(qw, []int{20}) })
}
