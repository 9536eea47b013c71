package llm

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ominix/ominix-api/mlxrt/llm/sample"
	"github.com/ominix/ominix-api/pipeline"
)

// SequenceOptions configure a sequence made with NewSequence.
type SequenceOptions struct {
	// Sampling holds the decoding parameters (see package sample).
	Sampling sample.Params
	// IgnoreEOS keeps generating through stop tokens (benchmarks and
	// golden tests); the scheduler's max_tokens still applies.
	IgnoreEOS bool
}

// Sequence is one generation: its prompt, sampler and detokenizer (made by
// Prepare on any goroutine) and its KV cache (made by the first Step on the
// pinned thread).
type Sequence struct {
	e           *Engine
	prompt      []int32
	opts        SequenceOptions
	sampler     *sample.Sampler
	dec         Decoder
	inReasoning bool

	// Pinned-thread state.
	cache     *kvCache
	fed       int   // prompt tokens in the cache
	next      int32 // last sampled token, not yet in the cache
	generated int
	finished  bool
	released  bool
}

// PromptTokens is the number of prompt tokens.
func (s *Sequence) PromptTokens() int { return len(s.prompt) }

// Prompt returns a copy of the prompt's token ids.
func (s *Sequence) Prompt() []int32 { return append([]int32(nil), s.prompt...) }

// InReasoning reports whether the prompt ends inside an open think block.
func (s *Sequence) InReasoning() bool { return s.inReasoning }

// Generated is the number of tokens sampled so far. Call it on the pinned
// thread (Step changes it).
func (s *Sequence) Generated() int { return s.generated }

// Release frees the KV cache; it runs on the pinned thread and may be
// called more than once. A released sequence cannot step again.
func (s *Sequence) Release() {
	if s.released {
		return
	}
	s.released = true
	s.e.budget.release(s.cache)
	s.cache = nil
}

// Prepare renders req with the chat template, tokenizes it and checks it
// fits the context. It touches no pinned-thread state and may run
// concurrently with Step.
func (e *Engine) Prepare(req *pipeline.ChatRequest) (pipeline.Sequence, error) {
	ids, text, err := e.Tokenize(req)
	if err != nil {
		return nil, err
	}
	p, err := samplingParams(req, e.gen)
	if err != nil {
		return nil, err
	}
	s, err := e.NewSequence(ids, SequenceOptions{Sampling: p})
	if err != nil {
		return nil, err
	}
	s.inReasoning = inReasoning(text, e.text.thinkOpen, e.text.thinkClose)
	return s, nil
}

// Tokenize renders req's messages and tools with the chat template (with
// the generation prompt, enable_thinking and the template kwargs) and
// returns the prompt's token ids and text, without checking them against
// the context. Tools are left out when tool_choice is "none". Template
// errors (raise_exception, limits) are KindInvalid. Safe for concurrent
// use.
func (e *Engine) Tokenize(req *pipeline.ChatRequest) ([]int32, string, error) {
	if e.tmpl == nil {
		return nil, "", &pipeline.Error{Kind: pipeline.KindInvalid, Code: "no_chat_template",
			Message: "this model has no chat template, so it cannot serve chat completions"}
	}
	tools := req.Tools
	if req.ToolChoice.Mode == "none" {
		tools = nil
	}
	kwargs := maps.Clone(req.TemplateKwargs)
	if req.EnableThinking != nil {
		if kwargs == nil {
			kwargs = map[string]any{}
		}
		kwargs["enable_thinking"] = *req.EnableThinking
	}
	text, err := e.tmpl.Render(req.Messages, tools, true, kwargs)
	if err != nil {
		return nil, "", &pipeline.Error{Kind: pipeline.KindInvalid, Param: "messages",
			Message: "the chat template rejected the messages: " + err.Error(), Err: err}
	}
	return e.tok.Encode(text), text, nil
}

// NewSequence makes a sequence for a tokenized prompt. Like Prepare it may
// run on any goroutine. The prompt must be non-empty, inside the
// vocabulary and shorter than the context length.
func (e *Engine) NewSequence(prompt []int32, o SequenceOptions) (*Sequence, error) {
	if err := e.checkPrompt(prompt); err != nil {
		return nil, err
	}
	if err := o.Sampling.Validate(); err != nil {
		return nil, pipeline.Invalid("", "%v", err)
	}
	prompt = append([]int32(nil), prompt...)
	return &Sequence{
		e: e, prompt: prompt, opts: o,
		sampler: sample.New(o.Sampling, e.cfg.VocabSize, prompt),
		// The answer is decoded on its own, as transformers decodes the
		// generated ids: a SentencePiece answer's first "▁" is not a
		// leading space.
		dec: e.tok.NewDecoder(nil),
	}, nil
}

var (
	errForeign  = errors.New("llm: sequence belongs to another engine")
	errReleased = errors.New("llm: sequence was released")
	errFinished = errors.New("llm: sequence already ended")
	errTwice    = errors.New("llm: sequence appears twice in one step")
)

// Step advances every sequence of batch by one step: a prompt chunk for
// sequences still reading their prompt (sampling the first token when the
// prompt is done), one token for the others, all in one batched forward
// pass so every weight is read once per step. out[i] gets batch[i]'s
// result; a sequence that cannot step (released, ended, out of context or
// cache memory) gets an error in out[i].Err and the rest proceed. Step runs
// on the pinned thread.
func (e *Engine) Step(batch []pipeline.Sequence, out []pipeline.TokenOutput) error {
	if len(out) != len(batch) {
		return fmt.Errorf("llm: step: %d outputs for %d sequences", len(out), len(batch))
	}
	seqs, ids, spans := e.plan(batch, out)
	if len(spans) == 0 {
		return nil
	}
	logits := e.model.forward(ids, spans, false)
	row := 0
	for j, sp := range spans {
		s, o := seqs[j], &out[seqs[j].slot]
		if s.fed < len(s.prompt) {
			s.fed += sp.n
			o.Prefilled = sp.n
		}
		if !sp.logits {
			continue
		}
		v := logits.Dim(1)
		s.emit(logits.Float32View()[row*v:(row+1)*v], o)
		row++
	}
	return nil
}

// planned is a sequence with its index in the batch.
type planned struct {
	*Sequence
	slot int
}

// plan picks each sequence's tokens for this step, makes cache room and
// lays the rows out for one forward pass.
func (e *Engine) plan(batch []pipeline.Sequence, out []pipeline.TokenOutput) ([]planned, []int, []span) {
	var seqs []planned
	var ids []int
	var spans []span
	share := e.prefillShare(batch)
	for i, b := range batch {
		out[i] = pipeline.TokenOutput{}
		s, err := e.ready(b)
		if err == nil && slices.ContainsFunc(seqs, func(p planned) bool { return p.Sequence == s }) {
			err = errTwice
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		toks := []int32{s.next}
		logits := true
		if rest := len(s.prompt) - s.fed; rest > 0 {
			n := min(rest, share)
			toks, logits = s.prompt[s.fed:s.fed+n], n == rest
		}
		pos := 0
		if s.cache != nil {
			pos = s.cache.length
		}
		c, err := e.budget.ensure(s.cache, pos+len(toks))
		if err != nil {
			out[i].Err = err
			continue
		}
		s.cache = c
		ropeLen := max(pos+len(toks), len(s.prompt))
		spans = append(spans, span{cache: c, start: len(ids), n: len(toks), pos: pos, ropeLen: ropeLen, logits: logits})
		for _, t := range toks {
			ids = append(ids, int(t))
		}
		seqs = append(seqs, planned{s, i})
	}
	return seqs, ids, spans
}

// prefillShare is how many prompt tokens each prefilling sequence may read
// this step.
func (e *Engine) prefillShare(batch []pipeline.Sequence) int {
	n := 0
	for _, b := range batch {
		if s, ok := b.(*Sequence); ok && s.e == e && !s.released && !s.finished && s.fed < len(s.prompt) {
			n++
		}
	}
	if n == 0 {
		return e.opts.PrefillChunk
	}
	return min(e.opts.PrefillChunk, max(e.opts.StepTokens/n, 16))
}

func (e *Engine) ready(b pipeline.Sequence) (*Sequence, error) {
	s, ok := b.(*Sequence)
	switch {
	case !ok || s.e != e:
		return nil, errForeign
	case s.released:
		return nil, errReleased
	case s.finished:
		return nil, errFinished
	}
	return s, nil
}

// emit samples the next token from logits and fills o.
func (s *Sequence) emit(logits []float32, o *pipeline.TokenOutput) {
	r, err := s.sampler.Sample(logits)
	if err != nil {
		o.Err = &pipeline.Error{Kind: pipeline.KindInternal, Message: "the model produced invalid logits", Err: err}
		s.finished = true
		return
	}
	e := s.e
	tok := r.Token
	s.next = tok
	s.generated++
	o.Sampled, o.Token = true, int(tok)
	switch {
	case e.text.stop[tok] && !s.opts.IgnoreEOS:
		o.EOS = true
		s.finished = true
		o.Text = s.dec.Flush()
	case e.tok.IsSpecial(tok) && !e.text.keep[tok]:
		// Control tokens are not text.
	default:
		o.Text = s.dec.Add(tok)
	}
	if s.opts.Sampling.Logprobs {
		o.Logprobs = e.logprobs(r)
	}
}

// FlushText returns the text the detokenizer still holds (the start of a
// UTF-8 character whose end was never generated, rendered as U+FFFD as
// transformers' decode renders it). The scheduler calls it when it ends a
// generation the model did not end, between steps.
func (s *Sequence) FlushText() string {
	if s.finished {
		return ""
	}
	return s.dec.Flush()
}

func (e *Engine) logprobs(r sample.Result) *pipeline.TokenLogprobs {
	lp := &pipeline.TokenLogprobs{TokenLogprob: e.tokenLogprob(r.Token, r.Logprob)}
	lp.Top = make([]pipeline.TokenLogprob, len(r.Top))
	for i, c := range r.Top {
		lp.Top[i] = e.tokenLogprob(c.Token, c.Logprob)
	}
	return lp
}

func (e *Engine) tokenLogprob(id int32, lp float32) pipeline.TokenLogprob {
	b := e.tok.TokenBytes(id)
	return pipeline.TokenLogprob{Token: string(b), Bytes: append([]byte{}, b...), Logprob: float64(lp)}
}
