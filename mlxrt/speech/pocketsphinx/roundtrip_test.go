//go:build cgo && pocketsphinx && flite

package pocketsphinx_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// sentences are spoken by flite and recognized back. They use everyday
// words (no digits, whose spoken form differs from the written one).
var sentences = []string{
	"The quick brown fox jumps over the lazy dog.",
	"Please call me back when you get home tonight.",
	"I would like to book a table for two people.",
	"The weather today is sunny with a light breeze.",
	"She sells fresh fruit at the market every morning.",
	"We need to finish the report before the meeting.",
	"Can you tell me the way to the train station?",
	"My brother bought a new car last week.",
	"Turn left at the next corner and keep going.",
	"The children played in the park after school.",
}

var (
	ttsOnce sync.Once
	ttsEng  pipeline.Synthesizer
	ttsErr  error
)

// tts returns a flite synthesizer activated on th.
func tts(t testing.TB, th *pipeline.Thread) pipeline.Synthesizer {
	t.Helper()
	ttsOnce.Do(func() {
		ttsEng, ttsErr = flite.New(nil)
		if ttsErr == nil {
			ttsErr = th.Do(context.Background(), ttsEng.(pipeline.Activator).Activate)
		}
	})
	require.NoError(t, ttsErr)
	return ttsEng
}

// speak16k synthesizes text and brings it to 16 kHz through 24 kHz, the
// rate of the speech endpoint's pcm format and of Realtime input audio, as
// a client that plays our speech back to us would.
func speak16k(t testing.TB, th *pipeline.Thread, text, voice string, speed float64) []float32 {
	t.Helper()
	s := tts(t, th)
	a, err := pipeline.Call(context.Background(), th, func() (pipeline.Audio, error) {
		return s.Synthesize(text, pipeline.SpeechOptions{Voice: voice, Speed: speed})
	})
	require.NoError(t, err)
	x, err := dsp.Resample(a.Samples, a.Rate, 24000)
	require.NoError(t, err)
	x, err = dsp.Resample(x, 24000, 16000)
	require.NoError(t, err)
	return x
}

type roundTrip struct {
	text, voice string
	speed       float64
}

// roundTrips pairs every sentence with every voice, cycling the speeds so
// that each voice is heard at each speed. -short keeps three sentences
// (still every voice at every speed).
func roundTrips(voices []string, speeds []float64, short bool) []roundTrip {
	var out []roundTrip
	for i, s := range sentences {
		if short && i >= len(speeds) {
			break
		}
		for j, v := range voices {
			out = append(out, roundTrip{s, v, speeds[(i+j)%len(speeds)]})
		}
	}
	return out
}

func TestRoundTripFliteToPocketsphinx(t *testing.T) {
	th, asr := shared(t)
	cases := roundTrips([]string{"slt", "kal16", "awb", "rms"}, []float64{0.8, 1.0, 1.25}, testing.Short())
	var total float64
	byVoice := map[string][]float64{}
	for _, c := range cases {
		x := speak16k(t, th, c.text, c.voice, c.speed)
		res := recognize(t, th, asr, x, 160*time.Millisecond)
		wer := speechtest.WER(c.text, res.Text)
		total += wer
		byVoice[c.voice] = append(byVoice[c.voice], wer)
		t.Logf("%-5s ×%.2f WER %.2f first partial at %4dms  %q", c.voice, c.speed, wer, res.FirstPartial.Milliseconds(), res.Text)

		audio := float64(len(x)) / 16000
		assert.InDelta(t, audio, res.Duration, 1e-6)
		if audio > 1 {
			assert.Positive(t, res.FirstPartial, "no partial before EndUtterance: %s", c.text)
		}
		checkTimings(t, res.Transcript)
	}
	mean := total / float64(len(cases))
	t.Logf("mean WER %.3f over %d utterances; by voice: %s", mean, len(cases), summarize(byVoice))
	assert.LessOrEqual(t, mean, 0.15)
}

// TestRoundTrip8kHzVoice upsamples flite's 8 kHz kal voice. Telephone-band
// audio lacks everything the 16 kHz model hears above 4 kHz: each sentence
// here is the first utterance of its stream, and pocketsphinx_continuous
// itself gets almost every word of these wrong (WER near 0.9), so the bar
// only guards against regressions.
func TestRoundTrip8kHzVoice(t *testing.T) {
	th, asr := shared(t)
	var total float64
	for _, text := range sentences[:4] {
		res := recognize(t, th, asr, speak16k(t, th, text, "kal", 1), 200*time.Millisecond)
		wer := speechtest.WER(text, res.Text)
		t.Logf("kal WER %.2f %q", wer, res.Text)
		total += wer
	}
	t.Logf("kal mean WER %.3f", total/4)
	assert.LessOrEqual(t, total/4, 0.5)
}

// TestMultipleUtterancesOneStream ends several utterances on one stream:
// each gets its own transcript and times start again at zero.
func TestMultipleUtterancesOneStream(t *testing.T) {
	th, asr := shared(t)
	st, err := on(t, th, func() (pipeline.TranscribeStream, error) {
		return asr.NewStream(pipeline.TranscribeOptions{Words: true})
	})
	require.NoError(t, err)
	defer func() { _ = th.Do(context.Background(), func() error { st.Close(); return nil }) }()
	for _, text := range []string{sentences[0], sentences[1], sentences[0]} {
		x := speak16k(t, th, text, "rms", 1)
		for i := 0; i < len(x); i += 3200 {
			part := x[i:min(len(x), i+3200)]
			_, err := on(t, th, func() (string, error) { return st.Accept(part) })
			require.NoError(t, err)
		}
		tr, err := on(t, th, st.EndUtterance)
		require.NoError(t, err)
		assert.LessOrEqual(t, speechtest.WER(text, tr.Text), 0.34, "%q → %q", text, tr.Text)
		checkTimings(t, tr)
	}
}

// checkTimings asserts that words are in order, inside the utterance, and
// spell the text.
func checkTimings(t *testing.T, tr pipeline.Transcript) {
	t.Helper()
	var words []string
	prev := 0.0
	for _, w := range tr.Words {
		assert.GreaterOrEqual(t, w.Start, prev-1e-9, "%+v", w)
		assert.Greater(t, w.End, w.Start, "%+v", w)
		assert.LessOrEqual(t, w.End, tr.Duration+0.05, "%+v", w)
		prev = w.End
		words = append(words, w.Word)
	}
	assert.Equal(t, speechtest.Words(tr.Text), speechtest.Words(fmt.Sprint(words)))
	if len(tr.Words) > 0 {
		require.Len(t, tr.Segments, 1)
		assert.Equal(t, tr.Text, tr.Segments[0].Text)
		assert.LessOrEqual(t, tr.Segments[0].Logprob, 0.0)
	}
}

func summarize(m map[string][]float64) string {
	s := ""
	for _, v := range []string{"slt", "kal16", "awb", "rms"} {
		var sum float64
		for _, w := range m[v] {
			sum += w
		}
		s += fmt.Sprintf("%s %.3f ", v, sum/float64(max(1, len(m[v]))))
	}
	return s
}

// TestWordTimingsAcrossPauses checks that silence before and inside an
// utterance moves the word timings by exactly its length.
func TestWordTimingsAcrossPauses(t *testing.T) {
	th, asr := shared(t)
	x := speak16k(t, th, sentences[1], "rms", 1) // "Please call me back when you get home tonight."
	half := len(x) / 2
	padded := func(lead, mid float64) []float32 {
		y := make([]float32, int(lead*16000), len(x)+int((lead+mid)*16000))
		y = append(y, x[:half]...)
		y = append(y, make([]float32, int(mid*16000))...)
		return append(y, x[half:]...)
	}
	base := recognize(t, th, asr, padded(0, 0), 160*time.Millisecond)
	moved := recognize(t, th, asr, padded(1, 1.5), 160*time.Millisecond)
	require.Equal(t, speechtest.Words(sentences[1]), speechtest.Words(base.Text))
	require.Len(t, moved.Words, len(base.Words), "%q", moved.Text)
	for i, w := range moved.Words {
		shift := 1.0
		if base.Words[i].Start >= float64(half)/16000 {
			shift = 2.5
		}
		// Where a word meets silence its edge is a matter of judgement:
		// allow 150 ms.
		assert.InDelta(t, base.Words[i].Start+shift, w.Start, 0.15, "%q", w.Word)
		assert.InDelta(t, base.Words[i].End+shift, w.End, 0.15, "%q", w.Word)
	}
	checkTimings(t, moved.Transcript)
}

// TestLongUtteranceIsDecodedInParts feeds one utterance much longer than
// SplitAfter: it is decoded in parts cut at pauses (or, without pauses, at
// twice SplitAfter), and the transcript joins them.
func TestLongUtteranceIsDecodedInParts(t *testing.T) {
	th, _ := shared(t)
	asr, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 1, SplitAfter: 3 * time.Second})
	require.NoError(t, err)
	defer func() { _ = th.Do(context.Background(), asr.Close) }()
	texts := sentences[:4]
	for _, gap := range []float64{0.6, 0} {
		var x []float32
		for _, text := range texts {
			x = append(x, speak16k(t, th, text, "rms", 1)...)
			x = append(x, make([]float32, int(gap*16000))...)
		}
		res := recognize(t, th, asr, x, 200*time.Millisecond)
		want := strings.Join(texts, " ")
		wer := speechtest.WER(want, res.Text)
		t.Logf("gap %.1fs: %d parts, WER %.2f: %q", gap, len(res.Segments), wer, res.Text)
		assert.GreaterOrEqual(t, len(res.Segments), 2)
		assert.LessOrEqual(t, wer, 0.2)
		assert.InDelta(t, float64(len(x))/16000, res.Duration, 1e-6)
		checkPartTimings(t, res.Transcript)
	}
}

// checkPartTimings asserts that words and segments are in order and inside
// the utterance.
func checkPartTimings(t *testing.T, tr pipeline.Transcript) {
	t.Helper()
	prev := 0.0
	for _, w := range tr.Words {
		assert.GreaterOrEqual(t, w.Start, prev-1e-9, "%+v", w)
		assert.LessOrEqual(t, w.End, tr.Duration+0.05, "%+v", w)
		prev = w.End
	}
	prev = 0
	var texts []string
	for _, s := range tr.Segments {
		assert.GreaterOrEqual(t, s.Start, prev-1e-9, "%+v", s)
		assert.Greater(t, s.End, s.Start, "%+v", s)
		assert.LessOrEqual(t, s.Logprob, 0.0)
		prev = s.End
		texts = append(texts, s.Text)
	}
	assert.Equal(t, tr.Text, strings.Join(texts, " "))
}
