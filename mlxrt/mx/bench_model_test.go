package mx_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// The model-sized benchmarks run every projection of a random-weight model
// shaped like Qwen3-0.6B (28 layers; q 1024→2048, k/v 1024→1024, o
// 2048→1024, gate/up 1024→3072, down 3072→1024; tied lm_head 1024→151936),
// each layer with its own weights, so the weights stream from DRAM as in
// real decoding. They report tokens/s of the projections alone (attention,
// norms and sampling excluded) and the fraction of the memory roofline.

const (
	qwenLayers = 28
	qwenHidden = 1024
	qwenInter  = 3072
	qwenQ      = 2048
	qwenKV     = 1024
	qwenVocab  = 151936
)

type projection struct {
	in, out int
	dense   *mx.Array
	quant   *mx.QuantizedWeight
}

func (p *projection) apply(x *mx.Array) *mx.Array {
	if p.quant != nil {
		return mx.QuantizedLinear(x, p.quant, nil)
	}
	return mx.Linear(x, p.dense, nil)
}

func (p *projection) bytes() int {
	if p.quant != nil {
		return p.quant.W.NBytes() + p.quant.Scales.NBytes() + p.quant.Biases.NBytes()
	}
	return p.dense.NBytes()
}

type fakeModel struct {
	layers [][]*projection // per layer: q, k, v, o, gate, up, down
	head   *projection
	bf16   bool // bfloat16 activations, grouped projections
}

var (
	modelMu    sync.Mutex
	modelCache = map[string]*fakeModel{}
)

// qwenModel builds (once per process) the projections in dtype "BF16",
// "Q8" or "Q4" (MLX affine, group 64, bf16 scales); "BF16act" is the BF16
// model as llm runs it with a bfloat16 cache: bfloat16 activations, and
// q/k/v and gate/up each in one mx.Linears pass.
func qwenModel(b *testing.B, kind string) *fakeModel {
	modelMu.Lock()
	defer modelMu.Unlock()
	if m, ok := modelCache[kind]; ok {
		return m
	}
	if kind == "BF16act" {
		modelMu.Unlock()
		m := qwenModel(b, "BF16")
		modelMu.Lock()
		a := &fakeModel{layers: m.layers, head: m.head, bf16: true}
		modelCache[kind] = a
		return a
	}
	seed := uint64(100)
	mk := func(in, out int) *projection {
		seed++
		w := mx.AsType(mx.FromFloat32(randF32(seed, in*out), out, in), mx.BF16)
		p := &projection{in: in, out: out}
		switch kind {
		case "BF16":
			p.dense = w
		case "Q8", "Q4":
			q, err := mx.Quantize(w, 64, map[string]int{"Q8": 8, "Q4": 4}[kind])
			if err != nil {
				b.Fatal(err)
			}
			p.quant = q
		}
		return p
	}
	m := &fakeModel{}
	for l := 0; l < qwenLayers; l++ {
		m.layers = append(m.layers, []*projection{
			mk(qwenHidden, qwenQ), mk(qwenHidden, qwenKV), mk(qwenHidden, qwenKV), mk(qwenQ, qwenHidden),
			mk(qwenHidden, qwenInter), mk(qwenHidden, qwenInter), mk(qwenInter, qwenHidden),
		})
	}
	m.head = mk(qwenHidden, qwenVocab)
	modelCache[kind] = m
	return m
}

func (m *fakeModel) bytes() int {
	n := m.head.bytes()
	for _, l := range m.layers {
		for _, p := range l {
			n += p.bytes()
		}
	}
	return n
}

// step runs every projection for t rows (lm_head only for the last row
// when lastOnly).
func (m *fakeModel) step(xs map[int]*mx.Array, t int, lastOnly bool) {
	if m.bf16 {
		for d, x := range xs {
			if x.DType() != mx.BF16 {
				xs[d] = mx.AsType(x, mx.BF16)
			}
		}
		for _, l := range m.layers {
			x := xs[qwenHidden]
			mx.Linears(x, []*mx.Array{l[0].dense, l[1].dense, l[2].dense}, nil)
			l[3].apply(xs[qwenQ])
			mx.Linears(x, []*mx.Array{l[4].dense, l[5].dense}, nil)
			l[6].apply(xs[qwenInter])
		}
		m.head.apply(xs[qwenHidden])
		return
	}
	for _, l := range m.layers {
		for _, p := range l {
			p.apply(xs[p.in])
		}
	}
	x := xs[qwenHidden]
	if lastOnly && t > 1 {
		x = mx.Slice(x, []int{t - 1, 0}, []int{t, qwenHidden})
	}
	m.head.apply(x)
}

func inputs(t int) map[int]*mx.Array {
	xs := map[int]*mx.Array{}
	for _, d := range []int{qwenHidden, qwenQ, qwenInter} {
		xs[d] = mx.FromFloat32(randF32(uint64(d), t*d), t, d)
	}
	return xs
}

// BenchmarkDecodeProjections: one decode step for B sequences batched.
func BenchmarkDecodeProjections(b *testing.B) {
	roofline()
	for _, kind := range []string{"BF16", "BF16act", "Q8", "Q4"} {
		for _, bs := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("%s/B%d", kind, bs), func(b *testing.B) {
				m := qwenModel(b, kind)
				xs := inputs(bs)
				m.step(xs, bs, false)
				b.ResetTimer()
				for b.Loop() {
					m.step(xs, bs, false)
				}
				b.ReportMetric(float64(bs)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
				reportBW(b, m.bytes())
			})
		}
	}
}

// BenchmarkPrefillProjections: a 512-token prompt in one chunk.
func BenchmarkPrefillProjections(b *testing.B) {
	for _, kind := range []string{"BF16", "Q8", "Q4"} {
		b.Run(kind+"/T512", func(b *testing.B) {
			const t = 512
			m := qwenModel(b, kind)
			xs := inputs(t)
			m.step(xs, t, true)
			b.ResetTimer()
			for b.Loop() {
				m.step(xs, t, true)
			}
			b.ReportMetric(t*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
