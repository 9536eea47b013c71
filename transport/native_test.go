package transport_test

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
)

func TestEncodeNativeEvent(t *testing.T) {
	cases := []struct {
		ev   pipeline.Event
		want string
	}{
		{pipeline.TextDelta{Content: "Hi <b>", Reasoning: "hm"},
			`{"type":"text.delta","seq":7,"content":"Hi <b>","reasoning":"hm"}`},
		{pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, ID: "call_1", Name: "f"}, {Index: 0, Arguments: `{"a":1}`}}},
			`{"type":"text.delta","seq":7,"tool_calls":[{"index":0,"id":"call_1","name":"f"},{"index":0,"arguments":"{\"a\":1}"}]}`},
		{pipeline.TextDelta{Content: "a", Logprobs: []pipeline.TokenLogprobs{{TokenLogprob: pipeline.TokenLogprob{Token: "a", Logprob: math.Inf(-1)}}}},
			`{"type":"text.delta","seq":7,"content":"a","logprobs":[{"token":"a","logprob":-9999,"bytes":[97],"top_logprobs":[]}]}`},
		{&pipeline.Done{Finish: pipeline.FinishLength, Usage: pipeline.Usage{PromptTokens: 3, CompletionTokens: 2}},
			`{"type":"done","seq":7,"finish_reason":"length","usage":{"prompt_tokens":3,"completion_tokens":2}}`},
		{pipeline.Failed{Err: pipeline.Invalid("voice", "unknown voice")},
			`{"type":"error","seq":7,"error":{"message":"unknown voice","type":"invalid_request_error","param":"voice","code":null}}`},
		{pipeline.Failed{Err: sessions.ErrSlowConsumer},
			`{"type":"error","seq":7,"error":{"message":"the client did not read events fast enough and was disconnected","type":"server_error","param":null,"code":"slow_consumer"}}`},
		{pipeline.TranscriptDelta{ItemID: "i1", Text: "hel"},
			`{"type":"transcript.delta","seq":7,"item_id":"i1","text":"hel"}`},
		{pipeline.TranscriptDone{ItemID: "i1", Transcript: pipeline.Transcript{Text: "hello", Language: "en", Duration: 1.5,
			Words: []pipeline.Word{{Word: "hello", Start: 0, End: 0.5}}}, Usage: pipeline.Usage{InputAudioSeconds: 1.5}},
			`{"type":"transcript.done","seq":7,"item_id":"i1","text":"hello","language":"en","duration":1.5,"words":[{"word":"hello","start":0,"end":0.5}],"usage":{"input_audio_seconds":1.5}}`},
		{pipeline.SpeechStarted{AudioMs: 120}, `{"type":"speech.started","seq":7,"audio_start_ms":120}`},
		{pipeline.SpeechStopped{ItemID: "i2", AudioMs: 900}, `{"type":"speech.stopped","seq":7,"item_id":"i2","audio_end_ms":900}`},
		{pipeline.AudioChunk{Audio: pipeline.Audio{Rate: 24000, Samples: []float32{0, 1, -1, 2, float32(math.NaN())}}, Text: "Hi."},
			`{"type":"audio.chunk","seq":7,"audio":"` + base64.StdEncoding.EncodeToString([]byte{0, 0, 0xff, 0x7f, 0x01, 0x80, 0xff, 0x7f, 0, 0}) + `","rate":24000,"text":"Hi."}`},
		{pipeline.AudioMark{Tag: "m1"}, `{"type":"audio.mark","seq":7,"tag":"m1"}`},
		{pipeline.ImageProgress{Step: 2, Steps: 4}, `{"type":"image.progress","seq":7,"step":2,"steps":4}`},
	}
	for _, c := range cases {
		got, err := transport.EncodeNativeEvent(7, c.ev)
		require.NoError(t, err)
		assert.Equal(t, c.want, string(got))
		assert.NotContains(t, string(got), "\n", "one line of JSON")
	}
}

func TestEncodeNativeImages(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.White)
	got, err := transport.EncodeNativeEvent(1, pipeline.ImageDone{Images: []image.Image{img}})
	require.NoError(t, err)
	var v struct {
		Images []string `json:"images"`
	}
	require.NoError(t, json.Unmarshal(got, &v))
	require.Len(t, v.Images, 1)
	png, err := base64.StdEncoding.DecodeString(v.Images[0])
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))

	got, err = transport.EncodeNativeEvent(2, pipeline.ImageProgress{Step: 1, Steps: 2, Preview: img})
	require.NoError(t, err)
	assert.Contains(t, string(got), `"preview":"iVBOR`)
}
