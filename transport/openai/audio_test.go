package openai_test

import (
	"encoding/base64"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func transcript() pipeline.Transcript {
	return pipeline.Transcript{
		Text: "Hello world. Second line here.", Language: "en", Duration: 3725.5,
		Segments: []pipeline.Segment{
			{Start: 0, End: 1.2345, Text: " Hello world.", Logprob: -0.3},
			{Start: 3723.0004, End: 3725.5, Text: "Second\n\nline <here> & -->", Logprob: math.Inf(-1)},
		},
		Words: []pipeline.Word{{Word: "Hello", Start: 0, End: 0.5}, {Word: "world", Start: 0.5, End: 1.2}},
	}
}

func TestFormatSRT(t *testing.T) {
	want := "1\n00:00:00,000 --> 00:00:01,235\nHello world.\n\n" +
		"2\n01:02:03,000 --> 01:02:05,500\nSecond line <here> & -->\n\n"
	assert.Equal(t, want, openai.FormatSRT(transcript()))
}

func TestFormatVTT(t *testing.T) {
	want := "WEBVTT\n\n00:00:00.000 --> 00:00:01.235\nHello world.\n\n" +
		"01:02:03.000 --> 01:02:05.500\nSecond line &lt;here&gt; &amp; --&gt;\n\n"
	assert.Equal(t, want, openai.FormatVTT(transcript()))
}

func TestFormatWithoutSegments(t *testing.T) {
	tr := pipeline.Transcript{Text: "just text", Duration: 2}
	assert.Equal(t, "1\n00:00:00,000 --> 00:00:02,000\njust text\n\n", openai.FormatSRT(tr))
	assert.Equal(t, "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\njust text\n\n", openai.FormatVTT(tr))
	assert.Equal(t, "", openai.FormatSRT(pipeline.Transcript{}))
	assert.Equal(t, "WEBVTT\n\n", openai.FormatVTT(pipeline.Transcript{Text: "  "}))
}

func TestFormatOddTimes(t *testing.T) {
	tr := pipeline.Transcript{Segments: []pipeline.Segment{
		{Start: -5, End: -1, Text: "a"}, {Start: math.NaN(), End: math.NaN(), Text: "b"}, {Start: 2, End: 1, Text: "c"},
		{Start: 0, End: 0, Text: " "},
	}}
	assert.Equal(t, "1\n00:00:00,000 --> 00:00:00,000\na\n\n2\n00:00:00,000 --> 00:00:00,000\nb\n\n3\n00:00:02,000 --> 00:00:02,000\nc\n\n",
		openai.FormatSRT(tr))
}

func TestAudioTypesMatchSchema(t *testing.T) {
	spec := oapitest.Load(t)
	tr := transcript()
	v := openai.NewVerboseTranscription(tr)
	checks := []struct {
		schema string
		value  any
	}{
		{"CreateTranscriptionResponseJson", openai.NewTranscription(tr)},
		{"CreateTranscriptionResponseVerboseJson", v},
		{"CreateTranscriptionResponseVerboseJson", openai.NewVerboseTranscription(pipeline.Transcript{Text: "x", Duration: 1})},
		{"TranscriptTextDeltaEvent", openai.NewTranscriptTextDelta(" wonderful")},
		{"TranscriptTextDoneEvent", openai.NewTranscriptTextDone("all of it", pipeline.Usage{PromptTokens: 14, CompletionTokens: 31})},
		{"TranscriptTextDoneEvent", openai.NewTranscriptTextDone("all of it", pipeline.Usage{InputAudioSeconds: 2.5})},
		{"SpeechAudioDeltaEvent", openai.NewSpeechAudioDelta([]byte{0, 1, 2, 255})},
		{"SpeechAudioDoneEvent", openai.NewSpeechAudioDone(pipeline.Usage{InputCharacters: 12})},
		{"ErrorResponse", openai.NewErrorResponse(pipeline.ErrOverloaded)},
		{"ListModelsResponse", openai.NewModelList([]pipeline.ModelInfo{{ID: "qwen3", Created: 5}, {ID: "flite", OwnedBy: "cmu"}})},
		{"ListModelsResponse", openai.NewModelList(nil)},
	}
	for _, c := range checks {
		b, err := openai.Marshal(c.value)
		require.NoError(t, err)
		spec.Require(t, c.schema, b)
		// verbose_json's "task" is in OpenAI's own example but not its schema.
		spec.RequireStrict(t, c.schema, b, "task")
	}
}

func TestAudioEventValues(t *testing.T) {
	v := openai.NewVerboseTranscription(transcript())
	assert.Equal(t, "english", v.Language)
	require.Len(t, v.Segments, 2)
	assert.Equal(t, 0.0, v.Segments[1].AvgLogprob, "non-finite logprobs are zeroed")
	assert.Equal(t, []int{}, v.Segments[0].Tokens)
	require.Len(t, v.Words, 2)
	d := openai.NewSpeechAudioDelta([]byte("abc"))
	raw, err := base64.StdEncoding.DecodeString(d.Audio)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(raw))
	done := openai.NewSpeechAudioDone(pipeline.Usage{InputCharacters: 12, CompletionTokens: 3})
	assert.Equal(t, openai.SpeechUsage{InputTokens: 12, OutputTokens: 3, TotalTokens: 15}, done.Usage)
	td := openai.NewTranscriptTextDone("t", pipeline.Usage{PromptTokens: 2, CompletionTokens: 3})
	assert.Equal(t, 5, td.Usage.TotalTokens)
	// An engine that counts no tokens reports no token usage, not zeros.
	b, err := openai.Marshal(openai.NewTranscriptTextDone("t", pipeline.Usage{InputAudioSeconds: 2.5}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"transcript.text.done","text":"t"}`, string(b))
	done = openai.NewSpeechAudioDone(pipeline.Usage{InputCharacters: 12, OutputAudioSeconds: 1.5})
	assert.Equal(t, openai.SpeechUsage{InputTokens: 12, OutputTokens: 0, TotalTokens: 12}, done.Usage, "flite: characters in, no tokens out")
	b, err = openai.Marshal(openai.NewModelList(nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{"object":"list","data":[]}`, string(b))
}

func TestNewErrorMapping(t *testing.T) {
	cases := []struct {
		err        error
		typ, code  string
		msg, param string
	}{
		{&pipeline.Error{Kind: pipeline.KindInvalid, Message: "bad", Param: "x"}, "invalid_request_error", "", "bad", "x"},
		{&pipeline.Error{Kind: pipeline.KindNotFound, Message: "The model `m` does not exist.", Code: "model_not_found"}, "invalid_request_error", "model_not_found", "The model `m` does not exist.", ""},
		{&pipeline.Error{Kind: pipeline.KindUnauthorized, Message: "Incorrect API key provided."}, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.", ""},
		{&pipeline.Error{Kind: pipeline.KindOverloaded, Message: "busy"}, "requests", "rate_limit_exceeded", "busy", ""},
		{&pipeline.Error{Kind: pipeline.KindUnavailable, Message: "no model"}, "server_error", "service_unavailable", "no model", ""},
		{&pipeline.Error{Kind: pipeline.KindTimeout, Message: "slow"}, "server_error", "timeout", "slow", ""},
		{&pipeline.Error{Kind: pipeline.KindTooLarge, Message: "big", Code: "request_too_large"}, "invalid_request_error", "request_too_large", "big", ""},
		{assertErr("secret path /home/x"), "server_error", "", openai.InternalMessage, ""},
		{nil, "server_error", "", openai.InternalMessage, ""},
	}
	for _, c := range cases {
		e := openai.NewError(c.err)
		assert.Equal(t, c.typ, e.Type)
		assert.Equal(t, c.msg, e.Message)
		if c.code == "" {
			assert.Nil(t, e.Code)
		} else {
			require.NotNil(t, e.Code)
			assert.Equal(t, c.code, *e.Code)
		}
		if c.param == "" {
			assert.Nil(t, e.Param)
		} else {
			require.NotNil(t, e.Param)
			assert.Equal(t, c.param, *e.Param)
		}
	}
}

type assertErr string

func (e assertErr) Error() string { return string(e) }
