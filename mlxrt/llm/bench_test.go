package llm_test

import (
	"fmt"
	"testing"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/llmtest"
	"github.com/ominix/ominix-api/pipeline"
)

// The benchmarks run a random-weight model shaped like Qwen3-0.6B (made and
// cached by llmtest) in bf16, MLX 8-bit and MLX 4-bit (group 64):
//
//	go test -run '^$' -bench 'Decode|Prefill' -benchtime 20x ./mlxrt/llm
//
// tok/s is tokens per second (for batches: all sequences together);
// "roofline" is the decode rate as a fraction of the rate at which the
// weights one token reads could stream at the memory bandwidth measured in
// the same process right after the run (llmtest.MemoryBandwidth, reported
// as GB/s). The machine is shared, so compare ratios from one run.

var variants = []llmtest.Variant{llmtest.BF16, llmtest.Q8, llmtest.Q4}

// bandwidth measures the memory bandwidth now: the machine is shared, so
// each decode benchmark measures its own roofline right after it runs.
func bandwidth() float64 { return llmtest.MemoryBandwidth() }

func openBench(b *testing.B, v llmtest.Variant, opts *llm.Options) *llm.Engine {
	b.Helper()
	dir, err := llmtest.Dir(llmtest.Qwen3_06B, v, 1)
	if err != nil {
		b.Fatal(err)
	}
	e, closeFn, err := llmtest.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeFn() })
	return e
}

func benchPrompt(n, salt int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32((i*7919 + salt*104729) % 150000)
	}
	return p
}

func BenchmarkDecode(b *testing.B) {
	for _, v := range variants {
		for _, batch := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("%s/batch%d", v, batch), func(b *testing.B) {
				e := openBench(b, v, nil)
				seqs := make([]pipeline.Sequence, batch)
				for i := range seqs {
					s, err := e.NewSequence(benchPrompt(16, i), llm.SequenceOptions{IgnoreEOS: true})
					if err != nil {
						b.Fatal(err)
					}
					defer s.Release()
					seqs[i] = s
				}
				out := make([]pipeline.TokenOutput, batch)
				step := func() {
					if err := e.Step(seqs, out); err != nil {
						b.Fatal(err)
					}
					for _, o := range out {
						if o.Err != nil {
							b.Fatal(o.Err)
						}
					}
				}
				step() // prefill
				step() // first decode: caches and pools warm
				b.ResetTimer()
				for b.Loop() {
					step()
				}
				tps := float64(batch*b.N) / b.Elapsed().Seconds()
				b.ReportMetric(tps, "tok/s")
				if batch == 1 {
					b.StopTimer()
					bw := bandwidth()
					b.ReportMetric(bw/1e9, "GB/s")
					b.ReportMetric(float64(e.WeightBytesPerToken())*tps/bw, "roofline")
				}
			})
		}
	}
}

func BenchmarkPrefill(b *testing.B) {
	const n = 512
	for _, v := range variants {
		b.Run(fmt.Sprintf("%s/prompt%d", v, n), func(b *testing.B) {
			e := openBench(b, v, &llm.Options{PrefillChunk: n})
			out := make([]pipeline.TokenOutput, 1)
			run := func(i int) {
				s, err := e.NewSequence(benchPrompt(n, i), llm.SequenceOptions{IgnoreEOS: true})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Release()
				if err := e.Step([]pipeline.Sequence{s}, out); err != nil || !out[0].Sampled {
					b.Fatal(err, out[0].Err)
				}
			}
			run(0)
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				run(i)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
