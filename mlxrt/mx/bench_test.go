package mx_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// Benchmarks report GB/s of weight bytes streamed and "roofline", the
// fraction of the read bandwidth mx.ReadBandwidth measures in the same
// process (all threads streaming 512 MiB with vector loads). The machine is
// shared, so compare ratios from one run, not absolute times across runs.

var (
	bwOnce sync.Once
	bwGBs  float64
)

func roofline() float64 {
	bwOnce.Do(func() { bwGBs = mx.ReadBandwidth(512<<20, 8) })
	return bwGBs
}

// BenchmarkMemoryBandwidth is the roofline itself: GB/s of mx.ReadBandwidth
// (huge pages), and 4k-GB/s, the same loop over 4 KiB pages (as a
// memory-mapped weight file is read).
func BenchmarkMemoryBandwidth(b *testing.B) {
	var gbs, small float64
	for b.Loop() {
		gbs = max(gbs, mx.ReadBandwidth(512<<20, 1))
		small = max(small, mx.ReadBandwidthSmallPages(512<<20, 1))
	}
	b.ReportMetric(gbs, "GB/s")
	b.ReportMetric(small, "4k-GB/s")
}

func reportBW(b *testing.B, bytes int) {
	gbs := float64(bytes) * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gbs, "GB/s")
	b.ReportMetric(gbs/roofline(), "roofline")
}

// Qwen3-0.6B projection shapes: hidden 1024, intermediate 3072, vocab 151936.
var qwenShapes = []struct {
	name    string
	in, out int
}{
	{"1024x3072", 1024, 3072},
	{"3072x1024", 3072, 1024},
	{"lm_head_1024x151936", 1024, 151936},
}

var weightCache = map[string]*mx.Array{}

// weightFor returns a random [out, in] weight, cached for the process so
// sub-benchmarks do not regenerate hundreds of MB.
func weightFor(b *testing.B, dt mx.DType, out, in int) *mx.Array {
	key := fmt.Sprint(dt, out, in)
	if w, ok := weightCache[key]; ok {
		return w
	}
	w := mx.FromFloat32(randF32(1, out*in), out, in)
	if dt != mx.F32 {
		w = mx.AsType(w, dt)
	}
	weightCache[key] = w
	return w
}

var quantCache = map[string]*mx.QuantizedWeight{}

func quantFor(b *testing.B, bits, out, in int) *mx.QuantizedWeight {
	key := fmt.Sprint(bits, out, in)
	if q, ok := quantCache[key]; ok {
		return q
	}
	q, err := mx.Quantize(weightFor(b, mx.BF16, out, in), 64, bits)
	if err != nil {
		b.Fatal(err)
	}
	quantCache[key] = q
	return q
}

func BenchmarkMatVec(b *testing.B) {
	roofline()
	for _, dt := range []mx.DType{mx.BF16, mx.F16, mx.F32} {
		for _, s := range qwenShapes {
			for _, m := range []int{1, 4, 8} {
				if m > 1 && s.out > 10000 && dt == mx.F32 {
					continue
				}
				b.Run(fmt.Sprintf("%v/%s/B%d", dt, s.name, m), func(b *testing.B) {
					w := weightFor(b, dt, s.out, s.in)
					x := mx.FromFloat32(randF32(2, m*s.in), m, s.in)
					mx.Linear(x, w, nil)
					b.ResetTimer()
					for b.Loop() {
						mx.Linear(x, w, nil)
					}
					reportBW(b, w.NBytes())
					b.ReportMetric(float64(m)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

func BenchmarkQuantizedMatVec(b *testing.B) {
	roofline()
	for _, bits := range []int{4, 8} {
		for _, s := range qwenShapes {
			for _, m := range []int{1, 4, 8} {
				b.Run(fmt.Sprintf("Q%d/%s/B%d", bits, s.name, m), func(b *testing.B) {
					qw := quantFor(b, bits, s.out, s.in)
					x := mx.FromFloat32(randF32(2, m*s.in), m, s.in)
					mx.QuantizedLinear(x, qw, nil)
					b.ResetTimer()
					for b.Loop() {
						mx.QuantizedLinear(x, qw, nil)
					}
					reportBW(b, qw.W.NBytes()+qw.Scales.NBytes()+qw.Biases.NBytes())
				})
			}
		}
	}
}

// BenchmarkGEMM is prefill: 512 tokens through a Qwen3-0.6B projection.
func BenchmarkGEMM(b *testing.B) {
	for _, dt := range []mx.DType{mx.BF16, mx.F32} {
		for _, s := range qwenShapes[:2] {
			b.Run(fmt.Sprintf("%v/%s/M512", dt, s.name), func(b *testing.B) {
				const m = 512
				w := weightFor(b, dt, s.out, s.in)
				x := mx.FromFloat32(randF32(2, m*s.in), m, s.in)
				mx.Linear(x, w, nil)
				b.ResetTimer()
				for b.Loop() {
					mx.Linear(x, w, nil)
				}
				b.ReportMetric(2*float64(m*s.in*s.out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
	for _, bits := range []int{4, 8} {
		for _, s := range qwenShapes[:2] {
			b.Run(fmt.Sprintf("Q%d/%s/M512", bits, s.name), func(b *testing.B) {
				const m = 512
				qw := quantFor(b, bits, s.out, s.in)
				x := mx.FromFloat32(randF32(2, m*s.in), m, s.in)
				mx.QuantizedLinear(x, qw, nil)
				b.ResetTimer()
				for b.Loop() {
					mx.QuantizedLinear(x, qw, nil)
				}
				b.ReportMetric(2*float64(m*s.in*s.out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkAttention: Qwen3-0.6B attention of one layer (16 query heads, 8
// kv heads, head dim 128) over a bf16 cache; decode at 1024 cached
// positions and a 512-token causal prefill.
func BenchmarkAttention(b *testing.B) {
	const hq, hkv, d = 16, 8, 128
	for _, c := range []struct {
		name    string
		tq, ctx int
	}{{"decode/ctx1024", 1, 1024}, {"prefill/T512", 512, 512}} {
		b.Run(c.name, func(b *testing.B) {
			q := mx.FromFloat32(randF32(1, hq*c.tq*d), hq, c.tq, d)
			k := mx.AsType(mx.FromFloat32(randF32(2, hkv*c.ctx*d), hkv, c.ctx, d), mx.BF16)
			v := mx.AsType(mx.FromFloat32(randF32(3, hkv*c.ctx*d), hkv, c.ctx, d), mx.BF16)
			o := mx.SDPAOptions{Causal: true, KVLen: c.ctx}
			for b.Loop() {
				mx.ScaledDotProductAttention(q, k, v, o)
			}
		})
	}
}
