package mx

import "fmt"

// broadcastShape returns numpy's broadcast of a and b.
func broadcastShape(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("mx: %s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	return out
}

// binary applies f elementwise with numpy broadcasting; the result is F32.
func binaryOp(op string, a, b *Array, f func(x, y float32) float32) *Array {
	shape := broadcastShape(op, a.shape, b.shape)
	as, bs := floatRows(op, a), floatRows(op, b)
	out, o := newF32(shape...)
	switch {
	case len(as) == len(o) && len(bs) == len(o):
		for i := range o {
			o[i] = f(as[i], bs[i])
		}
	case len(as) == len(o) && len(bs) > 0 && isSuffix(b.shape, shape):
		n := len(bs)
		for i := range o {
			o[i] = f(as[i], bs[i%n])
		}
	default:
		sa, sb := bstrides(a.shape, shape), bstrides(b.shape, shape)
		idx := make([]int, len(shape))
		for i := range o {
			ia, ib := 0, 0
			for d := range idx {
				ia += idx[d] * sa[d]
				ib += idx[d] * sb[d]
			}
			o[i] = f(as[ia], bs[ib])
			for d := len(idx) - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	return out
}

// isSuffix reports whether small, without its leading 1s, equals the
// trailing dimensions of big.
func isSuffix(small, big []int) bool {
	for len(small) > 0 && small[0] == 1 {
		small = small[1:]
	}
	if len(small) > len(big) {
		return false
	}
	return sameShape(small, big[len(big)-len(small):])
}

// bstrides returns element strides of shape s broadcast to out (0 where
// broadcast).
func bstrides(s, out []int) []int {
	st := make([]int, len(out))
	rs := rowStrides(s)
	off := len(out) - len(s)
	for i := range s {
		if s[i] != 1 {
			st[off+i] = rs[i]
		}
	}
	return st
}

func (cpuBackend) Add(a, b *Array) *Array {
	return binaryOp("Add", a, b, func(x, y float32) float32 { return x + y })
}

func (cpuBackend) Mul(a, b *Array) *Array {
	return binaryOp("Mul", a, b, func(x, y float32) float32 { return x * y })
}

func (cpuBackend) MulScalar(a *Array, s float32) *Array {
	as := floatRows("MulScalar", a)
	out, o := newF32(a.shape...)
	for i, v := range as {
		o[i] = v * s
	}
	return out
}
