package mx

import (
	"runtime"
	"sync"
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

// parallelFor splits [0, n) into contiguous ranges, at most one per thread
// and none shorter than grain (except the last), and runs fn on each; it
// returns when all have finished. Ranges of aligned start are favoured: every
// boundary except n is a multiple of align (align ≥ 1).
func parallelFor(n, grain, align int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	ws := workers.get()
	parts := len(ws) + 1
	if grain < 1 {
		grain = 1
	}
	if maxParts := (n + grain - 1) / grain; parts > maxParts {
		parts = maxParts
	}
	if parts <= 1 {
		fn(0, n)
		return
	}
	step := (n + parts - 1) / parts
	if align > 1 {
		step = (step + align - 1) / align * align
	}
	var wg sync.WaitGroup
	lo := step
	for i := 0; lo < n; i++ {
		hi := min(lo+step, n)
		wg.Add(1)
		ws[i] <- task{fn: fn, lo: lo, hi: hi, wg: &wg}
		lo = hi
	}
	fn(0, min(step, n))
	wg.Wait()
}
