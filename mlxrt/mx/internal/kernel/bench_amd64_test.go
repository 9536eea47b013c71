//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Single-thread kernel throughput: "small" fits in L2, "large" (128 MiB of
// packed weights or more) streams from DRAM. Reports elements/ns.
func BenchmarkKernelGemvQ(b *testing.B) {
	for _, pf := range []bool{false, true} {
		save := qgemvTable
		if !pf {
			qgemvTable = qgemvTableNoPF
		}
		b.Run(fmt.Sprint("prefetch=", pf), benchGemvQ)
		qgemvTable = save
	}
}

func benchGemvQ(b *testing.B) {
	for _, bits := range []int{4, 8} {
		for _, rows := range []int{1024, 1 << 18} {
			for _, nx := range []int{1, 4} {
				b.Run(fmt.Sprintf("Q%d/rows%d/nx%d", bits, rows, nx), func(b *testing.B) {
					const k = 1024
					g := k / 64
					w := make([]uint32, rows*k*bits/32)
					r := rand.New(rand.NewPCG(3, 4))
					for i := range w {
						w[i] = r.Uint32()
					}
					sb := rnd(5, 2*(rows*g+16))
					p := &QParams{K: k, GS: 64, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
					xs := make([]*QX, nx)
					for i := range xs {
						xs[i] = new(QX)
						xs[i].Prepare(rnd(uint64(10+i), k), bits)
					}
					qb := NewQBatch(xs)
					out := make([]float32, nx*rows)
					b.ResetTimer()
					for b.Loop() {
						for r0 := 0; r0 < rows; r0 += 32 {
							sub := *p
							sub.W, sub.S, sub.B = p.W[r0*k*bits/32:], p.S[r0*g:], p.B[r0*g:]
							GemvQ(&sub, out[r0:], rows, qb, 32)
						}
					}
					b.ReportMetric(float64(rows*k*nx)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
					b.ReportMetric(float64(rows*k*bits/8)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
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
