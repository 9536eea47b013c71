package mx

import (
	"fmt"
	"sort"
)

func (cpuBackend) Take(table *Array, ids []int) *Array {
	if table.NDim() != 2 {
		panic(fmt.Sprintf("mx: Take: table %v, want 2-D [rows, D]", table))
	}
	n, d := table.shape[0], table.shape[1]
	out, o := newF32(len(ids), d)
	es := table.dt.Size()
	for i, id := range ids {
		if id < 0 || id >= n {
			panic(fmt.Sprintf("mx: Take: index %d out of range [0, %d)", id, n))
		}
		convertToF32(o[i*d:(i+1)*d], table.dt, table.data[id*d*es:(id+1)*d*es])
	}
	return out
}

func normAxis(op string, axis, ndim int) int {
	if axis < 0 {
		axis += ndim
	}
	if axis < 0 || axis >= ndim {
		panic(fmt.Sprintf("mx: %s: axis out of range for %d dimensions", op, ndim))
	}
	return axis
}

// outerInner splits shape around axis: product before, product after.
func outerInner(shape []int, axis int) (int, int) {
	outer, inner := 1, 1
	for i, d := range shape {
		if i < axis {
			outer *= d
		} else if i > axis {
			inner *= d
		}
	}
	return outer, inner
}

func (cpuBackend) Concatenate(arrays []*Array, axis int) *Array {
	if len(arrays) == 0 {
		panic("mx: Concatenate: no arrays")
	}
	first := arrays[0]
	axis = normAxis("Concatenate", axis, first.NDim())
	shape := first.Shape()
	shape[axis] = 0
	for _, a := range arrays {
		if a.dt != first.dt || a.NDim() != first.NDim() {
			panic(fmt.Sprintf("mx: Concatenate: %v does not match %v", a, first))
		}
		for i := range shape {
			if i != axis && a.shape[i] != first.shape[i] {
				panic(fmt.Sprintf("mx: Concatenate: %v does not match %v on axis %d", a, first, axis))
			}
		}
		shape[axis] += a.shape[axis]
	}
	out := Zeros(first.dt, shape...)
	outer, inner := outerInner(shape, axis)
	es := first.dt.Size()
	rowOut := shape[axis] * inner * es
	off := 0
	for _, a := range arrays {
		n := a.shape[axis] * inner * es
		for o := 0; o < outer; o++ {
			copy(out.data[o*rowOut+off:], a.data[o*n:(o+1)*n])
		}
		off += n
	}
	return out
}

func (cpuBackend) Transpose(a *Array, axes ...int) *Array {
	nd := a.NDim()
	if len(axes) == 0 {
		axes = make([]int, nd)
		for i := range axes {
			axes[i] = nd - 1 - i
		}
	}
	if len(axes) != nd {
		panic(fmt.Sprintf("mx: Transpose: axes %v for %v", axes, a))
	}
	seen := make([]bool, nd)
	shape := make([]int, nd)
	for i, ax := range axes {
		ax = normAxis("Transpose", ax, nd)
		if seen[ax] {
			panic(fmt.Sprintf("mx: Transpose: repeated axis in %v", axes))
		}
		seen[ax] = true
		axes[i] = ax
		shape[i] = a.shape[ax]
	}
	out := Zeros(a.dt, shape...)
	if out.Size() == 0 {
		return out
	}
	es := a.dt.Size()
	// Source strides (in elements) permuted into output order.
	src := rowStrides(a.shape)
	st := make([]int, nd)
	for i, ax := range axes {
		st[i] = src[ax]
	}
	idx := make([]int, nd)
	last := nd - 1
	n := shape[last]
	for o := 0; o < out.Size(); o += n {
		base := 0
		for i := 0; i < last; i++ {
			base += idx[i] * st[i]
		}
		if st[last] == 1 {
			copy(out.data[o*es:(o+n)*es], a.data[base*es:(base+n)*es])
		} else {
			for j := 0; j < n; j++ {
				s := (base + j*st[last]) * es
				copy(out.data[(o+j)*es:(o+j+1)*es], a.data[s:s+es])
			}
		}
		for i := last - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// boxCopy copies the box of size `size` between two row-major arrays with
// element size es: element idx of the box is at dst[dOff+idx·dStride] and
// src[sOff+idx·sStride].
func boxCopy(dst []byte, dShape, dOff []int, src []byte, sShape, sOff []int, size []int, es int) {
	nd := len(size)
	for _, d := range size {
		if d == 0 {
			return
		}
	}
	ds, ss := rowStrides(dShape), rowStrides(sShape)
	idx := make([]int, nd)
	n := size[nd-1] * es
	for {
		d, s := 0, 0
		for i := 0; i < nd; i++ {
			d += (dOff[i] + idx[i]) * ds[i]
			s += (sOff[i] + idx[i]) * ss[i]
		}
		copy(dst[d*es:d*es+n], src[s*es:s*es+n])
		i := nd - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < size[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

func (cpuBackend) Slice(a *Array, start, stop []int) *Array {
	nd := a.NDim()
	if len(start) != nd || len(stop) != nd {
		panic(fmt.Sprintf("mx: Slice: start %v stop %v for %v", start, stop, a))
	}
	size := make([]int, nd)
	for i := range size {
		if start[i] < 0 || stop[i] < start[i] || stop[i] > a.shape[i] {
			panic(fmt.Sprintf("mx: Slice: start %v stop %v out of range for %v", start, stop, a))
		}
		size[i] = stop[i] - start[i]
	}
	out := Zeros(a.dt, size...)
	if nd == 0 {
		copy(out.data, a.data)
		return out
	}
	boxCopy(out.data, size, make([]int, nd), a.data, a.shape, start, size, a.dt.Size())
	return out
}

func (cpuBackend) SliceUpdate(dst, src *Array, start []int) *Array {
	nd := dst.NDim()
	if dst.ro {
		panic(fmt.Sprintf("mx: SliceUpdate: destination %v is read-only", dst))
	}
	if src.NDim() != nd || len(start) != nd {
		panic(fmt.Sprintf("mx: SliceUpdate: update %v at %v into %v", src, start, dst))
	}
	for i := range start {
		if start[i] < 0 || start[i]+src.shape[i] > dst.shape[i] {
			panic(fmt.Sprintf("mx: SliceUpdate: update %v at %v out of range for %v", src, start, dst))
		}
	}
	if nd == 0 {
		return dst
	}
	s := src
	if src.dt != dst.dt {
		if !src.dt.IsFloat() {
			panic(fmt.Sprintf("mx: SliceUpdate: cannot store %v into %v", src.dt, dst.dt))
		}
		s = AsType(src, dst.dt)
	}
	boxCopy(dst.data, dst.shape, start, s.data, s.shape, make([]int, nd), s.shape, dst.dt.Size())
	return dst
}

func (cpuBackend) Argmax(x *Array) *Array {
	m, d := x.rows()
	xs := floatRows("Argmax", x)
	shape := x.Shape()
	if len(shape) > 0 {
		shape = shape[:len(shape)-1]
	}
	out := Zeros(I32, shape...)
	o := out.Int32View()
	for i := 0; i < m; i++ {
		row := xs[i*d : (i+1)*d]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		o[i] = int32(best)
	}
	return out
}

func (cpuBackend) TopK(x *Array, k int) (values, indices *Array) {
	m, d := x.rows()
	if k < 0 || k > d {
		panic(fmt.Sprintf("mx: TopK: k=%d for %v", k, x))
	}
	xs := floatRows("TopK", x)
	shape := x.Shape()
	shape[len(shape)-1] = k
	values, vo := newF32(shape...)
	indices = Zeros(I32, shape...)
	io := indices.Int32View()
	idx := make([]int32, d)
	for i := 0; i < m; i++ {
		row := xs[i*d : (i+1)*d]
		for j := range idx {
			idx[j] = int32(j)
		}
		top := selectTop(row, idx, k)
		for j, t := range top {
			vo[i*k+j] = row[t]
			io[i*k+j] = t
		}
	}
	return values, indices
}

// selectTop returns the indices of the k largest values of row in
// descending order (ties by lower index), partially reordering idx.
func selectTop(row []float32, idx []int32, k int) []int32 {
	less := func(a, b int32) bool { // a ranks before b
		if row[a] != row[b] {
			return row[a] > row[b]
		}
		return a < b
	}
	if k < len(idx)/8 {
		// Keep a sorted window of the best k seen; cheap for small k.
		top := make([]int32, 0, k+1)
		for _, j := range idx {
			if len(top) == k && !less(j, top[k-1]) {
				continue
			}
			p := sort.Search(len(top), func(i int) bool { return less(j, top[i]) })
			top = append(top, 0)
			copy(top[p+1:], top[p:])
			top[p] = j
			if len(top) > k {
				top = top[:k]
			}
		}
		return top
	}
	sort.Slice(idx, func(a, b int) bool { return less(idx[a], idx[b]) })
	return idx[:k]
}
