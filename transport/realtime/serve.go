package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/sessions"
)

// Defaults of Config.
const (
	// DefaultReadLimit is the largest client message: 15 MiB, as OpenAI
	// documents for input_audio_buffer.append.
	DefaultReadLimit    = 15 << 20
	DefaultWriteTimeout = 10 * time.Second
)

// Subprotocol is the WebSocket sub-protocol OpenAI's browser clients offer
// (with "openai-insecure-api-key.<key>"); the server must select it.
const Subprotocol = "realtime"

// subprotocolBeta is how browsers ask for the beta dialect.
const subprotocolBeta = "openai-beta.realtime-v1"

// Transcriber starts recognition tasks; *pipeline.Scheduler implements it.
type Transcriber interface {
	Transcribe(ctx context.Context, opts pipeline.TranscribeOptions, sink pipeline.Sink) (*pipeline.Transcription, error)
}

// Responder runs the LLM and synthesis tasks of conversation responses;
// *pipeline.Scheduler implements it. Slots gives the loaded LLM, whose
// Prepare (any goroutine) measures prompts when a conversation's history
// must be trimmed to leave room for the answer.
type Responder interface {
	Chat(ctx context.Context, req *pipeline.ChatRequest, sink pipeline.Sink) (pipeline.ChatStart, error)
	Speak(ctx context.Context, opts pipeline.SpeechOptions, sink pipeline.Sink) (*pipeline.Synthesis, error)
	Slots() *pipeline.Slots
}

// Config configures Serve.
type Config struct {
	// Machine configures the protocol (intent, dialect, bounds).
	Machine Options
	// Transcriber runs recognition. Required.
	Transcriber Transcriber
	// Responder runs conversation responses. Nil makes every response
	// fail with a service_unavailable error (transcription still works).
	Responder Responder
	// Sessions holds one request-scoped session per recognition task, so
	// the work is counted, observable and cancelled with the connection.
	// Required.
	Sessions *sessions.Registry
	// ReadLimit bounds one client message; a larger one closes the
	// connection with status 1009 (message too big). Zero means
	// DefaultReadLimit.
	ReadLimit int64
	// WriteTimeout bounds each event written; a client that does not take
	// it in time is disconnected. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Logger receives failures the client is told about only through an
	// error event (a recognition task that could not start). Nil means
	// slog.Default().
	Logger *slog.Logger
}

// BetaRequested reports whether the client asked for the beta dialect:
// the "OpenAI-Beta: realtime=v1" header or the "openai-beta.realtime-v1"
// sub-protocol browsers use instead.
func BetaRequested(r *http.Request) bool {
	for _, v := range r.Header.Values("OpenAI-Beta") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "realtime=v1") {
				return true
			}
		}
	}
	for _, p := range offeredProtocols(r) {
		if p == subprotocolBeta {
			return true
		}
	}
	return false
}

func offeredProtocols(r *http.Request) []string {
	var out []string
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Serve speaks the Realtime protocol on an accepted connection until the
// client closes it, a write times out, or ctx ends (the connection is then
// closed with status 1001, "going away"). It owns ws and closes it before
// returning; every recognition, LLM and synthesis task it started is
// cancelled (each stops at its next step) and every goroutine it started
// has ended by then. The returned error says why the
// connection ended; a normal close by the client returns nil.
func Serve(ctx context.Context, ws *websocket.Conn, cfg Config) error {
	if cfg.Transcriber == nil || cfg.Sessions == nil {
		_ = ws.Close(websocket.StatusInternalError, "realtime: server misconfigured")
		return errors.New("realtime: Serve needs a Transcriber and a Sessions registry")
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = DefaultReadLimit
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &driver{ws: ws, cfg: cfg, m: NewMachine(cfg.Machine), ctx: ctx,
		incoming: make(chan message), engine: make(chan taskEvent), resps: map[string]*respTasks{}}
	ws.SetReadLimit(-1) // the reader enforces cfg.ReadLimit itself, to close with its own reason
	d.wg.Add(1)
	go d.read()
	err := d.run()
	cancel()
	d.stopTasks()
	d.stopResponses()
	_ = ws.CloseNow()
	d.wg.Wait()
	return err
}

// message is one client message, or the reason reading stopped.
type message struct {
	typ    websocket.MessageType
	data   []byte
	err    error
	tooBig bool
}

// taskEvent is an event of one recognition task (t) or response task
// (rt).
type taskEvent struct {
	t  *task
	rt *respTask
	ev pipeline.Event
}

// task is one recognition task and its session. Items begun on it keep
// it until they are committed; a new Configure takes effect with a new
// task at the next item.
type task struct {
	taskSession
	tr     *pipeline.Transcription
	opts   pipeline.TranscribeOptions
	items  []string
	rs     *dsp.Resampler // input rate → recognizer rate; nil when equal
	inRate int
}

// taskSession is the request-scoped session one task's work runs on and
// the driver's only subscriber to it. Its fields are the loop's, except
// sub, which the task's pump reads.
type taskSession struct {
	sess  *sessions.Session
	sub   *sessions.Subscriber
	ended bool // the terminal event arrived (or the task was dropped)
}

// close ends the subscription, which cancels work still running, and
// forgets the session. Only its first call does so; it reports whether
// this call did.
func (ts *taskSession) close(reg *sessions.Registry) bool {
	if ts.ended {
		return false
	}
	ts.ended = true
	ts.sub.Close()
	reg.Remove(ts.sess)
	return true
}

type driver struct {
	ws       *websocket.Conn
	cfg      Config
	m        *Machine
	ctx      context.Context
	incoming chan message
	engine   chan taskEvent
	wg       sync.WaitGroup
	opts     pipeline.TranscribeOptions
	cur      *task
	tasks    []*task
	resps    map[string]*respTasks
}

// run is the connection's event loop: the only goroutine that touches the
// Machine, the tasks' inputs and the socket's write side.
func (d *driver) run() error {
	if err := d.apply(d.m.Start(), ""); err != nil {
		return err
	}
	for {
		if d.ctx.Err() != nil { // shutdown wins over pending input
			return d.goingAway()
		}
		select {
		case msg := <-d.incoming:
			if msg.err != nil || msg.tooBig {
				return d.closed(msg)
			}
			if err := d.client(msg); err != nil {
				return err
			}
		case te := <-d.engine:
			if err := d.routeEvent(te); err != nil {
				return err
			}
		case <-d.ctx.Done():
			return d.goingAway()
		}
	}
}

// goingAway closes the connection at server shutdown.
func (d *driver) goingAway() error {
	_ = d.ws.Close(websocket.StatusGoingAway, "server shutting down")
	return context.Cause(d.ctx)
}

// closed ends the connection after reading stopped: an oversized
// message is answered with status 1009 and a reason naming the limit; a
// normal close by the client returns nil.
func (d *driver) closed(msg message) error {
	if msg.tooBig {
		reason := fmt.Sprintf("message too big: this server accepts at most %d bytes per message", d.cfg.ReadLimit)
		_ = d.ws.Close(websocket.StatusMessageTooBig, reason)
		return errors.New(reason)
	}
	if s := websocket.CloseStatus(msg.err); s == websocket.StatusNormalClosure || s == websocket.StatusGoingAway {
		return nil
	}
	return msg.err
}

func (d *driver) client(msg message) error {
	if msg.typ == websocket.MessageBinary {
		return d.apply(d.m.Binary(), "")
	}
	var id struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(msg.data, &id) // for errors raised by actions; the Machine validates
	return d.apply(d.m.Client(msg.data), id.EventID)
}

func (d *driver) engineEvent(te taskEvent) error {
	t := te.t
	if err := pipeline.ErrorOf(te.ev); err != nil {
		d.endTask(t)
		return d.apply(d.m.Failed(err, t.items), "")
	}
	if pipeline.Terminal(te.ev) {
		d.endTask(t)
		return nil
	}
	return d.apply(d.m.Engine(te.ev), "")
}

func (d *driver) routeEvent(te taskEvent) error {
	if te.rt != nil {
		return d.responseEvent(te.rt, te.ev)
	}
	return d.engineEvent(te)
}

// apply carries out the Machine's actions in order, then writes its
// events and those of any action that failed (the Machine's answer to a
// failure may hold actions too; they run after the others). eventID is
// the client event behind out, for errors.
func (d *driver) apply(out Output, eventID string) error {
	events := out.Events
	queue := out.Actions
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if o, failed := d.act(a, eventID); failed {
			events = append(events, o.Events...)
			queue = append(queue, o.Actions...)
		}
	}
	for _, ev := range events {
		if err := d.write(ev); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) act(a Action, eventID string) (Output, bool) {
	switch a := a.(type) {
	case StartResponse, SpeakText, EndSpeech, StopResponse:
		return d.actResponse(a)
	case Configure:
		d.opts = a.Options
	case BeginItem:
		if err := d.begin(a); err != nil {
			d.cfg.Logger.Info("realtime: recognition could not start", "err", err)
			o := d.m.Error(err, eventID)
			f := d.m.Failed(err, []string{a.ItemID})
			return Output{Events: append(o.Events, f.Events...)}, true
		}
	case Append:
		if t := d.cur; t != nil && !t.ended {
			s := a.Samples
			if t.rs != nil {
				s = t.rs.Process(nil, s)
			}
			if err := t.tr.Push(s); err != nil {
				return d.m.Error(err, eventID), true
			}
		}
	case Commit:
		if t := d.cur; t != nil && !t.ended {
			if t.rs != nil {
				if err := t.tr.Push(t.rs.Flush(nil)); err != nil {
					return d.m.Error(err, eventID), true
				}
				t.rs.Reset()
			}
			t.tr.Commit()
		}
	}
	return Output{}, false
}

// begin starts item a on the current task, first replacing the task when
// it ended or the options changed since it started.
func (d *driver) begin(a BeginItem) error {
	if t := d.cur; t == nil || t.ended || t.opts != d.opts {
		if t != nil && !t.ended {
			t.tr.Close() // its committed items finish; its events still arrive
		}
		nt, err := d.startTask()
		if err != nil {
			d.cur = nil
			return err
		}
		d.cur = nt
	}
	t := d.cur
	if t.rs == nil || t.inRate != a.Rate {
		t.rs, t.inRate = nil, a.Rate
		if a.Rate != t.tr.Rate() {
			rs, err := dsp.NewResampler(a.Rate, t.tr.Rate())
			if err != nil {
				return fmt.Errorf("realtime: resample input: %w", err)
			}
			t.rs = rs
		}
	} else {
		t.rs.Reset()
	}
	t.items = append(t.items, a.ItemID)
	t.tr.Item(a.ItemID)
	return nil
}

func (d *driver) startTask() (*task, error) {
	ts, err := d.openSession(sessions.KindTranscription)
	if err != nil {
		return nil, err
	}
	tr, err := d.cfg.Transcriber.Transcribe(ts.sess.Context(), d.opts, ts.sess)
	if err != nil {
		ts.close(d.cfg.Sessions)
		return nil, err
	}
	ts.sess.Started()
	ts.sess.Attach(tr)
	t := &task{taskSession: ts, tr: tr, opts: d.opts}
	d.tasks = append(d.tasks, t)
	d.wg.Add(1)
	go d.pump(t.sub, taskEvent{t: t})
	return t, nil
}

// openSession creates a request-scoped session of kind and its one
// subscriber, through which the driver reads the task's events; closing
// the subscriber cancels the work.
func (d *driver) openSession(kind sessions.Kind) (taskSession, error) {
	sess, err := d.cfg.Sessions.Create(d.ctx, kind, true)
	if err != nil {
		return taskSession{}, err
	}
	sub, err := sess.Subscribe(0)
	if err != nil {
		d.cfg.Sessions.Remove(sess)
		return taskSession{}, err
	}
	return taskSession{sess: sess, sub: sub}, nil
}

// pump forwards sub's events to the loop, each as to with its ev set,
// until the terminal event or until sub is closed. The caller has done
// d.wg.Add(1).
func (d *driver) pump(sub *sessions.Subscriber, to taskEvent) {
	defer d.wg.Done()
	for {
		e, err := sub.Next(d.ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && d.ctx.Err() == nil {
				// Dropped by the slow-consumer policy: report it as the
				// task's failure.
				to.ev = pipeline.Failed{Err: err}
				select {
				case d.engine <- to:
				case <-d.ctx.Done():
				}
			}
			return
		}
		to.ev = e.Event
		select {
		case d.engine <- to:
		case <-d.ctx.Done():
			return
		}
	}
}

// endTask forgets a task whose work ended.
func (d *driver) endTask(t *task) {
	if t.close(d.cfg.Sessions) {
		d.tasks = slices.DeleteFunc(d.tasks, func(x *task) bool { return x == t })
	}
}

// stopTasks cancels every task still running: closing the last
// subscriber of a request-scoped session cancels its work.
func (d *driver) stopTasks() {
	for _, t := range d.tasks {
		t.close(d.cfg.Sessions)
	}
}

func (d *driver) write(ev ServerEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("realtime: encode %s: %w", TypeOf(ev), err)
	}
	// Not derived from d.ctx: the library drops the connection when a
	// write's context ends, and shutdown must still send its close frame.
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.WriteTimeout)
	defer cancel()
	if err := d.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("realtime: write %s: %w", TypeOf(ev), err)
	}
	return nil
}

// read delivers client messages to the loop, bounded by ReadLimit. After
// an oversized message it drains the rest of it, so the close handshake
// that follows can complete. It reads without a deadline: cancelling a
// read's context makes the library drop the connection, which would beat
// the loop's "going away" close frame at shutdown; Serve's final CloseNow
// ends the read instead.
func (d *driver) read() {
	defer d.wg.Done()
	for {
		typ, r, err := d.ws.Reader(context.Background())
		if err != nil {
			d.deliver(message{err: err})
			return
		}
		data, err := io.ReadAll(io.LimitReader(r, d.cfg.ReadLimit+1))
		if err != nil {
			d.deliver(message{err: err})
			return
		}
		if int64(len(data)) > d.cfg.ReadLimit {
			d.deliver(message{tooBig: true})
			_, _ = io.Copy(io.Discard, r)
			return
		}
		if !d.deliver(message{typ: typ, data: data}) {
			return
		}
	}
}

func (d *driver) deliver(m message) bool {
	select {
	case d.incoming <- m:
		return true
	case <-d.ctx.Done():
		return false
	}
}
