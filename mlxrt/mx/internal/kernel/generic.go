package kernel

import "math"

func bf16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

func dotF32Go(x, w []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(x)
	w = w[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * w[i]
		s1 += x[i+1] * w[i+1]
		s2 += x[i+2] * w[i+2]
		s3 += x[i+3] * w[i+3]
	}
	for ; i < n; i++ {
		s0 += x[i] * w[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16Go(x []float32, w []uint16) float32 {
	var s0, s1, s2, s3 float32
	n := len(x)
	w = w[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * bf16(w[i])
		s1 += x[i+1] * bf16(w[i+1])
		s2 += x[i+2] * bf16(w[i+2])
		s3 += x[i+3] * bf16(w[i+3])
	}
	for ; i < n; i++ {
		s0 += x[i] * bf16(w[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16Go(x []float32, w []uint16) float32 {
	var s0, s1, s2, s3 float32
	n := len(x)
	w = w[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * f16tab(w[i])
		s1 += x[i+1] * f16tab(w[i+1])
		s2 += x[i+2] * f16tab(w[i+2])
		s3 += x[i+3] * f16tab(w[i+3])
	}
	for ; i < n; i++ {
		s0 += x[i] * f16tab(w[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// f16Table maps every half-precision bit pattern to float32 (256 KiB),
// built on first use by the portable paths.
var f16Table []float32

func f16tab(h uint16) float32 { return f16Table[h] }

func init() {
	f16Table = make([]float32, 1<<16)
	for i := range f16Table {
		f16Table[i] = HalfToFloat(uint16(i))
	}
}

// HalfToFloat converts one IEEE half to float32 exactly.
func HalfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	e := uint32(113)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// FloatToHalf converts float32 to IEEE half, rounding to nearest even.
func FloatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := mant >> shift
		rem := mant & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// FloatToBF16 converts float32 to bfloat16, rounding to nearest even.
func FloatToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

func f16ToF32Go(dst []float32, src []uint16) {
	src = src[:len(dst)]
	for i, h := range src {
		dst[i] = f16Table[h]
	}
}

func bf16ToF32Go(dst []float32, src []uint16) {
	src = src[:len(dst)]
	for i, h := range src {
		dst[i] = bf16(h)
	}
}

func f32ToF16Go(dst []uint16, src []float32) {
	src = src[:len(dst)]
	for i, f := range src {
		dst[i] = FloatToHalf(f)
	}
}

func f32ToBF16Go(dst []uint16, src []float32) {
	src = src[:len(dst)]
	for i, f := range src {
		dst[i] = FloatToBF16(f)
	}
}
