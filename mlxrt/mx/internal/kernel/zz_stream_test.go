//go:build amd64 && !purego

package kernel

import (
	"math/rand/v2"
	"testing"
	"time"
)

func bestOf(n int, f func()) time.Duration {
	best := time.Hour
	for i := 0; i < n; i++ {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	return best
}

func TestZZStream(t *testing.T) {
	const k = 1024
	for _, bits := range []int{4, 8} {
		for _, nx := range []int{1, 4, 8} {
			for _, big := range []bool{false, true} {
				size := 1 << 20
				if big {
					size = 96 << 20
				}
				rows := size / (k * bits / 8)
				g := k / 64
				w := make([]uint32, rows*k*bits/32)
				r := rand.New(rand.NewPCG(3, 4))
				for i := range w {
					w[i] = r.Uint32()
				}
				sb := rnd(5, 2*(rows*g+16))
				p := &QParams{K: k, GS: 64, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
				xs := make([]*QX, nx)
				xf := rnd(10, nx*k)
				for i := range xs {
					xs[i] = new(QX)
					xs[i].Prepare(xf[i*k:(i+1)*k], bits)
				}
				qb := NewQBatch(xs)
				out := make([]float32, nx*rows)
				reps := 8
				if !big {
					reps = 50
				}
				dOld := bestOf(reps, func() {
					for r0 := 0; r0 < rows; r0 += 32 {
						sub := *p
						sub.W, sub.S, sub.B = p.W[r0*k*bits/32:], p.S[r0*g:], p.B[r0*g:]
						GemvQ(&sub, out[r0:], rows, qb, 32)
					}
				})
				q := NewQVParams(p, rows)
				RepackQV(q, p, 0, rows)
				var vb QVBatch
				PrepareQV(&vb, xf, nx, k, q.KP)
				dNew := bestOf(reps, func() {
					for r0 := 0; r0 < rows; r0 += 32 {
						sq, sp := *q, *p
						sq.W, sq.S, sq.B = q.W[r0*k*bits/32:], q.S[r0*g:], q.B[r0*g:]
						sp.W = p.W[r0*k*bits/32:]
						GemvQV(&sq, &sp, out[r0:], rows, &vb, 32)
					}
				})
				bytes := float64(rows*k*bits/8 + 2*rows*g*4)
				t.Logf("Q%d nx%d big=%v: old %.2f GB/s, new %.2f GB/s (×%.2f)", bits, nx, big, bytes/dOld.Seconds()/1e9, bytes/dNew.Seconds()/1e9, dOld.Seconds()/dNew.Seconds())
			}
		}
	}
}
