package mx_test

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/mlxrt/mx"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mx.Shutdown()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

// randF32 returns n values uniform in [-1, 1) from a fixed seed.
func randF32(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// toDType stores v as dt and returns the array plus the values it actually
// holds (rounded), for float64 references.
func toDType(t *testing.T, dt mx.DType, v []float32, shape ...int) (*mx.Array, []float64) {
	t.Helper()
	a := mx.AsType(mx.FromFloat32(v, shape...), dt)
	held := a.Float32s()
	out := make([]float64, len(held))
	for i, x := range held {
		out[i] = float64(x)
	}
	return a, out
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// refLinear computes x[m×k]·w[n×k]ᵀ in float64.
func refLinear(x, w []float64, m, n, k int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += x[i*k+p] * w[j*k+p]
			}
			out[i*n+j] = s
		}
	}
	return out
}

// maxRelErr returns max |got-want| / (|want|+scale) over elements.
func maxErr(got []float32, want []float64) float64 {
	var e float64
	for i := range want {
		e = math.Max(e, math.Abs(float64(got[i])-want[i]))
	}
	return e
}
