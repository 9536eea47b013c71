//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Single-thread kernel throughput: "small" fits in L2, "large" (128 MiB of
// packed weights or more) streams from DRAM. Reports elements/ns and GB/s
// of packed weights: GemvQ (the AVX2 kernel over MLX's layout, one scale
// per packed word) against GemvQV (VNNI over the repacked layout, one scale
// per 32-element block).
func BenchmarkKernelGemvQ(b *testing.B) {
	for _, bits := range []int{4, 8} {
		for _, rows := range []int{1024, 1 << 18} {
			for _, nx := range []int{1, 4, 8} {
				const k = 1024
				g := k / 64
				w := make([]uint32, rows*k*bits/32)
				r := rand.New(rand.NewPCG(3, 4))
				for i := range w {
					w[i] = r.Uint32()
				}
				sb := rnd(5, 2*(rows*g+16))
				p := &QParams{K: k, GS: 64, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
				xf := rnd(10, nx*k)
				xs := make([]*QX, nx)
				for i := range xs {
					xs[i] = new(QX)
					xs[i].Prepare(xf[i*k:(i+1)*k], bits)
				}
				qb := NewQBatch(xs)
				q := NewQVParams(p, rows)
				RepackQV(q, p, 0, rows)
				var vb QVBatch
				PrepareQV(&vb, xf, nx, k, q.KP)
				out := make([]float32, nx*rows)
				report := func(b *testing.B) {
					b.ReportMetric(float64(rows*k*nx)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
					b.ReportMetric(float64(rows*k*bits/8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				}
				name := fmt.Sprintf("Q%d/rows%d/nx%d", bits, rows, nx)
				if hasAVX2 {
					b.Run("GemvQ/"+name, func(b *testing.B) {
						for b.Loop() {
							for r0 := 0; r0 < rows; r0 += 32 {
								sub := *p
								sub.W, sub.S, sub.B = p.W[r0*k*bits/32:], p.S[r0*g:], p.B[r0*g:]
								GemvQ(&sub, out[r0:], rows, qb, 32)
							}
						}
						report(b)
					})
				}
				if useVNNI {
					b.Run("GemvQV/"+name, func(b *testing.B) {
						for b.Loop() {
							for r0 := 0; r0 < rows; r0 += 32 {
								sq, sp := *q, *p
								sq.W, sq.S, sq.B = q.W[r0*k*bits/32:], q.S[r0*g:], q.B[r0*g:]
								sp.W = p.W[r0*k*bits/32:]
								GemvQV(&sq, &sp, out[r0:], rows, &vb, 32)
							}
						}
						report(b)
					})
				}
			}
		}
	}
}

func BenchmarkKernelGemvBF16(b *testing.B) {
	for _, rows := range []int{512, 1 << 16} {
		for _, nx := range []int{1, 4} {
			b.Run(fmt.Sprintf("rows%d/nx%d", rows, nx), func(b *testing.B) {
				const k = 1024
				w := make([]uint16, rows*k)
				for i := range w {
					w[i] = FloatToBF16(float32(i%1000)/500 - 1) // normal numbers only
				}
				x := rnd(1, nx*k)
				out := make([]float32, nx*rows)
				b.ResetTimer()
				for b.Loop() {
					Gemv(WBF16, out, rows, x, nx, k, nil, w, rows)
				}
				b.ReportMetric(float64(rows*k*nx)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
				b.ReportMetric(float64(rows*k*2)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// minLoop runs f b.N times and reports the fastest run as "best-ms" and,
// from it, "GMAC/s" for macs multiply-adds per run: on a shared machine
// the fastest run is the one least disturbed by other processes.
func minLoop(b *testing.B, macs float64, f func()) {
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(float64(best.Nanoseconds())/1e6, "best-ms")
	b.ReportMetric(macs/float64(best.Nanoseconds()), "GMAC/s")
}

// BenchmarkKernelGEMM compares, on one thread, the unpacked f32 GEMM (dot
// tiles), the packed f32 GEMM and the packed bf16 one (VDPBF16PS) on a
// prefill-shaped slice: 512 activation rows against 256 weight rows.
func BenchmarkKernelGEMM(b *testing.B) {
	for _, k := range []int{1024, 3072} {
		const m, n = 512, 256
		a, w := rnd(1, m*k), rnd(2, n*k)
		a16, w16 := bf16s(a), bf16s(w)
		c := make([]float32, m*n)
		macs := float64(m * n * k)
		b.Run(fmt.Sprintf("f32dot/k%d", k), func(b *testing.B) {
			minLoop(b, macs, func() { sgemmNTDot(m, n, k, a, k, w, k, c, n) })
		})
		b.Run(fmt.Sprintf("f32packed/k%d", k), func(b *testing.B) {
			minLoop(b, macs, func() { SgemmNT(m, n, k, a, k, w, k, c, n) })
		})
		b.Run(fmt.Sprintf("bf16packed/k%d", k), func(b *testing.B) {
			minLoop(b, macs, func() { GemmBF16NT(m, n, k, a16, k, w16, k, c, n) })
		})
	}
}
