package pipeline

import (
	"context"
	"sync"
	"time"
)

// Sink receives a task's events in order. Emit must not block: it is called
// from the scheduler loop, and a slow sink would stall every session. The
// sessions package implements it with bounded, policy-driven queues.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(ev Event) { f(ev) }

// SchedulerOptions configure a Scheduler. Zero values give the defaults
// named on each field.
type SchedulerOptions struct {
	// MaxInFlight bounds the tasks being stepped at once. Zero means 64.
	MaxInFlight int
	// MaxBacklog bounds the admitted tasks waiting for an in-flight place;
	// beyond it submissions fail with a KindOverloaded *Error (HTTP 429).
	// Zero means 256.
	MaxBacklog int
	// MaxBatch bounds the LLM sequences decoded together in one step. Zero
	// means 16.
	MaxBatch int
	// RetryAfter is the back-off suggested to rejected clients. Zero means 1s.
	RetryAfter time.Duration
	// ASRChunk is the audio fed to a recognizer per step. Zero means 200ms.
	ASRChunk time.Duration
	// MaxQueuedAudio bounds the audio a transcription may hold unprocessed.
	// Zero means 30 minutes.
	MaxQueuedAudio time.Duration
	// Metrics receives measurements. Nil means none.
	Metrics Metrics
}

func (o *SchedulerOptions) withDefaults() SchedulerOptions {
	v := SchedulerOptions{}
	if o != nil {
		v = *o
	}
	def := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	def(&v.MaxInFlight, 64)
	def(&v.MaxBacklog, 256)
	def(&v.MaxBatch, 16)
	if v.RetryAfter <= 0 {
		v.RetryAfter = time.Second
	}
	if v.ASRChunk <= 0 {
		v.ASRChunk = 200 * time.Millisecond
	}
	if v.MaxQueuedAudio <= 0 {
		v.MaxQueuedAudio = 30 * time.Minute
	}
	if v.Metrics == nil {
		v.Metrics = NopMetrics{}
	}
	return v
}

// ErrShuttingDown is the cause given to work cancelled by Shutdown.
var ErrShuttingDown = &Error{Kind: KindUnavailable, Code: "server_shutting_down",
	Message: "the server is shutting down", RetryAfter: 5 * time.Second}

// task is one session's work in the scheduler. Every method is called from
// the scheduler loop only, except where noted.
type task interface {
	category() Category
	context() context.Context
	// ready reports whether the task has a step to run now.
	ready() bool
	// step runs one step (calling the thread itself) and reports whether
	// the task is finished.
	step(s *Scheduler) bool
	// abort ends the task early with err (cancellation, failure).
	abort(s *Scheduler, err error)
}

// Scheduler admits work from many sessions and interleaves it on the pinned
// thread one small step at a time: in every round, one decode (or prefill
// chunk) step for all active LLM sequences together, and one step for each
// other task that has work. Results go to each task's Sink, never blocking
// the loop. Cancelling a task's context takes effect at its next step.
type Scheduler struct {
	thread *Thread
	slots  *Slots
	opts   SchedulerOptions

	mu       sync.Mutex
	waiting  []task
	closing  bool
	inflight int // tasks in active + llm, for admission

	tasks map[*taskBase]struct{} // every task not yet ended, for Shutdown

	wake    chan struct{}
	stopped chan struct{}

	// Owned by the loop goroutine.
	active []task
	llm    []*chatTask
}

// NewScheduler returns a scheduler running work on thread with models from
// slots. Call Run to start it.
func NewScheduler(thread *Thread, slots *Slots, opts *SchedulerOptions) *Scheduler {
	return &Scheduler{
		thread:  thread,
		slots:   slots,
		opts:    opts.withDefaults(),
		tasks:   map[*taskBase]struct{}{},
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
}

// Thread returns the pinned thread the scheduler runs work on.
func (s *Scheduler) Thread() *Thread { return s.thread }

// Slots returns the model slots.
func (s *Scheduler) Slots() *Slots { return s.slots }

func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// submit admits t into the backlog, or rejects it.
func (s *Scheduler) submit(t task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrShuttingDown
	}
	if len(s.waiting) >= s.opts.MaxBacklog {
		return &Error{Kind: KindOverloaded, Code: "rate_limit_exceeded", RetryAfter: s.opts.RetryAfter,
			Message: "the server is at capacity; retry after a moment"}
	}
	s.waiting = append(s.waiting, t)
	s.opts.Metrics.QueueDepth(len(s.waiting))
	context.AfterFunc(t.context(), s.kick)
	s.kick()
	return nil
}

// QueueDepth returns the number of admitted tasks waiting to start.
func (s *Scheduler) QueueDepth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting)
}

// Run runs the scheduler loop until ctx ends or Shutdown completes. Work
// still running when ctx ends is cancelled with ErrShuttingDown.
func (s *Scheduler) Run(ctx context.Context) error {
	defer close(s.stopped)
	for {
		s.admit()
		busy := s.round()
		if ctx.Err() != nil {
			s.abortAll(ErrShuttingDown)
			return nil
		}
		if s.drained() {
			return nil
		}
		if busy {
			continue
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
		}
	}
}

// drained reports whether Shutdown asked to stop and no work remains.
func (s *Scheduler) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing && len(s.waiting) == 0 && s.inflight == 0
}

// admit moves waiting tasks into the active sets while there is room; tasks
// cancelled while waiting end here.
func (s *Scheduler) admit() {
	s.mu.Lock()
	var keep []task
	var admitted, cancelled []task
	for _, t := range s.waiting {
		switch {
		case t.context().Err() != nil:
			cancelled = append(cancelled, t)
		case s.inflight >= s.opts.MaxInFlight:
			keep = append(keep, t)
		case t.category() == LLMSlot && len(s.llm)+countLLM(admitted) >= s.opts.MaxBatch:
			keep = append(keep, t)
		default:
			admitted = append(admitted, t)
			s.inflight++
		}
	}
	s.waiting = keep
	s.opts.Metrics.QueueDepth(len(keep))
	s.opts.Metrics.ActiveTasks(s.inflight)
	s.mu.Unlock()
	for _, t := range cancelled {
		t.abort(s, context.Cause(t.context()))
	}
	for _, t := range admitted {
		if c, ok := t.(*chatTask); ok {
			c.admittedAt = time.Now()
			s.llm = append(s.llm, c)
		} else {
			s.active = append(s.active, t)
		}
	}
}

func countLLM(ts []task) int {
	n := 0
	for _, t := range ts {
		if t.category() == LLMSlot {
			n++
		}
	}
	return n
}

// round runs one scheduling round and reports whether any step ran.
func (s *Scheduler) round() bool {
	busy := false
	if len(s.llm) > 0 {
		s.stepLLM()
		busy = true
	}
	kept := s.active[:0]
	var done int
	for _, t := range s.active {
		if err := context.Cause(t.context()); err != nil {
			t.abort(s, err)
			done++
			continue
		}
		if !t.ready() {
			kept = append(kept, t)
			continue
		}
		busy = true
		start := time.Now()
		finished := t.step(s)
		s.opts.Metrics.StepDuration(t.category(), time.Since(start))
		if finished {
			done++
			continue
		}
		kept = append(kept, t)
	}
	clear(s.active[len(kept):])
	s.active = kept
	s.retire(done)
	return busy
}

func (s *Scheduler) retire(n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.inflight -= n
	s.opts.Metrics.ActiveTasks(s.inflight)
	s.mu.Unlock()
}

func (s *Scheduler) abortAll(err error) {
	s.mu.Lock()
	waiting := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	for _, t := range waiting {
		t.abort(s, err)
	}
	for _, t := range s.active {
		t.abort(s, err)
	}
	for _, t := range s.llm {
		t.abort(s, err)
	}
	s.retire(len(s.active) + len(s.llm))
	s.active, s.llm = nil, nil
}

// Shutdown stops admitting work (new submissions fail with
// ErrShuttingDown), lets running and queued work finish, and returns when
// the loop has stopped. If ctx ends first, the remaining work is cancelled
// with ErrShuttingDown as cause (each task ends with a final Failed event)
// and Shutdown waits for the loop to deliver those events.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.kick()
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for b := range s.tasks {
		b.cancel(ErrShuttingDown)
	}
	s.mu.Unlock()
	<-s.stopped
	return ctx.Err()
}

// taskBase is what every task has: its context (cancelled with a cause),
// its sink, its model lease.
type taskBase struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	sink   Sink
	lease  *Lease
	cat    Category
	ended  bool
}

func (b *taskBase) category() Category       { return b.cat }
func (b *taskBase) context() context.Context { return b.ctx }

// newBase derives the task's context from the submitter's and registers it
// so that Shutdown can cancel it.
func (s *Scheduler) newBase(ctx context.Context, cat Category, sink Sink, lease *Lease) *taskBase {
	c, cancel := context.WithCancelCause(ctx)
	b := &taskBase{ctx: c, cancel: cancel, sink: sink, lease: lease, cat: cat}
	s.mu.Lock()
	s.tasks[b] = struct{}{}
	s.mu.Unlock()
	return b
}

// end delivers the task's final event (none when final is nil, for a task
// the backlog refused), frees its lease, cancels its context and forgets
// it. It runs once.
func (s *Scheduler) end(b *taskBase, final Event) {
	if b.ended {
		return
	}
	b.ended = true
	if final != nil {
		b.sink.Emit(final)
	}
	b.lease.Release()
	b.cancel(context.Canceled)
	s.mu.Lock()
	delete(s.tasks, b)
	s.mu.Unlock()
}

// failure turns a cancellation cause or step error into the final event.
func failure(err error) Event {
	if err == nil {
		err = context.Canceled
	}
	return Failed{Err: AsError(err)}
}

// run executes fn on the pinned thread for a step. Steps are never
// abandoned half way, so it ignores task contexts.
func (s *Scheduler) run(fn func() error) error {
	return s.thread.Do(context.Background(), fn)
}
