package mx

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// covers runs parallelFor and checks that every index is visited exactly
// once, by ranges that respect grain and align.
func covers(t *testing.T, n, grain, align int) {
	t.Helper()
	hits := make([]atomic.Int32, n)
	var bad atomic.Int32
	parallelFor(n, grain, align, func(lo, hi int) {
		if lo%max(align, 1) != 0 || hi != n && (hi-lo < grain || hi%max(align, 1) != 0) || lo >= hi {
			bad.Add(1)
		}
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
	})
	require.Zero(t, bad.Load(), "n %d grain %d align %d: a range broke grain or align", n, grain, align)
	for i := range hits {
		require.Equal(t, int32(1), hits[i].Load(), "n %d grain %d align %d: index %d", n, grain, align, i)
	}
}

func TestParallelForCoversOnce(t *testing.T) {
	for _, n := range []int{1, 2, 15, 16, 17, 100, 1000, 4097, 151936} {
		for _, ga := range [][2]int{{1, 1}, {64, 16}, {7, 1}, {1, 1 << 10}, {4096, 16}} {
			covers(t, n, ga[0], ga[1])
		}
	}
	for range 200 { // back-to-back loops: workers spinning, not parked
		covers(t, 1024, 64, 16)
	}
}

// TestParallelForNestedAndConcurrent: a loop started inside a loop body, or
// from another goroutine while one runs, completes (on its caller).
func TestParallelForNestedAndConcurrent(t *testing.T) {
	var total atomic.Int64
	parallelFor(64, 1, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			parallelFor(32, 1, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
		}
	})
	assert.Equal(t, int64(64*32), total.Load())

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				covers(t, 1000+g, 16, 1)
			}
		}()
	}
	wg.Wait()
}

// TestShutdownRestarts: Shutdown stops parked or spinning workers, and the
// next loop starts them again.
func TestShutdownRestarts(t *testing.T) {
	covers(t, 1000, 1, 1)
	Shutdown()
	covers(t, 1000, 1, 1)
	Shutdown()
	Shutdown()
	covers(t, 1000, 1, 1)
}
