package sessions

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ominix/ominix-api/pipeline"
)

// Metrics receives the sessions' measurements; implementations must not block.
type Metrics interface {
	// SessionsActive reports sessions whose work is queued or running.
	SessionsActive(n int)
	// SlowConsumer counts a subscriber dropped by a policy (err says which).
	SlowConsumer(err error)
}

type nopMetrics struct{}

func (nopMetrics) SessionsActive(int) {}
func (nopMetrics) SlowConsumer(error) {}

// Options configure a Registry. Zero values give the defaults named.
type Options struct {
	// MaxSessions bounds live sessions (finished ones kept for replay
	// included). Zero means 10000.
	MaxSessions int
	// ReplayEvents and ReplayBytes bound each session's replay log. Zero
	// means 4096 events and 8 MiB.
	ReplayEvents int
	ReplayBytes  int
	// MaxPendingBytes bounds a subscriber's undelivered token-like events
	// (Disconnect policy). Zero means 1 MiB.
	MaxPendingBytes int
	// MaxPendingAudio bounds a subscriber's undelivered audio. Zero means 16 MiB.
	MaxPendingAudio int
	// IdleTimeout cancels and removes an unfinished session that has had no
	// subscriber and no event for this long. Zero means 10 minutes.
	IdleTimeout time.Duration
	// Retain keeps a finished session (for replay) for this long after its
	// last subscriber left. Zero means 5 minutes.
	Retain time.Duration
	// Metrics receives measurements. Nil means none.
	Metrics Metrics
	// NewLog makes each session's log. Nil means a MemLog with the replay bounds.
	NewLog func() Log
}

func (o *Options) withDefaults() Options {
	v := Options{}
	if o != nil {
		v = *o
	}
	def := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	def(&v.MaxSessions, 10000)
	def(&v.ReplayEvents, 4096)
	def(&v.ReplayBytes, 8<<20)
	def(&v.MaxPendingBytes, 1<<20)
	def(&v.MaxPendingAudio, 16<<20)
	if v.IdleTimeout <= 0 {
		v.IdleTimeout = 10 * time.Minute
	}
	if v.Retain <= 0 {
		v.Retain = 5 * time.Minute
	}
	if v.Metrics == nil {
		v.Metrics = nopMetrics{}
	}
	if v.NewLog == nil {
		events, bytes := v.ReplayEvents, v.ReplayBytes
		v.NewLog = func() Log { return &MemLog{MaxEvents: events, MaxBytes: bytes} }
	}
	return v
}

// Registry holds sessions by id. It is safe for concurrent use.
type Registry struct {
	opts Options

	mu     sync.Mutex
	byID   map[string]*Session
	active int
}

// NewRegistry returns an empty registry. Call Run to expire idle sessions.
func NewRegistry(opts *Options) *Registry {
	return &Registry{opts: opts.withDefaults(), byID: map[string]*Session{}}
}

// Create starts a session of kind. Its context derives from parent, so
// cancelling parent cancels the session's work. A request-scoped session
// (one HTTP request's stream) is cancelled as soon as its last subscriber
// leaves; other sessions live until deleted or idle.
func (r *Registry) Create(parent context.Context, kind Kind, requestScoped bool) (*Session, error) {
	ctx, cancel := context.WithCancelCause(parent)
	s := &Session{
		ID:            pipeline.NewID("sess_"),
		Kind:          kind,
		Created:       time.Now(),
		RequestScoped: requestScoped,
		ctx:           ctx,
		cancel:        cancel,
		log:           r.opts.NewLog(),
		reg:           r,
		done:          make(chan struct{}),
		subs:          map[*Subscriber]struct{}{},
		lastActive:    time.Now(),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byID) >= r.opts.MaxSessions {
		cancel(nil)
		return nil, &pipeline.Error{Kind: pipeline.KindOverloaded, Code: "too_many_sessions", RetryAfter: time.Second,
			Message: fmt.Sprintf("the server holds its maximum of %d sessions", r.opts.MaxSessions)}
	}
	r.byID[s.ID] = s
	r.active++
	r.opts.Metrics.SessionsActive(r.active)
	return s, nil
}

// Get returns the session with id.
func (r *Registry) Get(id string) (*Session, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.byID[id]
	return s, ok
}

// Delete cancels the session's work (cause ErrDeleted) and forgets it.
func (r *Registry) Delete(id string) bool {
	r.mu.Lock()
	s, ok := r.byID[id]
	delete(r.byID, id)
	r.mu.Unlock()
	if ok {
		s.Cancel(ErrDeleted)
	}
	return ok
}

// Remove forgets a session without cancelling it (request-scoped sessions
// are removed by their handler once the response is done).
func (r *Registry) Remove(s *Session) {
	r.mu.Lock()
	if r.byID[s.ID] == s {
		delete(r.byID, s.ID)
	}
	r.mu.Unlock()
}

// Active returns the number of sessions whose work is queued or running.
func (r *Registry) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}

// Len returns the number of sessions held, finished ones included.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

func (r *Registry) finished(*Session) {
	r.mu.Lock()
	r.active--
	n := r.active
	r.mu.Unlock()
	r.opts.Metrics.SessionsActive(n)
}

func (r *Registry) slowConsumer(err error) { r.opts.Metrics.SlowConsumer(err) }

// Run expires idle sessions every interval until ctx ends, then cancels
// every session still running with ctx's cause.
func (r *Registry) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Expire(now)
		}
	}
}

// Expire removes finished sessions idle for longer than Retain and cancels
// unfinished ones idle for longer than IdleTimeout.
func (r *Registry) Expire(now time.Time) {
	r.mu.Lock()
	var cancel []*Session
	for id, s := range r.byID {
		idle, finished := s.idle(now)
		switch {
		case finished && idle > r.opts.Retain:
			delete(r.byID, id)
		case !finished && idle > r.opts.IdleTimeout:
			delete(r.byID, id)
			cancel = append(cancel, s)
		}
	}
	r.mu.Unlock()
	for _, s := range cancel {
		s.Cancel(ErrIdle)
	}
}
