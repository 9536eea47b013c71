package mx

import (
	"fmt"
	"math"

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
	parallelFor(hkv*tq, 1, 1, func(lo, hi int) {
		buf := attnBuf{x: make([]float32, g*d), s: make([]float32, g*kvLen), acc: make([]float32, g*dv)}
		for i := lo; i < hi; i++ {
			a.one(i/tq, i%tq, &buf)
		}
	})
	return out
}

type attn struct {
	o                       SDPAOptions
	g, tq, d, dv, tk, kvLen int
	scale                   float32
	mask, q, out            []float32
	k, v                    *Array
	kk, vk                  kernel.WKind
}

type attnBuf struct{ x, s, acc []float32 }

// one computes query position t of the g query heads sharing kv head h.
func (a *attn) one(h, t int, b *attnBuf) {
	pos := a.kvLen - a.tq + t
	lo, hi := 0, a.kvLen
	if a.o.Causal {
		hi = pos + 1
	}
	if a.o.Window > 0 {
		lo = max(lo, pos-a.o.Window+1)
	}
	for j := 0; j < a.g; j++ {
		hq := h*a.g + j
		src := a.q[(hq*a.tq+t)*a.d:][:a.d]
		dst := b.x[j*a.d:][:a.d]
		for i, v := range src {
			dst[i] = v * a.scale
		}
	}
	n := hi - lo
	clear(b.acc)
	if n > 0 {
		kRows := h*a.tk + lo
		gemvArray(a.kk, b.s, n, b.x, a.g, a.d, a.k, kRows, n)
		for j := 0; j < a.g; j++ {
			row := b.s[j*n : (j+1)*n]
			if a.mask != nil {
				mrow := a.mask[t*a.kvLen+lo:][:n]
				for i := range row {
					row[i] += mrow[i]
				}
			}
			softmaxRow(row, row)
		}
		vRows := h*a.tk + lo
		axpyArray(a.vk, b.acc, a.dv, b.s, n, a.g, a.v, vRows, n)
	}
	for j := 0; j < a.g; j++ {
		hq := h*a.g + j
		copy(a.out[(hq*a.tq+t)*a.dv:][:a.dv], b.acc[j*a.dv:(j+1)*a.dv])
	}
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
