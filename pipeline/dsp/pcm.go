package dsp

import "encoding/binary"

// AppendS16LE decodes signed 16-bit little-endian PCM and appends the
// samples to dst as float32 in [-1, 1) (s/32768). A trailing odd byte is
// ignored: streaming callers keep it and prepend it to the next chunk.
func AppendS16LE(dst []float32, src []byte) []float32 {
	n := len(src) / 2
	dst = growFloats(dst, n)
	for i := range n {
		dst = append(dst, float32(int16(binary.LittleEndian.Uint16(src[2*i:])))/32768)
	}
	return dst
}

// AppendFloat32AsS16LE encodes samples as signed 16-bit little-endian PCM,
// appending to dst. Values are scaled by 32768, rounded to nearest and
// clipped to [-32768, 32767], so AppendS16LE followed by this function is
// lossless.
func AppendFloat32AsS16LE(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(FloatToS16(v)))
	}
	return dst
}

// FloatToS16 converts one sample in [-1, 1] to 16-bit PCM (scale 32768,
// round to nearest, clip). NaN becomes 0.
func FloatToS16(v float32) int16 {
	x := v * 32768
	switch {
	case x >= 32767:
		return 32767
	case x <= -32768:
		return -32768
	case x != x: // NaN
		return 0
	case x >= 0:
		return int16(x + 0.5)
	default:
		return int16(x - 0.5)
	}
}

// Downmix averages interleaved frames of channels samples into mono,
// appending to dst. A trailing partial frame is ignored.
func Downmix(dst, interleaved []float32, channels int) []float32 {
	if channels <= 1 {
		return append(dst, interleaved...)
	}
	n := len(interleaved) / channels
	dst = growFloats(dst, n)
	inv := 1 / float32(channels)
	for i := range n {
		var s float32
		for _, v := range interleaved[i*channels : (i+1)*channels] {
			s += v
		}
		dst = append(dst, s*inv)
	}
	return dst
}

// growFloats makes room for n more elements without changing len.
func growFloats(dst []float32, n int) []float32 {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	grown := make([]float32, len(dst), len(dst)+n)
	copy(grown, dst)
	return grown
}
