//go:build !linux

package mx

import "runtime"

// osYield lets other goroutines run: the step of the pool's spin-waits.
func osYield() { runtime.Gosched() }
