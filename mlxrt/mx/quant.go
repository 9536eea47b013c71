package mx

import (
	"fmt"
	"math"
	"sync"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// QuantizedWeight is a matrix [out, in] stored with MLX's affine
// quantization, as mlx-community publishes it: W is U32 [out, in*Bits/32]
// with element j of a row in bits [(j%p)*Bits, (j%p+1)*Bits) of word j/p
// (p = 32/Bits, least significant first); Scales and Biases are
// [out, in/GroupSize] in F16, BF16 or F32; element (r, j) is
// Scales[r, j/GroupSize]*q + Biases[r, j/GroupSize].
//
// Make one with NewQuantizedWeight (which checks the shapes) or Quantize.
// The first operation on a weight converts its scales and biases to float32
// once (about 8/GroupSize bytes per weight). On CPUs with AVX-512 VNNI the
// first decode (fewer than 16 rows) also builds a copy of W in the decode
// kernels' layout (the same size as W, rows padded to a multiple of 512
// elements), which decode reads from then on; prefill, TakeQuantized and
// Dequantize read W. A QuantizedWeight is safe for concurrent use.
type QuantizedWeight struct {
	W              *Array
	Scales, Biases *Array
	GroupSize      int // 32, 64 or 128
	Bits           int // 4 or 8

	once sync.Once
	p    kernel.QParams

	qvOnce sync.Once
	qv     *kernel.QVParams // decode layout, built on the first decode
}

// NewQuantizedWeight checks and wraps MLX-quantized tensors. It returns an
// error (never panics) for shapes, dtypes, group sizes or bit widths that do
// not fit together, so loaders can pass tensors read from files directly.
func NewQuantizedWeight(w, scales, biases *Array, groupSize, bits int) (*QuantizedWeight, error) {
	if bits != 4 && bits != 8 {
		return nil, fmt.Errorf("mx: quantized weight: %d bits, want 4 or 8", bits)
	}
	if groupSize != 32 && groupSize != 64 && groupSize != 128 {
		return nil, fmt.Errorf("mx: quantized weight: group size %d, want 32, 64 or 128", groupSize)
	}
	if w == nil || scales == nil || biases == nil {
		return nil, fmt.Errorf("mx: quantized weight: missing weight, scales or biases")
	}
	if w.dt != U32 || w.NDim() != 2 {
		return nil, fmt.Errorf("mx: quantized weight: packed weight %v, want U32 [out, in*%d/32]", w, bits)
	}
	out, in := w.shape[0], w.shape[1]*32/bits
	for _, t := range []*Array{scales, biases} {
		if t.dt != F16 && t.dt != BF16 && t.dt != F32 {
			return nil, fmt.Errorf("mx: quantized weight: scales/biases dtype %v, want F16, BF16 or F32", t.dt)
		}
		if t.NDim() != 2 || t.shape[0] != out || t.shape[1]*groupSize != in {
			return nil, fmt.Errorf("mx: quantized weight: scales/biases %v do not fit packed weight %v with group size %d and %d bits", t, w, groupSize, bits)
		}
	}
	return &QuantizedWeight{W: w, Scales: scales, Biases: biases, GroupSize: groupSize, Bits: bits}, nil
}

// OutFeatures returns the number of rows (out).
func (q *QuantizedWeight) OutFeatures() int { return q.W.shape[0] }

// InFeatures returns the number of columns (in) of the unpacked matrix.
func (q *QuantizedWeight) InFeatures() int { return q.W.shape[1] * 32 / q.Bits }

// params returns the kernel view of q, converting scales and biases once.
func (q *QuantizedWeight) params() *kernel.QParams {
	q.once.Do(func() {
		n := q.Scales.Size()
		// One allocation for both, with the 16 spare floats the kernels'
		// vector loads may touch after each.
		sb := make([]float32, 2*(n+16))
		s, b := sb[:n+16], sb[n+16:]
		convertToF32(s[:n], q.Scales.dt, q.Scales.data)
		convertToF32(b[:n], q.Biases.dt, q.Biases.data)
		q.p = kernel.QParams{K: q.InFeatures(), GS: q.GroupSize, Bits: q.Bits, W: u32s(q.W.data), S: s, B: b}
	})
	return &q.p
}

// decodeLayout returns the weight repacked for the decode kernels
// (kernel.QVParams), building it on first use: a second copy of W, which
// the decode path then reads instead of the original.
func (q *QuantizedWeight) decodeLayout() *kernel.QVParams {
	q.qvOnce.Do(func() {
		p := q.params()
		n := q.OutFeatures()
		qv := kernel.NewQVParams(p, n)
		parallelFor(n, 256, 1, func(lo, hi int) { kernel.RepackQV(qv, p, lo, hi) })
		q.qv = qv
	})
	return q.qv
}

func (cpuBackend) QuantizedLinear(x *Array, qw *QuantizedWeight, bias *Array) *Array {
	p := qw.params()
	n, k := qw.OutFeatures(), p.K
	m := leadingRows(x)
	if m >= gemmMinRows && kernel.HasBF16() && x.NDim() > 0 && x.Dim(-1) == k && (x.dt == BF16 || x.dt == F32) {
		// Prefill: dequantize panels of weight rows to bfloat16 (each once
		// per call) and multiply with the bfloat16-rounded activations.
		var xs []float32
		if x.dt == F32 {
			xs = f32s(x.data)
		}
		xa := bf16Activations(x, xs)
		out, o := newF32(outShape(x, n)...)
		parallelFor(n, gemmPanel, gemmPanel, func(lo, hi int) {
			panel := make([]uint16, gemmPanel*k)
			for r0 := lo; r0 < hi; r0 += gemmPanel {
				r1 := min(r0+gemmPanel, hi)
				kernel.DequantRowsBF16(p, r0, r1, panel)
				kernel.GemmBF16NT(m, r1-r0, k, xa, k, panel[:(r1-r0)*k], k, o[r0:], n)
			}
		})
		addBias("QuantizedLinear", o, m, n, bias)
		return out
	}
	xs := activations("QuantizedLinear", x, k)
	out, o := newF32(outShape(x, n)...)
	if m >= gemmMinRows {
		// Prefill without AVX512_BF16: dequantize panels of weight rows to
		// f32 (each once per call) and run the f32 GEMM.
		parallelFor(n, gemmPanel, gemmPanel, func(lo, hi int) {
			panel := make([]float32, gemmPanel*k)
			for r0 := lo; r0 < hi; r0 += gemmPanel {
				r1 := min(r0+gemmPanel, hi)
				kernel.DequantRows(p, r0, r1, panel)
				kernel.SgemmNT(m, r1-r0, k, xs, k, panel[:(r1-r0)*k], k, o[r0:], n)
			}
		})
		addBias("QuantizedLinear", o, m, n, bias)
		return out
	}
	if kernel.HasQV() {
		gemvQV(qw, p, o, xs, m, n, k)
		addBias("QuantizedLinear", o, m, n, bias)
		return out
	}
	qx := make([]*kernel.QX, m)
	parallelFor(m, 1, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			qx[i] = new(kernel.QX)
			qx[i].Prepare(xs[i*k:(i+1)*k], p.Bits)
		}
	})
	// Activation rows go through the weights in batches of quantBatch, so a
	// block of weight rows is decoded from memory once per batch.
	var batches []*kernel.QBatch
	for b0 := 0; b0 < m; b0 += quantBatch {
		batches = append(batches, kernel.NewQBatch(qx[b0:min(b0+quantBatch, m)]))
	}
	parallelFor(n, 64, 16, func(lo, hi int) {
		sub := *p
		wpr, g := p.WordsPerRow(), p.Groups()
		for r0 := lo; r0 < hi; r0 += quantRowBlock {
			r1 := min(r0+quantRowBlock, hi)
			sub.W = p.W[r0*wpr:]
			sub.S, sub.B = p.S[r0*g:], p.B[r0*g:]
			for i, bt := range batches {
				kernel.GemvQ(&sub, o[i*quantBatch*n+r0:], n, bt, r1-r0)
			}
		}
	})
	addBias("QuantizedLinear", o, m, n, bias)
	return out
}

// gemvQV runs the decode rows through the repacked weights: activation
// rows are quantized (in parallel), then threads split the weight rows and
// each reads its rows once for all activation rows.
func gemvQV(qw *QuantizedWeight, p *kernel.QParams, o, xs []float32, m, n, k int) {
	qv := qw.decodeLayout()
	xb := qvBatches.Get().(*kernel.QVBatch)
	defer qvBatches.Put(xb)
	xb.Reset(m, k, qv.KP)
	parallelFor(m, 1, 1, func(lo, hi int) { xb.Quantize(xs, lo, hi) })
	parallelFor(n, 64, 16, func(lo, hi int) {
		sq, sp := *qv, *p
		sq.W = qv.W[lo*qv.WordsPerRow():]
		sp.W = p.W[lo*p.WordsPerRow():]
		g := p.Groups()
		sq.S, sq.B = p.S[lo*g:], p.B[lo*g:]
		kernel.GemvQV(&sq, &sp, o[lo:], n, xb, hi-lo)
	})
}

// qvBatches recycles the quantized activations of decode calls.
var qvBatches = sync.Pool{New: func() any { return new(kernel.QVBatch) }}

// quantBatch is the number of activation rows per kernel.QBatch.
const quantBatch = 8

// quantRowBlock is the number of weight rows (about 16–64 KiB packed) that
// stay in L1/L2 while every activation batch passes over them.
const quantRowBlock = 32

func (cpuBackend) TakeQuantized(qw *QuantizedWeight, ids []int) *Array {
	p := qw.params()
	n := qw.OutFeatures()
	out, o := newF32(len(ids), p.K)
	for i, id := range ids {
		if id < 0 || id >= n {
			panic(fmt.Sprintf("mx: TakeQuantized: index %d out of range [0, %d)", id, n))
		}
		kernel.DequantRow(p, id, o[i*p.K:(i+1)*p.K])
	}
	return out
}

func (cpuBackend) Dequantize(qw *QuantizedWeight) *Array {
	p := qw.params()
	n := qw.OutFeatures()
	out, o := newF32(n, p.K)
	parallelFor(n, 16, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			kernel.DequantRow(p, r, o[r*p.K:(r+1)*p.K])
		}
	})
	return out
}

// Quantize quantizes w [out, in] (F32, F16 or BF16; in a multiple of
// groupSize) exactly as mlx.core.quantize does in affine mode: per group,
// scale = max((max-min)/(2^bits-1), 1e-7), signed so that the edge with the
// larger magnitude (min if |min| > |max|, else max) maps to an integer q0 =
// rint(edge/scale); if q0 ≠ 0 the scale becomes edge/q0 and the bias is the
// edge, else the bias is 0; q = clamp(rint((w-bias)/scale), 0, 2^bits-1).
// Arithmetic is float32 with round-half-to-even; scales and biases are
// returned in w's dtype (F32 for F32 input), as MLX does.
func Quantize(w *Array, groupSize, bits int) (*QuantizedWeight, error) {
	if w.NDim() != 2 || !(w.dt == F32 || w.dt == F16 || w.dt == BF16) {
		return nil, fmt.Errorf("mx: Quantize: weight %v, want 2-D F32, F16 or BF16", w)
	}
	out, in := w.shape[0], w.shape[1]
	if groupSize <= 0 || in%groupSize != 0 {
		return nil, fmt.Errorf("mx: Quantize: in features %d not a multiple of group size %d", in, groupSize)
	}
	if bits != 4 && bits != 8 {
		return nil, fmt.Errorf("mx: Quantize: %d bits, want 4 or 8", bits)
	}
	vals := w.Float32s()
	ng := in / groupSize
	packed := Zeros(U32, out, in*bits/32)
	pw := u32s(packed.data)
	sc := make([]float32, out*ng)
	bi := make([]float32, out*ng)
	nBins := float32(int(1)<<bits - 1)
	epw := 32 / bits
	for g := 0; g < out*ng; g++ {
		grp := vals[g*groupSize : (g+1)*groupSize]
		wMin, wMax := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range grp {
			wMin, wMax = min(wMin, v), max(wMax, v)
		}
		useMin := abs32(wMin) > abs32(wMax)
		scale := max((wMax-wMin)/nBins, 1e-7)
		edge := wMax
		if useMin {
			edge = wMin
		} else {
			scale = -scale
		}
		q0 := rint32(edge / scale)
		var bias float32
		if q0 != 0 {
			scale = edge / q0
			bias = edge
		}
		sc[g], bi[g] = scale, bias
		for j, v := range grp {
			q := min(max(rint32((v-bias)/scale), 0), nBins)
			e := g*groupSize + j
			pw[e/epw] |= uint32(q) << (uint(e%epw) * uint(bits))
		}
	}
	dt := w.dt
	scales, biases := Zeros(dt, out, ng), Zeros(dt, out, ng)
	convertFromF32(dt, scales.data, sc)
	convertFromF32(dt, biases.data, bi)
	return NewQuantizedWeight(packed, scales, biases, groupSize, bits)
}

func abs32(v float32) float32  { return float32(math.Abs(float64(v))) }
func rint32(v float32) float32 { return float32(math.RoundToEven(float64(v))) }
