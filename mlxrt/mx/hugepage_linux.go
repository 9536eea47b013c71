package mx

import (
	"bytes"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageSize is the size of a transparent huge page on amd64 and arm64
// (4 KiB base pages).
const hugePageSize = 2 << 20

// mapHuge returns size bytes of anonymous memory aligned to hugePageSize
// and advised MADV_HUGEPAGE, and the function that unmaps it; nil when
// transparent huge pages are disabled, size exceeds half the physical
// memory, or the mapping fails.
func mapHuge(size int) ([]byte, func()) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || bytes.Contains(b, []byte("[never]")) {
		return nil, nil
	}
	n := (size + hugePageSize - 1) / hugePageSize * hugePageSize
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil || uint64(n) > uint64(si.Totalram)*uint64(si.Unit)/2 {
		return nil, nil
	}
	raw, err := unix.Mmap(-1, 0, n+hugePageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(&raw[0])) % hugePageSize); r != 0 {
		off = hugePageSize - r
	}
	mem := raw[off : off+n : off+n]
	if err := unix.Madvise(mem, unix.MADV_HUGEPAGE); err != nil {
		_ = unix.Munmap(raw)
		return nil, nil
	}
	return mem[:size:size], func() { _ = unix.Munmap(raw) }
}

// collapseHuge asks the kernel to back mem with huge pages now (pages
// faulted in before the advice took effect would otherwise wait for
// khugepaged). Best effort: kernels before 6.1 do not know MADV_COLLAPSE.
func collapseHuge(mem []byte) {
	n := len(mem) / hugePageSize * hugePageSize
	if n > 0 {
		_ = unix.Madvise(mem[:n], unix.MADV_COLLAPSE)
	}
}
