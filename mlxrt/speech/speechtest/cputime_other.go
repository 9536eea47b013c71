//go:build !linux

package speechtest

import "time"

// ThreadCPU is unavailable outside Linux: it returns zero, so CPU metrics
// read zero.
func ThreadCPU() time.Duration { return 0 }
