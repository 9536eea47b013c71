//go:build !linux

package flite_test

import "time"

// threadCPU is unavailable here; CPU metrics then read zero.
func threadCPU() time.Duration { return 0 }
