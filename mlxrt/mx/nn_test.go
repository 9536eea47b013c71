package mx_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

func TestRMSNorm(t *testing.T) {
	for _, dt := range []mx.DType{mx.F32, mx.BF16, mx.F16} {
		x := randF32(1, 3*40)
		w, wv := toDType(t, dt, randF32(2, 40), 40)
		got := mx.RMSNorm(mx.FromFloat32(x, 3, 40), w, 1e-6).Float32s()
		for i := 0; i < 3; i++ {
			var ss float64
			for _, v := range x[i*40 : (i+1)*40] {
				ss += float64(v) * float64(v)
			}
			inv := 1 / math.Sqrt(ss/40+1e-6)
			for j := 0; j < 40; j++ {
				assert.InDelta(t, float64(x[i*40+j])*inv*wv[j], got[i*40+j], 1e-6)
			}
		}
	}
	nw := mx.RMSNorm(mx.FromFloat32([]float32{3, 4}), nil, 0).Float32s()
	assert.InDeltaSlice(t, []float32{3 / float32(math.Sqrt(12.5)), 4 / float32(math.Sqrt(12.5))}, nw, 1e-6)
}

// refRoPE rotates x [T, H, D] in float64.
func refRoPE(x []float32, t, h, d, dims int, traditional bool, inv []float64, pos []int) []float64 {
	out := f64(x)
	for r := 0; r < t; r++ {
		for hh := 0; hh < h; hh++ {
			v := out[(r*h+hh)*d:]
			for i := 0; i < dims/2; i++ {
				a, b := i, i+dims/2
				if traditional {
					a, b = 2*i, 2*i+1
				}
				ang := float64(pos[r]) * inv[i]
				c, s := math.Cos(ang), math.Sin(ang)
				x1, x2 := v[a], v[b]
				v[a], v[b] = x1*c-x2*s, x1*s+x2*c
			}
		}
	}
	return out
}

func TestRoPE(t *testing.T) {
	const T, H, D = 3, 2, 16
	x := randF32(3, T*H*D)
	for _, trad := range []bool{false, true} {
		for _, dims := range []int{16, 8} {
			inv := make([]float64, dims/2)
			for i := range inv {
				inv[i] = math.Pow(500000, -float64(2*i)/float64(dims))
			}
			// Offset form.
			got := mx.RoPE(mx.FromFloat32(x, T, H, D), mx.RoPEOptions{Dims: dims, Traditional: trad, Base: 500000, Offset: 5}).Float32s()
			want := refRoPE(x, T, H, D, dims, trad, inv, []int{5, 6, 7})
			assert.Less(t, maxErr(got, want), 2e-6, "trad=%v dims=%d", trad, dims)
			// Per-row positions and explicit inverse frequencies.
			inv32 := make([]float32, len(inv))
			for i := range inv {
				inv32[i] = float32(inv[i])
				inv[i] = float64(inv32[i])
			}
			pos := []int{100, 0, 2047}
			got = mx.RoPE(mx.FromFloat32(x, T, H, D), mx.RoPEOptions{Dims: dims, Traditional: trad, InvFreq: inv32, Positions: pos}).Float32s()
			want = refRoPE(x, T, H, D, dims, trad, inv, pos)
			// float32 angles at position 2047 carry ~1e-4 absolute phase error,
			// as in transformers.
			assert.Less(t, maxErr(got, want), 5e-4, "trad=%v dims=%d", trad, dims)
		}
	}
	assert.Panics(t, func() { mx.RoPE(mx.Zeros(mx.F32, 2, 8), mx.RoPEOptions{}) })
	assert.Panics(t, func() { mx.RoPE(mx.Zeros(mx.F32, 2, 1, 8), mx.RoPEOptions{Positions: []int{1}}) })
}

func TestActivationsAndSoftmax(t *testing.T) {
	x := []float32{-2, 0, 1, 3}
	silu := mx.SiLU(mx.FromFloat32(x)).Float32s()
	for i, v := range x {
		assert.InDelta(t, float64(v)/(1+math.Exp(-float64(v))), silu[i], 1e-6)
	}
	sw := mx.SwiGLU(mx.FromFloat32(x), mx.FromFloat32([]float32{1, 2, 3, 4})).Float32s()
	for i := range x {
		assert.InDelta(t, silu[i]*float32(i+1), sw[i], 1e-6)
	}
	sm := mx.Softmax(mx.FromFloat32([]float32{1, 2, 3, float32(math.Inf(-1))}, 1, 4)).Float32s()
	e := []float64{math.Exp(-2), math.Exp(-1), 1}
	s := e[0] + e[1] + e[2]
	assert.InDeltaSlice(t, []float64{e[0] / s, e[1] / s, e[2] / s, 0}, f64(sm), 1e-7)
	ls := mx.LogSoftmax(mx.FromFloat32([]float32{1, 2, 3}, 1, 3)).Float32s()
	for i := range ls {
		assert.InDelta(t, math.Log(e[i]/s), ls[i], 1e-6)
	}
	allInf := mx.Softmax(mx.FromFloat32([]float32{float32(math.Inf(-1)), float32(math.Inf(-1))})).Float32s()
	assert.Equal(t, []float32{0, 0}, allInf)
}

func TestAddMulBroadcast(t *testing.T) {
	a := mx.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	assert.Equal(t, []float32{2, 4, 6, 8, 10, 12}, mx.Add(a, a).Float32s())
	assert.Equal(t, []float32{11, 22, 33, 14, 25, 36}, mx.Add(a, mx.FromFloat32([]float32{10, 20, 30})).Float32s())
	assert.Equal(t, []float32{10, 20, 30, 80, 100, 120}, mx.Mul(a, mx.FromFloat32([]float32{10, 20}, 2, 1)).Float32s())
	assert.Equal(t, []float32{2, 4, 6, 8, 10, 12}, mx.MulScalar(a, 2).Float32s())
	assert.Panics(t, func() { mx.Add(a, mx.Zeros(mx.F32, 2)) })
}

func TestShapeOps(t *testing.T) {
	a := mx.FromFloat32([]float32{0, 1, 2, 3, 4, 5}, 1, 2, 3)
	tr := mx.Transpose(a, 1, 0, 2)
	assert.Equal(t, []int{2, 1, 3}, tr.Shape())
	assert.Equal(t, []float32{0, 1, 2, 3, 4, 5}, tr.Float32s())
	tr = mx.Transpose(a.Reshape(2, 3))
	assert.Equal(t, []float32{0, 3, 1, 4, 2, 5}, tr.Float32s())
	tr = mx.Transpose(mx.AsType(a, mx.BF16), 2, 1, 0)
	assert.Equal(t, mx.BF16, tr.DType())
	assert.Equal(t, []float32{0, 3, 1, 4, 2, 5}, tr.Float32s())

	c := mx.Concatenate([]*mx.Array{a.Reshape(2, 3), mx.FromFloat32([]float32{6, 7}, 2, 1)}, -1)
	assert.Equal(t, []int{2, 4}, c.Shape())
	assert.Equal(t, []float32{0, 1, 2, 6, 3, 4, 5, 7}, c.Float32s())
	c = mx.Concatenate([]*mx.Array{a.Reshape(2, 3), a.Reshape(2, 3)}, 0)
	assert.Equal(t, []int{4, 3}, c.Shape())

	s := mx.Slice(a.Reshape(2, 3), []int{0, 1}, []int{2, 3})
	assert.Equal(t, []float32{1, 2, 4, 5}, s.Float32s())
	assert.Panics(t, func() { mx.Slice(a.Reshape(2, 3), []int{0, 1}, []int{3, 3}) })

	cache := mx.Zeros(mx.BF16, 2, 4, 3)
	upd := mx.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 1, 3)
	cache = mx.SliceUpdate(cache, upd, []int{0, 2, 0})
	got := cache.Float32s()
	assert.Equal(t, []float32{1, 2, 3}, got[6:9])
	assert.Equal(t, []float32{4, 5, 6}, got[18:21])
	assert.Equal(t, float32(0), got[9])
	assert.Panics(t, func() { mx.SliceUpdate(cache, upd, []int{0, 4, 0}) })
	ro, err := mx.FromBytes(mx.F32, make([]byte, 24), 2, 1, 3)
	require.NoError(t, err)
	assert.Panics(t, func() { mx.SliceUpdate(ro, upd, []int{0, 0, 0}) })
}

func TestArgmaxTopK(t *testing.T) {
	x := mx.FromFloat32([]float32{1, 5, 5, 2, -1, -3, -2, -0.5}, 2, 4)
	assert.Equal(t, []int32{1, 3}, mx.Argmax(x).Int32s())
	v, idx := mx.TopK(x, 3)
	assert.Equal(t, []float32{5, 5, 2, -0.5, -1, -2}, v.Float32s())
	assert.Equal(t, []int32{1, 2, 3, 3, 0, 2}, idx.Int32s())
	big := randF32(4, 1000)
	v, idx = mx.TopK(mx.FromFloat32(big), 5)
	vv := v.Float32s()
	for i := 1; i < 5; i++ {
		assert.GreaterOrEqual(t, vv[i-1], vv[i])
	}
	for i, j := range idx.Int32s() {
		assert.Equal(t, big[j], vv[i])
	}
	assert.Equal(t, int32(mx.Argmax(mx.FromFloat32(big)).Int32s()[0]), idx.Int32s()[0])
}
