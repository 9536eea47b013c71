package mx_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// Benchmarks report GB/s of weight bytes streamed and "roofline", the
// fraction of the read bandwidth BenchmarkMemoryBandwidth measures in the
// same process (all cores summing a 512 MiB buffer). The machine is shared,
// so compare ratios from one run, not absolute times across runs.

var (
	bwOnce sync.Once
	bwGBs  float64
)

const bwBytes = 512 << 20

var bwBuf []uint64

// streamSum sums buf with one goroutine per GOMAXPROCS; eight independent
// accumulators keep each core's loads in flight.
func streamSum(buf []uint64) uint64 {
	n := runtime.GOMAXPROCS(0)
	sums := make([]uint64, n)
	var wg sync.WaitGroup
	chunk := (len(buf) + n - 1) / n
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			part := buf[min(i*chunk, len(buf)):min((i+1)*chunk, len(buf))]
			var s0, s1, s2, s3, s4, s5, s6, s7 uint64
			for j := 0; j+8 <= len(part); j += 8 {
				s0 += part[j]
				s1 += part[j+1]
				s2 += part[j+2]
				s3 += part[j+3]
				s4 += part[j+4]
				s5 += part[j+5]
				s6 += part[j+6]
				s7 += part[j+7]
			}
			sums[i] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
		}(i)
	}
	wg.Wait()
	var s uint64
	for _, v := range sums {
		s += v
	}
	return s
}

func bandwidthBuf() []uint64 {
	if bwBuf == nil {
		bwBuf = make([]uint64, bwBytes/8)
		for i := range bwBuf {
			bwBuf[i] = uint64(i)
		}
	}
	return bwBuf
}

// roofline measures the streaming read bandwidth once per process (best of
// eight passes) in GB/s. (testing.Benchmark cannot be nested in a
// benchmark, so it times passes itself.)
func roofline() float64 {
	bwOnce.Do(func() {
		buf := bandwidthBuf()
		streamSum(buf)
		for i := 0; i < 8; i++ {
			t0 := time.Now()
			sink += streamSum(buf)
			bwGBs = max(bwGBs, float64(bwBytes)/time.Since(t0).Seconds()/1e9)
		}
	})
	return bwGBs
}

var sink uint64

// BenchmarkMemoryBandwidth is the roofline: all cores summing 512 MiB.
func BenchmarkMemoryBandwidth(b *testing.B) {
	buf := bandwidthBuf()
	b.SetBytes(bwBytes)
	b.ResetTimer()
	for b.Loop() {
		sink += streamSum(buf)
	}
	b.ReportMetric(float64(bwBytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
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
