package mx

import (
	"fmt"
	"strings"
	"unsafe"
)

// MaxDims is the largest number of dimensions an Array may have.
const MaxDims = 8

// Array is an n-dimensional, row-major, contiguous array. Its elements are
// stored little-endian in a byte slice that may belong to the array or wrap
// memory it does not own (a memory-mapped weight file), in which case the
// array is read-only and must not outlive that memory.
//
// Arrays are values produced by operations; only SliceUpdate writes into an
// existing array. An Array is safe for concurrent reads.
type Array struct {
	dt    DType
	shape []int
	data  []byte
	ro    bool
	// owner keeps memory that data points into, and that the garbage
	// collector does not manage, alive (HugePageCopy); nil otherwise.
	owner *hugeBlock
}

// checkShape validates shape and returns its element count.
func checkShape(op string, shape []int) int {
	if len(shape) > MaxDims {
		panic(fmt.Sprintf("mx: %s: %d dimensions, at most %d", op, len(shape), MaxDims))
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("mx: %s: negative dimension in shape %v", op, shape))
		}
		if d != 0 && n > maxElems/d {
			panic(fmt.Sprintf("mx: %s: shape %v too large", op, shape))
		}
		n *= d
	}
	return n
}

// maxElems bounds the element count of one array (2^40), far above any
// model tensor and far below integer overflow for byte sizes.
const maxElems = 1 << 40

// ShapeSize returns the number of elements of shape, or an error when a
// dimension is negative, there are more than MaxDims dimensions, or the count
// exceeds 2^40. Loaders use it to check shapes read from files.
func ShapeSize(shape []int) (int, error) {
	if len(shape) > MaxDims {
		return 0, fmt.Errorf("mx: %d dimensions, at most %d", len(shape), MaxDims)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("mx: negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("mx: shape %v too large", shape)
		}
		n *= d
	}
	return n, nil
}

func cloneShape(s []int) []int { return append([]int(nil), s...) }

// Zeros returns a new zero-filled array.
func Zeros(dt DType, shape ...int) *Array {
	if dt.Size() == 0 {
		panic(fmt.Sprintf("mx: Zeros: invalid dtype %v", dt))
	}
	n := checkShape("Zeros", shape)
	return &Array{dt: dt, shape: cloneShape(shape), data: alloc(n * dt.Size())}
}

// alloc returns a zeroed byte slice aligned for any element type (Go's
// allocator aligns large blocks; small ones are backed by a uint64 slice).
func alloc(nbytes int) []byte {
	if nbytes == 0 {
		return []byte{}
	}
	words := make([]uint64, (nbytes+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), nbytes)
}

// FromFloat32 returns an F32 array that shares data (no copy); len(data) must
// equal the product of shape. With no shape, the array is 1-D of len(data).
// The caller must not modify data while the array is in use.
func FromFloat32(data []float32, shape ...int) *Array {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	if n := checkShape("FromFloat32", shape); n != len(data) {
		panic(fmt.Sprintf("mx: FromFloat32: %d values for shape %v", len(data), shape))
	}
	return &Array{dt: F32, shape: cloneShape(shape), data: f32Bytes(data)}
}

// FromInt32 returns an I32 array that shares data, like FromFloat32.
func FromInt32(data []int32, shape ...int) *Array {
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	if n := checkShape("FromInt32", shape); n != len(data) {
		panic(fmt.Sprintf("mx: FromInt32: %d values for shape %v", len(data), shape))
	}
	var b []byte
	if len(data) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
	}
	return &Array{dt: I32, shape: cloneShape(shape), data: b}
}

// FromBytes returns a read-only array of dtype dt over b without copying,
// unless b is not aligned to the element size, in which case it is copied
// (safetensors does not promise alignment). len(b) must equal the product of
// shape times dt.Size(). The array must not be used after b's memory is
// released (for a memory-mapped file: after the file is closed).
func FromBytes(dt DType, b []byte, shape ...int) (*Array, error) {
	if dt.Size() == 0 {
		return nil, fmt.Errorf("mx: FromBytes: invalid dtype %v", dt)
	}
	n, err := ShapeSize(shape)
	if err != nil {
		return nil, fmt.Errorf("mx: FromBytes: %w", err)
	}
	if n*dt.Size() != len(b) {
		return nil, fmt.Errorf("mx: FromBytes: %d bytes for %v %v (want %d)", len(b), dt, shape, n*dt.Size())
	}
	if len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%uintptr(dt.Size()) != 0 {
		c := alloc(len(b))
		copy(c, b)
		b = c
	}
	return &Array{dt: dt, shape: cloneShape(shape), data: b, ro: true}, nil
}

// DType returns the element type.
func (a *Array) DType() DType { return a.dt }

// Shape returns a copy of the shape.
func (a *Array) Shape() []int { return cloneShape(a.shape) }

// NDim returns the number of dimensions.
func (a *Array) NDim() int { return len(a.shape) }

// Dim returns dimension i; negative i counts from the end (-1 is the last).
func (a *Array) Dim(i int) int {
	if i < 0 {
		i += len(a.shape)
	}
	return a.shape[i]
}

// Size returns the number of elements.
func (a *Array) Size() int { return len(a.data) / a.dt.Size() }

// NBytes returns the size of the data in bytes.
func (a *Array) NBytes() int { return len(a.data) }

// ReadOnly reports whether the array wraps memory it must not write
// (FromBytes). SliceUpdate refuses read-only destinations.
func (a *Array) ReadOnly() bool { return a.ro }

// Bytes returns the raw little-endian storage (no copy). Do not modify it
// when the array is read-only.
func (a *Array) Bytes() []byte { return a.data }

// Float32View returns the storage of an F32 array as []float32 without
// copying; writes through it change the array. It panics for other dtypes.
func (a *Array) Float32View() []float32 {
	a.mustBe("Float32View", F32)
	return f32s(a.data)
}

// Uint16View returns the storage of an F16 or BF16 array as raw uint16 bit
// patterns without copying. It panics for other dtypes.
func (a *Array) Uint16View() []uint16 {
	if a.dt != F16 && a.dt != BF16 && a.dt != U16 {
		panic(fmt.Sprintf("mx: Uint16View: dtype %v", a.dt))
	}
	return u16s(a.data)
}

// Uint32View returns the storage of a U32 array without copying.
func (a *Array) Uint32View() []uint32 {
	a.mustBe("Uint32View", U32)
	return u32s(a.data)
}

// Int32View returns the storage of an I32 array without copying.
func (a *Array) Int32View() []int32 {
	a.mustBe("Int32View", I32)
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(a.data))), len(a.data)/4)
}

func (a *Array) mustBe(op string, dt DType) {
	if a.dt != dt {
		panic(fmt.Sprintf("mx: %s: dtype %v, want %v", op, a.dt, dt))
	}
}

// Float32s returns the elements converted to float32 in a new slice.
// It supports every numeric dtype (64-bit integers and F64 lose precision).
func (a *Array) Float32s() []float32 {
	out := make([]float32, a.Size())
	convertToF32(out, a.dt, a.data)
	return out
}

// Int32s returns the elements of an integer array (U8, I8, U16, I16, U32,
// I32, U64, I64, Bool) converted to int32 in a new slice. Out-of-range
// values wrap. It panics for float dtypes.
func (a *Array) Int32s() []int32 {
	if a.dt.IsFloat() {
		panic(fmt.Sprintf("mx: Int32s: dtype %v", a.dt))
	}
	out := make([]int32, a.Size())
	for i := range out {
		out[i] = int32(intAt(a.dt, a.data, i))
	}
	return out
}

// Reshape returns a view of a with a new shape of the same element count;
// one dimension may be -1 and is then inferred. The view shares storage.
func (a *Array) Reshape(shape ...int) *Array {
	shape = cloneShape(shape)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("mx: Reshape: bad shape %v", shape))
		default:
			known *= d
		}
	}
	n := a.Size()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("mx: Reshape: cannot reshape %v to %v", a.shape, shape))
		}
		shape[infer] = n / known
	}
	if checkShape("Reshape", shape) != n {
		panic(fmt.Sprintf("mx: Reshape: cannot reshape %v to %v", a.shape, shape))
	}
	return &Array{dt: a.dt, shape: shape, data: a.data, ro: a.ro, owner: a.owner}
}

// Copy returns a writable deep copy of a.
func (a *Array) Copy() *Array {
	d := alloc(len(a.data))
	copy(d, a.data)
	return &Array{dt: a.dt, shape: cloneShape(a.shape), data: d}
}

// String describes the array's dtype and shape, e.g. "BF16[1024 3072]".
func (a *Array) String() string {
	var sb strings.Builder
	sb.WriteString(a.dt.String())
	fmt.Fprint(&sb, a.shape)
	return sb.String()
}

// rows returns (number of rows, row length) treating a as [..., last].
func (a *Array) rows() (int, int) {
	if len(a.shape) == 0 {
		return 1, 1
	}
	last := a.shape[len(a.shape)-1]
	if last == 0 {
		return 0, 0
	}
	return a.Size() / last, last
}

func f32s(b []byte) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

func u16s(b []byte) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2)
}

func u32s(b []byte) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

func f32Bytes(f []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}

// newF32 allocates a writable F32 array and returns it with its storage.
func newF32(shape ...int) (*Array, []float32) {
	a := Zeros(F32, shape...)
	return a, f32s(a.data)
}
