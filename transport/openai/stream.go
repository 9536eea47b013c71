package openai

import (
	"bytes"
	"math"

	"github.com/ominix/ominix-api/pipeline"
)

// DoneFrame is the SSE frame that ends every OpenAI stream.
const DoneFrame = "data: [DONE]\n\n"

// errCancelled is what a stream (or an aggregated response) reports when
// its work was cancelled before it finished, e.g. by a server shutdown.
var errCancelled = &pipeline.Error{
	Kind:    pipeline.KindCancelled,
	Code:    CodeCancelled,
	Message: "The request was cancelled before the completion finished.",
}

// MinLogprob stands in for log probabilities JSON cannot carry (-Inf, NaN):
// OpenAI documents -9999.0 as "very unlikely".
const MinLogprob = -9999.0

// ChatStreamOptions describe one chat completion response, streamed or not.
type ChatStreamOptions struct {
	// ID is the completion id ("chatcmpl-…"), the same in every chunk.
	ID string
	// Created is the Unix time in seconds, the same in every chunk.
	Created int64
	// Model is the model name echoed in every chunk.
	Model string
	// SystemFingerprint identifies the backend configuration; empty omits it.
	SystemFingerprint string
	// IncludeUsage mirrors stream_options.include_usage: every chunk then
	// carries "usage": null and a trailer chunk with no choices carries the
	// usage. Only ChatStream uses it; ChatAggregator always reports usage.
	IncludeUsage bool
	// Logprobs mirrors the request's logprobs: content chunks carry the
	// log probabilities their events bring. Without it they are dropped.
	Logprobs bool
}

// ChatStream encodes the events of one chat completion as the SSE frames of
// OpenAI's streaming API ("data: {chunk}\n\n" … "data: [DONE]\n\n"). It is a
// pure, stateful encoder: it does no I/O, and a ChatStream must not be used
// from several goroutines at once.
//
// The frames are, in order: a role chunk (delta {"role":"assistant",
// "content":"","refusal":null}); one chunk per reasoning, content or
// tool-call fragment; a last chunk with an empty delta and the
// finish_reason; with IncludeUsage a trailer with "choices":[] and the usage;
// then [DONE]. When the first output is a tool call and Start was not called,
// the role rides on the tool call's chunk with "content":null, as OpenAI
// does. A failure (or a cancellation) ends the stream with a frame
// {"error":{...}} and [DONE].
type ChatStream struct {
	opts    ChatStreamOptions
	started bool
	done    bool
	buf     bytes.Buffer
	fast    textFrames
}

// NewChatStream returns an encoder for one streamed completion.
func NewChatStream(opts ChatStreamOptions) *ChatStream {
	return &ChatStream{opts: opts, fast: newTextFrames(opts)}
}

// Done reports whether a terminal event has been encoded; later events
// encode to nothing.
func (s *ChatStream) Done() bool { return s.done }

// Start appends the role chunk to dst. Call it when the stream opens, before
// the first token, so clients see the response begin during a long prefill;
// but not when the answer may be a tool call, whose first chunk carries the
// role itself (Encode then sends the role chunk before the first text, if
// the answer turns out to be text). It appends nothing if the role chunk
// was already sent.
func (s *ChatStream) Start(dst []byte) []byte {
	if s.started || s.done {
		return dst
	}
	s.started = true
	role := ChatDelta{Role: "assistant", Content: Value(""), Refusal: Null[string]()}
	return s.appendChunk(dst, role, nil, nil)
}

// Encode appends the frames for ev to dst and returns the extended slice.
// It understands TextDelta, Done and Failed (as values or pointers); other
// events, and every event after a terminal one, append nothing.
func (s *ChatStream) Encode(dst []byte, ev pipeline.Event) []byte {
	if s.done {
		return dst
	}
	switch e := ev.(type) {
	case pipeline.TextDelta:
		return s.text(dst, &e)
	case *pipeline.TextDelta:
		return s.text(dst, e)
	case pipeline.Done:
		return s.finish(dst, &e)
	case *pipeline.Done:
		return s.finish(dst, e)
	case pipeline.Failed, *pipeline.Failed:
		return s.Fail(dst, pipeline.ErrorOf(ev))
	}
	return dst
}

// Fail appends an error frame carrying err's OpenAI error object, then
// [DONE], and ends the stream. Use it for failures outside the event flow
// (a slow-consumer disconnect, a shutdown).
func (s *ChatStream) Fail(dst []byte, err error) []byte {
	if s.done {
		return dst
	}
	s.done = true
	dst = s.appendFrame(dst, NewErrorResponse(err))
	return append(dst, DoneFrame...)
}

func (s *ChatStream) text(dst []byte, d *pipeline.TextDelta) []byte {
	if d.Reasoning != "" {
		dst = s.Start(dst)
		dst = s.fast.append(dst, "reasoning_content", d.Reasoning)
	}
	if lp := s.logprobs(d.Logprobs); lp != nil {
		dst = s.Start(dst)
		dst = s.appendChunk(dst, ChatDelta{Content: Value(d.Content)}, lp, nil)
	} else if d.Content != "" {
		dst = s.Start(dst)
		dst = s.fast.append(dst, "content", d.Content)
	}
	for _, tc := range d.ToolCalls {
		chunk, ok := toolCallChunk(tc)
		if !ok {
			continue
		}
		delta := ChatDelta{ToolCalls: []ToolCallChunk{chunk}}
		if !s.started {
			s.started = true
			delta.Role, delta.Content, delta.Refusal = "assistant", Null[string](), Null[string]()
		}
		dst = s.appendChunk(dst, delta, nil, nil)
	}
	return dst
}

// toolCallChunk converts one fragment; a fragment with nothing in it (no id,
// no name, no arguments) is skipped.
func toolCallChunk(tc pipeline.ToolCallDelta) (ToolCallChunk, bool) {
	if tc.ID != "" || tc.Name != "" {
		return ToolCallChunk{
			Index: tc.Index, ID: tc.ID, Type: "function",
			Function: ToolCallChunkFunction{Name: tc.Name, Arguments: tc.Arguments},
		}, true
	}
	if tc.Arguments == "" {
		return ToolCallChunk{}, false
	}
	return ToolCallChunk{Index: tc.Index, Function: ToolCallChunkFunction{Arguments: tc.Arguments}}, true
}

func (s *ChatStream) finish(dst []byte, d *pipeline.Done) []byte {
	if d.Finish == pipeline.FinishCancelled {
		return s.Fail(dst, errCancelled)
	}
	dst = s.Start(dst)
	s.done = true
	reason := finishReason(d.Finish)
	dst = s.appendChunk(dst, ChatDelta{}, nil, &reason)
	if s.opts.IncludeUsage {
		c := s.chunk(nil)
		c.Choices = []ChunkChoice{}
		c.Usage = Value(NewUsage(d.Usage))
		dst = s.appendFrame(dst, c)
	}
	return append(dst, DoneFrame...)
}

// finishReason maps a pipeline finish reason to one of OpenAI's; anything
// unknown (including empty) is "stop".
func finishReason(f pipeline.FinishReason) string {
	switch f {
	case pipeline.FinishLength, pipeline.FinishToolCalls:
		return string(f)
	case "content_filter":
		return "content_filter"
	}
	return string(pipeline.FinishStop)
}

func (s *ChatStream) logprobs(lps []pipeline.TokenLogprobs) *ChoiceLogprobs {
	if !s.opts.Logprobs || len(lps) == 0 {
		return nil
	}
	return newChoiceLogprobs(lps)
}

func newChoiceLogprobs(lps []pipeline.TokenLogprobs) *ChoiceLogprobs {
	out := &ChoiceLogprobs{Content: make([]TokenLogprob, 0, len(lps))}
	for _, lp := range lps {
		out.Content = append(out.Content, sanitize(NewTokenLogprob(lp)))
	}
	return out
}

// sanitize replaces log probabilities JSON cannot encode with MinLogprob.
func sanitize(t TokenLogprob) TokenLogprob {
	t.Logprob = finite(t.Logprob)
	for i := range t.TopLogprobs {
		t.TopLogprobs[i].Logprob = finite(t.TopLogprobs[i].Logprob)
	}
	return t
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return MinLogprob
	}
	return f
}

func (s *ChatStream) chunk(choices []ChunkChoice) ChatCompletionChunk {
	c := ChatCompletionChunk{
		ID: s.opts.ID, Object: ObjectChatCompletionChunk, Created: s.opts.Created,
		Model: s.opts.Model, SystemFingerprint: s.opts.SystemFingerprint, Choices: choices,
	}
	if s.opts.IncludeUsage {
		c.Usage = Null[CompletionUsage]()
	}
	return c
}

func (s *ChatStream) appendChunk(dst []byte, d ChatDelta, lp *ChoiceLogprobs, finish *string) []byte {
	choice := ChunkChoice{Index: 0, Delta: d, Logprobs: lp, FinishReason: finish}
	return s.appendFrame(dst, s.chunk([]ChunkChoice{choice}))
}

// appendFrame appends "data: <json>\n\n". Our types always encode (floats
// are made finite first), so a failure is a bug; it still yields a valid
// error frame rather than a broken stream.
func (s *ChatStream) appendFrame(dst []byte, v any) []byte {
	s.buf.Reset()
	if err := appendJSON(&s.buf, v); err != nil {
		s.buf.Reset()
		_ = appendJSON(&s.buf, NewErrorResponse(err))
	}
	dst = append(dst, "data: "...)
	dst = append(dst, s.buf.Bytes()...)
	return append(dst, "\n\n"...)
}

// AppendFrame appends v as one SSE data frame ("data: <json>\n\n"), the
// framing OpenAI uses for every streamed object (chat chunks, transcript and
// speech events). JSON is compact and not HTML-escaped, so it never contains
// a raw newline.
func AppendFrame(dst []byte, v any) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return dst, err
	}
	dst = append(dst, "data: "...)
	dst = append(dst, b...)
	return append(dst, "\n\n"...), nil
}
