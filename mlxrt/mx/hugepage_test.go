package mx_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

// TestHugePageCopy: copies hold the same values, dtypes and shapes, are
// read-only, keep a repeated array as one, survive their originals and a
// garbage collection, and compute like the originals.
func TestHugePageCopy(t *testing.T) {
	w1 := mx.AsType(mx.FromFloat32(randF32(1, 300*64), 300, 64), mx.BF16)
	w2 := mx.FromFloat32(randF32(2, 5*7), 5, 7)
	empty := mx.Zeros(mx.F32, 0, 4)
	in := []*mx.Array{w1, w2, w1, empty}
	out := mx.HugePageCopy(in)
	require.Len(t, out, 4)
	assert.Same(t, out[0], out[2])
	for i, a := range out {
		assert.Equal(t, in[i].DType(), a.DType())
		assert.Equal(t, in[i].Shape(), a.Shape())
		assert.Equal(t, in[i].Bytes(), a.Bytes())
	}
	if out[0] != w1 { // copied (Linux with transparent huge pages)
		assert.True(t, out[0].ReadOnly())
	}
	x := mx.AsType(mx.FromFloat32(randF32(3, 64), 1, 64), mx.BF16)
	want := mx.Linear(x, w1, nil).Float32s()
	r := out[0].Reshape(-1, 64)
	out = nil
	runtime.GC()
	runtime.GC()
	assert.Equal(t, want, mx.Linear(x, r, nil).Float32s())
	assert.Empty(t, mx.HugePageCopy(nil))
}
