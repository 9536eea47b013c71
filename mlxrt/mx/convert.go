package mx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// intAt reads element i of an integer (or Bool) buffer as int64.
func intAt(dt DType, b []byte, i int) int64 {
	switch dt {
	case Bool, U8:
		return int64(b[i])
	case I8:
		return int64(int8(b[i]))
	case U16:
		return int64(binary.LittleEndian.Uint16(b[2*i:]))
	case I16:
		return int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	case U32:
		return int64(binary.LittleEndian.Uint32(b[4*i:]))
	case I32:
		return int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
	case U64:
		return int64(binary.LittleEndian.Uint64(b[8*i:]))
	case I64:
		return int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	panic(fmt.Sprintf("mx: not an integer dtype: %v", dt))
}

// convertToF32 converts len(dst) elements of dtype dt from src.
func convertToF32(dst []float32, dt DType, src []byte) {
	switch dt {
	case F32:
		copy(dst, f32s(src))
	case F16:
		kernel.F16ToF32(dst, u16s(src)[:len(dst)])
	case BF16:
		kernel.BF16ToF32(dst, u16s(src)[:len(dst)])
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case U64:
		for i := range dst {
			dst[i] = float32(binary.LittleEndian.Uint64(src[8*i:]))
		}
	default:
		for i := range dst {
			dst[i] = float32(intAt(dt, src, i))
		}
	}
}

// convertFromF32 stores src into dst (dtype dt, F32/F16/BF16 only).
func convertFromF32(dt DType, dst []byte, src []float32) {
	switch dt {
	case F32:
		copy(f32s(dst), src)
	case F16:
		kernel.F32ToF16(u16s(dst)[:len(src)], src)
	case BF16:
		kernel.F32ToBF16(u16s(dst)[:len(src)], src)
	default:
		panic(fmt.Sprintf("mx: cannot store float32 as %v", dt))
	}
}

// AsType returns a converted to dt. Float targets (F32, F16, BF16) accept
// any numeric source and round to nearest even; integer targets are not
// supported. The result is a new writable array (a copy even when dt equals
// a's dtype).
func AsType(a *Array, dt DType) *Array {
	switch dt {
	case F32, F16, BF16:
	default:
		panic(fmt.Sprintf("mx: AsType: unsupported target %v", dt))
	}
	if a.dt == dt {
		return a.Copy()
	}
	out := Zeros(dt, a.shape...)
	if dt == F32 {
		convertToF32(f32s(out.data), a.dt, a.data)
		return out
	}
	tmp := make([]float32, a.Size())
	convertToF32(tmp, a.dt, a.data)
	convertFromF32(dt, out.data, tmp)
	return out
}
