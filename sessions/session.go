package sessions

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/ominix/ominix-api/pipeline"
)

// Kind names what a session does.
type Kind string

// Session kinds.
const (
	KindChat          Kind = "chat"
	KindTranscription Kind = "transcription"
	KindSpeech        Kind = "speech"
	KindImage         Kind = "image"
	KindRealtime      Kind = "realtime"
)

// Policy is how a subscriber that falls behind is treated for one kind of event.
type Policy string

// Slow-consumer policies.
const (
	// Disconnect: the event is never dropped; a subscriber holding more than
	// its bound of such events undelivered is disconnected. Tokens, final
	// transcripts and terminal events use it.
	Disconnect Policy = "disconnect"
	// LatestWins: an undelivered event is replaced by a newer one of the same
	// stream. Partial transcripts and image previews use it.
	LatestWins Policy = "latest_wins"
	// CloseOnOverflow: audio is queued up to its own (larger) bound; beyond
	// it the subscriber is closed.
	CloseOnOverflow Policy = "close"
)

// PolicyOf returns the slow-consumer policy for ev.
func PolicyOf(ev pipeline.Event) Policy {
	switch ev.(type) {
	case pipeline.TranscriptDelta, pipeline.ImageProgress:
		return LatestWins
	case pipeline.AudioChunk:
		return CloseOnOverflow
	}
	return Disconnect
}

// Errors ending a subscription or a session's work. They are *pipeline.Error
// values so transports map them like any other error.
var (
	ErrSlowConsumer = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "slow_consumer",
		Message: "the client did not read events fast enough and was disconnected"}
	ErrAudioBacklog = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "audio_backlog",
		Message: "the client fell too far behind the audio stream and was disconnected"}
	ErrClientGone = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "client_disconnected",
		Message: "the client disconnected"}
	ErrIdle = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "session_expired",
		Message: "the session was idle for too long"}
	ErrDeleted = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "session_deleted",
		Message: "the session was deleted"}
)

// Session is one stream of work and its events. It implements pipeline.Sink.
type Session struct {
	ID            string
	Kind          Kind
	Created       time.Time
	RequestScoped bool

	ctx    context.Context
	cancel context.CancelCauseFunc
	log    Log
	reg    *Registry
	done   chan struct{}

	mu         sync.Mutex
	subs       map[*Subscriber]struct{}
	finished   bool
	started    bool
	lastActive time.Time
	// Attached holds the live input handle of the session's work (a
	// *pipeline.Transcription or *pipeline.Synthesis) for transports.
	attached any
}

var _ pipeline.Sink = (*Session)(nil)

// Context is cancelled, with a cause, when the session's work must stop.
// Pass it to the scheduler with the session as sink.
func (s *Session) Context() context.Context { return s.ctx }

// Done is closed once the session's terminal event has been emitted.
func (s *Session) Done() <-chan struct{} { return s.done }

// Finished reports whether the terminal event has been emitted.
func (s *Session) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// LastSeq returns the sequence number of the newest event.
func (s *Session) LastSeq() uint64 { return s.log.Last() }

// Attach stores the live input handle of the session's work.
func (s *Session) Attach(v any) {
	s.mu.Lock()
	s.attached = v
	s.mu.Unlock()
}

// Attached returns what Attach stored.
func (s *Session) Attached() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attached
}

// Started records that work was submitted with this session as its sink,
// so that the work, not Cancel, delivers the terminal event.
func (s *Session) Started() {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
}

// Cancel stops the session's work with cause; the work then ends with a
// terminal Failed event carrying it (at its next step). A session with no
// work started gets that event at once.
func (s *Session) Cancel(cause error) {
	s.cancel(cause)
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		s.Emit(pipeline.Failed{Err: cause})
	}
}

// Emit appends ev to the log and hands it to every subscriber according to
// the event's policy. It never blocks. After the terminal event, later
// events are dropped.
func (s *Session) Emit(ev pipeline.Event) {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	seq := s.log.Append(ev)
	e := Entry{Seq: seq, Event: ev, Size: EventSize(ev)}
	var dropped []*Subscriber
	for sub := range s.subs {
		if !sub.push(e, s.reg.opts) {
			dropped = append(dropped, sub)
			delete(s.subs, sub)
		}
	}
	s.lastActive = time.Now()
	terminal := pipeline.Terminal(ev)
	if terminal {
		s.finished = true
		close(s.done)
	}
	orphaned := s.RequestScoped && !s.finished && len(s.subs) == 0 && len(dropped) > 0
	s.mu.Unlock()

	for _, sub := range dropped {
		s.reg.slowConsumer(sub.err)
	}
	if terminal {
		s.reg.finished(s)
	}
	if orphaned {
		s.Cancel(dropped[0].err)
	}
}

// Subscribe returns a subscriber that first receives the logged events with
// sequence numbers above after (0 for all), then live events. It fails with
// ErrReplayGap when some of those events are no longer kept.
func (s *Session) Subscribe(after uint64) (*Subscriber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := s.log.Read(after)
	if err != nil {
		return nil, err
	}
	sub := &Subscriber{s: s, notify: make(chan struct{}, 1)}
	for _, e := range entries {
		if !sub.push(e, s.reg.opts) {
			return nil, sub.err
		}
	}
	s.subs[sub] = struct{}{}
	s.lastActive = time.Now()
	return sub, nil
}

// unsubscribe removes sub; a request-scoped session whose last subscriber
// leaves before the work ends is cancelled with ErrClientGone.
func (s *Session) unsubscribe(sub *Subscriber) {
	s.mu.Lock()
	_, was := s.subs[sub]
	delete(s.subs, sub)
	orphaned := was && s.RequestScoped && !s.finished && len(s.subs) == 0
	s.lastActive = time.Now()
	s.mu.Unlock()
	if orphaned {
		s.Cancel(ErrClientGone)
	}
}

// idle reports how long the session has had no subscriber and no event, or
// zero while it has subscribers.
func (s *Session) idle(now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) > 0 {
		return 0, s.finished
	}
	return now.Sub(s.lastActive), s.finished
}

// Subscriber receives one client's copy of a session's events.
type Subscriber struct {
	s      *Session
	mu     sync.Mutex
	queue  []Entry
	bytes  int // undelivered Disconnect-policy bytes
	audio  int // undelivered audio bytes
	notify chan struct{}
	closed bool
	err    error
}

// push queues e under its policy; it reports false when the subscriber
// must be dropped (its err then says why).
func (sub *Subscriber) push(e Entry, opts Options) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return false
	}
	switch PolicyOf(e.Event) {
	case LatestWins:
		for i := len(sub.queue) - 1; i >= 0; i-- {
			if sameStream(sub.queue[i].Event, e.Event) {
				sub.queue = append(sub.queue[:i], sub.queue[i+1:]...)
				break
			}
		}
	case CloseOnOverflow:
		if sub.audio+e.Size > opts.MaxPendingAudio {
			sub.fail(ErrAudioBacklog)
			return false
		}
		sub.audio += e.Size
	default:
		if sub.bytes+e.Size > opts.MaxPendingBytes {
			sub.fail(ErrSlowConsumer)
			return false
		}
		sub.bytes += e.Size
	}
	sub.queue = append(sub.queue, e)
	select {
	case sub.notify <- struct{}{}:
	default:
	}
	return true
}

// sameStream reports whether b supersedes a under the LatestWins policy.
func sameStream(a, b pipeline.Event) bool {
	switch x := a.(type) {
	case pipeline.TranscriptDelta:
		y, ok := b.(pipeline.TranscriptDelta)
		return ok && x.ItemID == y.ItemID
	case pipeline.ImageProgress:
		_, ok := b.(pipeline.ImageProgress)
		return ok
	}
	return false
}

func (sub *Subscriber) fail(err error) {
	sub.closed = true
	sub.err = err
	sub.queue = nil
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

// Next returns the next event, waiting for one. It returns io.EOF after the
// terminal event has been delivered, the policy error (ErrSlowConsumer,
// ErrAudioBacklog) when the subscriber was dropped, and ctx's error when
// ctx ends first.
func (sub *Subscriber) Next(ctx context.Context) (Entry, error) {
	for {
		sub.mu.Lock()
		if len(sub.queue) > 0 {
			e := sub.queue[0]
			sub.queue[0] = Entry{}
			sub.queue = sub.queue[1:]
			switch PolicyOf(e.Event) {
			case CloseOnOverflow:
				sub.audio -= e.Size
			case Disconnect:
				sub.bytes -= e.Size
			}
			sub.mu.Unlock()
			return e, nil
		}
		if sub.closed {
			err := sub.err
			sub.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return Entry{}, err
		}
		sub.mu.Unlock()
		// Lock order is session then subscriber, so Finished is read
		// without holding sub.mu. The terminal event is queued before the
		// session is marked finished, so an empty queue after that means
		// it was delivered.
		if sub.s.Finished() {
			sub.mu.Lock()
			empty := len(sub.queue) == 0
			sub.mu.Unlock()
			if empty {
				return Entry{}, io.EOF
			}
			continue
		}
		select {
		case <-sub.notify:
		case <-sub.s.done:
		case <-ctx.Done():
			return Entry{}, context.Cause(ctx)
		}
	}
}

// Close ends the subscription. Closing the last subscriber of a
// request-scoped session cancels its work.
func (sub *Subscriber) Close() {
	sub.mu.Lock()
	sub.closed = true
	sub.queue = nil
	sub.mu.Unlock()
	sub.s.unsubscribe(sub)
}
