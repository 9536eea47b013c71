//go:build !linux

package mx

// mapHuge: transparent huge pages are a Linux feature; elsewhere
// HugePageCopy leaves arrays where they are.
func mapHuge(int) ([]byte, func()) { return nil, nil }

func collapseHuge([]byte) {}
