package mx

import (
	"runtime"
)

// hugeBlock is memory obtained from the operating system for HugePageCopy.
// It is returned to the system (by a cleanup) once no array refers to it.
type hugeBlock struct {
	size int
}

// hugePageAlign is the offset alignment of arrays inside a HugePageCopy
// block (a small page: arrays stay page- and cache-line-aligned).
const hugePageAlign = 4096

// HugePageCopy returns read-only copies of arrays placed one after another,
// in the given order, in one block of memory that the operating system
// backs with 2 MiB transparent huge pages (Linux: an anonymous mapping
// advised MADV_HUGEPAGE, then collapsed with MADV_COLLAPSE where the
// kernel supports it). Decoding streams every weight once per token; with
// 4 KiB pages (a memory-mapped weight file) every 4 KiB read needs its own
// TLB entry, which on a virtual machine costs a nested page walk, and
// measured read bandwidth here is 10–35% lower (PERF.md). An array listed
// twice is copied once and both results are the same array (tied
// embeddings). The block is returned to the system when no array refers to
// it any more; slices obtained from the copies (Float32View, Uint16View,
// Bytes) must not outlive them.
//
// Where huge pages are unavailable (another OS, transparent huge pages
// disabled, the mapping fails) or the copies would take more than half of
// the physical memory, it returns arrays themselves, uncopied.
// It takes about the time of one copy of the data plus the kernel's page
// work (1.2 GB: about a second, most of it faulting in the pages of a
// memory-mapped source, which the first decoding steps would pay
// otherwise) and copies on the worker pool.
func HugePageCopy(arrays []*Array) []*Array {
	out := make([]*Array, len(arrays))
	copy(out, arrays)
	offs := make(map[*Array]int, len(arrays))
	total := 0
	for _, a := range arrays {
		if _, ok := offs[a]; ok {
			continue
		}
		offs[a] = total
		total += (len(a.data) + hugePageAlign - 1) / hugePageAlign * hugePageAlign
	}
	if total == 0 {
		return out
	}
	mem, release := mapHuge(total)
	if mem == nil {
		return out
	}
	blk := &hugeBlock{size: total}
	runtime.AddCleanup(blk, func(f func()) { f() }, release)
	copies := make(map[*Array]*Array, len(offs))
	uniq := make([]*Array, 0, len(offs))
	for _, a := range arrays {
		if _, ok := copies[a]; ok {
			continue
		}
		o := offs[a]
		copies[a] = &Array{dt: a.dt, shape: cloneShape(a.shape), data: mem[o : o+len(a.data) : o+len(a.data)], ro: true, owner: blk}
		uniq = append(uniq, a)
	}
	// Copy in parallel, one array (a few MB) per part.
	parallelFor(len(uniq), 1, 1, func(lo, hi int) {
		for _, a := range uniq[lo:hi] {
			copy(copies[a].data, a.data)
		}
	})
	collapseHuge(mem)
	for i, a := range arrays {
		out[i] = copies[a]
	}
	return out
}
