package transport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// sdkSentence is what the audio SDK tests speak and transcribe.
const sdkSentence = "The quick brown fox jumps over the lazy dog."

// speechOrScriptedEnv serves the real engines (pocketsphinx, flite) when
// this build has them, else the scripted ones; real says which. Either
// recognizer knows only English.
func speechOrScriptedEnv(t *testing.T) (e *env, real bool) {
	t.Helper()
	asr, tts, err := speechModels()
	if err != nil {
		t.Logf("scripted engines: %v", err)
		return newAudioEnv(t, "", func(o *envOptions) {
			o.models["words-asr"] = &pipelinetest.Transcriber{Words: testWords, Langs: []string{"en"}}
		}), false
	}
	return newAudioEnv(t, "", func(o *envOptions) {
		o.models["pocketsphinx"], o.models["flite"] = asr, tts
		o.load[pipeline.ASRSlot], o.load[pipeline.TTSSlot] = "pocketsphinx", "flite"
	}), true
}

// checkTranscript checks a transcript of sdkSentence: close to it with
// the real recognizer, the scripted words otherwise.
func checkTranscript(t *testing.T, real bool, text string) {
	t.Helper()
	if real {
		assert.LessOrEqual(t, speechtest.WER(sdkSentence, text), 0.3, "%q", text)
		return
	}
	checkWords(t, text, 1, 100)
}

// The official Go SDK's audio calls against a real server: speech as WAV,
// then transcriptions of it as json, verbose_json with word and segment
// timestamps, and streamed; a language the recognizer lacks is a 400 the
// SDK surfaces as *openai.Error.
func TestSDKAudio(t *testing.T) {
	e, real := speechOrScriptedEnv(t)
	spec := maybeSpec(t)
	client := sdkClient(e)
	ctx := context.Background()

	resp, err := client.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{
		Model: openai.SpeechModelTTS1, Input: sdkSentence,
		Voice:          openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")},
		ResponseFormat: openai.AudioSpeechNewParamsResponseFormatWAV,
	})
	require.NoError(t, err)
	wav, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	spoken, err := audio.New().Decode(wav, pipeline.DecodeOptions{})
	require.NoError(t, err)
	assert.Equal(t, audio.DefaultRate, spoken.Rate)
	if real {
		assert.InDelta(t, 2.7, spoken.Seconds(), 1, "flite speaks the sentence in about 2.7 s")
	} else {
		assert.InDelta(t, float64(len(sdkSentence))/100, spoken.Seconds(), 0.01, "10 ms per character")
	}

	file := func() io.Reader { return openai.File(bytes.NewReader(wav), "speech.wav", "audio/wav") }
	res, err := client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File: file(), Model: openai.AudioModelWhisper1, Language: openai.String("en"),
	})
	require.NoError(t, err)
	if spec != nil {
		spec.RequireStrict(t, "CreateTranscriptionResponseJson", []byte(res.RawJSON()))
	}
	checkTranscript(t, real, res.Text)
	assert.Equal(t, "duration", res.Usage.Type)
	assert.InDelta(t, spoken.Seconds(), res.Usage.Seconds, 0.01, "usage is the input audio's seconds")

	res, err = client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File: file(), Model: openai.AudioModelWhisper1, ResponseFormat: openai.AudioResponseFormatVerboseJSON,
		TimestampGranularities: []string{"word", "segment"},
	})
	require.NoError(t, err)
	v := res.AsTranscriptionVerbose()
	assert.Equal(t, "english", v.Language)
	assert.InDelta(t, spoken.Seconds(), v.Duration, 0.01)
	require.NotEmpty(t, v.Segments)
	checkTranscript(t, real, v.Text)
	if real {
		require.Len(t, v.Words, len(strings.Fields(v.Text)), "word timestamps")
		for i := 1; i < len(v.Words); i++ {
			assert.GreaterOrEqual(t, v.Words[i].Start, v.Words[i-1].End-0.011)
		}
	}

	stream := client.Audio.Transcriptions.NewStreaming(ctx, openai.AudioTranscriptionNewParams{
		File: file(), Model: openai.AudioModelGPT4oMiniTranscribe,
	})
	var deltas strings.Builder
	var done *openai.TranscriptionStreamEventUnion
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "transcript.text.delta":
			require.Nil(t, done, "delta after done")
			deltas.WriteString(ev.Delta)
		case "transcript.text.done":
			done = &ev
		default:
			t.Fatalf("unexpected event %s", ev.RawJSON())
		}
	}
	require.NoError(t, stream.Err())
	stream.Close()
	require.NotNil(t, done)
	assert.NotEmpty(t, deltas.String())
	checkTranscript(t, real, done.Text)
	assert.False(t, done.JSON.Usage.Valid(), "no token usage from an engine that counts no tokens: %s", done.RawJSON())

	_, err = client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File: file(), Model: openai.AudioModelWhisper1, Language: openai.String("fr"),
	})
	var apiErr *openai.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "unsupported_language", apiErr.Code)
	assert.Equal(t, "language", apiErr.Param)
	assert.Equal(t, "invalid_request_error", apiErr.Type)
	e.idle()
}
