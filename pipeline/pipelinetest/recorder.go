package pipelinetest

import (
	"sync"
	"time"

	"github.com/ominix/ominix-api/pipeline"
)

// Recorder is a Sink that keeps every event; tests wait on it.
type Recorder struct {
	mu     sync.Mutex
	events []pipeline.Event
	done   chan struct{}
	once   sync.Once
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{done: make(chan struct{})} }

// Emit records ev; it never blocks.
func (r *Recorder) Emit(ev pipeline.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if pipeline.Terminal(ev) {
		r.once.Do(func() { close(r.done) })
	}
}

// Events returns a copy of the events so far.
func (r *Recorder) Events() []pipeline.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.Event(nil), r.events...)
}

// Wait waits up to d for the terminal event and returns it (nil on timeout).
func (r *Recorder) Wait(d time.Duration) pipeline.Event {
	select {
	case <-r.done:
		evs := r.Events()
		for i := len(evs) - 1; i >= 0; i-- {
			if pipeline.Terminal(evs[i]) {
				return evs[i]
			}
		}
	case <-time.After(d):
	}
	return nil
}

// Done is closed when the terminal event arrives.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Text joins the content of every TextDelta.
func (r *Recorder) Text() string {
	s := ""
	for _, ev := range r.Events() {
		if d, ok := ev.(pipeline.TextDelta); ok {
			s += d.Content
		}
	}
	return s
}
