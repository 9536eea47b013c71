package sse_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/transport/sse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAppendEvent(t *testing.T) {
	cases := []struct {
		ev   sse.Event
		want string
	}{
		{sse.Event{Data: []byte(`{"a":1}`)}, "data: {\"a\":1}\n\n"},
		{sse.Event{}, "data: \n\n"},
		{sse.Event{ID: "42", Event: "text.delta", Data: []byte("x")}, "id: 42\nevent: text.delta\ndata: x\n\n"},
		{sse.Event{Data: []byte("a\nb\r\nc\rd\n")}, "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"},
		{sse.Event{ID: "1\n2", Event: "e\r\nvil", Retry: 1500 * time.Millisecond, Data: []byte("x")}, "id: 1 2\nevent: e vil\nretry: 1500\ndata: x\n\n"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, string(sse.AppendEvent(nil, c.ev)))
	}
	assert.Equal(t, "pre"+"data: x\n\n", string(sse.AppendEvent([]byte("pre"), sse.Event{Data: []byte("x")})))
}

// plainWriter is a ResponseWriter that cannot flush.
type plainWriter struct {
	h    http.Header
	code int
}

func (p *plainWriter) Header() http.Header         { return p.h }
func (p *plainWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *plainWriter) WriteHeader(code int)        { p.code = code }

func TestNewRefusesUnflushableWriter(t *testing.T) {
	w := &plainWriter{h: http.Header{}}
	s, err := sse.New(context.Background(), w, nil)
	require.ErrorIs(t, err, sse.ErrNotFlushable)
	assert.Nil(t, s)
	assert.Zero(t, w.code, "nothing was written")
	assert.Empty(t, w.h.Get("Content-Type"))
}

// wrapped hides the Flusher behind Unwrap, as middleware wrappers do.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestCanFlush(t *testing.T) {
	assert.True(t, sse.CanFlush(httptest.NewRecorder()))
	assert.True(t, sse.CanFlush(wrapped{wrapped{httptest.NewRecorder()}}), "found through Unwrap")
	assert.False(t, sse.CanFlush(&plainWriter{h: http.Header{}}))
	assert.False(t, sse.CanFlush(wrapped{&plainWriter{h: http.Header{}}}))
}

func TestExtendWriteDeadlineWithoutSupport(t *testing.T) {
	// A recorder has no deadlines: writing without one is not an error.
	rc := http.NewResponseController(httptest.NewRecorder())
	require.NoError(t, sse.ExtendWriteDeadline(rc, time.Second))
}

func TestStreamOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.New(r.Context(), wrapped{w}, &sse.Options{KeepAlive: -1})
		if !assert.NoError(t, err) {
			return
		}
		assert.NoError(t, s.Write([]byte("data: one\n\n")))
		assert.NoError(t, s.Event(sse.Event{ID: "7", Data: []byte("two")}))
		assert.NoError(t, s.Comment("note\nhere"))
		assert.NoError(t, s.Close())
		assert.ErrorIs(t, s.Write([]byte("data: late\n\n")), sse.ErrClosed)
		assert.NoError(t, s.Close(), "Close is idempotent")
		assert.ErrorIs(t, s.Err(), sse.ErrClosed)
		<-s.Done()
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the response ends cleanly after Close")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	assert.Equal(t, "data: one\n\nid: 7\ndata: two\n\n: note here\n\n", string(body))
	srv.Client().CloseIdleConnections()
}

// TestFramesArriveOneByOne checks that every frame is flushed as it is
// written, not buffered until the handler returns.
func TestFramesArriveOneByOne(t *testing.T) {
	next := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.New(r.Context(), w, &sse.Options{KeepAlive: -1})
		if !assert.NoError(t, err) {
			return
		}
		defer s.Close()
		for i := range 3 {
			if s.Write(fmt.Appendf(nil, "data: %d\n\n", i)) != nil {
				return
			}
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("data: %d\n", i), line)
		_, err = br.ReadString('\n')
		require.NoError(t, err)
		next <- struct{}{}
	}
}

// TestClientThatStopsReading is the slow-consumer case: the client sends its
// request and never reads. Writes must fail within the write timeout, not
// block the handler forever.
func TestClientThatStopsReading(t *testing.T) {
	const timeout = 200 * time.Millisecond
	type result struct {
		err      error
		lastCall time.Duration
		frames   int
	}
	results := make(chan result, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.New(r.Context(), w, &sse.Options{WriteTimeout: timeout, KeepAlive: -1})
		if err != nil {
			results <- result{err: err}
			return
		}
		defer s.Close()
		frame := []byte("data: " + strings.Repeat("x", 256<<10) + "\n\n")
		deadline := time.Now().Add(30 * time.Second)
		for n := 0; time.Now().Before(deadline); n++ {
			start := time.Now()
			if err := s.Write(frame); err != nil {
				<-s.Done()
				results <- result{err: err, lastCall: time.Since(start), frames: n}
				return
			}
		}
		results <- result{}
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && st == http.StateNew {
			_ = tc.SetWriteBuffer(16 << 10) // fill the socket quickly
		}
	}
	srv.Start()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(16<<10))
	_, err = fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)

	select {
	case r := <-results:
		require.Error(t, r.err, "writes to a client that never reads must fail")
		assert.Less(t, r.lastCall, timeout+2*time.Second, "the failing write returned about when its deadline passed")
		t.Logf("failed after %d frames of 256 KiB; the last write took %v", r.frames, r.lastCall)
	case <-time.After(30 * time.Second):
		t.Fatal("the handler is still blocked writing to a client that never reads")
	}
}

// lockedRecorder is a flushable ResponseWriter safe to inspect while a
// Writer's keepalive goroutine writes to it.
type lockedRecorder struct {
	mu      sync.Mutex
	h       http.Header
	body    strings.Builder
	flushes int
}

func (l *lockedRecorder) Header() http.Header { return l.h }
func (l *lockedRecorder) WriteHeader(int)     {}
func (l *lockedRecorder) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.body.Write(b)
}
func (l *lockedRecorder) Flush() { l.mu.Lock(); l.flushes++; l.mu.Unlock() }
func (l *lockedRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.body.String()
}

func TestKeepAliveOnlyDuringSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &lockedRecorder{h: http.Header{}}
		s, err := sse.New(t.Context(), rec, &sse.Options{KeepAlive: 15 * time.Second})
		require.NoError(t, err)

		time.Sleep(10 * time.Second)
		require.NoError(t, s.Write([]byte("data: a\n\n")))
		time.Sleep(14 * time.Second) // 24s since open, 14s since the frame
		synctest.Wait()
		assert.Equal(t, "data: a\n\n", rec.String(), "no keepalive while frames flow")

		time.Sleep(2 * time.Second) // 16s of silence
		synctest.Wait()
		assert.Equal(t, "data: a\n\n: keepalive\n\n", rec.String())

		time.Sleep(15 * time.Second)
		synctest.Wait()
		assert.Equal(t, "data: a\n\n: keepalive\n\n: keepalive\n\n", rec.String())
		require.NoError(t, s.Close())
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 2, strings.Count(rec.String(), "keepalive"), "no keepalive after Close")
	})
}

func TestKeepAliveStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		rec := &lockedRecorder{h: http.Header{}}
		s, err := sse.New(ctx, rec, &sse.Options{KeepAlive: time.Second})
		require.NoError(t, err)
		cancel()
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Empty(t, rec.String())
		require.NoError(t, s.Close())
	})
}

// failingWriter accepts the header flush, then fails every write.
type failingWriter struct {
	lockedRecorder
	fail atomic.Bool
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if f.fail.Load() {
		return 0, errors.New("broken pipe")
	}
	return f.lockedRecorder.Write(b)
}

func TestFailedKeepAliveMarksDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fw := &failingWriter{lockedRecorder: lockedRecorder{h: http.Header{}}}
		s, err := sse.New(t.Context(), fw, &sse.Options{KeepAlive: time.Second})
		require.NoError(t, err)
		fw.fail.Store(true)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		select {
		case <-s.Done():
		default:
			t.Fatal("a failed keepalive must end the stream")
		}
		require.ErrorContains(t, s.Write([]byte("data: x\n\n")), "broken pipe")
		require.ErrorContains(t, s.Close(), "broken pipe")
	})
}

// TestConcurrentWritersAndKeepAlives checks frames never interleave.
func TestConcurrentWritersAndKeepAlives(t *testing.T) {
	const writers, each = 4, 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.New(r.Context(), w, &sse.Options{KeepAlive: time.Microsecond})
		if !assert.NoError(t, err) {
			return
		}
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i := range each {
					_ = s.Event(sse.Event{ID: fmt.Sprint(g), Data: []byte(strings.Repeat(fmt.Sprint(i%10), 100))})
				}
			})
		}
		wg.Wait()
		assert.NoError(t, s.Close())
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	frames := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	events := 0
	for _, f := range frames {
		if f == ": keepalive" {
			continue
		}
		lines := strings.Split(f, "\n")
		require.Len(t, lines, 2, "frame %q", f)
		require.True(t, strings.HasPrefix(lines[0], "id: "))
		data := strings.TrimPrefix(lines[1], "data: ")
		require.Len(t, data, 100)
		require.Equal(t, strings.Repeat(data[:1], 100), data)
		events++
	}
	assert.Equal(t, writers*each, events)
}
