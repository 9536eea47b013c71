package realtime

import (
	"math"

	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/transport/audioapi"
)

// input decodes appended audio and, under server_vad, splits it into
// turns. A stream lasts from one change of format or turn detection to
// the next; the connection clock (audio_start_ms, audio_end_ms) runs on
// across streams.
type input struct {
	rate          int
	carry         []byte          // a trailing odd byte of 16-bit PCM
	turns         *audioapi.Turns // nil with turn_detection null
	baseMs        float64         // connection audio before this stream
	manualSamples int64           // samples appended in manual mode in this stream
}

// resetInput starts a new input stream for the current format and turn
// detection, carrying the connection clock over.
func (m *Machine) resetInput() {
	in := input{rate: m.format.Rate, baseMs: m.in.baseMs}
	if m.turn != nil {
		turns, err := audioapi.NewTurns(in.rate, dsp.VADOptions{
			Threshold:         m.turn.Threshold,
			PrefixPaddingMs:   m.turn.PrefixPaddingMs,
			SilenceDurationMs: m.turn.SilenceDurationMs,
			MaxSpeechMs:       int(m.opts.MaxTurnSeconds * 1000),
		})
		if err != nil {
			// The parser bounds every member the VAD checks, so this is a
			// bug; failing loudly beats silently dropping turn detection.
			panic("realtime: server_vad options passed validation but the VAD rejects them: " + err.Error())
		}
		in.turns = turns
	}
	m.in = in
}

// advanceClock folds the current stream's audio into the connection clock
// before the stream is replaced.
func (in *input) advanceClock() {
	n := in.manualSamples
	if in.turns != nil {
		n += in.turns.Fed()
	}
	if in.rate > 0 {
		in.baseMs += float64(n) * 1000 / float64(in.rate)
	}
	in.manualSamples = 0
}

func (in *input) clock(ms int64) int64 { return int64(math.Round(in.baseMs)) + ms }

// decode turns appended bytes in format f into samples.
func (in *input) decode(f InputFormat, b []byte) []float32 {
	switch f.Type {
	case FormatPCMU:
		return dsp.AppendMuLaw(nil, b)
	case FormatPCMA:
		return dsp.AppendALaw(nil, b)
	}
	if len(in.carry) > 0 {
		b = append(in.carry, b...)
		in.carry = nil
	}
	n := len(b) &^ 1
	if n < len(b) {
		in.carry = []byte{b[n]}
	}
	return dsp.AppendS16LE(nil, b[:n])
}

// clear forgets the audio appended so far (input_audio_buffer.clear): a
// turn in progress is abandoned and a half sample dropped.
func (in *input) clear() {
	in.carry = nil
	if in.turns != nil {
		in.turns.Reset()
	}
}

// turnSink turns the boundaries and audio Turns finds into items.
type turnSink struct {
	m   *Machine
	out *Output
}

func (s turnSink) TurnStarted(ev audioapi.TurnEvent) {
	it := s.m.beginItem(s.out)
	s.m.emit(s.out, &SpeechStartedEvent{Header: Header{Type: EventInputAudioBufferSpeechStarted},
		AudioStartMs: s.m.in.clock(ev.Ms), ItemID: it.id})
	s.m.bargeIn(s.out)
}

func (s turnSink) TurnAudio(samples []float32) {
	if s.m.open != nil {
		s.m.push(s.out, samples)
	}
}

func (s turnSink) TurnStopped(ev audioapi.TurnEvent) {
	if s.m.open == nil { // the recognizer failed mid-turn; the turn is gone
		return
	}
	s.m.emit(s.out, &SpeechStoppedEvent{Header: Header{Type: EventInputAudioBufferSpeechStopped},
		AudioEndMs: s.m.in.clock(ev.Ms), ItemID: s.m.open.id})
	s.m.commitOpen(s.out)
}
