package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmShapes cover full and partial 6-row tiles and 64-column panels, odd
// k, and the narrow problems that take the unpacked paths.
var gemmShapes = [][3]int{
	{4, 6, 16}, {17, 13, 40}, {64, 64, 256}, {70, 130, 1030}, {3, 5, 7}, {9, 7, 8},
	{6, 64, 2}, {7, 65, 33}, {12, 128, 128}, {13, 200, 96}, {40, 16, 1}, {31, 100, 3},
}

func TestSgemmMatchesGo(t *testing.T) {
	defer func(kc int) { gemmKC = kc }(gemmKC)
	gemmKC = 16 // several k blocks per panel
	for _, mnk := range gemmShapes {
		m, n, k := mnk[0], mnk[1], mnk[2]
		t.Run(fmt.Sprint(m, n, k), func(t *testing.T) {
			lda, ldb, ldc := k+3, k+1, n+1
			a, b := rnd(1, m*lda), rnd(2, n*ldb)
			got := make([]float32, m*ldc)
			for i := range got {
				got[i] = 99 // SgemmNT overwrites
			}
			want := make([]float32, m*ldc)
			SgemmNT(m, n, k, a, lda, b, ldb, got, ldc)
			sgemmNTGo(m, n, k, a, lda, b, ldb, want, ldc)
			checkGemm(t, got, want, m, n, ldc, 1e-5*math.Sqrt(float64(k)))
		})
	}
}

func TestGemmBF16MatchesGo(t *testing.T) {
	defer func(kc int) { gemmKC = kc }(gemmKC)
	gemmKC = 16
	for _, useAsm := range []bool{true, false} {
		save := useBF16
		useBF16 = useBF16 && useAsm
		for _, mnk := range gemmShapes {
			m, n, k := mnk[0], mnk[1], mnk[2]
			t.Run(fmt.Sprint(useBF16, m, n, k), func(t *testing.T) {
				lda, ldb, ldc := k+1, k+2, n+3
				a, b := bf16s(rnd(1, m*lda)), bf16s(rnd(2, n*ldb))
				got := make([]float32, m*ldc)
				for i := range got {
					got[i] = 99
				}
				want := make([]float32, m*ldc)
				GemmBF16NT(m, n, k, a, lda, b, ldb, got, ldc)
				gemmBF16NTGo(m, n, k, a, lda, b, ldb, want, ldc)
				checkGemm(t, got, want, m, n, ldc, 1e-5*math.Sqrt(float64(k)))
			})
		}
		useBF16 = save
	}
}

func checkGemm(t *testing.T, got, want []float32, m, n, ldc int, tol float64) {
	t.Helper()
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := got[i*ldc+j], want[i*ldc+j]
			if math.Abs(float64(g-w)) > tol {
				t.Fatalf("c[%d,%d] = %v, want %v", i, j, g, w)
			}
		}
	}
}

func TestRoundBF16BitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	src := make([]float32, 4099)
	for i := range src {
		src[i] = math.Float32frombits(r.Uint32())
	}
	// Ties, denormals, infinities, NaNs, overflow to infinity.
	special := []uint32{0x3f808000, 0x3f818000, 0x00000001, 0x80008000, 0x7f800000, 0xff800000,
		0x7fc00001, 0xffbfffff, 0x7f7fffff, 0x7f7f8000, 0, 0x80000000}
	for i, b := range special {
		src[i] = math.Float32frombits(b)
	}
	for _, n := range []int{0, 15, 16, 17, 4099} {
		got := make([]uint16, n)
		RoundBF16(got, src)
		for i := range got {
			if want := FloatToBF16(src[i]); got[i] != want {
				t.Fatalf("n=%d [%d] %#08x: %#04x, want %#04x", n, i, math.Float32bits(src[i]), got[i], want)
			}
		}
	}
}

func TestDequantRowsBF16MatchesGo(t *testing.T) {
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
			got := make([]uint16, 3*k)
			DequantRowsBF16(p, 1, 4, got)
			want := make([]uint16, 3*k)
			dequantRowsBF16Go(p, 1, 4, want)
			for i := range want {
				// Same float32 value rounded the same way; the vector FMA
				// may differ from scale·q+bias by one float32 ulp, which
				// can move a bfloat16 tie.
				if d := math.Abs(float64(bf16(got[i]) - bf16(want[i]))); d > 1e-2*math.Abs(float64(bf16(want[i])))+1e-30 {
					t.Fatalf("bits %d gs %d [%d]: %v want %v", bits, gs, i, bf16(got[i]), bf16(want[i]))
				}
			}
		}
	}
}

func TestSwiGLU(t *testing.T) {
	for _, n := range []int{0, 5, 16, 37, 1000} {
		g, u := rnd(uint64(n), n), rnd(uint64(n+1), n)
		for i := range g {
			g[i] *= 20
		}
		if n > 5 {
			g[0], g[1], g[2], g[3] = 95, -95, 200, -200 // saturating exp
		}
		got, want := make([]float32, n), make([]float32, n)
		SwiGLU(got, g, u)
		swiGLUGo(want, g, u)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Abs(float64(want[i]))+1e-30 {
				t.Fatalf("n=%d [%d] silu(%v)·%v = %v, want %v", n, i, g[i], u[i], got[i], want[i])
			}
		}
	}
}

func TestGemvQVMatchesGo(t *testing.T) {
	for _, bits := range []int{4, 8} {
		for _, gs := range []int{32, 64, 128} {
			for _, k := range []int{416, 512, 640, 1536} {
				for _, nx := range []int{1, 2, 3, 5, 8, 9, 12} {
					if k%gs != 0 {
						continue
					}
					t.Run(fmt.Sprintf("b%d/g%d/k%d/nx%d", bits, gs, k, nx), func(t *testing.T) {
						rows := 37
						g := k / gs
						w := make([]uint32, rows*k*bits/32)
						r := rand.New(rand.NewPCG(3, 4))
						for i := range w {
							w[i] = r.Uint32()
						}
						sb := rnd(5, 2*(rows*g+16))
						p := &QParams{K: k, GS: gs, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
						q := NewQVParams(p, rows)
						RepackQV(q, p, 0, rows)
						x := rnd(9, nx*k)
						x[3] = 30
						var qb QVBatch
						PrepareQV(&qb, x, nx, k, q.KP)
						ldo := rows + 2
						got := make([]float32, nx*ldo)
						want := make([]float32, nx*ldo)
						// Two calls over a split of the rows, as callers do.
						GemvQV(q, p, got, ldo, &qb, 20)
						sq, sp := *q, *p
						sq.W, sq.S, sq.B = q.W[20*q.WordsPerRow():], q.S[20*g:], q.B[20*g:]
						sp.W, sp.S, sp.B = p.W[20*p.WordsPerRow():], p.S[20*g:], p.B[20*g:]
						GemvQV(&sq, &sp, got[20:], ldo, &qb, rows-20)
						gemvQVGo(p, want, ldo, &qb, rows)
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

func TestGemvBF16MatchesGo(t *testing.T) {
	for _, k := range []int{8, 64, 100, 128, 1024, 1100} {
		for _, nx := range []int{1, 2, 3, 4, 5, 9} {
			t.Run(fmt.Sprintf("k%d/nx%d", k, nx), func(t *testing.T) {
				rows := 37
				x, w := bf16s(rnd(1, nx*k)), bf16s(rnd(2, rows*k))
				ldo := rows + 3
				got, want := make([]float32, nx*ldo), make([]float32, nx*ldo)
				GemvBF16(got, ldo, x, nx, k, w, rows)
				gemvBF16Go(want, ldo, x, nx, k, w, rows)
				for i := range want {
					if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Sqrt(float64(k)) {
						t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

func TestAttnScoresBF16MatchesGo(t *testing.T) {
	for _, d := range []int{32, 64, 128, 72} {
		for _, n := range []int{1, 15, 16, 17, 64, 100} {
			for _, g := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("d%d/n%d/g%d", d, n, g), func(t *testing.T) {
					q, k := bf16s(rnd(1, g*d)), bf16s(rnd(2, n*d))
					lds := n + 5
					got, want := make([]float32, g*lds), make([]float32, g*lds)
					AttnScoresBF16(got, lds, q, g, k, n, d)
					for h := 0; h < g; h++ {
						gemvBF16Go(want[h*lds:], 1, q[h*d:(h+1)*d], 1, d, k, n)
					}
					for i := range want {
						if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Sqrt(float64(d)) {
							t.Fatalf("s[%d] = %v, want %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

func TestAttnValuesBF16MatchesGo(t *testing.T) {
	for _, d := range []int{64, 128, 96} {
		for _, n := range []int{1, 2, 7, 16, 33} {
			for _, g := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("d%d/n%d/g%d", d, n, g), func(t *testing.T) {
					ldp := n + n%2 + 2
					p, v := bf16s(rnd(1, g*ldp)), bf16s(rnd(2, n*d))
					lda := d + 16
					got, want := rnd(3, g*lda), rnd(3, g*lda)
					AttnValuesBF16(got, lda, p, ldp, g, v, n, d)
					attnValuesBF16Go(want, lda, p, ldp, g, v, n, d)
					for h := 0; h < g; h++ {
						for e := 0; e < d; e++ {
							i := h*lda + e
							if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Sqrt(float64(n)) {
								t.Fatalf("acc[%d][%d] = %v, want %v", h, e, got[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}

func TestRMSRow(t *testing.T) {
	for _, n := range []int{1, 16, 37, 1024} {
		x, w := rnd(uint64(n), n), rnd(uint64(n+1), n)
		for _, ww := range [][]float32{w, nil} {
			got := make([]float32, n)
			RMSRow(got, x, ww, 1e-6)
			ss := sumSquaresGo(x)
			s := float32(1 / math.Sqrt(ss/float64(n)+1e-6))
			for j := range got {
				want := x[j] * s
				if ww != nil {
					want *= ww[j]
				}
				if math.Abs(float64(got[j]-want)) > 1e-6*math.Abs(float64(want))+1e-30 {
					t.Fatalf("n=%d [%d] = %v, want %v", n, j, got[j], want)
				}
			}
		}
	}
}
