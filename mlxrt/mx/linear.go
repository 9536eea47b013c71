package mx

import (
	"fmt"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// gemmMinRows is the activation row count from which Linear switches from
// the batched matrix-vector kernel (weights streamed once, memory-bound) to
// the blocked GEMM (weights converted to f32 panels, compute-bound).
const gemmMinRows = 16

// activations returns x as float32 rows (converting when x is not F32) and
// checks its last dimension.
func activations(op string, x *Array, k int) []float32 {
	if x.NDim() == 0 || x.Dim(-1) != k {
		panic(fmt.Sprintf("mx: %s: input %v, want last dimension %d", op, x, k))
	}
	if x.dt == F32 {
		return f32s(x.data)
	}
	if !x.dt.IsFloat() {
		panic(fmt.Sprintf("mx: %s: input dtype %v", op, x.dt))
	}
	return x.Float32s()
}

// leadingRows returns the product of all but the last dimension of x.
func leadingRows(x *Array) int {
	m := 1
	for _, d := range x.shape[:len(x.shape)-1] {
		m *= d
	}
	return m
}

func outShape(x *Array, n int) []int {
	s := x.Shape()
	s[len(s)-1] = n
	return s
}

func weightKind(op string, w *Array) kernel.WKind {
	switch w.dt {
	case F32:
		return kernel.WF32
	case F16:
		return kernel.WF16
	case BF16:
		return kernel.WBF16
	}
	panic(fmt.Sprintf("mx: %s: weight dtype %v, want F32, F16 or BF16", op, w.dt))
}

func (cpuBackend) Linear(x, w, bias *Array) *Array {
	if w.NDim() != 2 {
		panic(fmt.Sprintf("mx: Linear: weight %v, want 2-D [out, in]", w))
	}
	n, k := w.shape[0], w.shape[1]
	kind := weightKind("Linear", w)
	m := leadingRows(x)
	if m < gemmMinRows {
		mv := newMatVec("Linear", x, w)
		runMatVecs([]matVec{mv})
		addBias("Linear", mv.o, m, n, bias)
		return mv.out
	}
	if x.dt == BF16 && kind == kernel.WBF16 && kernel.HasBF16() && x.NDim() > 0 && x.Dim(-1) == k {
		out, o := newF32(outShape(x, n)...)
		gemmBF16(o, u16s(x.data), m, n, k, u16s(w.data))
		addBias("Linear", o, m, n, bias)
		return out
	}
	xs := activations("Linear", x, k)
	out, o := newF32(outShape(x, n)...)
	gemmLinear(kind, o, xs, m, n, k, w)
	addBias("Linear", o, m, n, bias)
	return out
}

// Linears returns Linear(x, ws[i], biases[i]) for every i (biases nil, or
// one per weight, each nil or [out_i]). For fewer than gemmMinRows rows the
// products run as one parallel pass over all the weights' rows, so several
// projections of the same input (attention q/k/v, MLP gate/up) cost one
// fork and join of the worker pool instead of one each.
func Linears(x *Array, ws, biases []*Array) []*Array {
	if biases != nil && len(biases) != len(ws) {
		panic(fmt.Sprintf("mx: Linears: %d biases for %d weights", len(biases), len(ws)))
	}
	bias := func(i int) *Array {
		if biases == nil {
			return nil
		}
		return biases[i]
	}
	outs := make([]*Array, len(ws))
	if _, cpu := be().(cpuBackend); !cpu || leadingRows(x) >= gemmMinRows || len(ws) < 2 {
		for i, w := range ws {
			outs[i] = Linear(x, w, bias(i))
		}
		return outs
	}
	mvs := make([]matVec, len(ws))
	for i, w := range ws {
		if w.NDim() != 2 {
			panic(fmt.Sprintf("mx: Linears: weight %v, want 2-D [out, in]", w))
		}
		mvs[i] = newMatVec("Linears", x, w)
	}
	runMatVecs(mvs)
	m := leadingRows(x)
	for i, mv := range mvs {
		addBias("Linears", mv.o, m, mv.n, bias(i))
		outs[i] = mv.out
	}
	return outs
}

// matVec is one weight's batched matrix-vector product: run computes
// output columns [lo, hi) of o ([m, n]) for every activation row.
type matVec struct {
	out *Array
	o   []float32
	n   int
	run func(lo, hi int)
}

// newMatVec prepares x·wᵀ for fewer than gemmMinRows rows of x.
func newMatVec(op string, x, w *Array) matVec {
	n, k := w.shape[0], w.shape[1]
	kind := weightKind(op, w)
	m := leadingRows(x)
	mv := matVec{n: n}
	if x.dt == BF16 && kind == kernel.WBF16 && kernel.HasBF16() && x.NDim() > 0 && x.Dim(-1) == k {
		mv.out, mv.o = newF32(outShape(x, n)...)
		o, xa, w16 := mv.o, u16s(x.data), u16s(w.data)
		mv.run = func(lo, hi int) { kernel.GemvBF16(o[lo:], n, xa, m, k, w16[lo*k:hi*k], hi-lo) }
		return mv
	}
	xs := activations(op, x, k)
	mv.out, mv.o = newF32(outShape(x, n)...)
	var w32 []float32
	var w16 []uint16
	if kind == kernel.WF32 {
		w32 = f32s(w.data)
	} else {
		w16 = u16s(w.data)
	}
	o := mv.o
	mv.run = func(lo, hi int) { gemvRows(kind, o[lo:], n, xs, m, k, w32, w16, lo, hi) }
	return mv
}

// runMatVecs runs the products of mvs as one parallel loop over their
// concatenated output columns (weights' rows), in order, so that each
// thread streams long contiguous runs of weight rows.
func runMatVecs(mvs []matVec) {
	total := 0
	for _, mv := range mvs {
		total += mv.n
	}
	parallelFor(total, 64, 16, func(lo, hi int) {
		base := 0
		for _, mv := range mvs {
			if a, b := max(lo-base, 0), min(hi-base, mv.n); a < b {
				mv.run(a, b)
			}
			base += mv.n
		}
	})
}

// gemvRows computes output columns [lo, hi) for all m activation rows.
func gemvRows(kind kernel.WKind, o []float32, ldo int, xs []float32, m, k int, w32 []float32, w16 []uint16, lo, hi int) {
	if kind == kernel.WF32 {
		kernel.Gemv(kind, o, ldo, xs, m, k, w32[lo*k:hi*k], nil, hi-lo)
	} else {
		kernel.Gemv(kind, o, ldo, xs, m, k, nil, w16[lo*k:hi*k], hi-lo)
	}
}

// gemmPanel is the number of weight rows converted to f32 at a time by the
// GEMM path (panel of gemmPanel×k floats, sized to stay in L2 for k ≤ 4096).
const gemmPanel = 64

// gemmLinear computes o[m×n] = xs[m×k]·wᵀ, splitting n across threads.
func gemmLinear(kind kernel.WKind, o, xs []float32, m, n, k int, w *Array) {
	parallelFor(n, gemmPanel, gemmPanel, func(lo, hi int) {
		var panel []float32
		if kind != kernel.WF32 {
			panel = make([]float32, gemmPanel*k)
		}
		for r0 := lo; r0 < hi; r0 += gemmPanel {
			r1 := min(r0+gemmPanel, hi)
			var b []float32
			switch kind {
			case kernel.WF32:
				b = f32s(w.data)[r0*k : r1*k]
			case kernel.WF16:
				b = panel[:(r1-r0)*k]
				kernel.F16ToF32(b, u16s(w.data)[r0*k:r1*k])
			default:
				b = panel[:(r1-r0)*k]
				kernel.BF16ToF32(b, u16s(w.data)[r0*k:r1*k])
			}
			kernel.SgemmNT(m, r1-r0, k, xs, k, b, k, o[r0:], n)
		}
	})
}

// gemmBF16 computes o[m×n] = xa[m×k]·wᵀ for bfloat16 activations and
// weights (VDPBF16PS, float32 accumulation), splitting n across threads.
func gemmBF16(o []float32, xa []uint16, m, n, k int, w []uint16) {
	parallelFor(n, gemmPanel, gemmPanel, func(lo, hi int) {
		kernel.GemmBF16NT(m, hi-lo, k, xa, k, w[lo*k:hi*k], k, o[lo:], n)
	})
}

// bf16Activations returns x as bfloat16 rows: its storage when x is BF16,
// else a rounded copy (round to nearest even, in parallel).
func bf16Activations(x *Array, xs []float32) []uint16 {
	if x.dt == BF16 {
		return u16s(x.data)
	}
	xa := make([]uint16, len(xs))
	parallelFor(len(xs), 1<<14, 16, func(lo, hi int) {
		kernel.RoundBF16(xa[lo:hi], xs[lo:hi])
	})
	return xa
}

func addBias(op string, o []float32, m, n int, bias *Array) {
	if bias == nil {
		return
	}
	if bias.Size() != n {
		panic(fmt.Sprintf("mx: %s: bias %v, want %d elements", op, bias, n))
	}
	b := bias.Float32s()
	for i := 0; i < m; i++ {
		row := o[i*n : (i+1)*n]
		for j := range row {
			row[j] += b[j]
		}
	}
}

func (cpuBackend) Matmul(a, b *Array) *Array {
	if a.NDim() < 2 || b.NDim() != 2 {
		panic(fmt.Sprintf("mx: Matmul: shapes %v and %v, want [..., M, K] and [K, N]", a, b))
	}
	// Transpose b once so that both operands stream along k.
	bt := AsType(Transpose(b, 1, 0), F32)
	return Linear(a, bt, nil)
}
