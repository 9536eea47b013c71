package mx

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// pool is the CPU backend's fork-join worker pool: GOMAXPROCS-1 worker
// goroutines plus the calling goroutine share each parallel loop. Workers
// start on first use and stop in Shutdown; a later operation starts them
// again.
type pool struct {
	mu      sync.Mutex
	workers []chan task
	done    sync.WaitGroup // running workers
}

type task struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var workers pool

// Shutdown stops the CPU backend's worker goroutines and waits for them to
// exit. It must not run concurrently with an operation. Operations called
// afterwards start the workers again, so Shutdown is safe to call from
// TestMain before a goroutine-leak check or at process shutdown.
func Shutdown() {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	for _, c := range workers.workers {
		close(c)
	}
	workers.workers = nil
	workers.done.Wait()
}

// Threads returns how many goroutines share a parallel operation
// (GOMAXPROCS when the pool was started).
func Threads() int {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	if workers.workers == nil {
		return runtime.GOMAXPROCS(0)
	}
	return len(workers.workers) + 1
}

func (p *pool) get() []chan task {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers == nil {
		n := runtime.GOMAXPROCS(0) - 1
		p.workers = make([]chan task, n)
		for i := range p.workers {
			c := make(chan task, 1)
			p.workers[i] = c
			p.done.Add(1)
			go p.run(c)
		}
	}
	return p.workers
}

func (p *pool) run(c chan task) {
	defer p.done.Done()
	for t := range c {
		t.fn(t.lo, t.hi)
		t.wg.Done()
	}
}

// parallelFor splits [0, n) into contiguous ranges no shorter than grain
// (except the last) whose boundaries, except n, are multiples of align
// (align ≥ 1), and runs fn on each; it returns when all have finished. The
// caller and the workers take ranges from a shared counter, a few per
// thread, so a thread delayed by other processes on a shared machine does
// not hold the others back.
func parallelFor(n, grain, align int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	ws := workers.get()
	threads := len(ws) + 1
	grain = max(grain, 1)
	parts := min((n+grain-1)/grain, 4*threads)
	if parts <= 1 || threads == 1 {
		fn(0, n)
		return
	}
	step := (n + parts - 1) / parts
	if align > 1 {
		step = (step + align - 1) / align * align
	}
	parts = (n + step - 1) / step
	var next atomic.Int64
	run := func(_, _ int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= parts {
				return
			}
			fn(i*step, min((i+1)*step, n))
		}
	}
	var wg sync.WaitGroup
	helpers := min(len(ws), parts-1)
	wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		ws[i] <- task{fn: run, wg: &wg}
	}
	run(0, 0)
	wg.Wait()
}
