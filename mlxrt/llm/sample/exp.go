package sample

import "math"

// exp32 is e^x in float32 to within about 2 ulp, several times faster than
// math.Exp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor
// polynomial, 2^n through the exponent bits. NaN gives 0 (a NaN logit is
// never chosen).
func exp32(x float32) float32 {
	switch {
	case x > 88.7:
		return float32(math.Inf(1))
	case !(x >= -87.3): // also NaN
		return 0
	}
	const log2e = 1.44269504088896341
	n := float32(math.Floor(float64(x*log2e) + 0.5))
	r := x - n*0.693359375 + n*2.12194440e-4 // ln2 split in a high and a low part
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
