package mx

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// SDPAOptions configures ScaledDotProductAttention. Zero values are the
// defaults.
type SDPAOptions struct {
	// Scale multiplies q·k; 0 means 1/sqrt(D).
	Scale float32
	// Causal hides keys after each query's position. Queries are the last
	// Tq of the KVLen positions: query t sits at position KVLen-Tq+t.
	Causal bool
	// KVLen is how many leading positions of k and v are valid (the rest is
	// spare capacity of a preallocated cache); 0 means all of k's Tk.
	KVLen int
	// Window, when > 0, is a sliding window (Mistral): a query at position p
	// sees keys j with p-j < Window (and j ≤ p when Causal).
	Window int
	// Mask, when set, is added to the scaled scores: F32 [Tq, KVLen]
	// (shared by all heads) with 0 for visible and -Inf for hidden keys.
	Mask *Array
}

func (cpuBackend) ScaledDotProductAttention(q, k, v *Array, o SDPAOptions) *Array {
	if q.NDim() != 3 || k.NDim() != 3 || v.NDim() != 3 {
		panic(fmt.Sprintf("mx: ScaledDotProductAttention: q %v, k %v, v %v, want [H, T, D]", q, k, v))
	}
	hq, tq, d := q.shape[0], q.shape[1], q.shape[2]
	hkv, tk, dv := k.shape[0], k.shape[1], v.shape[2]
	if k.shape[2] != d || v.shape[0] != hkv || v.shape[1] != tk || hkv == 0 || hq%hkv != 0 {
		panic(fmt.Sprintf("mx: ScaledDotProductAttention: q %v, k %v, v %v do not fit", q, k, v))
	}
	kvLen := o.KVLen
	if kvLen == 0 {
		kvLen = tk
	}
	if kvLen > tk || kvLen < tq && o.Causal {
		panic(fmt.Sprintf("mx: ScaledDotProductAttention: KVLen %d for %d cached and %d query positions", kvLen, tk, tq))
	}
	var mask []float32
	if o.Mask != nil {
		if o.Mask.dt != F32 || o.Mask.Size() != tq*kvLen {
			panic(fmt.Sprintf("mx: ScaledDotProductAttention: mask %v, want F32 [%d, %d]", o.Mask, tq, kvLen))
		}
		mask = f32s(o.Mask.data)
	}
	scale := o.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	kk, vk := weightKind("ScaledDotProductAttention", k), weightKind("ScaledDotProductAttention", v)
	qs := floatRows("ScaledDotProductAttention", q)
	out, ov := newF32(hq, tq, dv)
	g := hq / hkv
	a := attn{o: o, g: g, tq: tq, d: d, dv: dv, tk: tk, kvLen: kvLen, scale: scale, mask: mask,
		q: qs, out: ov, k: k, v: v, kk: kk, vk: vk}
	if tq >= sdpaBlockMin {
		parallelFor(hkv, 1, 1, func(lo, hi int) {
			for h := lo; h < hi; h++ {
				a.head(h)
			}
		})
		return out
	}
	lowp := a.kk == kernel.WBF16 && kernel.HasBF16()
	parallelFor(hkv*tq, 1, 1, func(lo, hi int) {
		buf := attnBufs.Get().(*attnBuf)
		buf.size(g*d, g*kvLen, g*dv, lowp)
		for i := lo; i < hi; i++ {
			a.one(i/tq, i%tq, buf)
		}
		attnBufs.Put(buf)
	})
	return out
}

// attnBufs recycles the scratch buffers of decode attention (one per
// goroutine in flight), which would otherwise be allocated per call.
var attnBufs = sync.Pool{New: func() any { return new(attnBuf) }}

// size makes b's buffers hold x and xq (nx), s (ns) and acc (nacc)
// elements; xq only when lowp, else nil.
func (b *attnBuf) size(nx, ns, nacc int, lowp bool) {
	b.x = growF32(b.x, nx)
	b.s = growF32(b.s, ns)
	b.acc = growF32(b.acc, nacc)
	b.xq = nil
	if lowp {
		if cap(b.xq16) < nx {
			b.xq16 = make([]uint16, nx)
		}
		b.xq = b.xq16[:nx]
	}
}

func growF32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// sdpaBlockMin is the query count from which attention runs as blocked
// GEMMs per kv head (prefill) instead of one query position at a time.
const sdpaBlockMin = 16

// sdpaBlock is the number of query positions per GEMM block.
const sdpaBlock = 64

type attn struct {
	o                       SDPAOptions
	g, tq, d, dv, tk, kvLen int
	scale                   float32
	mask, q, out            []float32
	k, v                    *Array
	kk, vk                  kernel.WKind
}

type attnBuf struct {
	x, s, acc []float32
	xq        []uint16 // x rounded to bfloat16, for a BF16 cache on AVX512_BF16; else nil
	xq16      []uint16 // backing of xq
	p32       []uint32 // backing of probs: 4-byte aligned bfloat16 pairs
}

// probs returns a 4-byte aligned bfloat16 buffer of n (even) elements.
func (b *attnBuf) probs(n int) []uint16 {
	if cap(b.p32)*2 < n {
		b.p32 = make([]uint32, n/2)
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b.p32))), n)
}

// visible returns the key range [lo, hi) query position t may attend to.
func (a *attn) visible(t int) (int, int) {
	pos := a.kvLen - a.tq + t
	lo, hi := 0, a.kvLen
	if a.o.Causal {
		hi = pos + 1
	}
	if a.o.Window > 0 {
		lo = max(lo, pos-a.o.Window+1)
	}
	return lo, max(lo, hi)
}

// gatherQ writes the scaled query rows of the g heads sharing kv head h at
// positions [t0, t1) into x, head-major ((j, t) order).
func (a *attn) gatherQ(h, t0, t1 int, x []float32) {
	n := t1 - t0
	for j := 0; j < a.g; j++ {
		hq := h*a.g + j
		for t := t0; t < t1; t++ {
			src := a.q[(hq*a.tq+t)*a.d:][:a.d]
			dst := x[(j*n+t-t0)*a.d:][:a.d]
			for i, v := range src {
				dst[i] = v * a.scale
			}
		}
	}
}

// expRow masks row (scores of query t over keys [lo, lo+len(row))) to the
// visible range, adds the explicit mask, and replaces it by unnormalised
// probabilities; it returns their sum.
func (a *attn) expRow(row []float32, t, lo int) float32 {
	vlo, vhi := a.visible(t)
	negInf := float32(math.Inf(-1))
	for i := range row {
		if j := lo + i; j < vlo || j >= vhi {
			row[i] = negInf
		}
	}
	if a.mask != nil {
		mrow := a.mask[t*a.kvLen+lo:][:len(row)]
		for i := range row {
			row[i] += mrow[i]
		}
	}
	m := kernel.MaxF32(row)
	if math.IsInf(float64(m), -1) {
		clear(row)
		return 0
	}
	return kernel.ExpShiftSum(row, m)
}

// one computes query position t of the g query heads sharing kv head h.
func (a *attn) one(h, t int, b *attnBuf) {
	lo, hi := a.visible(t)
	a.gatherQ(h, t, t+1, b.x)
	n := hi - lo
	clear(b.acc)
	if n > 0 {
		if b.xq != nil {
			// A bfloat16 cache meets bfloat16 queries (as MLX computes
			// bf16 attention): one VDPBF16PS per 32 products.
			kernel.RoundBF16(b.xq, b.x)
			k16 := u16s(a.k.data)[(h*a.tk+lo)*a.d : (h*a.tk+hi)*a.d]
			kernel.AttnScoresBF16(b.s, n, b.xq, a.g, k16, n, a.d)
		} else {
			gemvArray(a.kk, b.s, n, b.x, a.g, a.d, a.k, h*a.tk+lo, n)
		}
		var sums [8]float32
		sum := sums[:0]
		for j := 0; j < a.g; j++ {
			sum = append(sum, a.expRow(b.s[j*n:(j+1)*n], t, lo))
		}
		if b.xq != nil && a.vk == kernel.WBF16 {
			// Probabilities rounded to bfloat16 meet the bfloat16 values
			// two keys per VDPBF16PS lane (MLX's bf16 attention rounds
			// them too).
			ldp := n + n%2
			p16 := b.probs(a.g * ldp)
			for j := 0; j < a.g; j++ {
				kernel.RoundBF16(p16[j*ldp:j*ldp+n], b.s[j*n:(j+1)*n])
			}
			v16 := u16s(a.v.data)[(h*a.tk+lo)*a.dv : (h*a.tk+hi)*a.dv]
			kernel.AttnValuesBF16(b.acc, a.dv, p16, ldp, a.g, v16, n, a.dv)
		} else {
			axpyArray(a.vk, b.acc, a.dv, b.s, n, a.g, a.v, h*a.tk+lo, n)
		}
		for j := 0; j < a.g; j++ {
			scaleRow(b.acc[j*a.dv:(j+1)*a.dv], sum[j])
		}
	}
	for j := 0; j < a.g; j++ {
		hq := h*a.g + j
		copy(a.out[(hq*a.tq+t)*a.dv:][:a.dv], b.acc[j*a.dv:(j+1)*a.dv])
	}
}

// scaleRow divides row by sum (a row with nothing visible stays zero).
func scaleRow(row []float32, sum float32) {
	if sum == 0 {
		clear(row)
		return
	}
	inv := 1 / sum
	for i := range row {
		row[i] *= inv
	}
}

// head computes every query position of kv head h with blocked GEMMs:
// S = Q·Kᵀ over the keys the block can see, masked softmax, O = S·V.
func (a *attn) head(h int) {
	// Keys any query of the call can see.
	klo, _ := a.visible(0) // lo only grows with t
	_, khi := a.visible(a.tq - 1)
	if khi <= klo {
		return // output stays zero
	}
	lowp := a.kk == kernel.WBF16 && a.vk == kernel.WBF16 && kernel.HasBF16()
	nk := khi - klo
	var kf []float32
	var k16, vt16 []uint16
	if lowp {
		// bfloat16 cache: both products run on the bf16 GEMM, with the
		// scaled queries and the unnormalised probabilities rounded to
		// bfloat16 (as MLX computes bf16 attention); the values are
		// transposed once so that P·V is a GEMM against rows of Vᵀ.
		k16 = u16s(a.k.data)[(h*a.tk+klo)*a.d : (h*a.tk+khi)*a.d]
		vt16 = transposeBF16(u16s(a.v.data)[(h*a.tk+klo)*a.dv:(h*a.tk+khi)*a.dv], nk, a.dv)
	} else {
		kf = make([]float32, nk*a.d)
		convertRows(a.k, h*a.tk+klo, h*a.tk+khi, a.d, kf)
	}
	rowsMax := a.g * sdpaBlock
	x := make([]float32, rowsMax*a.d)
	s := make([]float32, rowsMax*nk)
	acc := make([]float32, rowsMax*a.dv)
	sums := make([]float32, rowsMax)
	var x16, p16 []uint16
	if lowp {
		x16, p16 = make([]uint16, rowsMax*a.d), make([]uint16, rowsMax*nk)
	}
	for t0 := 0; t0 < a.tq; t0 += sdpaBlock {
		t1 := min(t0+sdpaBlock, a.tq)
		n := t1 - t0
		rows := a.g * n
		_, bhi := a.visible(t1 - 1)
		bhi = max(min(bhi, khi), klo+1)
		l := bhi - klo
		a.gatherQ(h, t0, t1, x)
		if lowp {
			kernel.RoundBF16(x16[:rows*a.d], x)
			kernel.GemmBF16NT(rows, l, a.d, x16, a.d, k16, a.d, s, l)
		} else {
			kernel.SgemmNT(rows, l, a.d, x, a.d, kf, a.d, s, l)
		}
		for r := 0; r < rows; r++ {
			sums[r] = a.expRow(s[r*l:(r+1)*l], t0+r%n, klo)
		}
		if lowp {
			kernel.RoundBF16(p16[:rows*l], s)
			kernel.GemmBF16NT(rows, a.dv, l, p16, l, vt16, nk, acc, a.dv)
		} else {
			clear(acc[:rows*a.dv])
			axpyArray(a.vk, acc, a.dv, s, l, rows, a.v, h*a.tk+klo, l)
		}
		for r := 0; r < rows; r++ {
			j, t := r/n, t0+r%n
			dst := a.out[((h*a.g+j)*a.tq+t)*a.dv:][:a.dv]
			copy(dst, acc[r*a.dv:(r+1)*a.dv])
			scaleRow(dst, sums[r])
		}
	}
}

// transposeBF16 returns the [cols, rows] transpose of a row-major
// [rows, cols] bfloat16 matrix.
func transposeBF16(a []uint16, rows, cols int) []uint16 {
	t := make([]uint16, rows*cols)
	for i := 0; i < rows; i++ {
		for j, v := range a[i*cols : (i+1)*cols] {
			t[j*rows+i] = v
		}
	}
	return t
}

// convertRows writes rows [r0, r1) (of width d) of a float array as f32.
func convertRows(w *Array, r0, r1, d int, dst []float32) {
	es := w.dt.Size()
	convertToF32(dst[:(r1-r0)*d], w.dt, w.data[r0*d*es:r1*d*es])
}

// gemvArray runs kernel.Gemv over rows [r0, r0+rows) of the 2-D view of w
// whose rows have k elements.
func gemvArray(kind kernel.WKind, out []float32, ldo int, x []float32, nx, k int, w *Array, r0, rows int) {
	if kind == kernel.WF32 {
		kernel.Gemv(kind, out, ldo, x, nx, k, f32s(w.data)[r0*k:(r0+rows)*k], nil, rows)
	} else {
		kernel.Gemv(kind, out, ldo, x, nx, k, nil, u16s(w.data)[r0*k:(r0+rows)*k], rows)
	}
}

// axpyArray adds Σ_j p[i*ldp+j]·(row r0+j of w) to acc[i*d:(i+1)*d] for i < np.
func axpyArray(kind kernel.WKind, acc []float32, d int, p []float32, ldp, np int, w *Array, r0, rows int) {
	if kind == kernel.WF32 {
		kernel.AxpyRows(kind, acc, d, p, ldp, np, f32s(w.data)[r0*d:(r0+rows)*d], nil, rows)
	} else {
		kernel.AxpyRows(kind, acc, d, p, ldp, np, nil, u16s(w.data)[r0*d:(r0+rows)*d], rows)
	}
}
