package pipeline

import (
	"context"
	"fmt"
	"time"
)

// ChatStart describes an admitted chat generation.
type ChatStart struct {
	Model        ModelInfo
	PromptTokens int
	// MaxTokens is the completion budget after clamping to the context.
	MaxTokens int
}

type chatTask struct {
	*taskBase
	llm       LLM
	seq       Sequence
	req       *ChatRequest
	info      ModelInfo
	parser    *OutputParser
	maxTokens int

	prompt, completion, reasoning int
	reported                      int // completion tokens counted in emitted deltas
	submittedAt, admittedAt       time.Time
	lastTok                       time.Time
	released                      bool
}

// Chat prepares req on the LLM slot's model (rendering and tokenizing on the
// caller's goroutine) and admits the generation. Its events (TextDelta, then
// Done or Failed) go to sink. A completion budget beyond the context is
// clamped: the generation then ends with finish reason "length".
//
// Errors: KindUnavailable when no LLM is loaded or the server is shutting
// down, KindOverloaded when the backlog is full, KindInvalid for a prompt
// that does not fit the context.
func (s *Scheduler) Chat(ctx context.Context, req *ChatRequest, sink Sink) (ChatStart, error) {
	lease, llm, err := acquireAs[LLM](s.slots, LLMSlot, "language model")
	if err != nil {
		return ChatStart{}, err
	}
	info := llm.Info()
	seq, err := llm.Prepare(req)
	if err != nil {
		lease.Release()
		return ChatStart{}, err
	}
	prompt := seq.PromptTokens()
	room := info.ContextLength - prompt
	if info.ContextLength > 0 && room <= 0 {
		seq.Release() // never stepped: no thread state to free
		lease.Release()
		return ChatStart{}, &Error{Kind: KindInvalid, Param: "messages", Code: "context_length_exceeded",
			Message: fmt.Sprintf("this model's maximum context length is %d tokens, but the messages take %d tokens",
				info.ContextLength, prompt)}
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = info.DefaultMaxTokens
	}
	if info.ContextLength > 0 && (maxTokens <= 0 || maxTokens > room) {
		maxTokens = room
	}
	t := &chatTask{
		taskBase:    s.newBase(ctx, LLMSlot, sink, lease),
		llm:         llm,
		seq:         seq,
		req:         req,
		info:        info,
		parser:      NewOutputParser(info, req, seq.InReasoning()),
		maxTokens:   maxTokens,
		prompt:      prompt,
		submittedAt: time.Now(),
	}
	if err := s.submit(t); err != nil {
		seq.Release() // never stepped: no thread state to free; before the lease goes
		s.end(t.taskBase, nil)
		return ChatStart{}, err
	}
	return ChatStart{Model: info, PromptTokens: prompt, MaxTokens: maxTokens}, nil
}

// releaseSeqs frees sequences' caches in one trip to the thread.
func (s *Scheduler) releaseSeqs(seqs []Sequence) {
	if len(seqs) == 0 {
		return
	}
	_ = s.run(func() error {
		for _, q := range seqs {
			q.Release()
		}
		return nil
	})
}

func (c *chatTask) ready() bool          { return true }
func (c *chatTask) step(*Scheduler) bool { return false } // chat tasks are stepped in batches by stepLLM

func (c *chatTask) abort(s *Scheduler, err error) {
	if !c.released {
		c.released = true
		s.releaseSeqs([]Sequence{c.seq})
	}
	s.end(c.taskBase, failure(err))
}

func (c *chatTask) usage() Usage {
	return Usage{PromptTokens: c.prompt, CompletionTokens: c.completion, ReasoningTokens: c.reasoning}
}

// stepLLM runs one step for every active LLM sequence, batched per model,
// and routes each sequence's output through its parser to its sink.
func (s *Scheduler) stepLLM() {
	type finished struct {
		t     *chatTask
		final Event
	}
	var done []finished
	groups := map[LLM][]*chatTask{}
	var order []LLM
	for _, c := range s.llm {
		if err := context.Cause(c.ctx); err != nil {
			done = append(done, finished{c, failure(err)})
			continue
		}
		if _, ok := groups[c.llm]; !ok {
			order = append(order, c.llm)
		}
		groups[c.llm] = append(groups[c.llm], c)
	}
	for _, llm := range order {
		group := groups[llm]
		batch := make([]Sequence, len(group))
		for i, c := range group {
			batch[i] = c.seq
		}
		out := make([]TokenOutput, len(group))
		start := time.Now()
		err := s.run(func() error { return llm.Step(batch, out) })
		s.opts.Metrics.StepDuration(LLMSlot, time.Since(start))
		tokens := 0
		for i, c := range group {
			var final Event
			if err != nil {
				final = failure(fmt.Errorf("decode step: %w", err))
			} else {
				if out[i].Sampled {
					tokens++
				}
				final = c.consume(s, out[i])
			}
			if final != nil {
				done = append(done, finished{c, final})
			}
		}
		if tokens > 0 {
			s.opts.Metrics.TokensGenerated(llm.Info().ID, tokens)
		}
	}
	if len(done) == 0 {
		return
	}
	seqs := make([]Sequence, 0, len(done))
	ended := map[*chatTask]bool{}
	for _, f := range done {
		if !f.t.released {
			f.t.released = true
			seqs = append(seqs, f.t.seq)
		}
		ended[f.t] = true
	}
	s.releaseSeqs(seqs)
	for _, f := range done {
		s.end(f.t.taskBase, f.final)
	}
	kept := s.llm[:0]
	for _, c := range s.llm {
		if !ended[c] {
			kept = append(kept, c)
		}
	}
	clear(s.llm[len(kept):])
	s.llm = kept
	s.retire(len(done))
}

// append adds the text and tool calls of m, which the parser produced
// after d, to d.
func (d *TextDelta) append(m TextDelta) {
	d.Content += m.Content
	d.Reasoning += m.Reasoning
	d.ToolCalls = append(d.ToolCalls, m.ToolCalls...)
}

// consume handles one step's output of the sequence and returns the final
// event when the generation ends.
func (c *chatTask) consume(s *Scheduler, o TokenOutput) Event {
	if o.Err != nil {
		return failure(o.Err)
	}
	if !o.Sampled {
		return nil
	}
	now := time.Now()
	if c.completion == 0 {
		s.opts.Metrics.TimeToFirstToken(c.info.ID, now.Sub(c.submittedAt))
	} else {
		s.opts.Metrics.InterToken(c.info.ID, now.Sub(c.lastTok))
	}
	c.lastTok = now
	c.completion++
	if c.parser.InReasoning() {
		c.reasoning++
	}
	d := c.parser.Push(o.Text)
	if c.req.Logprobs && o.Logprobs != nil {
		d.Logprobs = append(d.Logprobs, *o.Logprobs)
	}
	var finish FinishReason
	switch {
	case c.parser.Stopped():
		finish = FinishStop
	case o.EOS:
		finish = FinishStop
	case c.maxTokens > 0 && c.completion >= c.maxTokens:
		finish = FinishLength
	}
	if finish == FinishLength {
		if fl, ok := c.seq.(TextFlusher); ok {
			if rest := fl.FlushText(); rest != "" {
				d.append(c.parser.Push(rest))
			}
		}
	}
	if finish != "" {
		d.append(c.parser.Flush())
		if finish == FinishStop && c.parser.ToolCalls() > 0 {
			finish = FinishToolCalls
		}
	}
	if d.Content != "" || d.Reasoning != "" || len(d.ToolCalls) > 0 || len(d.Logprobs) > 0 {
		d.Tokens, c.reported = c.completion-c.reported, c.completion
		c.sink.Emit(d)
	}
	if finish != "" {
		return Done{Finish: finish, Usage: c.usage()}
	}
	return nil
}
