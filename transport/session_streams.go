package transport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coder/websocket"
	r3sse "github.com/r3labs/sse/v2"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/sse"
	"github.com/ominix/ominix-api/transport/ws"
)

// r3StreamID names the one stream of each per-subscriber r3labs server.
const r3StreamID = "events"

// r3Buffer is the r3labs stream's event buffer. Small: the real queue is
// the session subscriber's, which is bounded in bytes with a slow-consumer
// policy; r3labs adds at most this plus its 64-event connection buffer.
const r3Buffer = 8

// errKeepAlive is the cause of a wait that timed out for a keepalive.
var errKeepAlive = errors.New("keepalive due")

// ErrCancelledByClient is the cause given to a session's work when a
// WebSocket client sends {"type":"cancel"}.
var ErrCancelledByClient = &pipeline.Error{Kind: pipeline.KindCancelled, Code: "cancelled_by_client",
	Message: "The client cancelled the session."}

// ServeSessionEvents streams sess's events after sequence number after as
// native SSE (see the sessions API comment), through an r3labs/sse server
// made for this one subscriber: a feeder goroutine moves events from the
// session subscriber into the r3labs stream (event id = sequence number,
// event name = type, data = one line of JSON), and r3labs writes them.
// Writes go through a writer with Options' per-write deadline that cancels
// the stream at the first failure; keepalive comments fill silences. A
// subscriber dropped by its slow-consumer policy gets a final "error" event
// (seq 0, SSE id repeating the last delivered event's). Subscription
// errors (ErrReplayGap) are answered before streaming. It returns when the
// stream has ended and every goroutine it started has exited.
//
// Replay comes from the session's own log, not from r3labs' EventLog
// (AutoReplay off): that log grows without bound, renumbers event ids with
// its own index (our ids are the session's sequence numbers, which
// Last-Event-ID must name) and replays into the subscriber's channel
// without a limit, where sessions.MemLog keeps a bounded window and
// answers a resume from before it with ErrReplayGap.
func (s *Server) ServeSessionEvents(w http.ResponseWriter, r *http.Request, sess *sessions.Session, after uint64) {
	if !sse.CanFlush(w) {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInternal, Err: errors.New("response writer cannot flush")})
		return
	}
	sub, err := sess.Subscribe(after)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer sub.Close()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	subscribed, unsubscribed := make(chan struct{}), make(chan struct{})
	srv := r3sse.New()
	srv.AutoReplay, srv.AutoStream, srv.BufferSize = false, false, r3Buffer
	srv.Headers = map[string]string{"X-Accel-Buffering": "no"}
	srv.OnSubscribe = func(string, *r3sse.Subscriber) { close(subscribed) }
	srv.OnUnsubscribe = func(string, *r3sse.Subscriber) { close(unsubscribed) }
	srv.CreateStream(r3StreamID)

	fed := make(chan struct{})
	go func() {
		defer close(fed)
		select {
		case <-subscribed: // r3labs drops events published before its subscriber registers
		case <-ctx.Done():
			return
		}
		s.feed(ctx, sub, srv, after)
	}()

	dw := newDeadlineWriter(w, s.opts.WriteTimeout, cancel)
	srv.ServeHTTP(dw, r3Request(ctx, r))
	// Tear down in the order r3labs needs: cancelling ctx makes its request
	// goroutine unsubscribe (which needs the stream's goroutine running),
	// then Close stops the stream's goroutine.
	cancel()
	<-subscribed
	<-unsubscribed
	srv.Close()
	<-fed
	dw.finish()
}

// r3Request is r as r3labs reads it: our context, the stream named in the
// query, and no Last-Event-ID (validated and applied by us already).
func r3Request(ctx context.Context, r *http.Request) *http.Request {
	r2 := r.WithContext(ctx)
	u := *r.URL
	u.RawQuery = url.Values{"stream": {r3StreamID}}.Encode()
	r2.URL = &u
	r2.Header = r.Header.Clone()
	r2.Header.Del("Last-Event-ID")
	return r2
}

// feed publishes sub's events into the r3labs stream until the final event
// (then an empty event, which makes r3labs' ServeHTTP return), a policy
// drop, or ctx's end.
func (s *Server) feed(ctx context.Context, sub *sessions.Subscriber, srv *r3sse.Server, last uint64) {
	for {
		e, err := nextWithin(ctx, sub, s.opts.KeepAlive)
		switch {
		case err == nil:
			data, encErr := EncodeNativeEvent(e.Seq, e.Event)
			if encErr != nil {
				data = encodeStreamError(e.Seq, &pipeline.Error{Kind: pipeline.KindInternal, Err: encErr})
			}
			last = e.Seq
			srv.Publish(r3StreamID, &r3sse.Event{
				ID: strconv.AppendUint(nil, e.Seq, 10), Event: []byte(e.Event.EventType()), Data: data,
			})
		case errors.Is(err, errKeepAlive):
			srv.Publish(r3StreamID, &r3sse.Event{Comment: []byte("keepalive")})
		case ctx.Err() != nil:
			return
		case errors.Is(err, io.EOF):
			srv.Publish(r3StreamID, &r3sse.Event{})
			return
		default:
			srv.Publish(r3StreamID, &r3sse.Event{
				ID: strconv.AppendUint(nil, last, 10), Event: []byte("error"), Data: encodeStreamError(0, err),
			})
			srv.Publish(r3StreamID, &r3sse.Event{})
			return
		}
	}
}

// nextWithin waits for sub's next event for at most keepAlive (forever
// when keepAlive <= 0), failing with errKeepAlive when the time is up.
func nextWithin(ctx context.Context, sub *sessions.Subscriber, keepAlive time.Duration) (sessions.Entry, error) {
	if keepAlive <= 0 {
		return sub.Next(ctx)
	}
	wctx, cancel := context.WithTimeoutCause(ctx, keepAlive, errKeepAlive)
	defer cancel()
	return sub.Next(wctx)
}

// encodeStreamError is the native "error" object for a failure that ends
// a subscription; it always encodes.
func encodeStreamError(seq uint64, err error) []byte {
	b, mErr := EncodeNativeEvent(seq, pipeline.Failed{Err: err})
	if mErr != nil {
		return []byte(`{"type":"error","seq":0,"error":{"message":"` + openai.InternalMessage + `","type":"server_error","param":null,"code":null}}`)
	}
	return b
}

// deadlineWriter is the ResponseWriter r3labs writes to. r3labs ignores
// write errors and asserts http.Flusher directly, so this writer gives every
// write and flush Options.WriteTimeout, remembers the first failure (later
// writes fail at once, so r3labs drains quickly) and calls onFail then.
// It is used by one goroutine (r3labs' ServeHTTP).
type deadlineWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	onFail  func()
	err     error
}

func newDeadlineWriter(w http.ResponseWriter, timeout time.Duration, onFail func()) *deadlineWriter {
	return &deadlineWriter{w: w, rc: http.NewResponseController(w), timeout: timeout, onFail: onFail}
}

func (d *deadlineWriter) Header() http.Header         { return d.w.Header() }
func (d *deadlineWriter) WriteHeader(code int)        { d.w.WriteHeader(code) }
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.w }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if err := d.deadline(); err != nil {
		return 0, d.fail(err)
	}
	n, err := d.w.Write(p)
	if err != nil {
		return n, d.fail(err)
	}
	return n, nil
}

func (d *deadlineWriter) Flush() {
	if d.err != nil {
		return
	}
	if err := d.deadline(); err != nil {
		d.fail(err)
		return
	}
	if err := d.rc.Flush(); err != nil {
		d.fail(err)
	}
}

// finish leaves a fresh deadline so the server can end the response (the
// last chunk) while a dead client still cannot hold it.
func (d *deadlineWriter) finish() { _ = d.deadline() }

func (d *deadlineWriter) deadline() error { return sse.ExtendWriteDeadline(d.rc, d.timeout) }

func (d *deadlineWriter) fail(err error) error {
	if d.err == nil {
		d.err = err
		d.onFail()
	}
	return d.err
}

// AcceptWebSocket upgrades r with the server's allowed origins (same host
// plus Options.CORSOrigins) and a read limit (zero means 64 KiB). A request
// that cannot be upgraded is answered with an OpenAI error; the error is
// returned either way and the handler should just return.
func (s *Server) AcceptWebSocket(w http.ResponseWriter, r *http.Request, readLimit int64, subprotocols ...string) (*websocket.Conn, error) {
	opts := &ws.AcceptOptions{Origins: s.opts.CORSOrigins, Subprotocols: subprotocols, ReadLimit: readLimit}
	if err := ws.Check(r, opts); err != nil {
		WriteError(w, r, err)
		return nil, err
	}
	return ws.Accept(w, r, opts)
}

// clientMessage is what a native session WebSocket client sends.
type clientMessage struct {
	Type string `json:"type"`
}

// ServeSessionWS streams sess's events after sequence number after over a
// WebSocket, one native JSON object per text message, and closes with 1000
// after the final event (1008 when the subscriber was dropped as a slow
// consumer, after an "error" message). Client messages are read
// concurrently: {"type":"cancel"} cancels the session's work
// (ErrCancelledByClient), others go to the session type's Input. Pings
// keep the connection alive during silences. Subscription errors are
// answered before upgrading.
func (s *Server) ServeSessionWS(w http.ResponseWriter, r *http.Request, sess *sessions.Session, after uint64) {
	t, _ := s.sessionType(string(sess.Kind))
	if err := ws.Check(r, &ws.AcceptOptions{Origins: s.opts.CORSOrigins}); err != nil {
		WriteError(w, r, err)
		return
	}
	sub, err := sess.Subscribe(after)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer sub.Close()
	c, err := s.AcceptWebSocket(w, r, t.MaxMessageBytes)
	if err != nil {
		return
	}
	defer c.CloseNow()
	// The request's context must not be used after the upgrade.
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer cancel()
		s.readSessionWS(ctx, c, sess, t)
	}()
	s.writeSessionWS(ctx, c, sub)
	cancel()
	_ = c.CloseNow()
	<-read
}

// writeSessionWS sends events until the final one, a policy drop, or ctx's end.
func (s *Server) writeSessionWS(ctx context.Context, c *websocket.Conn, sub *sessions.Subscriber) {
	for {
		e, err := nextWithin(ctx, sub, s.opts.KeepAlive)
		switch {
		case err == nil:
			data, encErr := EncodeNativeEvent(e.Seq, e.Event)
			if encErr != nil {
				data = encodeStreamError(e.Seq, &pipeline.Error{Kind: pipeline.KindInternal, Err: encErr})
			}
			if ws.Send(ctx, c, s.opts.WriteTimeout, data) != nil {
				return
			}
		case errors.Is(err, errKeepAlive):
			pctx, pcancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
			perr := c.Ping(pctx)
			pcancel()
			if perr != nil {
				return
			}
		case ctx.Err() != nil:
			return
		case errors.Is(err, io.EOF):
			_ = c.Close(websocket.StatusNormalClosure, "session finished")
			return
		default:
			_ = ws.Send(ctx, c, s.opts.WriteTimeout, encodeStreamError(0, err))
			_ = c.Close(websocket.StatusPolicyViolation, "slow consumer")
			return
		}
	}
}

// readSessionWS handles client messages until the connection fails.
func (s *Server) readSessionWS(ctx context.Context, c *websocket.Conn, sess *sessions.Session, t SessionType) {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var msg clientMessage
		if typ == websocket.MessageText && json.Unmarshal(data, &msg) == nil && msg.Type == "cancel" {
			sess.Cancel(ErrCancelledByClient)
			continue
		}
		err = &pipeline.Error{Kind: pipeline.KindInvalid, Code: "unknown_event",
			Message: `This session accepts only {"type":"cancel"} messages.`}
		if t.Input != nil {
			err = t.Input(ctx, sess, typ, data)
		}
		if err != nil && ws.Send(ctx, c, s.opts.WriteTimeout, encodeStreamError(0, err)) != nil {
			return
		}
	}
}
