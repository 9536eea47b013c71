package mx_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// Float32 accumulation of k products of values in [-1, 1]: the error grows
// like sqrt(k)·2^-24 per term in practice; 1e-5·sqrt(k) leaves a wide margin
// while catching any indexing mistake (which errs by O(1)).
func linTol(k int) float64 { return 1e-5 * math.Sqrt(float64(k)) }

func TestLinearMatchesFloat64(t *testing.T) {
	for _, dt := range []mx.DType{mx.F32, mx.F16, mx.BF16} {
		for _, m := range []int{1, 2, 3, 4, 5, 8, 15, 16, 17, 40} {
			for _, nk := range [][2]int{{1, 1}, {7, 33}, {64, 128}, {130, 96}, {67, 520}} {
				n, k := nk[0], nk[1]
				t.Run(fmt.Sprintf("%v/m%d/n%d/k%d", dt, m, n, k), func(t *testing.T) {
					w, wv := toDType(t, dt, randF32(1, n*k), n, k)
					xv := randF32(2, m*k)
					bv := randF32(3, n)
					got := mx.Linear(mx.FromFloat32(xv, m, k), w, mx.FromFloat32(bv))
					require.Equal(t, []int{m, n}, got.Shape())
					want := refLinear(f64(xv), wv, m, n, k)
					for i := range want {
						want[i] += float64(bv[i%n])
					}
					assert.Less(t, maxErr(got.Float32s(), want), linTol(k))
				})
			}
		}
	}
}

func TestLinearKeepsLeadingDims(t *testing.T) {
	w := mx.FromFloat32(randF32(1, 6*4), 6, 4)
	x := mx.FromFloat32(randF32(2, 2*3*4), 2, 3, 4)
	got := mx.Linear(x, w, nil)
	assert.Equal(t, []int{2, 3, 6}, got.Shape())
	assert.PanicsWithValue(t, "mx: Linear: input F32[2 3 4], want last dimension 5",
		func() { mx.Linear(x, mx.Zeros(mx.F32, 6, 5), nil) })
}

func TestMatmul(t *testing.T) {
	a := mx.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := mx.FromFloat32([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	assert.Equal(t, []float32{4, 5, 10, 11}, mx.Matmul(a, b).Float32s())
}

func TestTake(t *testing.T) {
	for _, dt := range []mx.DType{mx.F32, mx.F16, mx.BF16} {
		table, tv := toDType(t, dt, randF32(4, 10*8), 10, 8)
		got := mx.Take(table, []int{3, 0, 9, 3})
		require.Equal(t, []int{4, 8}, got.Shape())
		g := got.Float32s()
		for i, id := range []int{3, 0, 9, 3} {
			for j := 0; j < 8; j++ {
				assert.Equal(t, float32(tv[id*8+j]), g[i*8+j])
			}
		}
		assert.Panics(t, func() { mx.Take(table, []int{10}) })
	}
}

// bf16Kernels reports whether the backend multiplies bfloat16 activations
// with VDPBF16PS (else BF16 inputs are widened and multiplied in float32,
// which gives the same products).
func bf16Kernels() bool { return strings.Contains(mx.ActiveBackend().Name(), "BF16") }

// TestLinearBF16Activations: BF16 x with BF16 weights is the product of the
// values they hold, accumulated in float32, for decode and prefill row
// counts alike.
func TestLinearBF16Activations(t *testing.T) {
	t.Logf("bf16 kernels: %v", bf16Kernels())
	for _, m := range []int{1, 5, 16, 17, 40, 70} {
		for _, nk := range [][2]int{{7, 33}, {64, 128}, {130, 96}, {67, 520}} {
			n, k := nk[0], nk[1]
			t.Run(fmt.Sprintf("m%d/n%d/k%d", m, n, k), func(t *testing.T) {
				w, wv := toDType(t, mx.BF16, randF32(1, n*k), n, k)
				x, xv := toDType(t, mx.BF16, randF32(2, m*k), m, k)
				bv := randF32(3, n)
				got := mx.Linear(x, w, mx.FromFloat32(bv))
				require.Equal(t, []int{m, n}, got.Shape())
				want := refLinear(xv, wv, m, n, k)
				for i := range want {
					want[i] += float64(bv[i%n])
				}
				assert.Less(t, maxErr(got.Float32s(), want), linTol(k))
			})
		}
	}
}

// TestLinearsMatchesLinear: the grouped pass gives exactly what one Linear
// per weight gives (same kernels, same summation order), for float32 and
// bfloat16 activations, decode and prefill row counts, with and without
// biases, and for weights whose row counts are not multiples of the
// pool's alignment.
func TestLinearsMatchesLinear(t *testing.T) {
	shapes := [][2]int{{130, 96}, {7, 96}, {64, 96}, {2048, 96}}
	for _, xdt := range []mx.DType{mx.F32, mx.BF16} {
		for _, wdt := range []mx.DType{mx.F32, mx.BF16} {
			for _, m := range []int{1, 3, 16} {
				t.Run(fmt.Sprintf("x%v/w%v/m%d", xdt, wdt, m), func(t *testing.T) {
					x, _ := toDType(t, xdt, randF32(2, m*96), m, 96)
					var ws, bs []*mx.Array
					for i, s := range shapes {
						w, _ := toDType(t, wdt, randF32(uint64(10+i), s[0]*s[1]), s[0], s[1])
						ws = append(ws, w)
						var b *mx.Array
						if i%2 == 0 {
							b = mx.FromFloat32(randF32(uint64(20+i), s[0]))
						}
						bs = append(bs, b)
					}
					for _, biases := range [][]*mx.Array{nil, bs} {
						got := mx.Linears(x, ws, biases)
						require.Len(t, got, len(ws))
						for i, w := range ws {
							var b *mx.Array
							if biases != nil {
								b = biases[i]
							}
							want := mx.Linear(x, w, b)
							require.Equal(t, want.Shape(), got[i].Shape())
							assert.Equal(t, want.Float32s(), got[i].Float32s(), "weight %d", i)
						}
					}
				})
			}
		}
	}
	assert.PanicsWithValue(t, "mx: Linears: 1 biases for 2 weights", func() {
		w := mx.Zeros(mx.F32, 4, 8)
		mx.Linears(mx.Zeros(mx.F32, 1, 8), []*mx.Array{w, w}, []*mx.Array{nil})
	})
	assert.PanicsWithValue(t, "mx: Linears: input F32[1 8], want last dimension 9", func() {
		mx.Linears(mx.Zeros(mx.F32, 1, 8), []*mx.Array{mx.Zeros(mx.F32, 4, 8), mx.Zeros(mx.F32, 4, 9)}, nil)
	})
}
