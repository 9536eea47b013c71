package mx

// ReadBandwidthSmallPages is ReadBandwidth over 4 KiB pages (Go heap), for
// the benchmarks that compare the two.
func ReadBandwidthSmallPages(size, passes int) float64 { return readBandwidth(size, passes, false) }
