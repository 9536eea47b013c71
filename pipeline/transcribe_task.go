package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// Transcription is a running recognition task. Audio is pushed (from any
// goroutine) at Rate; the scheduler feeds it to the recognizer a chunk per
// step, emitting TranscriptDelta events as the hypothesis changes and a
// TranscriptDone at each Commit. Close ends the task after the audio pushed
// so far; the task's final event is Done (or Failed).
type Transcription struct {
	*taskBase
	rate     int
	chunk    int
	maxQueue int
	opts     TranscribeOptions
	engine   Transcriber

	mu       sync.Mutex
	queue    []asrItem
	queued   int // samples in queue
	item     string
	closed   bool
	discard  bool // Clear was called: drop the open utterance at the next step
	lastHyp  string
	uttAudio int // samples fed into the open utterance
	total    int // samples recognized in all
	stream   TranscribeStream
	s        *Scheduler
}

// asrItem is either audio or, when commit is set, the end of an utterance.
type asrItem struct {
	audio  []float32
	commit bool
	itemID string
	close  bool
	auto   bool // the commit Close adds: skipped when no audio is open
}

// Transcribe starts a recognition task on the ASR slot's model. Push audio
// at the returned task's Rate. A Language the model does not recognize
// (see CheckLanguage) fails with a KindInvalid *Error, Param "language",
// before any work starts.
func (s *Scheduler) Transcribe(ctx context.Context, opts TranscribeOptions, sink Sink) (*Transcription, error) {
	lease, engine, err := acquireAs[Transcriber](s.slots, ASRSlot, "speech recognizer")
	if err != nil {
		return nil, err
	}
	if err := CheckLanguage(ModelLanguages(engine), "language", opts.Language); err != nil {
		lease.Release()
		return nil, err
	}
	rate := engine.InputRate()
	t := &Transcription{
		taskBase: s.newBase(ctx, ASRSlot, sink, lease),
		rate:     rate,
		chunk:    max(1, int(float64(rate)*s.opts.ASRChunk.Seconds())),
		maxQueue: int(float64(rate) * s.opts.MaxQueuedAudio.Seconds()),
		opts:     opts,
		engine:   engine,
		s:        s,
	}
	if err := s.submit(t); err != nil {
		s.end(t.taskBase, nil)
		return nil, err
	}
	return t, nil
}

// Rate is the sample rate, in Hz, that Push expects.
func (t *Transcription) Rate() int { return t.rate }

// Model describes the recognizer.
func (t *Transcription) Model() ModelInfo { return t.engine.Info() }

// Push queues mono samples at Rate. It fails with a KindTooLarge *Error when
// more than the scheduler's MaxQueuedAudio would wait unprocessed, and with
// KindInvalid after Close.
func (t *Transcription) Push(samples []float32) error {
	if len(samples) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return &Error{Kind: KindInvalid, Message: "transcription already closed"}
	}
	if t.queued+len(samples) > t.maxQueue {
		return &Error{Kind: KindTooLarge, Code: "audio_too_long",
			Message: fmt.Sprintf("more than %.0f seconds of audio are waiting to be recognized", float64(t.maxQueue)/float64(t.rate))}
	}
	t.queue = append(t.queue, asrItem{audio: append([]float32(nil), samples...)})
	t.queued += len(samples)
	t.s.kick()
	return nil
}

// Item names the utterance that the next pushed audio belongs to; partial
// and final events carry this id.
func (t *Transcription) Item(itemID string) {
	t.mu.Lock()
	t.queue = append(t.queue, asrItem{itemID: itemID})
	t.mu.Unlock()
	t.s.kick()
}

// Commit ends the open utterance after the audio pushed so far; its final
// transcript is emitted as TranscriptDone with the current item id.
func (t *Transcription) Commit() {
	t.mu.Lock()
	t.queue = append(t.queue, asrItem{commit: true})
	t.mu.Unlock()
	t.s.kick()
}

// Clear drops the audio pushed since the last Commit. Utterances already
// committed still complete; when none is waiting, the open utterance's
// progress in the recognizer is discarded too.
func (t *Transcription) Clear() {
	t.mu.Lock()
	last := -1
	for i, it := range t.queue {
		if it.commit || it.close {
			last = i
		}
	}
	kept := t.queue[:last+1]
	for _, it := range t.queue[last+1:] {
		if it.audio == nil {
			kept = append(kept, it) // item ids still name the next utterance
			continue
		}
		t.queued -= len(it.audio)
	}
	t.queue = kept
	if last < 0 {
		t.discard = true
	}
	t.mu.Unlock()
	t.s.kick()
}

// Close ends the task once the audio pushed so far is recognized; any open
// utterance with audio is committed first.
func (t *Transcription) Close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		t.queue = append(t.queue, asrItem{commit: true, auto: true}, asrItem{close: true})
	}
	t.mu.Unlock()
	t.s.kick()
}

func (t *Transcription) ready() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) > 0 || t.discard
}

// next takes the next unit of work: up to one chunk of audio, or a marker.
func (t *Transcription) next() (asrItem, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	discard := t.discard
	t.discard = false
	if discard {
		return asrItem{}, true
	}
	if len(t.queue) == 0 {
		return asrItem{}, false
	}
	head := &t.queue[0]
	if head.audio == nil {
		t.queue = t.queue[1:]
		return *head, false
	}
	// Gather up to one chunk across consecutive audio items.
	var buf []float32
	for len(t.queue) > 0 && t.queue[0].audio != nil && len(buf) < t.chunk {
		h := &t.queue[0]
		n := min(len(h.audio), t.chunk-len(buf))
		buf = append(buf, h.audio[:n]...)
		h.audio = h.audio[n:]
		if len(h.audio) == 0 {
			t.queue = t.queue[1:]
		}
	}
	t.queued -= len(buf)
	return asrItem{audio: buf}, false
}

func (t *Transcription) step(s *Scheduler) bool {
	it, discard := t.next()
	var final Event
	err := s.run(func() error {
		if t.stream == nil {
			st, err := t.engine.NewStream(t.opts)
			if err != nil {
				return err
			}
			t.stream = st
		}
		switch {
		case discard:
			_, err := t.stream.EndUtterance()
			t.uttAudio, t.lastHyp = 0, ""
			return err
		case it.audio != nil:
			hyp, err := t.stream.Accept(it.audio)
			if err != nil {
				return err
			}
			t.uttAudio += len(it.audio)
			t.total += len(it.audio)
			if hyp != "" && hyp != t.lastHyp {
				t.lastHyp = hyp
				t.sink.Emit(TranscriptDelta{ItemID: t.item, Text: hyp})
			}
		case it.itemID != "":
			t.item = it.itemID
		case it.commit:
			if t.uttAudio == 0 && it.auto {
				return nil // nothing spoken since the last commit
			}
			tr, err := t.stream.EndUtterance()
			if err != nil {
				return err
			}
			secs := float64(t.uttAudio) / float64(t.rate)
			if tr.Duration == 0 {
				tr.Duration = secs
			}
			t.sink.Emit(TranscriptDone{ItemID: t.item, Transcript: tr, Usage: Usage{InputAudioSeconds: secs}})
			t.uttAudio, t.lastHyp = 0, ""
		case it.close:
			final = Done{Finish: FinishStop, Usage: Usage{InputAudioSeconds: float64(t.total) / float64(t.rate)}}
			t.closeStream()
		}
		return nil
	})
	if err != nil {
		t.abort(s, fmt.Errorf("recognize: %w", err))
		return true
	}
	if final != nil {
		s.end(t.taskBase, final)
		return true
	}
	return false
}

// closeStream frees the recognizer stream; it runs on the thread.
func (t *Transcription) closeStream() {
	if t.stream != nil {
		t.stream.Close()
		t.stream = nil
	}
}

func (t *Transcription) abort(s *Scheduler, err error) {
	_ = s.run(func() error { t.closeStream(); return nil })
	s.end(t.taskBase, failure(err))
}
