package mx_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

func TestF16RoundTripsEveryValue(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := mx.F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			assert.True(t, math.IsNaN(float64(mx.F16ToF32(mx.F32ToF16(f)))))
			continue
		}
		require.Equal(t, uint16(h), mx.F32ToF16(f), "half %#04x -> %v", h, f)
	}
}

func TestF32ToF16RoundsToNearestEven(t *testing.T) {
	one := mx.F32ToF16(1)
	ulp := float32(1.0 / 1024)
	assert.Equal(t, one, mx.F32ToF16(1+ulp/2), "tie rounds to even (down)")
	assert.Equal(t, one+1, mx.F32ToF16(1+ulp/2+ulp/8), "above tie rounds up")
	assert.Equal(t, one+2, mx.F32ToF16(1+3*ulp/2), "tie rounds to even (up)")
	assert.Equal(t, uint16(0x7c00), mx.F32ToF16(70000), "overflow is +Inf")
	assert.Equal(t, uint16(0x0001), mx.F32ToF16(float32(math.Ldexp(1, -24))), "smallest subnormal")
	assert.Equal(t, float32(65504), mx.F16ToF32(0x7bff))
}

func TestBF16(t *testing.T) {
	assert.Equal(t, uint16(0x3f80), mx.F32ToBF16(1))
	assert.Equal(t, uint16(0x3f80), mx.F32ToBF16(math.Float32frombits(0x3f808000)), "tie to even")
	assert.Equal(t, uint16(0x3f82), mx.F32ToBF16(math.Float32frombits(0x3f818000)), "tie to even up")
	assert.Equal(t, float32(1.5), mx.BF16ToF32(0x3fc0))
	assert.True(t, math.IsNaN(float64(mx.BF16ToF32(mx.F32ToBF16(float32(math.NaN()))))))
}

func TestParseDType(t *testing.T) {
	for _, name := range []string{"F32", "F16", "BF16", "U32", "I32", "U8", "I8", "BOOL", "I64", "F64", "U16", "I16", "U64"} {
		dt, err := mx.ParseDType(name)
		require.NoError(t, err)
		assert.Equal(t, name, dt.String())
	}
	_, err := mx.ParseDType("F8_E4M3")
	assert.ErrorContains(t, err, "unknown dtype")
}

func TestFromBytes(t *testing.T) {
	b := make([]byte, 13)
	a, err := mx.FromBytes(mx.BF16, b[1:13], 2, 3)
	require.NoError(t, err, "misaligned data is copied, not refused")
	assert.True(t, a.ReadOnly())
	assert.Equal(t, []int{2, 3}, a.Shape())
	_, err = mx.FromBytes(mx.F32, b[:12], 2, 3)
	assert.ErrorContains(t, err, "12 bytes")
	_, err = mx.FromBytes(mx.F32, b[:12], -1, 3)
	assert.ErrorContains(t, err, "negative")
	_, err = mx.FromBytes(mx.F32, nil, 1<<30, 1<<30)
	assert.ErrorContains(t, err, "too large")
	_, err = mx.FromBytes(mx.Invalid, b, 13)
	assert.Error(t, err)
}

func TestArrayBasics(t *testing.T) {
	a := mx.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	assert.Equal(t, "F32[2 3]", a.String())
	r := a.Reshape(3, -1)
	assert.Equal(t, []int{3, 2}, r.Shape())
	assert.Equal(t, a.Float32s(), r.Float32s())
	assert.Panics(t, func() { a.Reshape(4, -1) })
	assert.Equal(t, 6, a.Size())
	assert.Equal(t, 24, a.NBytes())
	assert.Equal(t, 3, a.Dim(-1))
	h := mx.AsType(a, mx.F16)
	assert.Equal(t, mx.F16, h.DType())
	assert.Equal(t, a.Float32s(), h.Float32s())
	z := mx.Zeros(mx.I32, 4)
	assert.Equal(t, []int32{0, 0, 0, 0}, z.Int32s())
}
