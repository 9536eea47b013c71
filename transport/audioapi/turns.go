package audioapi

import (
	"fmt"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

// TurnEvent is a turn boundary: Sample is where the turn's audio starts
// (for a start, prefix padding included) or ends (for a stop), counted from
// the stream's first sample; Ms is the same instant in milliseconds.
type TurnEvent struct {
	Sample int64
	Ms     int64
	// Forced is set on a stop caused by the turn length bound or End.
	Forced bool
}

// TurnHandler receives what Turns finds, in stream order: TurnStarted,
// then TurnAudio with the turn's samples (prefix padding first, in one or
// more pieces), then TurnStopped. Audio outside turns is never handed on.
// The slices passed to TurnAudio are the handler's to keep.
type TurnHandler interface {
	TurnStarted(TurnEvent)
	TurnAudio([]float32)
	TurnStopped(TurnEvent)
}

// Turns runs a live audio stream through a server_vad detector (dsp.VAD)
// and hands on only the audio of speech turns, as it arrives, so a
// recognizer can transcribe each turn while the person speaks and never
// spends time on silence. It keeps the recent samples that a turn's prefix
// padding reaches back into; memory is bounded by the prefix padding plus
// the VAD's MaxSpeechMs. A Turns is not safe for concurrent use.
type Turns struct {
	vad       *dsp.VAD
	step      int
	fed       int64
	ring      []float32
	ringStart int64
	keep      int
	cursor    int64 // samples before this were handed on or skipped
}

// NewTurns returns a Turns for audio at rate Hz with the detector options
// opts (see dsp.VADOptions; MaxSpeechMs bounds one turn).
func NewTurns(rate int, opts dsp.VADOptions) (*Turns, error) {
	vad, err := dsp.NewVAD(rate, &opts)
	if err != nil {
		return nil, fmt.Errorf("turn detection: %w", err)
	}
	step := max(rate/10, 1)
	keep := int(int64(opts.PrefixPaddingMs)*int64(rate)/1000) + 3*step
	return &Turns{vad: vad, step: step, keep: keep}, nil
}

// Speaking reports whether a turn is in progress.
func (t *Turns) Speaking() bool { return t.vad.Speaking() }

// Fed is the number of samples fed so far.
func (t *Turns) Fed() int64 { return t.fed }

// Feed analyses s (100 ms at a time) and reports boundaries and turn audio
// to h.
func (t *Turns) Feed(s []float32, h TurnHandler) {
	for i := 0; i < len(s); i += t.step {
		chunk := s[i:min(i+t.step, len(s))]
		t.remember(chunk)
		for _, ev := range t.vad.Feed(chunk) {
			if ev.Type == dsp.SpeechStarted {
				t.cursor = max(ev.StartSample, t.ringStart)
				h.TurnStarted(TurnEvent{Sample: ev.StartSample, Ms: ev.AudioStartMs})
				continue
			}
			t.handOn(ev.EndSample, h)
			h.TurnStopped(TurnEvent{Sample: ev.EndSample, Ms: ev.AudioEndMs, Forced: ev.Forced})
		}
		if t.vad.Speaking() {
			t.handOn(t.fed, h)
		}
	}
}

// End stops a turn in progress as if speech had ended now, handing on its
// last audio and the stop; it reports whether a turn was in progress.
func (t *Turns) End(h TurnHandler) bool {
	ev, ok := t.vad.End()
	if !ok {
		return false
	}
	t.handOn(ev.EndSample, h)
	h.TurnStopped(TurnEvent{Sample: ev.EndSample, Ms: ev.AudioEndMs, Forced: true})
	return true
}

// Reset abandons a turn in progress and the audio fed so far
// (input_audio_buffer.clear); the clock carries on.
func (t *Turns) Reset() {
	t.vad.Reset()
	t.cursor = t.fed
}

// remember appends chunk to the ring, dropping samples no turn can reach.
func (t *Turns) remember(chunk []float32) {
	t.ring = append(t.ring, chunk...)
	t.fed += int64(len(chunk))
	if len(t.ring) > 2*t.keep+len(chunk) {
		drop := len(t.ring) - t.keep - len(chunk)
		t.ring = append(t.ring[:0], t.ring[drop:]...)
		t.ringStart += int64(drop)
	}
}

// handOn gives h a copy of the samples from the cursor up to upTo.
func (t *Turns) handOn(upTo int64, h TurnHandler) {
	from := max(t.cursor, t.ringStart)
	to := min(upTo, t.ringStart+int64(len(t.ring)))
	t.cursor = max(t.cursor, upTo)
	if to > from {
		h.TurnAudio(append([]float32(nil), t.ring[from-t.ringStart:to-t.ringStart]...))
	}
}
