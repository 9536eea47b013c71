//go:build cgo && pocketsphinx && flite

package transport_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

const question = "What time does the library open tomorrow morning?"

// longAnswer is a scripted answer of many sentences, for the long-answer
// measurement.
var longAnswer = strings.Repeat("The library opens at nine in the morning on weekdays. ", 12)

// turnTiming is what one spoken turn measured, from the client's side.
type turnTiming struct {
	heard         string
	answer        string
	status        string
	fromLastFrame time.Duration // last speech frame sent → first audio delta
	fromStopped   time.Duration // speech_stopped received → first audio delta
	transcribed   time.Duration // speech_stopped → the turn\'s transcript (the LLM starts then)
	firstToDone   time.Duration // first audio delta → response.done
	audioSeconds  float64
}

// speakTurn has flite say the question through the server, sends it like a
// microphone (20 ms frames in real time, 300 ms of silence before, 1.2 s
// after) to a conversation session and measures the answer.
func speakTurn(t *testing.T, e *env, maxTokens any) turnTiming {
	t.Helper()
	a, err := audio.New().Decode(speakWAV(t, e, question), pipeline.DecodeOptions{})
	require.NoError(t, err)
	speech, err := dsp.Resample(a.Samples, a.Rate, 24000)
	require.NoError(t, err)
	pcm := append(append(rt.Silence(24000, 300), speech...), rt.Silence(24000, 1200)...)

	c := dialConversation(t, e, false, "audio")
	c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime", "max_output_tokens": maxTokens}})
	c.WaitFor("session.updated")
	sent := sendPaced(c, rt.PCM16(pcm), 48, 20)
	lastSpeech := sent[min(len(sent)-1, (300+len(speech)/24)/20)]
	done := c.WaitFor("response.done")
	realtimeCheck(t, c, false)

	id := done.Get("response", "id").(string)
	first := slices.IndexFunc(c.Events, func(ev rt.Event) bool {
		return ev.Type == "response.output_audio.delta" && ev.Str("response_id") == id
	})
	require.GreaterOrEqual(t, first, 0, "no audio: %v", c.Types())
	stopped := slices.IndexFunc(c.Events, func(ev rt.Event) bool { return ev.Type == "input_audio_buffer.speech_stopped" })
	require.GreaterOrEqual(t, stopped, 0)
	var tt turnTiming
	for _, ev := range c.Events {
		if ev.Type == "conversation.item.input_audio_transcription.completed" && tt.heard == "" {
			tt.heard = ev.Str("transcript")
			tt.transcribed = ev.At.Sub(c.Events[stopped].At)
		}
	}
	tt.answer = joined(c, "response.output_audio_transcript.delta", id)
	tt.status, _ = done.Get("response", "status").(string)
	tt.fromLastFrame = c.Events[first].At.Sub(lastSpeech)
	tt.fromStopped = c.Events[first].At.Sub(c.Events[stopped].At)
	tt.firstToDone = done.At.Sub(c.Events[first].At)
	tt.audioSeconds = float64(responseAudio(t, c, id)) / 48000
	return tt
}

func (tt turnTiming) log(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: heard %q; answered %.1f s of audio (%q, %s)", what, tt.heard, tt.audioSeconds, clipText(tt.answer, 80), tt.status)
	t.Logf("%s: first audio %v after the last speech frame was sent (silence_duration_ms 500 included), %v after speech_stopped (transcript after %v); response.done %v after the first audio",
		what, tt.fromLastFrame.Round(time.Millisecond), tt.fromStopped.Round(time.Millisecond), tt.transcribed.Round(time.Millisecond),
		tt.firstToDone.Round(time.Millisecond))
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// newVoiceEnv serves pocketsphinx (Debian's en-us model), flite and the
// given LLM.
func newVoiceEnv(t *testing.T, model pipeline.Model) *env {
	t.Helper()
	return newSpeechEnv(t, func(o *envOptions) {
		o.models["voice-llm"] = model
		o.load[pipeline.LLMSlot] = "voice-llm"
	})
}

// TestE2ERealtimeVoiceTurn: a question spoken by flite goes through
// /v1/realtime to pocketsphinx, the tiny random-weight Qwen3 (so the
// numbers measure the pipeline, not a model) and flite, and an answer
// comes back as audio; the time from the end of speech to the first audio
// byte is logged. A long scripted answer (the scripted LLM at 20 ms per
// token, with the real recognizer and synthesizer) shows the first audio
// coming long before response.done.
func TestE2ERealtimeVoiceTurn(t *testing.T) {
	t.Run("tiny-qwen3", func(t *testing.T) {
		dir, err := filepath.Abs(filepath.Join("..", "mlxrt", "testdata", "models", "qwen3-f32"))
		require.NoError(t, err)
		model, err := llm.Load(context.Background(), dir, &llm.Options{ID: "qwen3-f32"})
		require.NoError(t, err)
		// After the server stops (cleanups run last first): the CPU
		// backend's workers, for the goroutine-leak check.
		t.Cleanup(mx.Shutdown)
		e := newVoiceEnv(t, model)
		tt := speakTurn(t, e, 48)
		tt.log(t, "tiny qwen3, max_output_tokens 48")
		assert.NotEmpty(t, tt.heard)
		assert.Positive(t, tt.audioSeconds)
		assert.Contains(t, []string{"completed", "incomplete"}, tt.status)
	})
	t.Run("long-answer", func(t *testing.T) {
		e := newVoiceEnv(t, &pipelinetest.LLM{Script: pipelinetest.Fixed(pipelinetest.Words(longAnswer)...),
			StepDelay: 20 * time.Millisecond})
		tt := speakTurn(t, e, "inf")
		tt.log(t, "scripted long answer at 20 ms/token")
		assert.Equal(t, "completed", tt.status)
		assert.Equal(t, strings.TrimSpace(longAnswer), tt.answer)
		assert.Greater(t, tt.firstToDone, 2*tt.fromStopped, "the first audio comes long before the answer is complete")
	})
}
