package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/sse"
)

// maxCoalesce bounds the bytes of frames gathered into one write: events
// already queued when the writer wakes go out together (one write and one
// flush), so a busy server makes fewer system calls without delaying any
// frame.
const maxCoalesce = 32 << 10

// errNoEvent is the cause of noWait: Next(noWait) returns an event that is
// already queued, or errNoEvent at once.
var errNoEvent = errors.New("no event queued")

var noWait = func() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errNoEvent)
	return ctx
}()

// chatCompletions answers POST /v1/chat/completions. The request is decoded
// and bounded (Options.Decode), a request-scoped session is created, the
// generation is admitted (429/503 with Retry-After before anything is
// streamed), and the session's events are written as OpenAI chunks
// (stream: true; see mayCallTools for when the role chunk is sent) or one
// chat.completion object. The response's model is the loaded model's id.
// When the client goes away, the session's work is cancelled at its next
// step.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	body, err := ReadBody(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	params, err := openai.DecodeChatRequest(body, &s.opts.Decode)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var start pipeline.ChatStart
	sess, sub, err := s.startRequestWork(r.Context(), sessions.KindChat, func(sess *sessions.Session) (err error) {
		start, err = s.deps.Scheduler.Chat(sess.Context(), &params.Request, sess)
		return err
	})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer s.EndSession(sess, nil)
	defer sub.Close()
	opts := openai.ChatStreamOptions{
		ID: pipeline.NewID("chatcmpl-"), Created: time.Now().Unix(), Model: start.Model.ID,
		SystemFingerprint: s.opts.SystemFingerprint, IncludeUsage: params.IncludeUsage, Logprobs: params.Request.Logprobs,
	}
	filter := toolFilter{firstOnly: !params.ParallelToolCalls}
	if params.Stream {
		enc := openai.NewChatStream(opts)
		var first []byte
		if !mayCallTools(&params.Request, start.Model) {
			first = enc.Start(nil) // the stream visibly begins during prefill
		}
		_ = s.StreamSession(w, r, sub, chatFrames{enc, filter}, first)
		return
	}
	s.completeChat(w, r, sub, openai.NewChatAggregator(opts), filter)
}

// mayCallTools reports whether the answer to req may be a tool call: the
// request offers tools, does not forbid them (tool_choice "none"), and the
// model has a tool-call format. Such streams open without the role chunk:
// OpenAI sends the role on the first tool-call chunk (with "content": null),
// or, when the answer is text after all, in a role chunk of its own just
// before the first text. Keepalive comments still show the stream is alive
// during prefill.
func mayCallTools(req *pipeline.ChatRequest, info pipeline.ModelInfo) bool {
	return len(req.Tools) > 0 && req.ToolChoice.Mode != "none" && info.ToolFormat != pipeline.ToolsNone
}

// completeChat gathers the completion and answers with one chat.completion
// object, or with the error that ended it.
func (s *Server) completeChat(w http.ResponseWriter, r *http.Request, sub *sessions.Subscriber, agg *openai.ChatAggregator, f toolFilter) {
	for {
		e, err := sub.Next(r.Context())
		if err != nil {
			if r.Context().Err() != nil {
				return // the client is gone; closing sub cancels the work
			}
			if errors.Is(err, io.EOF) {
				break // the terminal event was delivered; Result reports it
			}
			WriteError(w, r, err)
			return
		}
		if agg.Add(f.apply(e.Event)) {
			break
		}
	}
	res, err := agg.Result()
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// FrameEncoder turns a session's events into SSE frames for one streamed
// response (openai.ChatStream is one). It is used by one goroutine.
type FrameEncoder interface {
	// Encode appends the frames for ev to dst.
	Encode(dst []byte, ev pipeline.Event) []byte
	// Done reports whether the stream's final frames were encoded.
	Done() bool
	// Fail appends a final error frame (and whatever ends the stream).
	Fail(dst []byte, err error) []byte
}

// StreamSession opens an SSE response on w (Options' write timeout and
// keepalive), writes first (e.g. a role chunk; may be nil), then writes
// sub's events through enc until enc is done. Events already queued are
// coalesced into one write. A subscriber dropped by its slow-consumer
// policy gets a final error frame; a client that goes away or stops
// reading (write deadline) ends the stream, and closing sub (the caller's
// job) then cancels a request-scoped session's work. It returns nil when
// the stream ended normally, else why it ended early. When the writer
// cannot stream it answers with an error and writes nothing else.
func (s *Server) StreamSession(w http.ResponseWriter, r *http.Request, sub *sessions.Subscriber, enc FrameEncoder, first []byte) error {
	sw, err := sse.New(r.Context(), w, s.SSEOptions())
	if err != nil {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInternal, Err: err})
		return err
	}
	defer sw.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := cancelWhenClosed(ctx, sw.Done(), cancel)
	defer stop()
	if len(first) > 0 {
		if err := sw.Write(first); err != nil {
			return err
		}
	}
	return pump(ctx, sub, sw, enc)
}

// sendJSON sends v, encoded as OpenAI JSON, as one SSE data event and
// reports whether it was sent.
func sendJSON(sw *sse.Writer, v any) bool {
	b, err := openai.Marshal(v)
	return err == nil && sw.Event(sse.Event{Data: b}) == nil
}

// pump moves events from sub to sw until enc is done, ctx ends, or a
// write fails.
func pump(ctx context.Context, sub *sessions.Subscriber, sw *sse.Writer, enc FrameEncoder) error {
	buf := make([]byte, 0, 4096)
	for !enc.Done() {
		e, err := sub.Next(ctx)
		for err == nil {
			buf = enc.Encode(buf, e.Event)
			if enc.Done() || len(buf) >= maxCoalesce {
				break
			}
			e, err = sub.Next(noWait)
		}
		if errors.Is(err, errNoEvent) {
			err = nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if errors.Is(err, io.EOF) {
				err = &pipeline.Error{Kind: pipeline.KindInternal, Message: "the stream ended without a final event"}
			}
			buf = enc.Fail(buf, err)
		}
		if len(buf) > 0 {
			if werr := sw.Write(buf); werr != nil {
				return werr
			}
			buf = buf[:0]
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cancelWhenClosed calls cancel when done closes before ctx ends; stop
// ends the watcher and waits for it.
func cancelWhenClosed(ctx context.Context, done <-chan struct{}, cancel func()) (stop func()) {
	exit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		case <-exit:
		}
	}()
	return func() {
		close(exit)
		<-finished
	}
}

// chatFrames adapts openai.ChatStream to FrameEncoder, applying the
// request's tool-call filter.
type chatFrames struct {
	*openai.ChatStream
	f toolFilter
}

func (c chatFrames) Encode(dst []byte, ev pipeline.Event) []byte {
	return c.ChatStream.Encode(dst, c.f.apply(ev))
}

// toolFilter implements parallel_tool_calls: false by keeping only the
// first tool call (index 0) of the answer; later calls the model makes are
// dropped from the response.
type toolFilter struct{ firstOnly bool }

func (f toolFilter) apply(ev pipeline.Event) pipeline.Event {
	d, ok := ev.(pipeline.TextDelta)
	if !f.firstOnly || !ok || len(d.ToolCalls) == 0 {
		return ev
	}
	var kept []pipeline.ToolCallDelta
	for _, c := range d.ToolCalls {
		if c.Index == 0 {
			kept = append(kept, c)
		}
	}
	d.ToolCalls = kept
	return d
}
