package dsp

import (
	"fmt"
	"math"
)

// VADOptions configure a VAD as OpenAI Realtime configures server_vad.
type VADOptions struct {
	// Threshold in [0, 1]: higher needs louder speech (relative to the
	// background) to start a turn. A turn starts when three 10 ms frames
	// in a row exceed the noise floor by 4+22*Threshold dB (15 dB at the
	// default 0.5) and goes on while frames (and their 30 ms mean) stay
	// within 6 dB of that, and at least 3 dB above the floor.
	Threshold float64
	// PrefixPaddingMs of audio before the detected onset are included in
	// the utterance (and in SpeechStarted's AudioStartMs). 0..10000.
	PrefixPaddingMs int
	// SilenceDurationMs of continuous non-speech end a turn. 1..10000.
	SilenceDurationMs int
	// MaxSpeechMs bounds one utterance (and so the memory it holds); a
	// longer one is cut with a forced SpeechStopped and a new turn may
	// start right after. Zero means 120000 (two minutes).
	MaxSpeechMs int
}

// DefaultVADOptions are server_vad's defaults: threshold 0.5, 300 ms of
// prefix padding, 500 ms of silence.
func DefaultVADOptions() VADOptions {
	return VADOptions{Threshold: 0.5, PrefixPaddingMs: 300, SilenceDurationMs: 500}
}

// VADEventType tells a speech start from a speech stop.
type VADEventType int

// VAD event types.
const (
	SpeechStarted VADEventType = iota + 1
	SpeechStopped
)

func (t VADEventType) String() string {
	switch t {
	case SpeechStarted:
		return "speech_started"
	case SpeechStopped:
		return "speech_stopped"
	}
	return fmt.Sprintf("VADEventType(%d)", int(t))
}

// VADEvent is a turn boundary. Times count from the first sample fed to the
// VAD (Reset does not restart the clock).
type VADEvent struct {
	Type VADEventType
	// StartSample is where the utterance's audio begins (onset minus the
	// prefix padding, never before the end of the previous utterance or
	// the last Reset); AudioStartMs is the same in milliseconds.
	StartSample  int64
	AudioStartMs int64
	// EndSample and AudioEndMs (SpeechStopped only) are where the
	// utterance's audio ends: after the trailing silence that ended it.
	EndSample  int64
	AudioEndMs int64
	// Audio (SpeechStopped only) is the utterance, samples
	// [StartSample, EndSample); the VAD keeps no reference to it.
	Audio []float32
	// Forced reports a SpeechStopped caused by MaxSpeechMs or End rather
	// than by silence.
	Forced bool
}

// Detector constants. Levels are in dB relative to a full-scale square
// wave (a full-scale sine is -3 dB).
const (
	vadFrameMs       = 10
	vadOnsetFrames   = 3     // 30 ms above threshold start a turn
	vadSmoothFrames  = 3     // the floor and turn continuation use 30 ms means
	vadHysteresisDB  = 6     // a started turn continues this far below
	vadMinOffDB      = 3     // but never closer to the floor than this
	vadFloorWindowMs = 3000  // noise floor: quietest frame of the last 3 s
	vadWarmupMs      = 1000  // before that much history, assume a quiet room
	vadQuietRoomDB   = -50.0 // the floor assumed during warm-up (at most)
	vadAbsFloorDB    = -65.0 // the floor never goes below this, so digital
	// silence followed by faint hiss does not read as speech
	vadHighPassHz = 100.0 // ignore DC and mains hum
)

// VAD detects speech turns in a stream of mono samples with an energy
// detector: frames of 10 ms are high-passed at 100 Hz and their level is
// compared with an adaptive noise floor (the quietest 30 ms of the last
// three seconds, never below -65 dBFS, at most -50 dBFS during the first
// second). Three frames in a row above the on-threshold start a turn;
// SilenceDurationMs without a voiced frame (one whose own level and 30 ms
// mean level both reach the off-threshold, 6 dB lower but at least 3 dB
// above the floor) end it. Times are exact to about one 10 ms frame (the
// high-pass filter rings for a few milliseconds after an abrupt stop).
//
// Feed it audio as it arrives; it returns SpeechStarted and SpeechStopped
// events with OpenAI's audio_start_ms / audio_end_ms semantics and hands
// back the utterance's audio (prefix padding included) with SpeechStopped.
// Memory is bounded by MaxSpeechMs plus the prefix padding.
//
// A VAD is not safe for concurrent use.
type VAD struct {
	rate     int
	opts     VADOptions
	frameLen int
	onDB     float64
	offDB    float64
	prefix   int64 // samples
	silence  int64 // samples
	maxLen   int64 // samples

	hpA          float32 // high-pass state
	hpPrevX      float32
	hpPrevY      float32
	pending      []float32                // samples of the frame being filled
	pos          int64                    // samples consumed into whole frames
	powers       [vadSmoothFrames]float64 // last frame powers, a ring
	levels       []float64                // ring of recent smoothed levels
	nLevels      int64
	recent       []float32 // last samples, for the prefix padding
	recentStart  int64
	minStart     int64 // utterances may not start before this sample
	run          int   // consecutive frames above the on-threshold
	speaking     bool
	utterStart   int64
	utter        []float32
	lastVoiceEnd int64
}

// NewVAD returns a VAD for audio at rate Hz. A nil opts means
// DefaultVADOptions. Out-of-range options or rates fail.
func NewVAD(rate int, opts *VADOptions) (*VAD, error) {
	if err := CheckRate(rate); err != nil {
		return nil, fmt.Errorf("vad: %w", err)
	}
	o := DefaultVADOptions()
	if opts != nil {
		o = *opts
	}
	switch {
	case !(o.Threshold >= 0 && o.Threshold <= 1):
		return nil, fmt.Errorf("vad: threshold %v outside [0, 1]", o.Threshold)
	case o.PrefixPaddingMs < 0 || o.PrefixPaddingMs > 10000:
		return nil, fmt.Errorf("vad: prefix_padding_ms %d outside [0, 10000]", o.PrefixPaddingMs)
	case o.SilenceDurationMs < 1 || o.SilenceDurationMs > 10000:
		return nil, fmt.Errorf("vad: silence_duration_ms %d outside [1, 10000]", o.SilenceDurationMs)
	case o.MaxSpeechMs < 0 || o.MaxSpeechMs > 3600_000:
		return nil, fmt.Errorf("vad: max speech %d ms outside [0, 3600000]", o.MaxSpeechMs)
	}
	if o.MaxSpeechMs == 0 {
		o.MaxSpeechMs = 120_000
	}
	v := &VAD{
		rate:     rate,
		opts:     o,
		frameLen: rate * vadFrameMs / 1000,
		onDB:     4 + 22*o.Threshold,
		prefix:   msToSamples(o.PrefixPaddingMs, rate),
		silence:  msToSamples(o.SilenceDurationMs, rate),
		maxLen:   msToSamples(o.MaxSpeechMs, rate),
		hpA:      float32(1 / (1 + 2*math.Pi*vadHighPassHz/float64(rate))),
		levels:   make([]float64, vadFloorWindowMs/vadFrameMs),
	}
	v.offDB = max(v.onDB-vadHysteresisDB, vadMinOffDB)
	return v, nil
}

func msToSamples(ms, rate int) int64 { return int64(ms) * int64(rate) / 1000 }

func (v *VAD) ms(sample int64) int64 { return sample * 1000 / int64(v.rate) }

// Options returns the options in force (defaults filled in).
func (v *VAD) Options() VADOptions { return v.opts }

// Speaking reports whether a turn has started and not yet stopped.
func (v *VAD) Speaking() bool { return v.speaking }

// Speech returns a copy of the current utterance so far (prefix padding
// included, whole frames only), or nil when no turn is in progress.
func (v *VAD) Speech() []float32 {
	if !v.speaking {
		return nil
	}
	return append([]float32(nil), v.utter...)
}

// AppendSpeech appends the current utterance's samples from index from on
// (0 is StartSample) to dst, so a caller can stream a growing utterance to
// a recognizer without copying it all each time. It appends nothing when no
// turn is in progress or from is past the end.
func (v *VAD) AppendSpeech(dst []float32, from int) []float32 {
	if !v.speaking || from < 0 || from >= len(v.utter) {
		return dst
	}
	return append(dst, v.utter[from:]...)
}

// Feed analyses samples and returns the turn boundaries they complete, in
// order (a chunk may both end one turn and start another).
func (v *VAD) Feed(samples []float32) []VADEvent {
	var events []VADEvent
	for len(samples) > 0 {
		n := min(v.frameLen-len(v.pending), len(samples))
		v.pending = append(v.pending, samples[:n]...)
		samples = samples[n:]
		if len(v.pending) == v.frameLen {
			events = v.frame(events)
			v.pending = v.pending[:0]
		}
	}
	return events
}

// End stops a turn in progress as if its speech had ended now (including
// the samples of a partial frame) and returns the forced SpeechStopped; ok
// is false when no turn was in progress.
func (v *VAD) End() (ev VADEvent, ok bool) {
	if !v.speaking {
		return VADEvent{}, false
	}
	v.utter = append(v.utter, v.pending...)
	return v.stop(v.pos+int64(len(v.pending)), true), true
}

// Reset discards the turn in progress and all audio fed so far (as
// input_audio_buffer.clear does); the clock and the noise estimate carry on.
func (v *VAD) Reset() {
	v.speaking, v.run, v.utter = false, 0, nil
	v.minStart = v.pos + int64(len(v.pending))
}

// frame analyses the complete frame in v.pending.
func (v *VAD) frame(events []VADEvent) []VADEvent {
	start := v.pos
	level, smooth := v.level(v.pending)
	floor := v.floor(smooth)
	v.remember(v.pending)
	v.pos += int64(v.frameLen)
	if !v.speaking {
		if level-floor >= v.onDB {
			v.run++
		} else {
			v.run = 0
		}
		if v.run >= vadOnsetFrames {
			events = append(events, v.begin(start-int64(v.run-1)*int64(v.frameLen)))
		}
		return events
	}
	v.utter = append(v.utter, v.pending...)
	// Both the frame and the 30 ms mean must be voiced: the mean keeps a
	// noise frame that pokes above the threshold from prolonging the turn,
	// the frame itself keeps the mean's tail from delaying its end.
	if smooth-floor >= v.offDB && level-floor >= v.offDB {
		v.lastVoiceEnd = v.pos
	}
	switch {
	case v.pos-v.lastVoiceEnd >= v.silence:
		events = append(events, v.stop(v.pos, false))
	case v.pos-v.utterStart >= v.maxLen:
		events = append(events, v.stop(v.pos, true))
	}
	return events
}

// level returns the frame's high-passed energy in dB and the mean over the
// last vadSmoothFrames frames.
func (v *VAD) level(frame []float32) (level, smooth float64) {
	var e float64
	a, px, py := v.hpA, v.hpPrevX, v.hpPrevY
	for _, x := range frame {
		y := a * (py + x - px)
		px, py = x, y
		e += float64(y) * float64(y)
	}
	v.hpPrevX, v.hpPrevY = px, py
	p := e / float64(len(frame))
	v.powers[v.nLevels%vadSmoothFrames] = p
	var sum float64
	for _, q := range v.powers {
		sum += q
	}
	n := float64(min(v.nLevels+1, vadSmoothFrames))
	return 10 * math.Log10(p+1e-12), 10 * math.Log10(sum/n+1e-12)
}

// floor records the smoothed level and returns the noise floor estimate.
func (v *VAD) floor(level float64) float64 {
	v.levels[v.nLevels%int64(len(v.levels))] = level
	v.nLevels++
	n := min(v.nLevels, int64(len(v.levels)))
	f := math.Inf(1)
	for _, l := range v.levels[:n] {
		f = min(f, l)
	}
	if v.nLevels*vadFrameMs < vadWarmupMs {
		f = min(f, vadQuietRoomDB)
	}
	return max(f, vadAbsFloorDB)
}

// remember keeps the last prefix+onset samples for the prefix padding.
func (v *VAD) remember(frame []float32) {
	keep := int(v.prefix) + (vadOnsetFrames+1)*v.frameLen
	if len(v.recent) >= 2*keep {
		drop := len(v.recent) - keep
		v.recent = append(v.recent[:0], v.recent[drop:]...)
		v.recentStart += int64(drop)
	}
	v.recent = append(v.recent, frame...)
}

func (v *VAD) begin(onset int64) VADEvent {
	start := max(onset-v.prefix, v.minStart, v.recentStart)
	v.speaking, v.run = true, 0
	v.utterStart = start
	v.utter = append([]float32(nil), v.recent[start-v.recentStart:]...)
	v.lastVoiceEnd = v.pos
	return VADEvent{Type: SpeechStarted, StartSample: start, AudioStartMs: v.ms(start)}
}

func (v *VAD) stop(end int64, forced bool) VADEvent {
	ev := VADEvent{
		Type:         SpeechStopped,
		StartSample:  v.utterStart,
		AudioStartMs: v.ms(v.utterStart),
		EndSample:    end,
		AudioEndMs:   v.ms(end),
		Audio:        v.utter,
		Forced:       forced,
	}
	v.speaking, v.utter = false, nil
	v.minStart = end
	return ev
}
