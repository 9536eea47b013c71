package sse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultWriteTimeout = 10 * time.Second
	DefaultKeepAlive    = 15 * time.Second
)

// keepAliveFrame is the comment frame sent during silences.
const keepAliveFrame = ": keepalive\n\n"

var (
	// ErrNotFlushable is returned by New when the ResponseWriter (or any
	// writer it wraps, see http.ResponseController) cannot flush.
	ErrNotFlushable = errors.New("sse: the response writer cannot flush, so events cannot be streamed")
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("sse: stream closed")
)

// Options configure a Writer. A nil *Options means all defaults.
type Options struct {
	// WriteTimeout bounds each write and flush of a frame; a client that
	// does not take the bytes within it is dropped (the write fails and the
	// Writer is done). Zero means DefaultWriteTimeout (10s). Writers that do
	// not support deadlines (httptest.ResponseRecorder) write without one.
	WriteTimeout time.Duration
	// KeepAlive is how long the stream may stay silent before a comment
	// frame (": keepalive") is sent; every frame restarts the wait. Zero
	// means DefaultKeepAlive (15s); a negative value disables keepalives.
	KeepAlive time.Duration
}

// Writer streams SSE frames to one HTTP response. Its methods are safe for
// concurrent use: frames, keepalives and Close are serialized, so frames
// never interleave. The first failed write makes the Writer done for good.
type Writer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration

	mu       sync.Mutex
	err      error // first write error, or ErrClosed after Close
	lastSend time.Time

	done     chan struct{} // closed when err is set
	stopKA   chan struct{}
	kaDone   sync.WaitGroup
	stopOnce sync.Once
}

// New sets the SSE response headers (Content-Type: text/event-stream,
// Cache-Control: no-cache, Connection: keep-alive, X-Accel-Buffering: no so
// nginx does not buffer), sends the 200 status and flushes it, and starts the
// keepalive timer. It fails with ErrNotFlushable, having written nothing,
// when w cannot flush. The keepalive goroutine stops at Close, at the first
// failed write, or when ctx (usually the request's context) is done; Close
// waits for it.
func New(ctx context.Context, w http.ResponseWriter, opts *Options) (*Writer, error) {
	if !CanFlush(w) {
		return nil, ErrNotFlushable
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive") // dropped by the HTTP/2 server, as it must be
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	s := &Writer{
		w: w, rc: http.NewResponseController(w), timeout: o.WriteTimeout,
		done: make(chan struct{}), stopKA: make(chan struct{}),
	}
	s.mu.Lock()
	w.WriteHeader(http.StatusOK)
	err := s.flushLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if o.KeepAlive > 0 {
		s.kaDone.Add(1)
		go s.keepAlive(ctx, o.KeepAlive)
	}
	return s, nil
}

// CanFlush reports whether w, or a writer it wraps through Unwrap (up to
// 32 deep), is an http.Flusher; http.ResponseController looks for the same.
func CanFlush(w http.ResponseWriter) bool {
	for depth := 0; w != nil && depth < 32; depth++ {
		switch x := w.(type) {
		case http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return false
		}
	}
	return false
}

// Write sends p, which must hold whole SSE frames (each ending in a blank
// line), and flushes it within the write timeout.
func (s *Writer) Write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(p)
}

// Event formats ev with AppendEvent and sends it.
func (s *Writer) Event(ev Event) error {
	return s.Write(AppendEvent(nil, ev))
}

// Comment sends a comment frame (": text"), which clients ignore. Newlines
// in text are replaced by spaces.
func (s *Writer) Comment(text string) error {
	return s.Write([]byte(": " + oneLine(text) + "\n\n"))
}

// Done is closed when the Writer can no longer write: a write failed (the
// client is gone or stopped reading) or Close was called. Handlers select on
// it to stop the work of a client that went away.
func (s *Writer) Done() <-chan struct{} { return s.done }

// Err returns the first write error, ErrClosed after a clean Close, or nil.
func (s *Writer) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the keepalives and ends the Writer; later writes fail with
// ErrClosed. It leaves a fresh write deadline on the connection so the
// server can finish the response (the last chunk of a chunked body) but a
// dead client still cannot hold it. It returns the first write error, if
// any, and is safe to call more than once.
func (s *Writer) Close() error {
	s.stopOnce.Do(func() { close(s.stopKA) })
	s.kaDone.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		if errors.Is(s.err, ErrClosed) {
			return nil
		}
		return s.err
	}
	_ = s.setDeadline()
	s.fail(ErrClosed)
	return nil
}

func (s *Writer) writeLocked(p []byte) error {
	if s.err != nil {
		return s.err
	}
	if err := s.setDeadline(); err != nil {
		return s.fail(fmt.Errorf("sse: set write deadline: %w", err))
	}
	if _, err := s.w.Write(p); err != nil {
		return s.fail(fmt.Errorf("sse: write: %w", err))
	}
	return s.flushLocked()
}

func (s *Writer) flushLocked() error {
	if err := s.setDeadline(); err != nil {
		return s.fail(fmt.Errorf("sse: set write deadline: %w", err))
	}
	if err := s.rc.Flush(); err != nil {
		return s.fail(fmt.Errorf("sse: flush: %w", err))
	}
	s.lastSend = time.Now()
	return nil
}

// setDeadline gives the next write and flush WriteTimeout to complete.
func (s *Writer) setDeadline() error { return ExtendWriteDeadline(s.rc, s.timeout) }

// ExtendWriteDeadline sets rc's write deadline timeout from now, so the
// next writes and flushes must complete within it. A writer without
// deadline support (httptest.ResponseRecorder) is written without one: that
// is not an error.
func ExtendWriteDeadline(rc *http.ResponseController, timeout time.Duration) error {
	err := rc.SetWriteDeadline(time.Now().Add(timeout))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// fail records the first error and signals Done.
func (s *Writer) fail(err error) error {
	if s.err == nil {
		s.err = err
		close(s.done)
	}
	return s.err
}

// keepAlive sends a comment frame whenever the stream has been silent for
// interval. It checks the silence under the same lock as frame writes, so a
// keepalive never splits or delays-then-duplicates a frame.
func (s *Writer) keepAlive(ctx context.Context, interval time.Duration) {
	defer s.kaDone.Done()
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopKA:
			return
		case <-s.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		wait := interval - time.Since(s.lastSend)
		var err error
		if wait <= 0 {
			err = s.writeLocked([]byte(keepAliveFrame))
			wait = interval
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
		t.Reset(wait)
	}
}

// Event is one frame of the SSE protocol. Empty ID, Event and Retry are left
// out; Data is split into one "data:" line per line of text.
type Event struct {
	ID    string
	Event string
	Data  []byte
	Retry time.Duration
}

// AppendEvent appends ev's frame to dst: "id:", "event:" and "retry:" lines
// when set, a "data:" line per line of Data (CR, LF and CRLF all end a line,
// as the SSE parser reads them), then the blank line that dispatches it.
// Newlines in ID and Event, which would corrupt the stream, become spaces.
func AppendEvent(dst []byte, ev Event) []byte {
	if ev.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, oneLine(ev.ID)...)
		dst = append(dst, '\n')
	}
	if ev.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, oneLine(ev.Event)...)
		dst = append(dst, '\n')
	}
	if ev.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, ev.Retry.Milliseconds(), 10)
		dst = append(dst, '\n')
	}
	data := ev.Data
	for {
		i := indexNewline(data)
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

func indexNewline(b []byte) int {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\x00", "")

func oneLine(s string) string { return lineBreaks.Replace(s) }
