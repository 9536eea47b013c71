package pipelinetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ominix/ominix-api/pipeline"
)

// Script decides what the scripted model answers to a request: the pieces
// of text it generates, one per token.
type Script func(req *pipeline.ChatRequest) []string

// Echo answers with the last user message, word by word.
func Echo(req *pipeline.ChatRequest) []string {
	last := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			last = m.Content
		}
	}
	return Words(last)
}

// Words splits text into pieces that keep their leading spaces, the way
// BPE tokens do ("Hello", " world").
func Words(text string) []string {
	var out []string
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			out = append(out, w)
		}
	}
	// Move trailing spaces to the next piece's front.
	for i := 0; i+1 < len(out); i++ {
		if strings.HasSuffix(out[i], " ") {
			out[i] = strings.TrimSuffix(out[i], " ")
			out[i+1] = " " + out[i+1]
		}
	}
	return out
}

// Fixed always answers with pieces.
func Fixed(pieces ...string) Script {
	return func(*pipeline.ChatRequest) []string { return pieces }
}

// LLM is a scripted language model implementing pipeline.LLM.
type LLM struct {
	// Name is the model id; zero value "scripted".
	Name string
	// Context is the context length; zero means 4096.
	Context int
	// PrefillChunk is the prompt tokens read per step; zero means 64.
	PrefillChunk int
	// Script chooses the output; nil means Echo.
	Script Script
	// StepDelay is slept on the pinned thread in every Step, standing in for
	// compute.
	StepDelay time.Duration
	// FailAfter, when positive, makes a sequence fail with FailErr after
	// that many generated tokens.
	FailAfter int
	FailErr   error
	// Tools and Think set the model's tool format and reasoning tags.
	Tools pipeline.ToolFormat
	Think bool
	// Gate, when non-nil, is received from before every Step: a test can
	// hold the model still.
	Gate chan struct{}
	// NoEOS keeps generating (repeating the script) until max tokens.
	NoEOS bool

	steps    atomic.Int64
	tokens   atomic.Int64
	live     atomic.Int64
	closed   atomic.Bool
	threadMu sync.Mutex // detects Step calls that overlap (they must not)
}

var _ pipeline.LLM = (*LLM)(nil)

// Info describes the model.
func (m *LLM) Info() pipeline.ModelInfo {
	info := pipeline.ModelInfo{ID: m.Name, Category: pipeline.LLMSlot, Family: "scripted",
		ContextLength: m.Context, ToolFormat: m.Tools}
	if info.ID == "" {
		info.ID = "scripted"
	}
	if info.ContextLength == 0 {
		info.ContextLength = 4096
	}
	if m.Think {
		info.ThinkOpen, info.ThinkClose = "<think>", "</think>"
	}
	return info
}

// Close marks the model closed.
func (m *LLM) Close() error { m.closed.Store(true); return nil }

// Closed reports whether Close was called.
func (m *LLM) Closed() bool { return m.closed.Load() }

// Steps is the number of Step calls so far.
func (m *LLM) Steps() int64 { return m.steps.Load() }

// Tokens is the number of tokens generated so far.
func (m *LLM) Tokens() int64 { return m.tokens.Load() }

// Live is the number of sequences prepared and not yet released.
func (m *LLM) Live() int64 { return m.live.Load() }

// Prepare "tokenizes" the prompt as one token per 4 bytes of message text.
func (m *LLM) Prepare(req *pipeline.ChatRequest) (pipeline.Sequence, error) {
	n := 3
	for _, msg := range req.Messages {
		n += 4 + (len(msg.Content)+3)/4
	}
	script := m.Script
	if script == nil {
		script = Echo
	}
	if n >= m.Info().ContextLength {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Code: "context_length_exceeded", Param: "messages",
			Message: "prompt too long"}
	}
	m.live.Add(1)
	return &seq{m: m, prompt: n, left: n, pieces: script(req)}, nil
}

type seq struct {
	m        *LLM
	prompt   int
	left     int // prompt tokens not yet prefilled
	pieces   []string
	next     int
	made     int
	released bool
}

func (s *seq) PromptTokens() int { return s.prompt }
func (s *seq) InReasoning() bool { return false }

func (s *seq) Release() {
	if !s.released {
		s.released = true
		s.m.live.Add(-1)
	}
}

// Step prefills or generates one piece per sequence.
func (m *LLM) Step(batch []pipeline.Sequence, out []pipeline.TokenOutput) error {
	if !m.threadMu.TryLock() {
		return errors.New("pipelinetest: overlapping Step calls")
	}
	defer m.threadMu.Unlock()
	if m.Gate != nil {
		<-m.Gate
	}
	m.steps.Add(1)
	if m.StepDelay > 0 {
		time.Sleep(m.StepDelay)
	}
	chunk := m.PrefillChunk
	if chunk <= 0 {
		chunk = 64
	}
	for i, b := range batch {
		s := b.(*seq)
		if s.released {
			out[i] = pipeline.TokenOutput{Err: errors.New("pipelinetest: step on a released sequence")}
			continue
		}
		if s.left > 0 {
			n := min(chunk, s.left)
			s.left -= n
			out[i].Prefilled = n
			if s.left > 0 {
				continue
			}
		}
		out[i] = m.generate(s, out[i].Prefilled)
	}
	return nil
}

func (m *LLM) generate(s *seq, prefilled int) pipeline.TokenOutput {
	o := pipeline.TokenOutput{Prefilled: prefilled, Sampled: true, Token: s.made}
	if m.FailAfter > 0 && s.made >= m.FailAfter {
		err := m.FailErr
		if err == nil {
			err = errors.New("scripted failure")
		}
		return pipeline.TokenOutput{Err: err}
	}
	s.made++
	m.tokens.Add(1)
	if s.next >= len(s.pieces) {
		if m.NoEOS && len(s.pieces) > 0 {
			s.next = 0
		} else {
			o.EOS = true
			return o
		}
	}
	o.Text = s.pieces[s.next]
	s.next++
	lp := -0.25 * float64(s.next)
	o.Logprobs = &pipeline.TokenLogprobs{
		TokenLogprob: pipeline.TokenLogprob{Token: o.Text, Bytes: []byte(o.Text), Logprob: lp},
		Top:          []pipeline.TokenLogprob{{Token: o.Text, Bytes: []byte(o.Text), Logprob: lp}},
	}
	return o
}

// Loader returns a loader that hands out models by name from ms.
func Loader(ms map[string]pipeline.Model) pipeline.Loader {
	return pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		m, ok := ms[ref.Name]
		if !ok {
			return nil, &pipeline.Error{Kind: pipeline.KindNotFound, Param: "model", Message: "no such model " + ref.Name}
		}
		return m, nil
	})
}
