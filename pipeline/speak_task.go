package pipeline

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"
)

// Synthesis is a running text-to-speech task. Text is pushed (from any
// goroutine) as it becomes available, for example an LLM's deltas; the
// scheduler speaks one clause per step and emits an AudioChunk for each.
// Close ends the task after the text pushed so far; its final event is Done
// with the characters spoken and seconds of audio made.
type Synthesis struct {
	*taskBase
	engine  Synthesizer
	maxText int

	mu       sync.Mutex
	splitter ClauseSplitter
	opts     SpeechOptions
	queue    []speechItem
	pending  int // runes queued or held by the splitter
	closed   bool
	chars    int
	seconds  float64
	s        *Scheduler
}

type speechItem struct {
	text string
	opts SpeechOptions
	mark string // when set, an AudioMark to emit instead of speaking
}

// Speak starts a synthesis task on the TTS slot's model with default
// options opts (voice, speed). The voice is checked when each clause is
// spoken; an unknown one fails the task with a KindInvalid error.
func (s *Scheduler) Speak(ctx context.Context, opts SpeechOptions, sink Sink) (*Synthesis, error) {
	lease, engine, err := acquireAs[Synthesizer](s.slots, TTSSlot, "speech synthesizer")
	if err != nil {
		return nil, err
	}
	t := &Synthesis{
		taskBase: s.newBase(ctx, TTSSlot, sink, lease),
		engine:   engine,
		maxText:  1 << 20,
		opts:     opts,
		s:        s,
	}
	if err := s.submit(t); err != nil {
		s.end(t.taskBase, nil)
		return nil, err
	}
	return t, nil
}

// Model describes the synthesizer.
func (t *Synthesis) Model() ModelInfo { return t.engine.Info() }

// Push adds text to speak with the task's current options. Complete
// clauses become speakable at once; the rest waits for more text or Close.
func (t *Synthesis) Push(text string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return &Error{Kind: KindInvalid, Message: "speech already closed"}
	}
	n := utf8.RuneCountInString(text)
	if t.pending+n > t.maxText {
		return &Error{Kind: KindTooLarge, Message: fmt.Sprintf("more than %d characters are waiting to be spoken", t.maxText)}
	}
	t.pending += n
	for _, c := range t.splitter.Push(text) {
		t.queue = append(t.queue, speechItem{text: c, opts: t.opts})
	}
	t.s.kick()
	return nil
}

// Mark flushes the text pushed so far (speaking any incomplete clause as it
// is) and queues an AudioMark{Tag: tag} to be emitted after its audio.
// Later text may use other options (a voice switch per message).
func (t *Synthesis) Mark(tag string, next SpeechOptions) {
	t.mu.Lock()
	for _, c := range t.splitter.Flush() {
		t.queue = append(t.queue, speechItem{text: c, opts: t.opts})
	}
	t.queue = append(t.queue, speechItem{mark: tag})
	t.opts = next
	t.mu.Unlock()
	t.s.kick()
}

// Close ends the task once everything pushed has been spoken.
func (t *Synthesis) Close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		for _, c := range t.splitter.Flush() {
			t.queue = append(t.queue, speechItem{text: c, opts: t.opts})
		}
	}
	t.mu.Unlock()
	t.s.kick()
}

func (t *Synthesis) ready() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) > 0 || t.closed
}

func (t *Synthesis) next() (speechItem, bool, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		return speechItem{}, false, t.closed
	}
	it := t.queue[0]
	t.queue = t.queue[1:]
	t.pending -= utf8.RuneCountInString(it.text)
	return it, true, false
}

func (t *Synthesis) step(s *Scheduler) bool {
	it, ok, closed := t.next()
	if !ok {
		if closed {
			s.end(t.taskBase, Done{Finish: FinishStop, Usage: Usage{InputCharacters: t.chars, OutputAudioSeconds: t.seconds}})
			return true
		}
		return false
	}
	if it.mark != "" {
		t.sink.Emit(AudioMark{Tag: it.mark})
		return false
	}
	audio, err := Call(context.Background(), s.thread, func() (Audio, error) {
		return t.engine.Synthesize(it.text, it.opts)
	})
	if err != nil {
		t.abort(s, err)
		return true
	}
	t.chars += utf8.RuneCountInString(it.text)
	t.seconds += audio.Seconds()
	t.sink.Emit(AudioChunk{Audio: audio, Text: it.text})
	return false
}

func (t *Synthesis) abort(s *Scheduler, err error) { s.end(t.taskBase, failure(err)) }
