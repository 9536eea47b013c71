//go:build cgo && pocketsphinx

package pocketsphinx_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

var (
	sharedOnce sync.Once
	sharedTh   *pipeline.Thread
	sharedASR  pipeline.Transcriber
	sharedErr  error
)

// shared returns a pinned thread and a two-decoder recognizer that tests
// reuse; both are shut down after the last test.
func shared(t testing.TB) (*pipeline.Thread, pipeline.Transcriber) {
	t.Helper()
	sharedOnce.Do(func() {
		sharedTh = pipeline.StartThread()
		sharedASR, sharedErr = pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 2})
		cleanups = append(cleanups, func() {
			if sharedASR != nil {
				_ = sharedTh.Do(context.Background(), sharedASR.Close)
			}
			sharedTh.Stop()
		})
	})
	require.NoError(t, sharedErr)
	return sharedTh, sharedASR
}

// on runs fn on the pinned thread, as the scheduler does.
func on[T any](t testing.TB, th *pipeline.Thread, fn func() (T, error)) (T, error) {
	t.Helper()
	return pipeline.Call(context.Background(), th, fn)
}

// result is what recognizing one utterance gave.
type result struct {
	pipeline.Transcript
	FirstPartial time.Duration // audio fed before the first non-empty partial; -1 if none
	Partials     int           // Accept calls that returned a non-empty hypothesis
}

// recognize feeds 16 kHz audio through one stream in chunks, one Accept per
// pinned-thread step, then ends the utterance.
func recognize(t testing.TB, th *pipeline.Thread, asr pipeline.Transcriber, x []float32, chunk time.Duration) result {
	t.Helper()
	st, err := on(t, th, func() (pipeline.TranscribeStream, error) {
		return asr.NewStream(pipeline.TranscribeOptions{Words: true})
	})
	require.NoError(t, err)
	defer func() { _, _ = on(t, th, func() (struct{}, error) { st.Close(); return struct{}{}, nil }) }()
	n := int(chunk.Seconds() * pocketsphinx.InputRate)
	res := result{FirstPartial: -1}
	for i := 0; i < len(x); i += n {
		part := x[i:min(len(x), i+n)]
		hyp, err := on(t, th, func() (string, error) { return st.Accept(part) })
		require.NoError(t, err)
		if hyp != "" {
			res.Partials++
			if res.FirstPartial < 0 {
				res.FirstPartial = time.Duration(i+len(part)) * time.Second / pocketsphinx.InputRate
			}
		}
	}
	res.Transcript, err = on(t, th, st.EndUtterance)
	require.NoError(t, err)
	return res
}

func readAt16k(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	a, err := speechtest.ReadWAV(b)
	require.NoError(t, err)
	x, err := dsp.Resample(a.Samples, a.Rate, pocketsphinx.InputRate)
	require.NoError(t, err)
	return x
}

// TestDebianRecordings transcribes the human recordings alsa-utils ships
// (48 kHz speech: "Front Center", "Rear Left", …).
func TestDebianRecordings(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/sounds/alsa/*.wav")
	if len(files) == 0 {
		speechtest.Missing(t, "alsa-utils sounds are not installed")
	}
	th, asr := shared(t)
	for _, f := range files {
		res := recognize(t, th, asr, readAt16k(t, f), 160*time.Millisecond)
		t.Logf("%-16s %q (WER vs file name %.2f, %d partials)", filepath.Base(f), res.Text,
			speechtest.WER(filepath.Base(f[:len(f)-4]), res.Text), res.Partials)
		if filepath.Base(f) != "Noise.wav" {
			assert.NotEmpty(t, res.Text, f)
		}
		assert.InDelta(t, res.Duration, 1.4, 0.2)
	}
}

func TestSilenceGivesNoWords(t *testing.T) {
	th, asr := shared(t)
	res := recognize(t, th, asr, make([]float32, pocketsphinx.InputRate), 100*time.Millisecond)
	assert.Empty(t, res.Text)
	assert.Empty(t, res.Words)
	assert.Empty(t, res.Segments)
	assert.InDelta(t, 1.0, res.Duration, 1e-9)
	assert.Equal(t, "en", res.Language)
}

func TestStreamEdgeCases(t *testing.T) {
	th, asr := shared(t)
	st, err := on(t, th, func() (pipeline.TranscribeStream, error) { return asr.NewStream(pipeline.TranscribeOptions{}) })
	require.NoError(t, err)

	// EndUtterance with nothing fed is an empty transcript.
	tr, err := on(t, th, st.EndUtterance)
	require.NoError(t, err)
	assert.Equal(t, pipeline.Transcript{Language: "en"}, tr)

	// Empty chunks and NaN or out-of-range samples are accepted.
	weird := []float32{float32(math.NaN()), float32(math.Inf(1)), -7, 0.5}
	for _, chunk := range [][]float32{nil, weird} {
		_, err = on(t, th, func() (string, error) { return st.Accept(chunk) })
		require.NoError(t, err)
	}
	tr, err = on(t, th, st.EndUtterance)
	require.NoError(t, err)
	assert.InDelta(t, 4.0/16000, tr.Duration, 1e-9)

	// Close twice; methods after Close fail cleanly.
	for range 2 {
		_, err = on(t, th, func() (struct{}, error) { st.Close(); return struct{}{}, nil })
		require.NoError(t, err)
	}
	_, err = on(t, th, func() (string, error) { return st.Accept(make([]float32, 10)) })
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
	_, err = on(t, th, st.EndUtterance)
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
}

func TestChunkAndUtteranceLimits(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	asr, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{
		Decoders: 1, MaxChunk: 500 * time.Millisecond, MaxUtterance: time.Second,
	})
	require.NoError(t, err)
	defer func() { _ = th.Do(context.Background(), asr.Close) }()
	st, err := on(t, th, func() (pipeline.TranscribeStream, error) { return asr.NewStream(pipeline.TranscribeOptions{}) })
	require.NoError(t, err)
	defer func() { _ = th.Do(context.Background(), func() error { st.Close(); return nil }) }()

	_, err = on(t, th, func() (string, error) { return st.Accept(make([]float32, 8001)) })
	assert.ErrorIs(t, err, pipeline.ErrInvalid, "chunk over MaxChunk")

	half := make([]float32, 8000)
	for range 2 {
		_, err = on(t, th, func() (string, error) { return st.Accept(half) })
		require.NoError(t, err)
	}
	_, err = on(t, th, func() (string, error) { return st.Accept(half[:1]) })
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, pipeline.KindTooLarge, pe.Kind)
	assert.Equal(t, "utterance_too_long", pe.Code)

	// Ending the utterance makes room again.
	tr, err := on(t, th, st.EndUtterance)
	require.NoError(t, err)
	assert.InDelta(t, 1.0, tr.Duration, 1e-9)
	_, err = on(t, th, func() (string, error) { return st.Accept(half) })
	assert.NoError(t, err)
}

func TestPoolExhaustionAndClose(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	asr, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 2})
	require.NoError(t, err)
	assert.Equal(t, "pocketsphinx-en-us", asr.Info().ID)
	assert.Equal(t, pipeline.ASRSlot, asr.Info().Category)
	assert.Equal(t, 16000, asr.InputRate())

	open := func() (pipeline.TranscribeStream, error) {
		return on(t, th, func() (pipeline.TranscribeStream, error) { return asr.NewStream(pipeline.TranscribeOptions{}) })
	}
	closeStream := func(st pipeline.TranscribeStream) {
		_ = th.Do(context.Background(), func() error { st.Close(); return nil })
	}
	a, err := open()
	require.NoError(t, err)
	b, err := open()
	require.NoError(t, err)
	_, err = open()
	var pe *pipeline.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, pipeline.KindOverloaded, pe.Kind)
	assert.Equal(t, "asr_streams_exhausted", pe.Code)
	assert.Equal(t, time.Second, pe.RetryAfter)

	// A stream with an utterance open gives its decoder back on Close.
	_, err = on(t, th, func() (string, error) { return a.Accept(make([]float32, 1600)) })
	require.NoError(t, err)
	closeStream(a)
	c, err := open()
	require.NoError(t, err)

	// Closing the recognizer with streams open: they keep working until
	// closed, new streams are refused, and Close is idempotent.
	require.NoError(t, th.Do(context.Background(), asr.Close))
	require.NoError(t, th.Do(context.Background(), asr.Close))
	_, err = open()
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
	_, err = on(t, th, func() (string, error) { return b.Accept(make([]float32, 1600)) })
	assert.NoError(t, err)
	closeStream(b)
	closeStream(c)
	closeStream(c)
}

func TestLoaderAliasesAndCancel(t *testing.T) {
	l := pocketsphinx.NewLoader(&pocketsphinx.Options{Decoders: 1})
	for _, name := range []string{"", "pocketsphinx-en-us", "whisper-1", "gpt-4o-transcribe", pocketsphinx.DefaultModelDir} {
		m, err := l.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot, Name: name})
		require.NoError(t, err, name)
		assert.Equal(t, "pocketsphinx-en-us", m.Info().ID, name)
		assert.Equal(t, "pocketsphinx", m.Info().Family)
		require.NoError(t, m.Close())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Load(ctx, pipeline.ModelRef{Category: pipeline.ASRSlot})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoError(t, pocketsphinx.Available())
}

func TestLoadReportsLibraryErrors(t *testing.T) {
	// A language model file that is not one: the library refuses it and
	// the error carries its message.
	p := pocketsphinx.DefaultPaths()
	p.LM = filepath.Join(t.TempDir(), "bad.lm")
	require.NoError(t, os.WriteFile(p.LM, []byte("this is not a language model\n"), 0o644))
	_, err := pocketsphinx.New(context.Background(), p, &pocketsphinx.Options{Decoders: 1})
	t.Logf("error: %v", err)
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
}

// TestLoadWhileDecoding loads a second recognizer off the pinned thread
// while the first decodes on it, as a model switch does.
func TestLoadWhileDecoding(t *testing.T) {
	const wav = "/usr/share/sounds/alsa/Front_Right.wav"
	if _, err := os.Stat(wav); err != nil {
		speechtest.Missing(t, "alsa-utils sounds are not installed")
	}
	th, asr := shared(t)
	x := readAt16k(t, wav)
	loaded := make(chan error, 1)
	go func() {
		m, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 1})
		if err == nil {
			err = th.Do(context.Background(), m.Close)
		}
		loaded <- err
	}()
	for {
		res := recognize(t, th, asr, x, 100*time.Millisecond)
		assert.Equal(t, "front right", res.Text)
		select {
		case err := <-loaded:
			require.NoError(t, err)
			return
		default:
		}
	}
}
