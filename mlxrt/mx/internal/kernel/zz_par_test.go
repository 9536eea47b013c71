//go:build amd64 && !purego

package kernel

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestZZPar(t *testing.T) {
	const k = 1024
	for _, bits := range []int{4, 8} {
		for _, nx := range []int{1, 8} {
			rows := (128 << 20) / (k * bits / 8)
			g := k / 64
			w := make([]uint32, rows*k*bits/32)
			r := rand.New(rand.NewPCG(3, 4))
			for i := range w {
				w[i] = r.Uint32()
			}
			sb := rnd(5, 2*(rows*g+16))
			p := &QParams{K: k, GS: 64, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
			q := NewQVParams(p, rows)
			RepackQV(q, p, 0, rows)
			xf := rnd(10, nx*k)
			var vb QVBatch
			PrepareQV(&vb, xf, nx, k, q.KP)
			out := make([]float32, nx*rows)
			run := func(lo, hi int) {
				for r0 := lo; r0 < hi; r0 += 64 {
					sq, sp := *q, *p
					sq.W, sq.S, sq.B = q.W[r0*k*bits/32:], q.S[r0*g:], q.B[r0*g:]
					sp.W = p.W[r0*k*bits/32:]
					GemvQV(&sq, &sp, out[r0:], rows, &vb, min(64, hi-r0))
				}
			}
			bytes := float64(rows*k*bits/8 + 2*rows*g*4)
			d1 := bestOf(6, func() { run(0, rows) })
			d2 := bestOf(6, func() {
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { run(0, rows/2); wg.Done() }()
				go func() { run(rows/2, rows); wg.Done() }()
				wg.Wait()
			})
			t.Logf("Q%d nx%d: 1 thread %.2f GB/s, 2 threads %.2f GB/s", bits, nx, bytes/d1.Seconds()/1e9, bytes/d2.Seconds()/1e9)
		}
	}
	buf := make([]uint64, (128<<20)/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	d1 := bestOf(6, func() { StreamSum(buf) })
	d2 := bestOf(6, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { StreamSum(buf[:len(buf)/2]); wg.Done() }()
		go func() { StreamSum(buf[len(buf)/2:]); wg.Done() }()
		wg.Wait()
	})
	t.Logf("stream: 1 thread %.2f GB/s, 2 threads %.2f GB/s", float64(len(buf)*8)/d1.Seconds()/1e9, float64(len(buf)*8)/d2.Seconds()/1e9)
}
