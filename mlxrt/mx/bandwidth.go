package mx

import (
	"sync/atomic"
	"time"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// bandwidthSink keeps the probe's sums observable so the reads are not
// optimised away.
var bandwidthSink atomic.Uint64

// ReadBandwidth measures the machine's memory read bandwidth in GB/s: all
// pool threads stream through a buffer of size bytes (raised to 64 MiB so
// caches do not count), best of passes passes (at least 1). It allocates
// and touches the buffer first and takes about passes·size/bandwidth.
// Benchmarks report decode rates as a fraction of it (the roofline). It
// runs on the worker pool, so do not call it concurrently with operations.
func ReadBandwidth(size, passes int) float64 {
	size = max(size, 64<<20)
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	var best float64
	for p := 0; p < max(passes, 1); p++ {
		t0 := time.Now()
		parallelFor(len(buf), 1<<16, 1<<10, func(lo, hi int) {
			bandwidthSink.Add(kernel.StreamSum(buf[lo:hi]))
		})
		best = max(best, float64(len(buf)*8)/time.Since(t0).Seconds()/1e9)
	}
	return best
}
