package mx

import "syscall"

// osYield gives the processor to another runnable thread, if any
// (sched_yield): the step of the pool's spin-waits, so that on a busy
// machine a waiting thread does not keep the one it waits for off the
// processor.
func osYield() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
