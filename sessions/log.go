package sessions

import (
	"errors"
	"sync"

	"github.com/ominix/ominix-api/pipeline"
)

// Entry is one event in a session's log.
type Entry struct {
	Seq   uint64 // 1-based, consecutive within a session
	Event pipeline.Event
	Size  int // approximate bytes, for bounds
}

// ErrReplayGap is returned when a reader asks for events older than the
// log still keeps.
var ErrReplayGap = &pipeline.Error{Kind: pipeline.KindNotFound, Code: "replay_unavailable",
	Message: "the requested events are no longer available for replay"}

// Log is a session's event log. The in-memory MemLog is the default; a
// distributed log (NATS JetStream) can stand behind the same interface so
// that any gateway can resume a session.
type Log interface {
	// Append stores ev and returns its sequence number.
	Append(ev pipeline.Event) uint64
	// Read returns the stored entries with Seq > after, oldest first. It
	// fails with ErrReplayGap when some of them were already dropped.
	Read(after uint64) ([]Entry, error)
	// Last returns the sequence number of the newest entry (0 when empty).
	Last() uint64
}

// MemLog is a bounded in-memory Log: it keeps at most MaxEvents entries and
// MaxBytes of (approximate) event size, dropping the oldest first.
type MemLog struct {
	MaxEvents int
	MaxBytes  int

	mu      sync.Mutex
	entries []Entry
	bytes   int
	last    uint64
}

var _ Log = (*MemLog)(nil)

// Append implements Log.
func (l *MemLog) Append(ev pipeline.Event) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last++
	e := Entry{Seq: l.last, Event: ev, Size: EventSize(ev)}
	l.entries = append(l.entries, e)
	l.bytes += e.Size
	for len(l.entries) > 1 && (len(l.entries) > l.MaxEvents || l.bytes > l.MaxBytes) {
		l.bytes -= l.entries[0].Size
		l.entries[0] = Entry{}
		l.entries = l.entries[1:]
	}
	return l.last
}

// Read implements Log.
func (l *MemLog) Read(after uint64) ([]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= l.last {
		return nil, nil
	}
	if len(l.entries) == 0 || l.entries[0].Seq > after+1 {
		return nil, ErrReplayGap
	}
	i := int(after + 1 - l.entries[0].Seq)
	return append([]Entry(nil), l.entries[i:]...), nil
}

// Last implements Log.
func (l *MemLog) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// EventSize estimates the bytes an event takes on the wire.
func EventSize(ev pipeline.Event) int {
	n := 64
	switch e := ev.(type) {
	case pipeline.TextDelta:
		n += len(e.Content) + len(e.Reasoning)
		for _, c := range e.ToolCalls {
			n += len(c.Name) + len(c.Arguments) + 32
		}
		n += 96 * len(e.Logprobs)
	case pipeline.TranscriptDelta:
		n += len(e.Text)
	case pipeline.TranscriptDone:
		n += 2*len(e.Text) + 64*len(e.Words) + 96*len(e.Segments)
	case pipeline.AudioChunk:
		n += 2 * len(e.Audio.Samples) * 4 / 3 // PCM16 in base64
	case pipeline.ImageProgress:
		if e.Preview != nil {
			n += 64 << 10
		}
	case pipeline.ImageDone:
		n += len(e.Images) << 20
	}
	return n
}

var errClosed = errors.New("sessions: subscriber closed")
