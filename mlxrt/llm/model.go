package llm

import (
	"math"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
)

// model runs the decoder stack of the supported families (Qwen3, Qwen2,
// Llama, Mistral and GLM-4 share it; they differ in biases, q/k norms,
// post norms, fused projections, tying, windows and RoPE layout and
// scaling, all read from the config).
type model struct {
	cfg   *config.Config
	w     *weights
	eps   float32
	scale float32 // attention scale, YaRN's attention factor folded in
	// quantized: the layers' projections are MLX-quantized.
	quantized bool
}

func newModel(cfg *config.Config, w *weights) *model {
	streamFromHugePages(w)
	// YaRN multiplies cos and sin by the attention factor a, which scales
	// every q·k by a²; the cache keeps unscaled keys.
	a := cfg.RoPE.AttentionFactor
	return &model{
		cfg: cfg, w: w, eps: float32(cfg.RMSNormEps),
		scale:     float32(a * a / math.Sqrt(float64(cfg.HeadDim))),
		quantized: len(w.layers) > 0 && w.layers[0].o.q != nil,
	}
}

// streamFromHugePages moves the float weights that decoding streams (every
// float projection, in the order a step reads them, and the lm_head or
// the tied embedding table) into memory backed by huge pages, which reads
// markedly faster than a memory-mapped file's 4 KiB pages (see
// mx.HugePageCopy; it leaves them in place where that is unavailable).
// Quantized weights are left alone: decoding reads mx's repacked copies.
func streamFromHugePages(w *weights) {
	var ptrs []**mx.Array
	add := func(p **mx.Array) {
		if *p != nil {
			ptrs = append(ptrs, p)
		}
	}
	for i := range w.layers {
		for _, p := range w.layers[i].linears() {
			add(&p.w)
		}
	}
	tied := w.head.w != nil && w.head.w == w.embed.table
	add(&w.head.w) // an untied embedding table is only gathered from
	if len(ptrs) == 0 {
		return
	}
	arrays := make([]*mx.Array, len(ptrs))
	for i, p := range ptrs {
		arrays[i] = *p
	}
	copies := mx.HugePageCopy(arrays)
	for i, p := range ptrs {
		*p = copies[i]
	}
	if tied {
		w.embed.table = w.head.w
	}
}

// span is one sequence's rows in a batched forward pass: rows start…start+n
// hold its tokens at positions pos…pos+n-1.
type span struct {
	cache *kvCache
	start int
	n     int
	pos   int
	// ropeLen is the sequence length dynamic NTK scaling computes its
	// frequencies for (transformers: the largest position of the forward
	// call plus one).
	ropeLen int
	logits  bool // compute logits for the span's last row
}

// forward runs tokens ids (all spans' rows stacked) through the model,
// appending each span's keys and values to its cache, and returns the
// logits [S, vocab] of the last row of every span with logits set, in
// order (nil when no span wants any); with all set, the logits of every
// row [len(ids), vocab]. Each span's cache must have room for pos+n
// positions.
func (m *model) forward(ids []int, spans []span, all bool) *mx.Array {
	c := m.cfg
	positions := make([]int, len(ids))
	for _, sp := range spans {
		for j := range sp.n {
			positions[sp.start+j] = sp.pos + j
		}
	}
	h := m.w.embed.take(ids)
	attn := make([]float32, len(ids)*c.NumHeads*c.HeadDim)
	in := m.projInput(len(ids), spans)
	for li := range m.w.layers {
		l := &m.w.layers[li]
		x := in(mx.RMSNorm(h, l.inNorm, m.eps))
		q, k, v := m.qkv(l, x, spans, positions)
		for _, sp := range spans {
			m.attend(li, l, q, k, v, sp, attn)
		}
		o := l.o.apply(in(mx.FromFloat32(attn, len(ids), len(attn)/len(ids))))
		if l.postAttn != nil {
			o = mx.RMSNorm(o, l.postAttn, m.eps)
		}
		h = mx.Add(h, o)
		d := l.down.apply(in(m.mlp(l, in(mx.RMSNorm(h, l.postNorm, m.eps)))))
		if l.postMLP != nil {
			d = mx.RMSNorm(d, l.postMLP, m.eps)
		}
		h = mx.Add(h, d)
	}
	for _, sp := range spans {
		sp.cache.length = sp.pos + sp.n
	}
	if !all {
		if h = lastRows(h, spans); h == nil {
			return nil
		}
	}
	return m.w.head.apply(in(mx.RMSNorm(h, m.w.norm, m.eps)))
}

// projInput returns the conversion a forward pass of rows rows applies to
// the inputs of its projections. With a bfloat16 KV cache (the default for
// bf16 and quantized checkpoints: the model computes in bfloat16, as MLX
// runs them) activations are rounded to bfloat16, so that mx multiplies
// bf16 weights with VDPBF16PS (two products per float32 lane and
// instruction, float32 accumulation) in prefill and decode alike. Decode
// rows (fewer than bf16Rows) of quantized models stay float32: the
// quantized kernels round them to int8 themselves. With an F32 or F16
// cache everything stays float32.
func (m *model) projInput(rows int, spans []span) func(*mx.Array) *mx.Array {
	if len(spans) == 0 || spans[0].cache.k[0].DType() != mx.BF16 || m.quantized && rows < bf16Rows {
		return func(x *mx.Array) *mx.Array { return x }
	}
	return func(x *mx.Array) *mx.Array { return mx.AsType(x, mx.BF16) }
}

// bf16Rows is the row count from which quantized projections multiply
// bfloat16 activations (mx.QuantizedLinear's prefill GEMM).
const bf16Rows = 16

// mlp returns silu(gate(x))·up(x), the input of down_proj.
func (m *model) mlp(l *layer, x *mx.Array) *mx.Array {
	if l.gateUp.w == nil && l.gateUp.q == nil {
		gu := applyAll(x, &l.gate, &l.up)
		return mx.SwiGLU(gu[0], gu[1])
	}
	gu := l.gateUp.apply(x)
	n, i := gu.Dim(0), gu.Dim(1)/2
	return mx.SwiGLU(mx.Slice(gu, []int{0, 0}, []int{n, i}), mx.Slice(gu, []int{0, i}, []int{n, 2 * i}))
}

// applyAll applies projections of the same input x; float ones go
// through mx.Linears, one parallel pass over all their weights (decode).
func applyAll(x *mx.Array, ls ...*linear) []*mx.Array {
	ws := make([]*mx.Array, len(ls))
	bs := make([]*mx.Array, len(ls))
	for i, l := range ls {
		if l.w == nil {
			out := make([]*mx.Array, len(ls))
			for j, l := range ls {
				out[j] = l.apply(x)
			}
			return out
		}
		ws[i], bs[i] = l.w, l.bias
	}
	return mx.Linears(x, ws, bs)
}

// qkv projects x to rotated queries [N, Hq, D] and keys [N, Hkv, D] and to
// values [N, Hkv, D].
func (m *model) qkv(l *layer, x *mx.Array, spans []span, positions []int) (q, k, v *mx.Array) {
	c := m.cfg
	n := x.Dim(0)
	qkv := applyAll(x, &l.q, &l.k, &l.v)
	q = qkv[0].Reshape(n, c.NumHeads, c.HeadDim)
	k = qkv[1].Reshape(n, c.NumKVHeads, c.HeadDim)
	v = qkv[2].Reshape(n, c.NumKVHeads, c.HeadDim)
	if l.qNorm != nil {
		q = mx.RMSNorm(q, l.qNorm, m.eps)
		k = mx.RMSNorm(k, l.kNorm, m.eps)
	}
	if !c.RoPE.Dynamic() {
		o := m.rope(0)
		o.Positions = positions
		return mx.RoPE(q, o), mx.RoPE(k, o), v
	}
	// Dynamic NTK: each span has its own frequencies.
	qs, ks := q.Float32View(), k.Float32View()
	for _, sp := range spans {
		o := m.rope(sp.ropeLen)
		o.Offset = sp.pos
		copy(qs[sp.start*c.NumHeads*c.HeadDim:], mx.RoPE(rows(q, sp.start, sp.n), o).Float32View())
		copy(ks[sp.start*c.NumKVHeads*c.HeadDim:], mx.RoPE(rows(k, sp.start, sp.n), o).Float32View())
	}
	return q, k, v
}

// rope returns the rotary options for a forward call of length seqLen.
func (m *model) rope(seqLen int) mx.RoPEOptions {
	r := &m.cfg.RoPE
	return mx.RoPEOptions{Dims: r.Dim, Traditional: r.Interleaved, InvFreq: r.InvFreq(seqLen)}
}

// attend appends a span's keys and values to its cache and writes its
// attention output rows into out ([N, Hq·D]).
func (m *model) attend(li int, l *layer, q, k, v *mx.Array, sp span, out []float32) {
	c := m.cfg
	ca := sp.cache
	ca.k[li] = mx.SliceUpdate(ca.k[li], headMajor(rows(k, sp.start, sp.n)), []int{0, sp.pos, 0})
	ca.v[li] = mx.SliceUpdate(ca.v[li], headMajor(rows(v, sp.start, sp.n)), []int{0, sp.pos, 0})
	o := mx.ScaledDotProductAttention(headMajor(rows(q, sp.start, sp.n)), ca.k[li], ca.v[li], mx.SDPAOptions{
		Scale: m.scale, Causal: true, KVLen: sp.pos + sp.n, Window: l.window,
	})
	// o is [Hq, n, D]; the output rows are token-major [n, Hq·D].
	if sp.n > 1 {
		o = mx.Transpose(o, 1, 0, 2)
	}
	w := c.NumHeads * c.HeadDim
	copy(out[sp.start*w:(sp.start+sp.n)*w], o.Float32View())
}

// rows returns rows start…start+n of an F32 array [N, …] as a view.
func rows(a *mx.Array, start, n int) *mx.Array {
	shape := a.Shape()
	w := a.Size() / shape[0]
	shape[0] = n
	return mx.FromFloat32(a.Float32View()[start*w:(start+n)*w], shape...)
}

// headMajor turns token-major [T, H, D] into head-major [H, T, D]; a
// single token needs no copy.
func headMajor(a *mx.Array) *mx.Array {
	if a.Dim(0) == 1 {
		return a.Reshape(a.Dim(1), 1, a.Dim(2))
	}
	return mx.Transpose(a, 1, 0, 2)
}

// lastRows gathers the last row of every span that wants logits; nil when
// none does.
func lastRows(h *mx.Array, spans []span) *mx.Array {
	w := h.Dim(1)
	src := h.Float32View()
	var out []float32
	for _, sp := range spans {
		if sp.logits {
			r := sp.start + sp.n - 1
			out = append(out, src[r*w:(r+1)*w]...)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return mx.FromFloat32(out, len(out)/w, w)
}
