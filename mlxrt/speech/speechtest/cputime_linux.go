package speechtest

import (
	"syscall"
	"time"
)

// ThreadCPU is the CPU time (user and system) the calling OS thread has
// used, or zero when the kernel does not report it. Called on the pinned
// thread, it measures an engine's work without the waiting a busy machine
// adds to wall time.
func ThreadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
