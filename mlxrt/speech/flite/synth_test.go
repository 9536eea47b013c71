//go:build cgo && flite

package flite_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/pipeline"
)

// engine loads flite through its loader and activates it on a fresh pinned
// thread, as the TTS slot does.
func engine(t testing.TB, opts *flite.Options) (*pipeline.Thread, pipeline.Synthesizer) {
	t.Helper()
	th := pipeline.StartThread()
	t.Cleanup(th.Stop)
	m, err := flite.NewLoader(opts).Load(context.Background(), pipeline.ModelRef{Category: pipeline.TTSSlot, Name: "tts-1"})
	require.NoError(t, err)
	require.NoError(t, th.Do(context.Background(), m.(pipeline.Activator).Activate))
	t.Cleanup(func() { _ = th.Do(context.Background(), m.Close) })
	return th, m.(pipeline.Synthesizer)
}

func speak(th *pipeline.Thread, s pipeline.Synthesizer, text string, opts pipeline.SpeechOptions) (pipeline.Audio, error) {
	return pipeline.Call(context.Background(), th, func() (pipeline.Audio, error) { return s.Synthesize(text, opts) })
}

func peak(x []float32) float64 {
	var p float64
	for _, v := range x {
		p = math.Max(p, math.Abs(float64(v)))
	}
	return p
}

func TestVoicesSpeakAtTheirRates(t *testing.T) {
	th, s := engine(t, nil)
	assert.Equal(t, "flite", s.Info().ID)
	assert.Equal(t, pipeline.TTSSlot, s.Info().Category)
	assert.Equal(t, flite.Voices(), s.Voices())
	assert.NoError(t, flite.Available())
	for _, v := range s.Voices() {
		a, err := speak(th, s, "Hello there.", pipeline.SpeechOptions{Voice: v})
		require.NoError(t, err, v)
		fv, _ := flite.MapVoice(v)
		assert.Equal(t, flite.VoiceRate(fv), a.Rate, v)
		assert.InDelta(t, 0.9, a.Seconds(), 0.6, v)
		assert.Greater(t, peak(a.Samples), 0.05, "%s is silent", v)
		assert.LessOrEqual(t, peak(a.Samples), 1.0, v)
	}
}

func TestVoiceErrors(t *testing.T) {
	th, s := engine(t, nil)
	_, err := speak(th, s, "Hi.", pipeline.SpeechOptions{Voice: "bogus"})
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, pipeline.KindInvalid, pe.Kind)
	assert.Equal(t, "voice", pe.Param)
	assert.Contains(t, pe.Message, "slt, ")
	assert.Contains(t, pe.Message, "shimmer")

	for _, v := range []string{"voice_1234", "ref:/srv/me.wav", "clone:alice", "/tmp/ref.wav"} {
		_, err = speak(th, s, "Hi.", pipeline.SpeechOptions{Voice: v})
		assert.Same(t, speech.ErrNoVoiceCloning, err, v)
	}
}

func TestEmptyAndLongText(t *testing.T) {
	th, s := engine(t, &flite.Options{MaxChars: 1990})
	for _, text := range []string{"", "   \n\t ", "\x00\x01"} {
		a, err := speak(th, s, text, pipeline.SpeechOptions{Voice: "kal"})
		require.NoError(t, err)
		assert.Equal(t, 8000, a.Rate)
		assert.Empty(t, a.Samples)
	}

	long := strings.Repeat("This sentence is spoken many times. ", 55) // 1980 characters
	a, err := speak(th, s, long, pipeline.SpeechOptions{Voice: "kal16", Speed: 4})
	require.NoError(t, err)
	assert.Greater(t, a.Seconds(), 20.0)

	_, err = speak(th, s, long+"and more words", pipeline.SpeechOptions{})
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "input", pe.Param)
	assert.Equal(t, "string_above_max_length", pe.Code)
}

func TestSpeedScalesDuration(t *testing.T) {
	th, s := engine(t, nil)
	text := "The children played in the park after school."
	dur := map[float64]float64{}
	for _, sp := range []float64{0, 0.25, 0.8, 1, 1.25, 4} {
		a, err := speak(th, s, text, pipeline.SpeechOptions{Voice: "rms", Speed: sp})
		require.NoError(t, err, sp)
		dur[sp] = a.Seconds()
	}
	assert.Equal(t, dur[1], dur[0], "speed 0 means 1")
	for _, sp := range []float64{0.25, 0.8, 1.25, 4} {
		// Pauses and unit boundaries do not all stretch, so allow 25%.
		assert.InEpsilon(t, dur[1]/sp, dur[sp], 0.25, "speed %g: %.2fs vs %.2fs at 1", sp, dur[sp], dur[1])
	}
	for _, sp := range []float64{0.24, 4.01, -1, math.NaN(), math.Inf(1)} {
		_, err := speak(th, s, text, pipeline.SpeechOptions{Speed: sp})
		var pe *pipeline.Error
		require.ErrorAs(t, err, &pe, "%g", sp)
		assert.Equal(t, "speed", pe.Param)
	}
}

func TestCloseTwiceAndAfterClose(t *testing.T) {
	th, s := engine(t, nil)
	require.NoError(t, th.Do(context.Background(), s.Close))
	require.NoError(t, th.Do(context.Background(), s.Close))
	_, err := speak(th, s, "Hi.", pipeline.SpeechOptions{})
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)

	// Another synthesizer reuses the process's voices.
	th2, s2 := engine(t, nil)
	a, err := speak(th2, s2, "Hi.", pipeline.SpeechOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, a.Samples)
}

func TestSynthesizeWithoutActivate(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	s, err := flite.New(nil)
	require.NoError(t, err)
	a, err := speak(th, s, "Good morning.", pipeline.SpeechOptions{Voice: "awb"})
	require.NoError(t, err)
	assert.Equal(t, 16000, a.Rate)
	assert.NotEmpty(t, a.Samples)
}

// FuzzSynthesize hands arbitrary text to Flite: it must never crash the
// process or return audio out of range.
func FuzzSynthesize(f *testing.F) {
	for _, s := range []string{
		"Hello, world!", "1234567890 $5.20 3:45pm 2024-01-01", "Dr. Smith's e-mail: a@b.co",
		"naïve café — “quotes” 日本語 🙂", "\x00\xff\xfe", "((((((((((", "...!!!???", "A", "URL http://x.y/z?q=1",
	} {
		f.Add(s)
	}
	th := pipeline.StartThread()
	defer th.Stop()
	s, err := flite.New(&flite.Options{MaxChars: 200})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := speak(th, s, text, pipeline.SpeechOptions{Voice: "kal"})
		if err != nil {
			var pe *pipeline.Error
			if !assert.ErrorAs(t, err, &pe) || pe.Param != "input" {
				t.Fatalf("text %q: %v", text, err)
			}
			return
		}
		if a.Rate != 8000 || peak(a.Samples) > 1 {
			t.Fatalf("text %q: rate %d peak %g", text, a.Rate, peak(a.Samples))
		}
	})
}
