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
		rows := (96 << 20) / (k * bits / 8)
		g := k / 64
		w := make([]uint32, rows*k*bits/32)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range w {
			w[i] = r.Uint32()
		}
		sb := rnd(5, 2*(rows*g+16))
		p := &QParams{K: k, GS: 64, Bits: bits, W: w, S: sb[:rows*g+16], B: sb[rows*g+16:]}
		x := new(QX)
		x.Prepare(rnd(10, k), bits)
		qb := NewQBatch([]*QX{x})
		out := make([]float32, rows)
		d := bestOf(8, func() {
			for r0 := 0; r0 < rows; r0 += 32 {
				sub := *p
				sub.W, sub.S, sub.B = p.W[r0*k*bits/32:], p.S[r0*g:], p.B[r0*g:]
				GemvQ(&sub, out[r0:], rows, qb, 32)
			}
		})
		bytes := float64(rows*k*bits/8 + 2*rows*g*4)
		t.Logf("Q%d: %.2f GB/s (weights+f32 scales)", bits, bytes/d.Seconds()/1e9)
	}
	buf := make([]uint64, (96<<20)/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	d := bestOf(8, func() { StreamSum(buf) })
	t.Logf("stream: %.2f GB/s", float64(len(buf)*8)/d.Seconds()/1e9)
	wb := make([]uint16, (96<<20)/2)
	rows := len(wb) / k
	xs := rnd(1, k)
	o := make([]float32, rows)
	d = bestOf(8, func() { Gemv(WBF16, o, rows, xs, 1, k, nil, wb, rows) })
	t.Logf("bf16 gemv: %.2f GB/s", float64(len(wb)*2)/d.Seconds()/1e9)
}
