// Package llmtest makes random-weight language models shaped like real
// ones, for the llm package's tests and benchmarks; it is not used by the
// server. Use Dir with a Shape (Qwen3_06B, Small) to get a model directory
// in bfloat16, 8-bit or 4-bit MLX affine quantization, Open to build an
// engine on it, and MemoryBandwidth for the roofline the decode benchmarks
// compare against.
//
// Generated models are cached under the OS temp directory, keyed by shape,
// variant, seed and generator version, so only the first run pays for
// writing them (about a second per GB on two cores).
package llmtest
