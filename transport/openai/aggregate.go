package openai

import (
	"sort"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// ChatAggregator builds the non-streaming chat.completion object from the
// same events ChatStream encodes: content and reasoning text are joined,
// tool-call fragments are assembled per index, logprobs are collected (when
// ChatStreamOptions.Logprobs is set) and the Done event supplies the
// finish_reason and usage. It does no I/O and must not be used from several
// goroutines at once.
type ChatAggregator struct {
	opts      ChatStreamOptions
	content   strings.Builder
	reasoning strings.Builder
	calls     map[int]*ToolCall
	logprobs  []TokenLogprob
	done      *pipeline.Done
	err       error
}

// NewChatAggregator returns an aggregator for one completion.
func NewChatAggregator(opts ChatStreamOptions) *ChatAggregator {
	return &ChatAggregator{opts: opts}
}

// Add folds ev into the response and reports whether the completion has
// ended (a Done or Failed event was seen). Events after the end and events
// that are not chat events are ignored.
func (a *ChatAggregator) Add(ev pipeline.Event) bool {
	if a.done != nil || a.err != nil {
		return true
	}
	switch e := ev.(type) {
	case pipeline.TextDelta:
		a.text(&e)
	case *pipeline.TextDelta:
		a.text(e)
	case pipeline.Done:
		a.finish(&e)
	case *pipeline.Done:
		a.finish(e)
	case pipeline.Failed, *pipeline.Failed:
		a.err = pipeline.ErrorOf(ev)
	}
	return a.done != nil || a.err != nil
}

func (a *ChatAggregator) finish(d *pipeline.Done) {
	if d.Finish == pipeline.FinishCancelled {
		a.err = errCancelled
		return
	}
	done := *d
	a.done = &done
}

func (a *ChatAggregator) text(d *pipeline.TextDelta) {
	a.content.WriteString(d.Content)
	a.reasoning.WriteString(d.Reasoning)
	if a.opts.Logprobs {
		for _, lp := range d.Logprobs {
			a.logprobs = append(a.logprobs, sanitize(NewTokenLogprob(lp)))
		}
	}
	for _, tc := range d.ToolCalls {
		a.toolCall(tc)
	}
}

func (a *ChatAggregator) toolCall(tc pipeline.ToolCallDelta) {
	if a.calls == nil {
		a.calls = make(map[int]*ToolCall)
	}
	call := a.calls[tc.Index]
	if call == nil {
		call = &ToolCall{Type: "function"}
		a.calls[tc.Index] = call
	}
	if tc.ID != "" {
		call.ID = tc.ID
	}
	if tc.Name != "" {
		call.Function.Name = tc.Name
	}
	call.Function.Arguments += tc.Arguments
}

// Result returns the chat.completion object. It fails with the stream's
// error after a Failed event, with a KindCancelled *pipeline.Error after a
// cancellation, and with a KindInternal error when no terminal event came.
func (a *ChatAggregator) Result() (ChatCompletion, error) {
	if a.err != nil {
		return ChatCompletion{}, a.err
	}
	if a.done == nil {
		return ChatCompletion{}, &pipeline.Error{Kind: pipeline.KindInternal, Message: "the completion ended without a final event"}
	}
	msg := ChatMessage{
		Role:             "assistant",
		Content:          Value(a.content.String()),
		Refusal:          Null[string](),
		ReasoningContent: a.reasoning.String(),
		ToolCalls:        a.toolCalls(),
	}
	if len(msg.ToolCalls) > 0 && a.content.Len() == 0 {
		msg.Content = Null[string]()
	}
	choice := ChatChoice{Index: 0, Message: msg, FinishReason: finishReason(a.done.Finish)}
	if a.opts.Logprobs {
		choice.Logprobs = &ChoiceLogprobs{Content: a.logprobs}
		if choice.Logprobs.Content == nil {
			choice.Logprobs.Content = []TokenLogprob{}
		}
	}
	usage := NewUsage(a.done.Usage)
	return ChatCompletion{
		ID: a.opts.ID, Object: ObjectChatCompletion, Created: a.opts.Created, Model: a.opts.Model,
		Choices: []ChatChoice{choice}, Usage: &usage, SystemFingerprint: a.opts.SystemFingerprint,
	}, nil
}

func (a *ChatAggregator) toolCalls() []ToolCall {
	if len(a.calls) == 0 {
		return nil
	}
	idx := make([]int, 0, len(a.calls))
	for i := range a.calls {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]ToolCall, 0, len(idx))
	for _, i := range idx {
		out = append(out, *a.calls[i])
	}
	return out
}
