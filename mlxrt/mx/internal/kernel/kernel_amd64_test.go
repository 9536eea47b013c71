//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// isaTables returns the gemv tables this CPU can run, by name.
func isaTables() map[string]struct {
	lanes int
	t     [3][4]gemvFn
} {
	m := map[string]struct {
		lanes int
		t     [3][4]gemvFn
	}{}
	if hasAVX2 {
		m["avx2"] = struct {
			lanes int
			t     [3][4]gemvFn
		}{8, [3][4]gemvFn{
			{gemvF32x1AVX2, gemvF32x2AVX2, gemvF32x3AVX2, gemvF32x4AVX2},
			{gemvF16x1AVX2, gemvF16x2AVX2, gemvF16x3AVX2, gemvF16x4AVX2},
			{gemvBF16x1AVX2, gemvBF16x2AVX2, gemvBF16x3AVX2, gemvBF16x4AVX2},
		}}
	}
	if hasAVX512 {
		m["avx512"] = struct {
			lanes int
			t     [3][4]gemvFn
		}{16, [3][4]gemvFn{
			{gemvF32x1AVX512, gemvF32x2AVX512, gemvF32x3AVX512, gemvF32x4AVX512},
			{gemvF16x1AVX512, gemvF16x2AVX512, gemvF16x3AVX512, gemvF16x4AVX512},
			{gemvBF16x1AVX512, gemvBF16x2AVX512, gemvBF16x3AVX512, gemvBF16x4AVX512},
		}}
	}
	return m
}

func TestGemvAssemblyMatchesGo(t *testing.T) {
	saveT, saveL := gemvTable, gemvLanes
	defer func() { gemvTable, gemvLanes = saveT, saveL }()
	for name, isa := range isaTables() {
		gemvTable, gemvLanes = isa.t, isa.lanes
		for _, kind := range []WKind{WF32, WF16, WBF16} {
			for _, k := range []int{8, 16, 24, 40, 64, 100, 1024} {
				for _, nx := range []int{1, 2, 3, 4, 5, 8, 9} {
					t.Run(fmt.Sprintf("%s/%d/k%d/nx%d", name, kind, k, nx), func(t *testing.T) {
						rows := 37
						x := rnd(1, nx*k)
						w32 := rnd(2, rows*k)
						w16 := make([]uint16, rows*k)
						for i, v := range w32 {
							if kind == WF16 {
								w16[i] = FloatToHalf(v)
							} else {
								w16[i] = FloatToBF16(v)
							}
						}
						ldo := rows + 3
						got := make([]float32, nx*ldo)
						want := make([]float32, nx*ldo)
						Gemv(kind, got, ldo, x, nx, k, w32, w16, rows)
						gemvGo(kind, want, ldo, x, nx, k, w32, w16, rows)
						for i := range want {
							if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Sqrt(float64(k)) {
								t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}

func TestGemvQAssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	testGemvQ(t)
}

func testGemvQ(t *testing.T) {
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			for _, k := range []int{128, 256, 384, 416} {
				for _, nx := range []int{1, 2, 3, 4, 5, 9} {
					if k%gs != 0 {
						continue
					}
					t.Run(fmt.Sprintf("b%d/g%d/k%d/nx%d", bits, gs, k, nx), func(t *testing.T) {
						rows := 21
						g := k / gs
						w := make([]uint32, rows*k*bits/32)
						r := rand.New(rand.NewPCG(3, 4))
						for i := range w {
							w[i] = r.Uint32()
						}
						sb := rnd(5, 2*(rows*g+16))
						p := &QParams{K: k, GS: gs, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
						xs := make([]*QX, nx)
						for i := range xs {
							xs[i] = new(QX)
							xs[i].Prepare(rnd(uint64(10+i), k), bits)
						}
						ldo := rows + 2
						got := make([]float32, nx*ldo)
						want := make([]float32, nx*ldo)
						GemvQ(p, got, ldo, NewQBatch(xs), rows)
						gemvQGo(p, want, ldo, &QBatch{Rows: xs}, rows)
						// Same integers, different float summation order:
						// allow float32 rounding relative to the largest output.
						var scale float64
						for _, w := range want {
							scale = math.Max(scale, math.Abs(float64(w)))
						}
						for i := range want {
							if math.Abs(float64(got[i]-want[i])) > 1e-4+2e-6*scale {
								t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}

func TestAxpyRowsMatchesGo(t *testing.T) {
	for _, kind := range []WKind{WF32, WF16, WBF16} {
		for _, d := range []int{8, 16, 64, 80, 128, 200} {
			for _, np := range []int{1, 2, 3, 4, 6} {
				t.Run(fmt.Sprint(kind, d, np), func(t *testing.T) {
					rows, ldp := 13, 15
					p := rnd(1, np*ldp)
					w32 := rnd(2, rows*d)
					w16 := make([]uint16, len(w32))
					for i, v := range w32 {
						if kind == WF16 {
							w16[i] = FloatToHalf(v)
						} else {
							w16[i] = FloatToBF16(v)
						}
					}
					got, want := rnd(3, np*d), rnd(3, np*d)
					AxpyRows(kind, got, d, p, ldp, np, w32, w16, rows)
					axpyRowsGo(kind, want, d, p, ldp, np, w32, w16, rows)
					for i := range want {
						if math.Abs(float64(got[i]-want[i])) > 1e-5 {
							t.Fatalf("acc[%d] = %v, want %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

func TestConvertMatchesGo(t *testing.T) {
	for _, n := range []int{0, 5, 16, 33, 100, 1000} {
		src := make([]uint16, n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range src {
			src[i] = uint16(r.Uint32())
		}
		for _, f16 := range []bool{false, true} {
			got, want := make([]float32, n), make([]float32, n)
			if f16 {
				F16ToF32(got, src)
				f16ToF32Go(want, src)
			} else {
				BF16ToF32(got, src)
				bf16ToF32Go(want, src)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("n=%d f16=%v [%d]: %v, want %v (src %#04x)", n, f16, i, got[i], want[i], src[i])
				}
			}
		}
	}
}

func TestDequantRowsMatchesGo(t *testing.T) {
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			rows, k := 5, 256
			g := k / gs
			w := make([]uint32, rows*k*bits/32)
			r := rand.New(rand.NewPCG(3, 4))
			for i := range w {
				w[i] = r.Uint32()
			}
			sb := rnd(5, 2*(rows*g+16))
			p := &QParams{K: k, GS: gs, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
			got := make([]float32, 3*k)
			DequantRows(p, 1, 4, got)
			for rr := 1; rr < 4; rr++ {
				want := make([]float32, k)
				DequantRow(p, rr, want)
				for e := range want {
					if math.Abs(float64(got[(rr-1)*k+e]-want[e])) > 1e-6*(1+math.Abs(float64(want[e]))) {
						t.Fatalf("bits %d gs %d row %d [%d]: %v want %v", bits, gs, rr, e, got[(rr-1)*k+e], want[e])
					}
				}
			}
		}
	}
}

func TestSoftmaxKernels(t *testing.T) {
	for _, n := range []int{1, 7, 16, 17, 40, 1000} {
		x := rnd(uint64(n), n)
		for i := range x {
			x[i] *= 30
		}
		x[n/2] = float32(math.Inf(-1))
		if got, want := MaxF32(x), maxF32Go(x); got != want {
			t.Fatalf("n=%d max %v want %v", n, got, want)
		}
		a, b := append([]float32(nil), x...), append([]float32(nil), x...)
		sa, sb := ExpShiftSum(a, 5), expShiftSumGo(b, 5)
		if math.Abs(float64(sa-sb)) > 1e-6*float64(sb) {
			t.Fatalf("n=%d sum %v want %v", n, sa, sb)
		}
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 2.5e-7*float64(b[i]) {
				t.Fatalf("n=%d [%d] exp(%v) = %v want %v", n, i, x[i]-5, a[i], b[i])
			}
		}
		if a[n/2] != 0 {
			t.Fatalf("exp(-Inf) = %v", a[n/2])
		}
	}
}

func TestStreamSum(t *testing.T) {
	for _, n := range []int{0, 5, 32, 100, 4096} {
		buf := make([]uint64, n)
		for i := range buf {
			buf[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
		}
		if got, want := StreamSum(buf), streamSumGo(buf); got != want {
			t.Fatalf("n=%d: %d, want %d", n, got, want)
		}
	}
}

func TestPackTransposeMatchesGather(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512")
	}
	for _, n := range []int{16, 37, 64, 200} {
		ld := 4*n + 12
		src := make([]byte, 64*ld)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		got, want := make([]uint32, n*tileN), make([]uint32, n*tileN)
		packB(got, unsafe.Pointer(&src[0]), ld, n, tileN)
		usePackT = false
		packB(want, unsafe.Pointer(&src[0]), ld, n, tileN)
		usePackT = true
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: panel[%d] (step %d row %d) = %#x, want %#x", n, i, i/tileN, i%tileN, got[i], want[i])
			}
		}
	}
}

func TestQuantizeQVMatchesGo(t *testing.T) {
	for _, k := range []int{32, 416, 512, 1536} {
		for _, n := range []int{1, 3} {
			kp := (k + SuperElems - 1) / SuperElems * SuperElems
			x := rnd(uint64(k), n*k)
			for i := 0; i < 32; i++ {
				x[i] = 0 // an all-zero block
			}
			x[len(x)-1] = 300
			var got, want QVBatch
			got.Reset(n, k, kp)
			want.Reset(n, k, kp)
			quantizeQV(&got, x, 0, n)
			quantizeQVGo(&want, x, 0, n)
			for i := range want.Packed {
				if got.Packed[i] != want.Packed[i] {
					t.Fatalf("k=%d n=%d: byte %d = %#x, want %#x", k, n, i, got.Packed[i], want.Packed[i])
				}
			}
		}
	}
}
