package mx

import (
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"
)

// bandwidthSink keeps the probe's sums observable so the reads are not
// optimised away.
var bandwidthSink atomic.Uint64

// ReadBandwidth measures the machine's memory read bandwidth in GB/s: all
// pool threads stream through a buffer of size bytes (raised to 64 MiB so
// caches do not count), best of passes passes (at least 1). The buffer is
// backed by huge pages where HugePageCopy would get them, like the weights
// the engine streams, so that TLB misses do not count either (with 4 KiB
// pages on a virtual machine the same loop reads 10–35% slower). It
// allocates and touches the buffer first and takes about
// passes·size/bandwidth. Benchmarks report decode rates as a fraction of it
// (the roofline). It runs on the worker pool, so do not call it
// concurrently with operations.
func ReadBandwidth(size, passes int) float64 { return readBandwidth(size, passes, true) }

// readBandwidth is ReadBandwidth, on a buffer of small (4 KiB) pages from
// the Go heap unless huge.
func readBandwidth(size, passes int, huge bool) float64 {
	size = max(size, 64<<20) / 8 * 8
	var mem []byte
	if huge {
		var release func()
		if mem, release = mapHuge(size); mem != nil {
			defer release()
		}
	}
	if mem == nil {
		mem = alloc(size)
	}
	buf := unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), size/8)
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
