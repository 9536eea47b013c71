//go:build cgo && pocketsphinx && flite

package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

var e2eSentences = []string{
	"The quick brown fox jumps over the lazy dog.",
	"Please call me back when you get home tonight.",
	"I would like to book a table for two people.",
	"The children played in the park after school.",
}

// speechModels loads the real engines: pocketsphinx (Debian's en-us model,
// the default pool of decoders) and flite. err says what is missing.
func speechModels() (asr pipeline.Transcriber, tts pipeline.Synthesizer, err error) {
	if err := pocketsphinx.Available(); err != nil {
		return nil, nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	if err := flite.Available(); err != nil {
		return nil, nil, fmt.Errorf("flite: %w", err)
	}
	if asr, err = pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), nil); err != nil {
		return nil, nil, fmt.Errorf("pocketsphinx model: %w", err)
	}
	if tts, err = flite.New(nil); err != nil {
		return nil, nil, fmt.Errorf("flite: %w", err)
	}
	return asr, tts, nil
}

// newSpeechEnv serves the real engines (see speechModels); tweaks, when
// given, change the options further. Without the engines the test is
// skipped, or fails under OMINIX_REQUIRE_SPEECH=1.
func newSpeechEnv(t *testing.T, tweaks ...func(*envOptions)) *env {
	t.Helper()
	asr, tts, err := speechModels()
	if err != nil {
		speechtest.Missing(t, "%v", err)
	}
	return newAudioEnv(t, "", func(o *envOptions) {
		o.models["pocketsphinx"] = asr
		o.models["flite"] = tts
		o.load[pipeline.ASRSlot] = "pocketsphinx"
		o.load[pipeline.TTSSlot] = "flite"
		for _, tweak := range tweaks {
			tweak(o)
		}
	})
}

// speakWAV has flite say text through POST /v1/audio/speech.
func speakWAV(t *testing.T, e *env, text string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"})
	status, b := readAll(t, e.post("/v1/audio/speech", string(body)))
	require.Equal(t, http.StatusOK, status, "%s", b)
	return b
}

func transcribeFile(t *testing.T, e *env, file []byte) string {
	t.Helper()
	status, body := readAll(t, postForm(t, e, file, "model", "whisper-1", "response_format", "text"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	return strings.TrimSpace(string(body))
}

// TestE2ESpeechRoundTrip has flite speak each sentence and pocketsphinx
// recognize it, through the file endpoint and through /v1/realtime: no
// sentence may have a word error rate above 0.3, and their mean must not
// exceed 0.15 on either path.
func TestE2ESpeechRoundTrip(t *testing.T) {
	e := newSpeechEnv(t)
	var fileWER, rtWER []float64
	for _, s := range e2eSentences {
		wav := speakWAV(t, e, s)
		got := transcribeFile(t, e, wav)
		wer := speechtest.WER(s, got)
		fileWER = append(fileWER, wer)
		t.Logf("file:     %.2f %q → %q", wer, s, got)
		assert.LessOrEqual(t, wer, 0.3, "%q → %q", s, got)

		// The same audio through /v1/realtime in 20 ms frames of 24 kHz PCM.
		a, err := audio.New().Decode(wav, pipeline.DecodeOptions{})
		require.NoError(t, err)
		pcm, err := dsp.Resample(a.Samples, a.Rate, 24000)
		require.NoError(t, err)
		pcm = append(append(rt.Silence(24000, 300), pcm...), rt.Silence(24000, 1000)...)
		c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
		c.Next()
		for _, f := range rt.Frames(rt.PCM16(pcm), 48*20) {
			c.Append(f)
		}
		c.Send(map[string]any{"type": "input_audio_buffer.commit"}) // in case the VAD split a long pause
		var parts []string
		for c.Count("input_audio_buffer.committed") == 0 || c.Count("conversation.item.input_audio_transcription.completed") < c.Count("input_audio_buffer.committed") {
			ev := c.Next()
			if ev.Type == "conversation.item.input_audio_transcription.completed" {
				parts = append(parts, ev.Str("transcript"))
			}
		}
		got = strings.Join(parts, " ")
		wer = speechtest.WER(s, got)
		rtWER = append(rtWER, wer)
		t.Logf("realtime: %.2f %q → %q", wer, s, got)
		assert.LessOrEqual(t, wer, 0.3, "%q → %q", s, got)
		realtimeCheck(t, c, false)
	}
	t.Logf("mean WER: file %.3f, realtime %.3f", mean(fileWER), mean(rtWER))
	assert.LessOrEqual(t, mean(fileWER), 0.15, "mean WER of the file endpoint")
	assert.LessOrEqual(t, mean(rtWER), 0.15, "mean WER of /v1/realtime")
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// Debian's alsa-utils recordings of a human voice give non-empty transcripts.
func TestE2EHumanRecordings(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/sounds/alsa/*.wav")
	if len(files) == 0 {
		speechtest.Missing(t, "alsa-utils sounds are not installed")
	}
	e := newSpeechEnv(t)
	for _, f := range files {
		if strings.Contains(f, "Noise") {
			continue // not speech
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		got := transcribeFile(t, e, b)
		t.Logf("%s → %q", filepath.Base(f), got)
		assert.NotEmpty(t, got, f)
	}
}

// TestE2ERealtimeLatency streams a flite sentence through /v1/realtime in
// real time (20 ms frames on a ticker) and logs how soon partials and the
// final transcript arrive with pocketsphinx.
func TestE2ERealtimeLatency(t *testing.T) {
	e := newSpeechEnv(t)
	s := e2eSentences[0]
	a, err := audio.New().Decode(speakWAV(t, e, s), pipeline.DecodeOptions{})
	require.NoError(t, err)
	pcm, err := dsp.Resample(a.Samples, a.Rate, 24000)
	require.NoError(t, err)
	lead := 300
	pcm = append(append(rt.Silence(24000, lead), pcm...), rt.Silence(24000, 900)...)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	sent := sendPaced(c, rt.PCM16(pcm), 48, 20)
	done := c.WaitFor("conversation.item.input_audio_transcription.completed")
	speechEnd := sent[(lead+len(a.Samples)*1000/a.Rate)/20]
	var first, last rt.Event
	for _, ev := range c.Events {
		if ev.Type == "conversation.item.input_audio_transcription.delta" {
			if first.Type == "" {
				first = ev
			}
			last = ev
		}
	}
	require.NotEmpty(t, first.Type, "partials while speaking")
	t.Logf("speech %.2fs: first partial %v after speech began; %d partial events, last before speech ended by %v; completed %v after speech ended (silence_duration_ms 500); %q",
		a.Seconds(), first.At.Sub(sent[lead/20]), c.Count("conversation.item.input_audio_transcription.delta"),
		speechEnd.Sub(last.At), done.At.Sub(speechEnd), done.Str("transcript"))
	assert.LessOrEqual(t, speechtest.WER(s, done.Str("transcript")), 0.3)
}

// Beyond pocketsphinx's pool of decoders (OMINIX_ASR_STREAMS), recognition
// is refused, not queued: with a pool of one held by a realtime
// connection, a file transcription gets 429 asr_streams_exhausted with
// Retry-After, and succeeds once the connection has gone.
func TestE2EDecoderPoolExhausted(t *testing.T) {
	if err := pocketsphinx.Available(); err != nil {
		speechtest.Missing(t, "pocketsphinx: %v", err)
	}
	asr, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 1})
	require.NoError(t, err)
	tts, err := flite.New(nil)
	require.NoError(t, err)
	e := newAudioEnv(t, "", func(o *envOptions) {
		o.models["pocketsphinx"], o.models["flite"] = asr, tts
		o.load[pipeline.ASRSlot], o.load[pipeline.TTSSlot] = "pocketsphinx", "flite"
	})
	wav := speakWAV(t, e, e2eSentences[0])
	a, err := audio.New().Decode(wav, pipeline.DecodeOptions{})
	require.NoError(t, err)

	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	c.WaitFor("session.updated")
	for _, f := range rt.Frames(rt.PCM16(a.Samples), 48*20) {
		c.Append(f)
	}
	c.WaitFor("conversation.item.input_audio_transcription.delta") // the connection holds the decoder

	resp := postForm(t, e, wav, "model", "whisper-1")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	status, body := readAll(t, resp)
	require.Equal(t, http.StatusTooManyRequests, status, "%s", body)
	eb := errBodyOf(t, body)
	require.NotNil(t, eb.Error.Code)
	assert.Equal(t, "asr_streams_exhausted", *eb.Error.Code)
	t.Logf("second stream: %d %s", status, body)

	require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool {
		status, _ := readAll(t, postForm(t, e, wav, "model", "whisper-1"))
		return status == http.StatusOK
	}, wait, 100*time.Millisecond, "the decoder returns to the pool when the connection ends")
}
