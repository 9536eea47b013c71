package mx

import "sync/atomic"

// Backend evaluates the operations of this package. The package-level
// functions (Linear, RMSNorm, …) forward to the active backend, so model code
// written against them runs unchanged on another backend (MLX through mlx-c
// is the planned second one). Each method has the contract of the
// package-level function of the same name.
type Backend interface {
	Name() string

	Linear(x, w, bias *Array) *Array
	QuantizedLinear(x *Array, qw *QuantizedWeight, bias *Array) *Array
	Matmul(a, b *Array) *Array
	Take(table *Array, ids []int) *Array
	TakeQuantized(qw *QuantizedWeight, ids []int) *Array
	Dequantize(qw *QuantizedWeight) *Array

	RMSNorm(x, weight *Array, eps float32) *Array
	RoPE(x *Array, o RoPEOptions) *Array
	ScaledDotProductAttention(q, k, v *Array, o SDPAOptions) *Array
	SiLU(x *Array) *Array
	SwiGLU(gate, up *Array) *Array
	Softmax(x *Array) *Array
	LogSoftmax(x *Array) *Array

	Add(a, b *Array) *Array
	Mul(a, b *Array) *Array
	MulScalar(a *Array, s float32) *Array

	Concatenate(arrays []*Array, axis int) *Array
	Transpose(a *Array, axes ...int) *Array
	Slice(a *Array, start, stop []int) *Array
	SliceUpdate(dst, src *Array, start []int) *Array
	Argmax(x *Array) *Array
	TopK(x *Array, k int) (values, indices *Array)
}

// cpuBackend is the pure-Go backend; it is always available.
type cpuBackend struct{}

var _ Backend = cpuBackend{}

// Name returns "cpu (<instruction sets used>)".
func (cpuBackend) Name() string { return "cpu (" + kernelFeatures() + ")" }

var active atomic.Pointer[Backend]

func init() {
	var b Backend = cpuBackend{}
	active.Store(&b)
}

// CPU returns the pure-Go CPU backend.
func CPU() Backend { return cpuBackend{} }

// SetBackend makes b the backend the package-level functions use and
// returns the previous one. Call it before any model work starts.
func SetBackend(b Backend) Backend {
	old := active.Swap(&b)
	return *old
}

// ActiveBackend returns the backend in use.
func ActiveBackend() Backend { return *active.Load() }

func be() Backend { return *active.Load() }

// Linear returns x·wᵀ + bias: x is [..., in], w is [out, in] in F32, F16
// or BF16 (Hugging Face layout), bias is nil or [out] in any float dtype;
// the result is F32 [..., out]. With fewer than 16 rows in x it streams
// each weight row once for all rows (decode, batched decode); with more it
// runs a blocked GEMM over packed panels (prefill). Accumulation is
// float32. A BF16 x with BF16 w multiplies the bfloat16 values as they are
// (products exact, two per float32 lane with AVX512_BF16's VDPBF16PS,
// twice the float32 rate): model code passes BF16 activations when it
// computes in bfloat16. Any other x is multiplied in float32 (other float
// dtypes are converted), exactly.
func Linear(x, w, bias *Array) *Array { return be().Linear(x, w, bias) }

// QuantizedLinear returns x·wᵀ + bias for an MLX affine-quantized w, like
// mx.quantized_matmul(x, w, scales, biases, transpose=True): x is [..., in]
// (F32 or BF16), the result F32 [..., out]. The weight is never dequantized
// as a whole. With fewer than 16 rows (decode) each activation row is
// rounded to int8 per block of 32 elements (scale max|x_blk|/127, round half
// to even; error at most max|x_blk|/254 per element) and dotted with the
// packed integers; scale and bias apply per group in float32, both on the
// rounded values x̂, so the result is the exact product of the dequantized
// weight with x̂. On CPUs with AVX-512 VNNI the decode kernels read a copy
// of the weight repacked on first use (see QuantizedWeight). With 16 rows
// or more (prefill) panels of 64 weight rows are dequantized and multiplied
// by the GEMM: on CPUs with AVX512_BF16 both the dequantized weights and the
// activations are rounded to bfloat16 (float32 accumulation), elsewhere
// everything is float32.
func QuantizedLinear(x *Array, qw *QuantizedWeight, bias *Array) *Array {
	return be().QuantizedLinear(x, qw, bias)
}

// Matmul returns a·b for F32 a [..., M, K] and 2-D b [K, N] (any float
// dtype) as F32 [..., M, N].
func Matmul(a, b *Array) *Array { return be().Matmul(a, b) }

// Take gathers rows of a 2-D table [rows, D] (F32, F16, BF16 or any numeric
// dtype) as F32 [len(ids), D], like mx.take(table, ids, axis=0). It panics on
// an index outside [0, rows).
func Take(table *Array, ids []int) *Array { return be().Take(table, ids) }

// TakeQuantized gathers rows of a quantized table as F32 [len(ids), in],
// dequantizing only those rows.
func TakeQuantized(qw *QuantizedWeight, ids []int) *Array { return be().TakeQuantized(qw, ids) }

// Dequantize returns the whole quantized matrix as F32 [out, in] (w =
// scale·q + bias), matching mlx.core.dequantize up to the final cast (MLX
// returns the scales' dtype; this returns F32).
func Dequantize(qw *QuantizedWeight) *Array { return be().Dequantize(qw) }

// RMSNorm returns x / sqrt(mean(x², last axis) + eps) · weight as F32, like
// mx.fast.rms_norm; weight is [D] in any float dtype, or nil for none. The
// sum of squares is accumulated in float64.
func RMSNorm(x, weight *Array, eps float32) *Array { return be().RMSNorm(x, weight, eps) }

// RoPE applies rotary position embeddings to x [T, H, D] (row t, head h) and
// returns F32 [T, H, D]; see RoPEOptions for positions, pair layout and
// frequencies. Angles are float32 products pos·inv_freq as in transformers.
func RoPE(x *Array, o RoPEOptions) *Array { return be().RoPE(x, o) }

// ScaledDotProductAttention returns softmax(scale·q·kᵀ + mask)·v per head as
// F32 [Hq, Tq, Dv], like mx.fast.scaled_dot_product_attention: q is
// [Hq, Tq, D] (F32), k [Hkv, Tk, D] and v [Hkv, Tk, Dv] in F32, F16 or BF16
// with Hq a multiple of Hkv (query head h uses kv head h/(Hq/Hkv)). Only the
// first o.KVLen positions of k and v are read, so a preallocated cache can
// be passed whole. Scores and accumulation are float32; a query that sees
// no key (everything masked) gets zeros. With a BF16 cache on CPUs with
// AVX512_BF16 the scaled queries and the unnormalised probabilities are
// rounded to bfloat16 and multiplied with VDPBF16PS (as MLX computes bf16
// attention); the softmax itself stays float32. Each block of keys and
// values is read once for all query heads that share it.
func ScaledDotProductAttention(q, k, v *Array, o SDPAOptions) *Array {
	return be().ScaledDotProductAttention(q, k, v, o)
}

// SiLU returns x·sigmoid(x) as F32.
func SiLU(x *Array) *Array { return be().SiLU(x) }

// SwiGLU returns silu(gate)·up as F32 (the Llama/Qwen MLP activation);
// gate and up have the same shape.
func SwiGLU(gate, up *Array) *Array { return be().SwiGLU(gate, up) }

// Softmax returns softmax over the last axis as F32; -Inf inputs get 0 and a
// row of only -Inf becomes zeros.
func Softmax(x *Array) *Array { return be().Softmax(x) }

// LogSoftmax returns log(softmax(x)) over the last axis as F32.
func LogSoftmax(x *Array) *Array { return be().LogSoftmax(x) }

// Add returns a+b with numpy broadcasting as F32.
func Add(a, b *Array) *Array { return be().Add(a, b) }

// Mul returns a·b elementwise with numpy broadcasting as F32.
func Mul(a, b *Array) *Array { return be().Mul(a, b) }

// MulScalar returns a·s as F32.
func MulScalar(a *Array, s float32) *Array { return be().MulScalar(a, s) }

// Concatenate joins arrays of one dtype along axis (negative counts from the
// end); other dimensions must match. The result keeps the dtype.
func Concatenate(arrays []*Array, axis int) *Array { return be().Concatenate(arrays, axis) }

// Transpose returns a copy of a with its axes permuted (reversed when axes
// is empty), keeping the dtype, like mx.transpose.
func Transpose(a *Array, axes ...int) *Array { return be().Transpose(a, axes...) }

// Slice returns a copy of a[start[0]:stop[0], start[1]:stop[1], …].
func Slice(a *Array, start, stop []int) *Array { return be().Slice(a, start, stop) }

// SliceUpdate writes src into dst at start (one offset per dimension),
// converting float dtypes to dst's, like mx.slice_update, and returns the
// updated array. Callers must use the returned array: the CPU backend writes
// dst in place and returns it (so appending one token to a preallocated KV
// cache [Hkv, capacity, D] copies only that token), another backend may
// return a new array. dst must not be read-only.
func SliceUpdate(dst, src *Array, start []int) *Array { return be().SliceUpdate(dst, src, start) }

// Argmax returns the index of the largest value along the last axis (the
// first one on ties) as I32 with the last dimension removed.
func Argmax(x *Array) *Array { return be().Argmax(x) }

// TopK returns the k largest values along the last axis (F32) and their
// indices (I32), both [..., k], sorted descending with ties broken by lower
// index. (mx.topk does not sort; this does, which samplers want.)
func TopK(x *Array, k int) (values, indices *Array) { return be().TopK(x, k) }
