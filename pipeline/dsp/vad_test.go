package dsp_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

// segment is a stretch of synthetic audio: a voiced buzz of amplitude amp
// (0 means silence) lasting ms milliseconds.
type segment struct {
	ms  int
	amp float64
}

// synth builds audio at rate from segments, adds white noise of RMS
// noise, and returns it with the sample ranges of the non-silent segments.
func synth(rate int, noise float64, segs ...segment) ([]float32, [][2]int64) {
	rng := rand.New(rand.NewPCG(7, 9))
	var out []float32
	var spans [][2]int64
	for _, s := range segs {
		n := s.ms * rate / 1000
		if s.amp > 0 {
			spans = append(spans, [2]int64{int64(len(out)), int64(len(out) + n)})
		}
		for i := range n {
			ts := float64(i) / float64(rate)
			// A 140 Hz buzz with a few harmonics and a syllable-rate wobble,
			// roughly like a voiced vowel.
			v := 0.0
			for h := 1; h <= 5; h++ {
				v += math.Sin(2*math.Pi*140*float64(h)*ts) / float64(h)
			}
			v *= s.amp * (0.6 + 0.4*math.Sin(2*math.Pi*4*ts))
			out = append(out, float32(v+noise*rng.NormFloat64()))
		}
	}
	return out, spans
}

func feedAll(t *testing.T, v *dsp.VAD, audio []float32, chunk func() int) []dsp.VADEvent {
	t.Helper()
	var evs []dsp.VADEvent
	for len(audio) > 0 {
		n := min(chunk(), len(audio))
		evs = append(evs, v.Feed(audio[:n])...)
		audio = audio[n:]
	}
	return evs
}

func fixed(n int) func() int { return func() int { return n } }

// checkTurns asserts one start/stop pair per span, with OpenAI's timing:
// the start includes the prefix padding, the stop comes after the silence
// duration, and the utterance audio is exactly the input between them.
func checkTurns(t *testing.T, evs []dsp.VADEvent, audio []float32, spans [][2]int64, rate int, o dsp.VADOptions, slack int64) {
	t.Helper()
	require.Len(t, evs, 2*len(spans), "events: %s", summary(evs))
	msSlack := slack * 1000 / int64(rate)
	for i, span := range spans {
		start, stop := evs[2*i], evs[2*i+1]
		require.Equal(t, dsp.SpeechStarted, start.Type)
		require.Equal(t, dsp.SpeechStopped, stop.Type)
		onsetMs := span[0] * 1000 / int64(rate)
		offsetMs := span[1] * 1000 / int64(rate)
		wantStart := max(onsetMs-int64(o.PrefixPaddingMs), 0)
		assert.InDelta(t, wantStart, start.AudioStartMs, float64(msSlack), "turn %d start", i)
		assert.InDelta(t, offsetMs+int64(o.SilenceDurationMs), stop.AudioEndMs, float64(msSlack), "turn %d end", i)
		assert.Equal(t, start.AudioStartMs, stop.AudioStartMs)
		assert.False(t, stop.Forced)
		require.Equal(t, audio[stop.StartSample:stop.EndSample], stop.Audio, "turn %d audio", i)
	}
}

func TestVADSyntheticTurns(t *testing.T) {
	const rate = 16000
	audio, spans := synth(rate, 0,
		segment{1000, 0}, segment{1200, 0.3}, segment{900, 0}, segment{400, 0.05}, segment{1500, 0})
	o := dsp.DefaultVADOptions()
	v, err := dsp.NewVAD(rate, nil)
	require.NoError(t, err)
	evs := feedAll(t, v, audio, fixed(480))
	checkTurns(t, evs, audio, spans, rate, o, 40*rate/1000)
	assert.False(t, v.Speaking())
}

func TestVADInNoiseAtOtherRates(t *testing.T) {
	for _, rate := range []int{8000, 22050, 24000, 48000} {
		// -50 dBFS of background noise, speech 20 to 30 dB above it.
		audio, spans := synth(rate, math.Pow(10, -50.0/20),
			segment{1500, 0}, segment{800, 0.06}, segment{1200, 0}, segment{2000, 0.1}, segment{1000, 0})
		o := dsp.VADOptions{Threshold: 0.5, PrefixPaddingMs: 200, SilenceDurationMs: 700}
		v, err := dsp.NewVAD(rate, &o)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(3, 4))
		evs := feedAll(t, v, audio, func() int { return 1 + rng.IntN(rate/10) })
		checkTurns(t, evs, audio, spans, rate, o, int64(40*rate/1000))
	}
}

func TestVADChunkingDoesNotMatter(t *testing.T) {
	const rate = 24000
	audio, _ := synth(rate, 0.001, segment{600, 0}, segment{700, 0.2}, segment{800, 0}, segment{300, 0.2}, segment{900, 0})
	var runs [][]dsp.VADEvent
	for _, chunk := range []func() int{fixed(1), fixed(240), fixed(4801), fixed(len(audio))} {
		v, err := dsp.NewVAD(rate, nil)
		require.NoError(t, err)
		runs = append(runs, feedAll(t, v, audio, chunk))
	}
	require.Len(t, runs[0], 4)
	for _, r := range runs[1:] {
		assert.Equal(t, runs[0], r)
	}
}

func TestVADThresholdControlsSensitivity(t *testing.T) {
	const rate = 16000
	// Speech peaking 10 dB above -45 dBFS noise: heard at threshold 0.2
	// (8.4 dB), ignored at 0.5 (15 dB).
	audio, _ := synth(rate, math.Pow(10, -45.0/20), segment{1500, 0}, segment{1000, 0.021}, segment{1000, 0})
	for _, c := range []struct {
		threshold float64
		events    int
	}{{0.2, 2}, {0.5, 0}, {0.9, 0}} {
		o := dsp.DefaultVADOptions()
		o.Threshold = c.threshold
		v, err := dsp.NewVAD(rate, &o)
		require.NoError(t, err)
		evs := feedAll(t, v, audio, fixed(160))
		assert.Len(t, evs, c.events, "threshold %v: %s", c.threshold, summary(evs))
	}
}

func TestVADPrefixClampedAtStreamStart(t *testing.T) {
	audio, _ := synth(16000, 0, segment{100, 0}, segment{500, 0.3}, segment{700, 0})
	v, err := dsp.NewVAD(16000, nil)
	require.NoError(t, err)
	evs := v.Feed(audio)
	require.Len(t, evs, 2)
	assert.Zero(t, evs[0].AudioStartMs)
	assert.Len(t, evs[1].Audio, int(evs[1].EndSample))
}

func TestVADMaxSpeechForcesStop(t *testing.T) {
	audio, _ := synth(16000, 0, segment{200, 0}, segment{2500, 0.3}, segment{600, 0})
	o := dsp.DefaultVADOptions()
	o.MaxSpeechMs = 1000
	v, err := dsp.NewVAD(16000, &o)
	require.NoError(t, err)
	evs := v.Feed(audio)
	require.GreaterOrEqual(t, len(evs), 4)
	assert.True(t, evs[1].Forced)
	assert.Equal(t, int64(1000), evs[1].AudioEndMs-evs[1].AudioStartMs)
	assert.Equal(t, evs[1].EndSample, evs[2].StartSample, "next turn starts where the cut one ended")
}

func TestVADEndAndReset(t *testing.T) {
	audio, _ := synth(16000, 0, segment{500, 0}, segment{800, 0.3})
	v, err := dsp.NewVAD(16000, nil)
	require.NoError(t, err)
	evs := v.Feed(audio[:len(audio)-5]) // leave a partial frame pending
	require.Len(t, evs, 1)
	require.True(t, v.Speaking())
	assert.NotEmpty(t, v.Speech())
	// Streaming the utterance piecewise gives the same audio.
	head := v.AppendSpeech(nil, 0)
	assert.Equal(t, v.Speech(), head)
	assert.Empty(t, v.AppendSpeech(nil, len(head)))
	assert.Equal(t, head[10:], v.AppendSpeech(nil, 10))
	ev, ok := v.End()
	require.True(t, ok)
	assert.True(t, ev.Forced)
	assert.Equal(t, int64(len(audio)-5), ev.EndSample)
	assert.Equal(t, audio[ev.StartSample:ev.EndSample], ev.Audio)
	_, ok = v.End()
	assert.False(t, ok)
	assert.Nil(t, v.Speech())

	v, err = dsp.NewVAD(16000, nil)
	require.NoError(t, err)
	require.Len(t, v.Feed(audio), 1)
	v.Reset()
	assert.False(t, v.Speaking())
	// Still speaking after the reset: a new turn starts at the reset point
	// at the earliest, not 300 ms before it.
	more, _ := synth(16000, 0, segment{400, 0.3}, segment{700, 0})
	evs = v.Feed(more)
	require.Len(t, evs, 2)
	assert.GreaterOrEqual(t, evs[0].StartSample, int64(len(audio)))
}

func TestVADRejectsBadOptions(t *testing.T) {
	for _, o := range []dsp.VADOptions{
		{Threshold: -0.1, PrefixPaddingMs: 300, SilenceDurationMs: 500},
		{Threshold: 1.1, PrefixPaddingMs: 300, SilenceDurationMs: 500},
		{Threshold: math.NaN(), PrefixPaddingMs: 300, SilenceDurationMs: 500},
		{Threshold: 0.5, PrefixPaddingMs: -1, SilenceDurationMs: 500},
		{Threshold: 0.5, PrefixPaddingMs: 300, SilenceDurationMs: 0},
		{Threshold: 0.5, PrefixPaddingMs: 300, SilenceDurationMs: 500, MaxSpeechMs: -1},
	} {
		_, err := dsp.NewVAD(16000, &o)
		assert.Error(t, err, "%+v", o)
	}
	_, err := dsp.NewVAD(0, nil)
	require.ErrorIs(t, err, dsp.ErrRate)
	v, err := dsp.NewVAD(16000, nil)
	require.NoError(t, err)
	assert.Equal(t, 120000, v.Options().MaxSpeechMs)
	assert.Equal(t, "speech_started", dsp.SpeechStarted.String())
}

// loadSpeech reads testdata/speech3.s16 (see gen-speech.sh) and the sample
// spans of its three utterances.
func loadSpeech(t *testing.T) ([]float32, [][2]int64) {
	t.Helper()
	raw, err := os.ReadFile("testdata/speech3.s16")
	require.NoError(t, err)
	f, err := os.Open("testdata/speech3.txt")
	require.NoError(t, err)
	defer f.Close()
	var spans [][2]int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a, b int64
		_, err := fmt.Sscan(sc.Text(), &a, &b)
		require.NoError(t, err)
		spans = append(spans, [2]int64{a, b})
	}
	return dsp.AppendS16LE(nil, raw), spans
}

func TestVADRealSpeech(t *testing.T) {
	clean, spans := loadSpeech(t)
	require.Len(t, spans, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	noisy := make([]float32, len(clean))
	for i, v := range clean {
		noisy[i] = v + float32(0.003*rng.NormFloat64()) // about -50 dBFS of hiss
	}
	for _, c := range []struct {
		name  string
		audio []float32
		rate  int
	}{{"clean", clean, 16000}, {"noisy", noisy, 16000}, {"noisy-8k", noisy, 8000}, {"noisy-24k", noisy, 24000}, {"clean-48k", clean, 48000}} {
		t.Run(c.name, func(t *testing.T) {
			audio, err := dsp.Resample(c.audio, 16000, c.rate)
			require.NoError(t, err)
			v, err := dsp.NewVAD(c.rate, nil)
			require.NoError(t, err)
			evs := feedAll(t, v, audio, fixed(c.rate/50))
			require.Len(t, evs, 6, "one start/stop pair per utterance: %s", summary(evs))
			for i, span := range spans {
				start, stop := evs[2*i], evs[2*i+1]
				require.Equal(t, dsp.SpeechStarted, start.Type)
				require.Equal(t, dsp.SpeechStopped, stop.Type)
				// The turn lies within the utterance's file (which has a
				// little silence of its own) widened by the padding, and
				// holds nearly all of its energy.
				s0, s1 := span[0]*int64(c.rate)/16000, span[1]*int64(c.rate)/16000
				perMs := int64(c.rate / 1000)
				assert.GreaterOrEqual(t, stop.StartSample, s0-300*perMs)
				assert.LessOrEqual(t, stop.EndSample, s1+520*perMs)
				assert.Greater(t, energy(stop.Audio), 0.99*energy(audio[s0:s1]))
			}
		})
	}
}

func energy(x []float32) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

// summary prints events without their audio.
func summary(evs []dsp.VADEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "[%s %d..%d ms forced=%v] ", e.Type, e.AudioStartMs, e.AudioEndMs, e.Forced)
	}
	return b.String()
}
