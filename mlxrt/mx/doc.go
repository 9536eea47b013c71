// Package mx is the array API of the model runtime: n-dimensional row-major
// arrays (Array) and the operations the language-model families need, named
// after MLX's (mx.matmul, mx.quantized_matmul, mx.fast.rms_norm, mx.fast.rope,
// mx.fast.scaled_dot_product_attention, mx.take, mx.softmax, …) so that an MLX
// backend can later run the same model code.
//
// Use FromFloat32, FromBytes and Zeros to make arrays; Linear, Linears and
// QuantizedLinear for projections (decode matvec, batched decode and prefill
// GEMM); HugePageCopy to place the weights decoding streams in huge pages;
// Take and TakeQuantized for embedding lookups; RMSNorm, RoPE,
// ScaledDotProductAttention, SwiGLU, Softmax, Argmax and TopK for the rest of
// a transformer step; SliceUpdate to append into a preallocated KV cache.
//
// Evaluation is eager. Operations run on the active Backend; the CPU backend
// is pure Go with amd64 assembly kernels (AVX2/FMA/F16C, AVX-512, VNNI and
// AVX512_BF16, chosen at run time) and fans work out to a small persistent
// pool of worker goroutines, one per GOMAXPROCS, which poll for the next
// operation for a fraction of a millisecond before they sleep. BF16
// activations with BF16 weights (Linear) and BF16 caches
// (ScaledDotProductAttention) compute in bfloat16 products with float32
// sums; F32 inputs compute in float32. PERF.md in this directory has the
// measured performance and the method. Operations are meant to be called
// from one goroutine at a time (the pinned model thread); Shutdown stops
// the workers.
//
// Shape errors are programming errors: operations panic with a message that
// names the operation and the shapes. Data from outside the process (files)
// enters through constructors that return errors, such as FromBytes.
//
// API.md in this directory lists every function with shapes, dtypes and
// layout.
package mx
