package llm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/mx"
)

// TensorSource is where weights come from: a safetensors model directory
// (*safetensors.Model) or, in tests, anything that maps names to arrays.
type TensorSource interface {
	Names() []string
	Has(name string) bool
	Array(name string) (*mx.Array, error)
}

// linear is one projection: a float weight [out, in] or an MLX affine
// quantized one, plus an optional bias [out].
type linear struct {
	w    *mx.Array
	q    *mx.QuantizedWeight
	bias *mx.Array
}

func (l *linear) apply(x *mx.Array) *mx.Array {
	if l.q != nil {
		return mx.QuantizedLinear(x, l.q, l.bias)
	}
	return mx.Linear(x, l.w, l.bias)
}

// bytes is the size of the weight data one application reads.
func (l *linear) bytes() int64 {
	var n int64
	if l.q != nil {
		n = int64(l.q.W.NBytes() + l.q.Scales.NBytes() + l.q.Biases.NBytes())
	} else {
		n = int64(l.w.NBytes())
	}
	if l.bias != nil {
		n += int64(l.bias.NBytes())
	}
	return n
}

// embedding is the token embedding table, float or quantized.
type embedding struct {
	table *mx.Array
	q     *mx.QuantizedWeight
}

func (e *embedding) take(ids []int) *mx.Array {
	if e.q != nil {
		return mx.TakeQuantized(e.q, ids)
	}
	return mx.Take(e.table, ids)
}

// layer holds one decoder block's weights.
type layer struct {
	inNorm, postNorm *mx.Array
	qNorm, kNorm     *mx.Array // Qwen3 only
	q, k, v, o       linear
	gate, up, down   linear
	gateUp           linear    // fused [gate; up] (GLM-4), instead of gate and up
	postAttn         *mx.Array // GLM-4 post_self_attn_layernorm
	postMLP          *mx.Array // GLM-4 post_mlp_layernorm
	window           int       // sliding window of this layer; 0 for full attention
}

// linears returns the layer's projections that are present.
func (l *layer) linears() []*linear {
	var out []*linear
	for _, p := range []*linear{&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.gateUp, &l.down} {
		if p.w != nil || p.q != nil {
			out = append(out, p)
		}
	}
	return out
}

// weights is a whole model's parameters, checked against its config.
type weights struct {
	embed  embedding
	layers []layer
	norm   *mx.Array
	head   linear
	dtype  mx.DType // dtype of the float tensors (F32, F16 or BF16)
}

// weightLoader fetches tensors by name, checking dtype and shape against
// the config, and remembers which ones it used.
type weightLoader struct {
	src   TensorSource
	cfg   *config.Config
	used  map[string]bool
	dtype mx.DType
}

func (wl *weightLoader) get(name string) (*mx.Array, error) {
	if !wl.src.Has(name) {
		return nil, fmt.Errorf("tensor %s is missing", name)
	}
	a, err := wl.src.Array(name)
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	wl.used[name] = true
	return a, nil
}

// float returns a float tensor of exactly the given shape.
func (wl *weightLoader) float(name string, shape ...int) (*mx.Array, error) {
	a, err := wl.get(name)
	if err != nil {
		return nil, err
	}
	switch dt := a.DType(); dt {
	case mx.F32, mx.F16, mx.BF16:
		if wl.dtype == mx.Invalid {
			wl.dtype = dt
		}
	default:
		return nil, fmt.Errorf("tensor %s has dtype %v; want F32, F16 or BF16", name, dt)
	}
	if !slices.Equal(a.Shape(), shape) {
		return nil, fmt.Errorf("tensor %s has shape %v; the config implies %v", name, a.Shape(), shape)
	}
	return a, nil
}

// linear loads module (".weight", and ".scales"/".biases" when quantized)
// with the given sizes, and its ".bias" when hasBias.
func (wl *weightLoader) linear(module string, out, in int, hasBias bool) (linear, error) {
	var l linear
	var err error
	if wl.src.Has(module + ".scales") {
		l.q, err = wl.quantized(module, out, in)
	} else {
		l.w, err = wl.float(module+".weight", out, in)
	}
	if err != nil {
		return l, err
	}
	switch {
	case hasBias:
		l.bias, err = wl.float(module+".bias", out)
	case wl.src.Has(module + ".bias"):
		err = fmt.Errorf("tensor %s.bias is present but the config has no bias there", module)
	}
	return l, err
}

// quantized loads an MLX affine quantized module of logical shape [out, in].
func (wl *weightLoader) quantized(module string, out, in int) (*mx.QuantizedWeight, error) {
	spec, ok := wl.cfg.Quant.For(module)
	if !ok {
		return nil, fmt.Errorf("tensor %s.scales is present but config.json does not quantize %s", module, module)
	}
	if in%spec.GroupSize != 0 {
		return nil, fmt.Errorf("%s: input size %d is not a multiple of group_size %d", module, in, spec.GroupSize)
	}
	w, err := wl.get(module + ".weight")
	if err != nil {
		return nil, err
	}
	if w.DType() != mx.U32 {
		return nil, fmt.Errorf("tensor %s.weight has dtype %v; quantized weights are U32", module, w.DType())
	}
	if want := []int{out, in * spec.Bits / 32}; !slices.Equal(w.Shape(), want) {
		return nil, fmt.Errorf("tensor %s.weight has shape %v; %d-bit [%d, %d] packs to %v", module, w.Shape(), spec.Bits, out, in, want)
	}
	groups := in / spec.GroupSize
	scales, err := wl.float(module+".scales", out, groups)
	if err != nil {
		return nil, err
	}
	biases, err := wl.float(module+".biases", out, groups)
	if err != nil {
		return nil, err
	}
	q, err := mx.NewQuantizedWeight(w, scales, biases, spec.GroupSize, spec.Bits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", module, err)
	}
	return q, nil
}

// loadWeights reads and checks every tensor the config implies. Tensors the
// model does not use are an error (except rotary caches some checkpoints
// carry, and lm_head when the embeddings are tied), so a checkpoint of a
// different shape or family is never silently half-used.
func loadWeights(src TensorSource, cfg *config.Config) (*weights, error) {
	wl := &weightLoader{src: src, cfg: cfg, used: map[string]bool{}}
	w := &weights{}
	var err error
	if w.embed, err = wl.embedding("model.embed_tokens", cfg.VocabSize, cfg.HiddenSize); err != nil {
		return nil, err
	}
	w.layers = make([]layer, cfg.NumLayers)
	for i := range w.layers {
		if err := wl.layer(&w.layers[i], i); err != nil {
			return nil, err
		}
	}
	if w.norm, err = wl.float("model.norm.weight", cfg.HiddenSize); err != nil {
		return nil, err
	}
	if cfg.TieWordEmbeddings {
		w.head = linear{w: w.embed.table, q: w.embed.q}
	} else if w.head, err = wl.linear("lm_head", cfg.VocabSize, cfg.HiddenSize, false); err != nil {
		return nil, err
	}
	if err := wl.unused(); err != nil {
		return nil, err
	}
	w.dtype = wl.dtype
	return w, nil
}

func (wl *weightLoader) embedding(module string, rows, dim int) (embedding, error) {
	if wl.src.Has(module + ".scales") {
		q, err := wl.quantized(module, rows, dim)
		return embedding{q: q}, err
	}
	t, err := wl.float(module+".weight", rows, dim)
	return embedding{table: t}, err
}

func (wl *weightLoader) layer(l *layer, i int) error {
	c := wl.cfg
	p := fmt.Sprintf("model.layers.%d.", i)
	qDim, kvDim := c.NumHeads*c.HeadDim, c.KVDim()
	var err error
	set := func(dst *linear, name string, out, in int, bias bool) {
		if err == nil {
			*dst, err = wl.linear(p+name, out, in, bias)
		}
	}
	norm := func(dst **mx.Array, name string, n int) {
		if err == nil {
			*dst, err = wl.float(p+name+".weight", n)
		}
	}
	norm(&l.inNorm, "input_layernorm", c.HiddenSize)
	norm(&l.postNorm, "post_attention_layernorm", c.HiddenSize)
	set(&l.q, "self_attn.q_proj", qDim, c.HiddenSize, c.QKVBias)
	set(&l.k, "self_attn.k_proj", kvDim, c.HiddenSize, c.QKVBias)
	set(&l.v, "self_attn.v_proj", kvDim, c.HiddenSize, c.QKVBias)
	set(&l.o, "self_attn.o_proj", c.HiddenSize, qDim, c.OBias)
	if c.QKNorm {
		norm(&l.qNorm, "self_attn.q_norm", c.HeadDim)
		norm(&l.kNorm, "self_attn.k_norm", c.HeadDim)
	}
	if c.FusedGateUp {
		set(&l.gateUp, "mlp.gate_up_proj", 2*c.IntermediateSize, c.HiddenSize, c.MLPBias)
	} else {
		set(&l.gate, "mlp.gate_proj", c.IntermediateSize, c.HiddenSize, c.MLPBias)
		set(&l.up, "mlp.up_proj", c.IntermediateSize, c.HiddenSize, c.MLPBias)
	}
	if c.PostNorms {
		norm(&l.postAttn, "post_self_attn_layernorm", c.HiddenSize)
		norm(&l.postMLP, "post_mlp_layernorm", c.HiddenSize)
	}
	set(&l.down, "mlp.down_proj", c.HiddenSize, c.IntermediateSize, c.MLPBias)
	if c.SlidingLayers[i] {
		l.window = c.SlidingWindow
	}
	return err
}

// ignorable reports tensors a checkpoint may carry that the model does not
// need.
func (wl *weightLoader) ignorable(name string) bool {
	if strings.HasSuffix(name, ".rotary_emb.inv_freq") {
		return true
	}
	return wl.cfg.TieWordEmbeddings && strings.HasPrefix(name, "lm_head.")
}

func (wl *weightLoader) unused() error {
	var extra []string
	for _, n := range wl.src.Names() {
		if !wl.used[n] && !wl.ignorable(n) {
			extra = append(extra, n)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	more := ""
	if len(extra) > 3 {
		more = fmt.Sprintf(" and %d more", len(extra)-3)
		extra = extra[:3]
	}
	return fmt.Errorf("unexpected tensors %s%s: the checkpoint does not match config.json", strings.Join(extra, ", "), more)
}

// bytesPerToken is the weight data one decode step reads for one token
// (every projection, the norms, the lm_head and one embedding row).
func (w *weights) bytesPerToken(cfg *config.Config) int64 {
	var n int64
	for i := range w.layers {
		l := &w.layers[i]
		for _, p := range l.linears() {
			n += p.bytes()
		}
		for _, a := range []*mx.Array{l.inNorm, l.postNorm, l.qNorm, l.kNorm, l.postAttn, l.postMLP} {
			if a != nil {
				n += int64(a.NBytes())
			}
		}
	}
	n += w.head.bytes() + int64(w.norm.NBytes())
	if w.embed.table != nil {
		n += int64(w.embed.table.NBytes() / cfg.VocabSize)
	} else {
		q := w.embed.q
		n += int64((q.W.NBytes() + q.Scales.NBytes() + q.Biases.NBytes()) / cfg.VocabSize)
	}
	return n
}

// dequantize replaces every quantized weight by its float32 expansion.
func (w *weights) dequantize() {
	deq := func(l *linear) {
		if l.q != nil {
			l.w, l.q = mx.Dequantize(l.q), nil
		}
	}
	tied := w.head.q != nil && w.head.q == w.embed.q
	if w.embed.q != nil {
		w.embed.table, w.embed.q = mx.Dequantize(w.embed.q), nil
	}
	for i := range w.layers {
		l := &w.layers[i]
		for _, p := range l.linears() {
			deq(p)
		}
	}
	if tied {
		w.head = linear{w: w.embed.table}
	}
	deq(&w.head)
	w.dtype = mx.F32
}

// arrays lists every weight array (a tied lm_head once).
func (w *weights) arrays() []*mx.Array {
	var out []*mx.Array
	addLinear := func(l *linear) {
		if l.q != nil {
			out = append(out, l.q.W, l.q.Scales, l.q.Biases)
		} else if l.w != nil {
			out = append(out, l.w)
		}
		if l.bias != nil {
			out = append(out, l.bias)
		}
	}
	addLinear(&linear{w: w.embed.table, q: w.embed.q})
	for i := range w.layers {
		l := &w.layers[i]
		for _, p := range l.linears() {
			addLinear(p)
		}
		for _, a := range []*mx.Array{l.inNorm, l.postNorm, l.qNorm, l.kNorm, l.postAttn, l.postMLP} {
			if a != nil {
				out = append(out, a)
			}
		}
	}
	out = append(out, w.norm)
	if w.head.w != w.embed.table || w.head.q != w.embed.q {
		addLinear(&w.head)
	}
	return out
}

var prefaultSink byte

// prefault reads one byte of every page of the weights, so a
// memory-mapped checkpoint is read from disk now (off the pinned thread)
// rather than by the first steps. ctx cancels it between tensors.
func (w *weights) prefault(ctx context.Context) error {
	const page = 4096
	var sum byte
	for _, a := range w.arrays() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := a.Bytes()
		for i := 0; i < len(b); i += page {
			sum += b[i]
		}
	}
	prefaultSink = sum
	return nil
}
