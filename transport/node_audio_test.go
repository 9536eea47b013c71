package transport_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNodeSDKAudio runs testdata/npm/audio.mjs, the README's npm audio
// example, against the real speech engines when this build has them (else
// the scripted ones): speech as WAV, transcriptions as json, verbose_json
// and a stream, and a language the recognizer lacks.
func TestNodeSDKAudio(t *testing.T) {
	node := nodeOrSkip(t, "openai")
	e, real := speechOrScriptedEnv(t)
	out := execNode(t, node, nil, "audio.mjs", e.url+"/v1", sdkSentence)
	var got struct {
		Speech struct {
			ContentType string
			Bytes       int
		}
		JSON struct {
			Text  string
			Usage struct {
				Type    string
				Seconds float64
			}
		}
		Verbose struct {
			Text, Language string
			Duration       float64
			Words          []struct {
				Word       string
				Start, End float64
			}
			Segments int
		}
		Stream struct {
			Deltas, Text string
			Usage        any
			Events       int
		}
		French struct {
			Status      int
			Code, Param string
		}
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, "audio/wav", got.Speech.ContentType)
	seconds := float64(got.Speech.Bytes-44) / 2 / 24000
	checkTranscript(t, real, got.JSON.Text)
	assert.Equal(t, "duration", got.JSON.Usage.Type)
	assert.InDelta(t, seconds, got.JSON.Usage.Seconds, 0.01)

	checkTranscript(t, real, got.Verbose.Text)
	assert.Equal(t, "english", got.Verbose.Language)
	assert.InDelta(t, seconds, got.Verbose.Duration, 0.01)
	assert.Positive(t, got.Verbose.Segments)
	if real {
		assert.Len(t, got.Verbose.Words, len(strings.Fields(got.Verbose.Text)))
	}

	checkTranscript(t, real, got.Stream.Text)
	assert.NotEmpty(t, got.Stream.Deltas)
	assert.Nil(t, got.Stream.Usage, "no token usage from an engine that counts no tokens")

	assert.Equal(t, 400, got.French.Status)
	assert.Equal(t, "unsupported_language", got.French.Code)
	assert.Equal(t, "language", got.French.Param)
	e.idle()
}
