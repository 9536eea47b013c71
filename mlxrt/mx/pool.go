package mx

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool is the CPU backend's fork-join worker pool: GOMAXPROCS-1 worker
// goroutines plus the calling goroutine share each parallel loop. Workers
// start on first use and stop in Shutdown; a later operation starts them
// again.
//
// A decode step runs a few hundred short parallel loops (a matrix-vector
// product of a few megabytes takes ~100 µs), so handing a loop over must
// not wait for the operating system to wake a sleeping thread (tens of
// microseconds on a virtual machine). After each loop the workers poll for
// the next one for up to spinFor, yielding the processor between polls
// (sched_yield: on a busy machine the thread they wait for gets to run),
// and only then park on a channel; the caller likewise polls for the
// helpers to finish before it parks. Between decode steps the workers
// thus go to sleep after spinFor.
type pool struct {
	mu      sync.Mutex // guards workers (start and Shutdown)
	workers []*worker
	done    sync.WaitGroup // running workers

	// busy is set while a loop is distributed: one loop at a time uses the
	// workers; a loop started meanwhile (another goroutine, or a loop
	// nested in a loop body) runs on its caller alone.
	busy atomic.Bool

	// ctl is the loop in flight: its number (bits 32–63), whether it is
	// open to helpers (bit 31), and how many helpers are inside it (bits
	// 0–30). A helper enters only an open loop, so the caller never waits
	// for a helper that has not started: when no worker shows up in time
	// (asleep, or descheduled on a busy machine) the caller runs the
	// whole loop itself.
	ctl atomic.Uint64

	// The loop in flight, written by its caller before it opens the loop
	// and read-only until it is closed and no helper is inside.
	fn      func(lo, hi int)
	n       int64
	grain   int64
	align   int64
	div     int64
	next    atomic.Int64  // start of the part not taken yet
	waiting atomic.Bool   // the caller is parked on joined
	joined  chan struct{} // capacity 1: wakes a parked caller
}

const (
	loopOpen   = 1 << 31
	loopInside = 1<<31 - 1
)

// worker is one helper goroutine's wake-up line.
type worker struct {
	parked atomic.Bool   // the worker is (about to be) blocked on wake
	stop   atomic.Bool   // Shutdown asked the worker to exit
	wake   chan struct{} // capacity 1: wakes a parked worker
}

// spinFor is how long an idle worker, or a caller waiting for its helpers,
// polls before blocking. It covers the serial work between the parallel
// loops of a forward pass (norms, small element-wise operations, sampling).
const spinFor = 200 * time.Microsecond

var workers pool

// Shutdown stops the CPU backend's worker goroutines and waits for them to
// exit. It must not run concurrently with an operation. Operations called
// afterwards start the workers again, so Shutdown is safe to call from
// TestMain before a goroutine-leak check or at process shutdown.
func Shutdown() {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	for _, w := range workers.workers {
		w.stop.Store(true)
		notify(w.wake)
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

// notify sends a token on a channel of capacity 1 unless one is pending.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (p *pool) get() []*worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.joined == nil {
		p.joined = make(chan struct{}, 1)
	}
	if p.workers == nil {
		n := runtime.GOMAXPROCS(0) - 1
		p.workers = make([]*worker, n)
		for i := range p.workers {
			w := &worker{wake: make(chan struct{}, 1)}
			p.workers[i] = w
			p.done.Add(1)
			go p.run(w)
		}
	}
	return p.workers
}

// run is a worker's loop: wait for a loop it has not seen, enter it while
// it is open, take parts until none is left, leave.
func (p *pool) run(w *worker) {
	defer p.done.Done()
	seen := p.ctl.Load() >> 32
	for {
		id, ok := p.await(w, seen)
		if !ok {
			return
		}
		seen = id
		if !p.enter(id) {
			continue
		}
		p.work()
		if s := p.ctl.Add(^uint64(0)); s&(loopOpen|loopInside) == 0 && p.waiting.Load() {
			notify(p.joined)
		}
	}
}

// await returns the number of the first open loop after seen, or false
// when w is to stop. It polls for spinFor, then parks on w.wake.
func (p *pool) await(w *worker, seen uint64) (uint64, bool) {
	for {
		t0 := time.Now()
		for {
			if s := p.ctl.Load(); s>>32 != seen && s&loopOpen != 0 {
				return s >> 32, true
			}
			if w.stop.Load() {
				return 0, false
			}
			if time.Since(t0) > spinFor {
				break
			}
			osYield()
		}
		// Park. The caller opens a loop before it reads parked, and we
		// set parked before we read ctl: one of us sees the other.
		w.parked.Store(true)
		if s := p.ctl.Load(); (s>>32 == seen || s&loopOpen == 0) && !w.stop.Load() {
			<-w.wake
		}
		w.parked.Store(false)
	}
}

// enter counts the calling helper into loop id if it is still open.
func (p *pool) enter(id uint64) bool {
	for {
		s := p.ctl.Load()
		if s>>32 != id || s&loopOpen == 0 {
			return false
		}
		if p.ctl.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// work takes parts of the loop in flight and runs them until none is left.
// Parts shrink as the loop proceeds (guided scheduling: a fraction of
// what remains, no shorter than grain and a multiple of align), so that
// the threads finish close together even when one was delayed, while the
// first parts stay long and contiguous for the memory prefetchers.
func (p *pool) work() {
	n, grain, align := p.n, p.grain, p.align
	for {
		lo := p.next.Load()
		if lo >= n {
			return
		}
		size := max((n-lo)/p.div, grain)
		if align > 1 {
			size = (size + align - 1) / align * align
		}
		hi := min(lo+size, n)
		if !p.next.CompareAndSwap(lo, hi) {
			continue
		}
		p.fn(int(lo), int(hi))
	}
}

// parallelFor splits [0, n) into contiguous ranges no shorter than grain
// (except the last) whose boundaries, except n, are multiples of align
// (align ≥ 1), and runs fn on each; it returns when all have finished. The
// caller and the workers take ranges from a shared counter, long ones
// first and shorter ones as the loop nears its end, so a thread delayed
// by other processes on a shared machine does not hold the others back.
// A loop started while another is being distributed (from another
// goroutine, or nested in a loop body) runs on its caller alone.
func parallelFor(n, grain, align int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	align = max(align, 1)
	if n <= grain || !workers.busy.CompareAndSwap(false, true) {
		fn(0, n)
		return
	}
	p := &workers
	ws := p.get()
	if len(ws) == 0 {
		p.busy.Store(false)
		fn(0, n)
		return
	}
	p.fn, p.n, p.grain, p.align = fn, int64(n), int64(grain), int64(align)
	p.div = int64(2 * (len(ws) + 1))
	p.next.Store(0)
	id := p.ctl.Load()>>32 + 1
	p.ctl.Store(id<<32 | loopOpen)
	defer p.join()
	for _, w := range ws {
		if w.parked.Load() {
			notify(w.wake)
		}
	}
	p.work()
}

// join closes the loop in flight to helpers, waits for those inside it
// (polling for up to spinFor, then parked on p.joined) and releases the
// pool.
func (p *pool) join() {
	s := p.ctl.And(^uint64(loopOpen)) &^ loopOpen
	if s&loopInside != 0 {
		t0 := time.Now()
		for p.ctl.Load()&loopInside != 0 {
			if time.Since(t0) > spinFor {
				p.waiting.Store(true)
				for p.ctl.Load()&loopInside != 0 {
					<-p.joined
				}
				p.waiting.Store(false)
				break
			}
			osYield()
		}
	}
	p.fn = nil
	p.busy.Store(false)
}
