package kernel

import "math/rand/v2"

// rnd returns n values uniform in [-1, 1) from a fixed seed.
func rnd(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// bf16s rounds v to bfloat16 bit patterns.
func bf16s(v []float32) []uint16 {
	out := make([]uint16, len(v))
	for i, x := range v {
		out[i] = FloatToBF16(x)
	}
	return out
}
