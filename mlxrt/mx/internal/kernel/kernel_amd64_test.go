//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func rnd(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// isaTables returns the gemv tables this CPU can run, by name.
func isaTables() map[string]struct {
	lanes int
	t     [3][4]gemvFn
} {
	m := map[string]struct {
		lanes int
		t     [3][4]gemvFn
	}{}
	if hasAVX2 {
		m["avx2"] = struct {
			lanes int
			t     [3][4]gemvFn
		}{8, [3][4]gemvFn{
			{gemvF32x1AVX2, gemvF32x2AVX2, gemvF32x3AVX2, gemvF32x4AVX2},
			{gemvF16x1AVX2, gemvF16x2AVX2, gemvF16x3AVX2, gemvF16x4AVX2},
			{gemvBF16x1AVX2, gemvBF16x2AVX2, gemvBF16x3AVX2, gemvBF16x4AVX2},
		}}
	}
	if hasAVX512 {
		m["avx512"] = struct {
			lanes int
			t     [3][4]gemvFn
		}{16, [3][4]gemvFn{
			{gemvF32x1AVX512, gemvF32x2AVX512, gemvF32x3AVX512, gemvF32x4AVX512},
			{gemvF16x1AVX512, gemvF16x2AVX512, gemvF16x3AVX512, gemvF16x4AVX512},
			{gemvBF16x1AVX512, gemvBF16x2AVX512, gemvBF16x3AVX512, gemvBF16x4AVX512},
		}}
	}
	return m
}

func TestGemvAssemblyMatchesGo(t *testing.T) {
	saveT, saveL := gemvTable, gemvLanes
	defer func() { gemvTable, gemvLanes = saveT, saveL }()
	for name, isa := range isaTables() {
		gemvTable, gemvLanes = isa.t, isa.lanes
		for _, kind := range []WKind{WF32, WF16, WBF16} {
			for _, k := range []int{8, 16, 24, 40, 64, 100, 1024} {
				for _, nx := range []int{1, 2, 3, 4, 5, 8, 9} {
					t.Run(fmt.Sprintf("%s/%d/k%d/nx%d", name, kind, k, nx), func(t *testing.T) {
						rows := 37
						x := rnd(1, nx*k)
						w32 := rnd(2, rows*k)
						w16 := make([]uint16, rows*k)
						for i, v := range w32 {
							if kind == WF16 {
								w16[i] = FloatToHalf(v)
							} else {
								w16[i] = FloatToBF16(v)
							}
						}
						ldo := rows + 3
						got := make([]float32, nx*ldo)
						want := make([]float32, nx*ldo)
						Gemv(kind, got, ldo, x, nx, k, w32, w16, rows)
						gemvGo(kind, want, ldo, x, nx, k, w32, w16, rows)
						for i := range want {
							if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Sqrt(float64(k)) {
								t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}
