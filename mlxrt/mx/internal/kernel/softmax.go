package kernel

import "math"

// expFloor is where ExpShiftSum flushes to zero: exp(-87) ≈ 1.6e-38 is
// the smallest result that is still a normal float32.
const expFloor = -87

// MaxF32 returns the largest element of x (-Inf for an empty x; NaNs are
// ignored by the vector path and may be by the portable one).
func MaxF32(x []float32) float32 { return maxF32(x) }

// ExpShiftSum replaces each x[i] by exp(x[i]-shift), or by 0 where
// x[i]-shift < -87 (so -Inf becomes 0), and returns the sum of the new
// values. The vector path's relative error is below 2e-7 per element.
func ExpShiftSum(x []float32, shift float32) float32 { return expShiftSum(x, shift) }

func maxF32Go(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

func expShiftSumGo(x []float32, shift float32) float32 {
	var s float64
	for i, v := range x {
		t := v - shift
		if !(t >= expFloor) {
			x[i] = 0
			continue
		}
		e := float32(math.Exp(float64(t)))
		x[i] = e
		s += float64(e)
	}
	return float32(s)
}

// StreamSum returns the wrapping sum of buf, reading it as fast as one core
// can (vector loads and prefetch on amd64): the read-bandwidth probe.
func StreamSum(buf []uint64) uint64 { return streamSum(buf) }

func streamSumGo(buf []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+4 <= len(buf); i += 4 {
		s0 += buf[i]
		s1 += buf[i+1]
		s2 += buf[i+2]
		s3 += buf[i+3]
	}
	for ; i < len(buf); i++ {
		s0 += buf[i]
	}
	return s0 + s1 + s2 + s3
}

// SwiGLU writes silu(gate[i])·up[i] = gate[i]/(1+exp(-gate[i]))·up[i] into
// dst[i] for i < len(dst); the vector path is within a few float32 ulp of
// the float64-exp reference.
func SwiGLU(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	swiGLU(dst, gate, up)
}

func swiGLUGo(dst, gate, up []float32) {
	for i, g := range gate {
		dst[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// RMSRow writes x[i]·s·w[i] into dst[i] (w nil: x[i]·s) with s =
// 1/sqrt(mean(x²)+eps), the sum of squares accumulated in float64.
func RMSRow(dst, x, w []float32, eps float32) {
	x = x[:len(dst)]
	ss := sumSquares(x)
	s := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	if w == nil {
		for j, v := range x {
			dst[j] = v * s
		}
		return
	}
	scaleRow(dst, x, w[:len(dst)], s)
}

func sumSquaresGo(x []float32) float64 {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	return ss
}

func scaleRowGo(dst, x, w []float32, s float32) {
	for j, v := range x {
		dst[j] = v * s * w[j]
	}
}
