// Package kernel holds the inner loops of the CPU backend: dot products of a
// float32 activation row with f32, f16, bf16 and affine-quantized weight
// rows, conversions, and the f32 GEMM micro-kernel. On amd64 they are Go
// assembly chosen at run time from the CPU's features (AVX2+FMA+F16C,
// AVX-512, AVX-512 VNNI); elsewhere, or with the purego build tag, they are
// the portable Go loops in generic.go, which are also the reference the
// assembly is tested against.
//
// Kernels take slices and trust their lengths as documented on each
// function; callers in package mx check shapes first.
package kernel
