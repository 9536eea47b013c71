package audioapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/transport/audioapi"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

func FuzzDeltas(f *testing.F) {
	f.Add("a b c", "a x c d", "a x c d e")
	f.Add("", "hello", "hello world")
	f.Fuzz(func(t *testing.T, h1, h2, final string) {
		var d audioapi.Deltas
		sent := d.Hypothesis(h1) + d.Hypothesis(h2) + d.Final(final)
		// Append-only: the concatenation is what Sent reports, as many
		// words as the longest of the final and the stable prefix.
		if sent != d.Sent() {
			t.Fatalf("deltas %q but Sent %q", sent, d.Sent())
		}
		if n := len(strings.Fields(sent)); n < len(strings.Fields(final)) {
			t.Fatalf("%d words sent, final has %d", n, len(strings.Fields(final)))
		}
		if d.Consistent(final) && strings.Join(strings.Fields(final), " ") != sent {
			t.Fatalf("consistent with %q but spelled %q", final, sent)
		}
	})
}

// requireCover checks that pieces are contiguous and cover n samples.
func requireCover(t *testing.T, utts []audioapi.Utterance, n int) {
	t.Helper()
	require.NotEmpty(t, utts)
	assert.Equal(t, 0, utts[0].Start)
	for i, u := range utts {
		assert.Equal(t, u.End-u.Start, len(u.Audio), "piece %d", i)
		assert.True(t, u.Start <= u.SpeechStart && u.SpeechStart <= u.SpeechEnd && u.SpeechEnd <= u.End, "piece %d speech bounds", i)
		if i > 0 {
			assert.Equal(t, utts[i-1].End, u.Start, "pieces are contiguous")
		}
	}
	assert.Equal(t, n, utts[len(utts)-1].End)
}

func TestSplitUtterances(t *testing.T) {
	a := pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 4, 500, 600, 1000)}
	utts, err := audioapi.SplitUtterances(a, nil)
	require.NoError(t, err)
	require.Equal(t, 4, len(utts))
	requireCover(t, utts, len(a.Samples))
	for i, u := range utts {
		start, end := u.Seconds(16000)
		onset := 0.5 + float64(i)*1.6
		assert.InDelta(t, onset-0.3, start, 0.03)
		assert.InDelta(t, onset+0.6+0.5, end, 0.05)
	}

	// No speech found: the whole recording, in bounded pieces.
	quiet := pipeline.Audio{Rate: 16000, Samples: make([]float32, 16000*70)}
	utts, err = audioapi.SplitUtterances(quiet, &audioapi.SplitOptions{MaxUtterance: 30})
	require.NoError(t, err)
	require.Equal(t, 3, len(utts))
	requireCover(t, utts, len(quiet.Samples))

	// Long speech is cut into pieces of at most MaxUtterance, losing
	// nothing, even where the detector stops following a stationary tone.
	long := pipeline.Audio{Rate: 8000, Samples: append(rt.Silence(8000, 400), rt.Tone(8000, 5000, 300, 0.5)...)}
	utts, err = audioapi.SplitUtterances(long, &audioapi.SplitOptions{MaxUtterance: 2})
	require.NoError(t, err)
	requireCover(t, utts, len(long.Samples))
	for _, u := range utts {
		assert.LessOrEqual(t, u.End-u.Start, 2*8000)
	}

	_, err = audioapi.SplitUtterances(pipeline.Audio{Rate: 7, Samples: make([]float32, 10)}, nil)
	assert.Error(t, err)
}

func TestMerge(t *testing.T) {
	utts := []audioapi.Utterance{
		{Start: 8000, End: 40000, SpeechStart: 16000, SpeechEnd: 32000},
		{Start: 40000, End: 72000, SpeechStart: 48000, SpeechEnd: 64000},
		{Start: 72000, End: 104000, SpeechStart: 80000, SpeechEnd: 96000},
	}
	done := []pipeline.Transcript{
		{Text: " hello ", Language: "en", Words: []pipeline.Word{{Word: "hello", Start: 0.1, End: 0.5}}},
		{Text: ""},
		{Text: "world", Segments: []pipeline.Segment{{Start: 0.2, End: 0.8, Text: "world"}}},
	}
	m := audioapi.Merge(utts, done, 16000, 7)
	assert.Equal(t, "hello world", m.Text)
	assert.Equal(t, "en", m.Language)
	assert.Equal(t, 7.0, m.Duration)
	require.Len(t, m.Segments, 2)
	assert.Equal(t, pipeline.Segment{Start: 1, End: 2, Text: "hello"}, m.Segments[0])
	assert.InDelta(t, 4.5+0.2, m.Segments[1].Start, 1e-9, "engine times count from the piece's start")
	require.Len(t, m.Words, 1)
	assert.InDelta(t, 0.5+0.1, m.Words[0].Start, 1e-9)
}

type turnLog struct {
	events []string
	audio  int
}

func (l *turnLog) TurnStarted(ev audioapi.TurnEvent) { l.events = append(l.events, "start") }
func (l *turnLog) TurnAudio(s []float32)             { l.audio += len(s) }
func (l *turnLog) TurnStopped(ev audioapi.TurnEvent) {
	l.events = append(l.events, "stop")
}

func TestTurnsHandOnOnlyTurnAudio(t *testing.T) {
	turns, err := audioapi.NewTurns(16000, dsp.DefaultVADOptions())
	require.NoError(t, err)
	var l turnLog
	s := rt.Utterances(16000, 2, 800, 500, 1500)
	for i := 0; i < len(s); i += 320 { // 20 ms frames
		turns.Feed(s[i:min(i+320, len(s))], &l)
	}
	assert.Equal(t, []string{"start", "stop", "start", "stop"}, l.events)
	// Each turn: 300 ms prefix + 500 ms tone + 500 ms of closing silence.
	assert.InDelta(t, 2*16*1300, l.audio, 2*16*40, "the silence between turns is not handed on")

	var m turnLog
	turns2, _ := audioapi.NewTurns(16000, dsp.DefaultVADOptions())
	turns2.Feed(append(rt.Silence(16000, 300), rt.Tone(16000, 300, 440, 0.5)...), &m)
	assert.True(t, turns2.Speaking())
	assert.True(t, turns2.End(&m))
	assert.False(t, turns2.End(&m))
	assert.Equal(t, []string{"start", "stop"}, m.events)
}

func TestParseSpeechRequest(t *testing.T) {
	r, err := audioapi.ParseSpeechRequest([]byte(`{"model":"tts-1","input":"Hi.","voice":"nova"}`))
	require.NoError(t, err)
	assert.Equal(t, pipeline.FormatMP3, r.ResponseFormat, "OpenAI's default")
	assert.Equal(t, audioapi.StreamAudio, r.StreamFormat)
	assert.Equal(t, 1.0, r.Speed)

	r, err = audioapi.ParseSpeechRequest([]byte(`{"input":"Hi.","voice":{"id":"voice_abc"}}`))
	require.NoError(t, err)
	assert.Equal(t, "voice", r.CloneParam)
	err = audioapi.CheckVoice(r, []string{"alloy"}, "")
	assert.Equal(t, audioapi.CodeVoiceCloning, pipeline.AsError(err).Code)

	r, _ = audioapi.ParseSpeechRequest([]byte(`{"input":"Hi.","voice":"ALLOY"}`))
	assert.NoError(t, audioapi.CheckVoice(r, []string{"alloy"}, ""))
	r, _ = audioapi.ParseSpeechRequest([]byte(`{"input":"Hi."}`))
	assert.NoError(t, audioapi.CheckVoice(r, []string{"alloy"}, ""))
	e := pipeline.AsError(audioapi.CheckVoice(r, []string{"alloy"}, "/srv/ref.wav"))
	assert.Equal(t, audioapi.CodeVoiceCloning, e.Code, "TTS_REF_AUDIO makes the default voice a cloned one")
	for _, v := range []string{"ref:a", "clone:b", "voice_1", "/x/y.WAV", "me.mp3"} {
		assert.True(t, audioapi.CloneVoice(v), v)
	}
	assert.False(t, audioapi.CloneVoice("alloy"))
}

func form(t testing.TB, file []byte, fields ...string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if file != nil {
		w, err := mw.CreateFormFile("file", "a.wav")
		require.NoError(t, err)
		_, _ = w.Write(file)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.Boundary()
}

func TestParseTranscriptionMultipart(t *testing.T) {
	body, b := form(t, []byte("RIFF...."), "model", "whisper-1", "language", "en", "response_format", "verbose_json",
		"timestamp_granularities[]", "word", "temperature", "0.2", "stream", "false",
		"chunking_strategy", `{"type":"server_vad","silence_duration_ms":300}`, "unknown", "ignored")
	r, err := audioapi.ParseTranscriptionMultipart(bytes.NewReader(body), b, nil)
	require.NoError(t, err)
	assert.Equal(t, "whisper-1", r.Model)
	assert.True(t, r.Words)
	assert.False(t, r.Segments, "only word timestamps were asked for")
	assert.Equal(t, 0.2, r.Temperature)
	require.NotNil(t, r.Split)
	assert.Equal(t, 300, r.Split.SilenceDurationMs)

	body, b = form(t, make([]byte, 2000), "model", "m")
	_, err = audioapi.ParseTranscriptionMultipart(bytes.NewReader(body), b, &audioapi.Limits{MaxFileBytes: 1000})
	assert.Equal(t, pipeline.KindTooLarge, pipeline.AsError(err).Kind)

	body, b = form(t, nil, "model", "m")
	_, err = audioapi.ParseTranscriptionMultipart(bytes.NewReader(body), b, nil)
	assert.Equal(t, "file", pipeline.AsError(err).Param)

	_, err = audioapi.ParseTranscriptionMultipart(strings.NewReader("--x\r\nbroken"), "x", nil)
	assert.Error(t, err)
}

func TestParseTranscriptionJSON(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("RIFFdata"))
	r, err := audioapi.ParseTranscriptionJSON([]byte(`{"file":"`+b64+`","model":"x","language":"zh"}`), nil)
	require.NoError(t, err)
	assert.True(t, r.Seed)
	assert.Equal(t, "RIFFdata", string(r.File))
	r, err = audioapi.ParseTranscriptionJSON([]byte(`{"file":"data:audio/wav;base64,`+strings.TrimRight(b64, "=")+`"}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "RIFFdata", string(r.File))

	big := base64.StdEncoding.EncodeToString(make([]byte, 3000))
	_, err = audioapi.ParseTranscriptionJSON([]byte(`{"file":"`+big+`"}`), &audioapi.Limits{MaxFileBytes: 1000})
	assert.Equal(t, pipeline.KindTooLarge, pipeline.AsError(err).Kind)
	for _, body := range []string{`{}`, `{"file":""}`, `{"file":"***"}`, `[]`, `{"file":"AAAA","temperature":3}`} {
		_, err := audioapi.ParseTranscriptionJSON([]byte(body), nil)
		assert.Equal(t, pipeline.KindInvalid, pipeline.AsError(err).Kind, body)
	}
}

// FuzzTranscriptionRequest feeds arbitrary bodies to both parsers: they
// must never panic, every failure is a *pipeline.Error of kind invalid or
// too large, and an accepted request respects the limits.
func FuzzTranscriptionRequest(f *testing.F) {
	body, b := form(f, []byte("RIFF"), "model", "whisper-1", "timestamp_granularities[]", "segment")
	f.Add(body, b, true)
	f.Add([]byte(`{"file":"UklGRg==","model":"m","stream":true,"chunking_strategy":"auto"}`), "", false)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n"), "b", true)
	lim := &audioapi.Limits{MaxFileBytes: 4096, MaxFieldBytes: 256, MaxParts: 8}
	f.Fuzz(func(t *testing.T, body []byte, boundary string, multi bool) {
		var r *audioapi.TranscriptionRequest
		var err error
		if multi {
			r, err = audioapi.ParseTranscriptionMultipart(bytes.NewReader(body), boundary, lim)
		} else {
			r, err = audioapi.ParseTranscriptionJSON(body, lim)
		}
		if err != nil {
			var pe *pipeline.Error
			if !errors.As(err, &pe) || (pe.Kind != pipeline.KindInvalid && pe.Kind != pipeline.KindTooLarge) || pe.Message == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(r.File) == 0 || len(r.File) > 4096 || r.ResponseFormat == "" {
			t.Fatalf("accepted %+v", r)
		}
		if _, err := json.Marshal(r.Options()); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzSpeechRequest(f *testing.F) {
	f.Add([]byte(`{"model":"tts-1","input":"Hello.","voice":"alloy","response_format":"wav","speed":1.5}`))
	f.Add([]byte(`{"input":"x","voice":{"id":"voice_1"},"reference_audio":"abc"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := audioapi.ParseSpeechRequest(body)
		if err != nil {
			if pipeline.AsError(err).Kind != pipeline.KindInvalid {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if strings.TrimSpace(r.Input) == "" || !(r.Speed >= 0.25 && r.Speed <= 4) || r.ResponseFormat == "" || r.StreamFormat == "" {
			t.Fatalf("accepted %+v", r)
		}
	})
}
