package mx

import (
	"testing"
	"time"
	"unsafe"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

func BenchmarkXPoolEmpty(b *testing.B) {
	var s [64]int
	for b.Loop() {
		parallelFor(1024, 64, 16, func(lo, hi int) { s[lo/64]++ })
	}
}

func BenchmarkXStream(b *testing.B) {
	buf := make([]uint64, 512<<20/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	b.Run("1thread", func(b *testing.B) {
		best := time.Hour
		for b.Loop() {
			t0 := time.Now()
			kernel.StreamSum(buf)
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(float64(len(buf)*8)/best.Seconds()/1e9, "GB/s")
	})
	b.Run("2thread-halves", func(b *testing.B) {
		best := time.Hour
		for b.Loop() {
			t0 := time.Now()
			parallelFor(len(buf), len(buf)/2, 1024, func(lo, hi int) { kernel.StreamSum(buf[lo:hi]) })
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(float64(len(buf)*8)/best.Seconds()/1e9, "GB/s")
	})
	b.Run("2thread-pool", func(b *testing.B) {
		best := time.Hour
		for b.Loop() {
			t0 := time.Now()
			parallelFor(len(buf), 1<<16, 1024, func(lo, hi int) { kernel.StreamSum(buf[lo:hi]) })
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(float64(len(buf)*8)/best.Seconds()/1e9, "GB/s")
	})
}

func BenchmarkXGemv(b *testing.B) {
	const k = 1024
	rows := 151936
	w := make([]uint16, rows*k)
	for i := range w {
		w[i] = kernel.FloatToBF16(float32(i%1000)/500 - 1)
	}
	x := make([]uint16, k)
	for i := range x {
		x[i] = kernel.FloatToBF16(float32(i%100) / 100)
	}
	out := make([]float32, rows)
	_ = unsafe.Pointer(nil)
	b.Run("1thread", func(b *testing.B) {
		best := time.Hour
		for b.Loop() {
			t0 := time.Now()
			kernel.GemvBF16(out, rows, x, 1, k, w, rows)
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(float64(len(w)*2)/best.Seconds()/1e9, "GB/s")
	})
	b.Run("2thread", func(b *testing.B) {
		best := time.Hour
		for b.Loop() {
			t0 := time.Now()
			parallelFor(rows, 64, 16, func(lo, hi int) {
				kernel.GemvBF16(out[lo:], rows, x, 1, k, w[lo*k:hi*k], hi-lo)
			})
			best = min(best, time.Since(t0))
		}
		b.ReportMetric(float64(len(w)*2)/best.Seconds()/1e9, "GB/s")
	})
	// many small ops: layer-sized weights, 2 threads
	for _, n := range []int{1024, 3072} {
		b.Run("2thread-ops"+string(rune('0'+n/1024)), func(b *testing.B) {
			nops := rows / n
			best := time.Hour
			for b.Loop() {
				t0 := time.Now()
				for op := 0; op < nops; op++ {
					ww := w[op*n*k : (op+1)*n*k]
					parallelFor(n, 64, 16, func(lo, hi int) {
						kernel.GemvBF16(out[lo:], n, x, 1, k, ww[lo*k:hi*k], hi-lo)
					})
				}
				best = min(best, time.Since(t0))
			}
			b.ReportMetric(float64(nops*n*k*2)/best.Seconds()/1e9, "GB/s")
		})
	}
}
