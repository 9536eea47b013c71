package mx

import (
	"fmt"
	"math"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// DType is the element type of an Array.
type DType uint8

// Element types. F32, F16, BF16, U32, I32 and U8 are computed with; the others
// exist so that files holding them can be read and refused with a clear error.
const (
	Invalid DType = iota
	Bool
	U8
	I8
	U16
	I16
	U32
	I32
	U64
	I64
	F16
	BF16
	F32
	F64
)

var dtypeInfo = [...]struct {
	name string // safetensors spelling
	size int
}{
	Invalid: {"invalid", 0},
	Bool:    {"BOOL", 1},
	U8:      {"U8", 1},
	I8:      {"I8", 1},
	U16:     {"U16", 2},
	I16:     {"I16", 2},
	U32:     {"U32", 4},
	I32:     {"I32", 4},
	U64:     {"U64", 8},
	I64:     {"I64", 8},
	F16:     {"F16", 2},
	BF16:    {"BF16", 2},
	F32:     {"F32", 4},
	F64:     {"F64", 8},
}

// Size returns the number of bytes of one element; 0 for Invalid.
func (d DType) Size() int {
	if int(d) >= len(dtypeInfo) {
		return 0
	}
	return dtypeInfo[d].size
}

// String returns the safetensors spelling of d ("F32", "BF16", …).
func (d DType) String() string {
	if int(d) >= len(dtypeInfo) || d == Invalid {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypeInfo[d].name
}

// IsFloat reports whether d is F16, BF16, F32 or F64.
func (d DType) IsFloat() bool { return d == F16 || d == BF16 || d == F32 || d == F64 }

// ParseDType maps a safetensors dtype name ("F32", "BF16", "U32", …) to a
// DType. Unknown names (including F8 variants) return an error.
func ParseDType(name string) (DType, error) {
	for d := Bool; int(d) < len(dtypeInfo); d++ {
		if dtypeInfo[d].name == name {
			return d, nil
		}
	}
	return Invalid, fmt.Errorf("mx: unknown dtype %q", name)
}

// F16ToF32 converts an IEEE 754 half-precision value to float32 exactly.
func F16ToF32(h uint16) float32 { return kernel.HalfToFloat(h) }

// F32ToF16 converts a float32 to half precision, rounding to nearest even
// (the rounding of F16C's VCVTPS2PH and of MLX/numpy casts). Values beyond the
// half range become ±Inf; NaN stays NaN.
func F32ToF16(f float32) uint16 { return kernel.FloatToHalf(f) }

// BF16ToF32 converts a bfloat16 value to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts a float32 to bfloat16, rounding to nearest even (the
// rounding of PyTorch and MLX casts). NaN stays NaN.
func F32ToBF16(f float32) uint16 { return kernel.FloatToBF16(f) }
