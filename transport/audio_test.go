package transport_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// checkWords checks that text is the scripted recognizer's words in
// order, between lo and hi of them.
func checkWords(t *testing.T, text string, lo, hi int) {
	t.Helper()
	words := strings.Fields(text)
	assert.GreaterOrEqual(t, len(words), lo, "%q", text)
	assert.LessOrEqual(t, len(words), hi, "%q", text)
	for i, w := range words {
		require.Equal(t, testWords[i%len(testWords)], w, "word %d of %q", i, text)
	}
}

// maybeSpec returns the OpenAPI spec when it is on disk, else nil (the
// test still runs, without schema checks).
func maybeSpec(t *testing.T) *oapitest.Spec {
	if p, err := oapitest.Path(); err == nil {
		if _, err := os.Stat(p); err == nil {
			return oapitest.Load(t)
		}
	}
	return nil
}

// wavOf encodes samples as a 16-bit WAV file.
func wavOf(t *testing.T, a pipeline.Audio) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, speechtest.WriteWAV(&buf, a))
	return buf.Bytes()
}

// threeUtterances is 16 kHz audio of three 500 ms tones (five scripted
// words each) separated by 900 ms of silence.
func threeUtterances() pipeline.Audio {
	return pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 3, 400, 500, 900)}
}

// multipartForm builds an OpenAI transcription form.
func multipartForm(t *testing.T, file []byte, fields ...string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if file != nil {
		fw, err := mw.CreateFormFile("file", "speech.wav")
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, mw.WriteField(fields[i], fields[i+1]))
	}
	require.NoError(t, mw.Close())
	return &buf, mw.FormDataContentType()
}

func postForm(t *testing.T, e *env, file []byte, fields ...string) *http.Response {
	t.Helper()
	body, ct := multipartForm(t, file, fields...)
	resp, err := http.Post(e.url+"/v1/audio/transcriptions", ct, body)
	require.NoError(t, err)
	return resp
}

func TestTranscriptionFormats(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	spec := maybeSpec(t)
	wav := wavOf(t, threeUtterances())

	status, body := readAll(t, postForm(t, e, wav, "model", "whisper-1"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	if spec != nil {
		spec.RequireStrict(t, "CreateTranscriptionResponseJson", body)
	}
	var js struct {
		Text  string
		Usage struct {
			Type    string
			Seconds float64
		}
	}
	require.NoError(t, json.Unmarshal(body, &js))
	want := js.Text
	checkWords(t, want, 15, 18) // five or six 100 ms chunks of each 500 ms tone
	assert.Equal(t, "duration", js.Usage.Type)
	assert.InDelta(t, threeUtterances().Seconds(), js.Usage.Seconds, 0.01)

	status, body = readAll(t, postForm(t, e, wav, "model", "whisper-1", "response_format", "verbose_json",
		"timestamp_granularities[]", "segment", "timestamp_granularities[]", "word", "language", "en"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	if spec != nil {
		spec.Require(t, "CreateTranscriptionResponseVerboseJson", body)
	}
	var vj struct {
		Text     string
		Language string
		Duration float64
		Segments []struct {
			Start, End float64
			Text       string
		}
	}
	require.NoError(t, json.Unmarshal(body, &vj))
	assert.Equal(t, want, vj.Text)
	assert.Equal(t, "english", vj.Language)
	require.Len(t, vj.Segments, 3, "one segment per utterance")
	for i, s := range vj.Segments {
		onset := 0.4 + float64(i)*1.4
		assert.InDelta(t, onset-0.3, s.Start, 0.05, "segment %d starts at its prefix padding", i)
		assert.InDelta(t, onset+0.5+0.5, s.End, 0.08, "segment %d ends after the silence that ended it", i)
	}

	status, body = readAll(t, postForm(t, e, wav, "model", "whisper-1", "response_format", "text"))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, want+"\n", string(body))

	resp := postForm(t, e, wav, "model", "whisper-1", "response_format", "srt")
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	status, body = readAll(t, resp)
	require.Equal(t, http.StatusOK, status)
	assert.True(t, strings.HasPrefix(string(body), "1\n00:00:00,"), "%s", body)
	assert.Equal(t, 3, strings.Count(string(body), " --> "))

	resp = postForm(t, e, wav, "model", "whisper-1", "response_format", "vtt")
	assert.Equal(t, "text/vtt; charset=utf-8", resp.Header.Get("Content-Type"))
	status, body = readAll(t, resp)
	require.Equal(t, http.StatusOK, status)
	assert.True(t, strings.HasPrefix(string(body), "WEBVTT\n\n"))
	e.idle()
}

// The seed's JSON body with a base64 file answers {text, language, duration}.
func TestTranscriptionSeedJSON(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	wav := wavOf(t, pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 1, 300, 300, 600)})
	body, _ := json.Marshal(map[string]any{"file": base64.StdEncoding.EncodeToString(wav), "model": "paraformer", "language": "en"})
	status, b := readAll(t, e.post("/v1/audio/transcriptions", string(body)))
	require.Equal(t, http.StatusOK, status, "%s", b)
	var got struct {
		Text     string
		Language string
		Duration float64
	}
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "alpha bravo charlie", got.Text)
	assert.Equal(t, "en", got.Language)
	assert.InDelta(t, 1.2, got.Duration, 0.01)
}

// Every container the codecs can write goes in.
func TestTranscriptionContainers(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	src := pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 1, 300, 400, 700)}
	for _, f := range audio.EncodeFormats() {
		if f == "pcm" {
			continue // headerless: not an upload format
		}
		t.Run(f, func(t *testing.T) {
			var buf bytes.Buffer
			enc, err := audio.New().NewEncoder(&buf, pipeline.AudioFormat(f), 48000)
			require.NoError(t, err)
			require.NoError(t, enc.Write(src))
			require.NoError(t, enc.Close())
			status, body := readAll(t, postForm(t, e, buf.Bytes(), "model", "whisper-1", "response_format", "text"))
			require.Equal(t, http.StatusOK, status, "%s", body)
			words := strings.Fields(string(body))
			assert.InDelta(t, 4, len(words), 1, "%q", body)
		})
	}
}

func TestTranscriptionStream(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	spec := maybeSpec(t)
	resp := postForm(t, e, wavOf(t, threeUtterances()), "model", "gpt-4o-transcribe", "stream", "true")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	frames := readFrames(t, resp.Body)
	resp.Body.Close()
	var deltas strings.Builder
	var n int
	var done map[string]any
	for _, f := range frames {
		if f.Data == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(f.Data), &m), "%s", f.Data)
		switch m["type"] {
		case "transcript.text.delta":
			require.Nil(t, done, "delta after done")
			if spec != nil {
				spec.RequireStrict(t, "TranscriptTextDeltaEvent", f.Data)
			}
			deltas.WriteString(m["delta"].(string))
			n++
		case "transcript.text.done":
			if spec != nil {
				spec.RequireStrict(t, "TranscriptTextDoneEvent", f.Data)
			}
			done = m
		default:
			t.Fatalf("unexpected frame %s", f.Data)
		}
	}
	require.NotNil(t, done)
	assert.NotContains(t, done, "usage", "the scripted recognizer counts no tokens, so it reports no token usage")
	// Faster than real time, partial hypotheses may coalesce (latest wins),
	// but every utterance sends at least its final extension.
	assert.GreaterOrEqual(t, n, 3)
	assert.Equal(t, done["text"], deltas.String(), "deltas spell the final text")
	checkWords(t, deltas.String(), 15, 18)
	e.idle()
}

// A long file reaches the recognizer as separate utterances.
func TestTranscriptionLongFileIsSplit(t *testing.T) {
	rec := &countingASR{Transcriber: pipelinetest.Transcriber{Words: testWords}}
	e := newAudioEnv(t, "", func(o *envOptions) {
		o.models = map[string]pipeline.Model{"words-asr": rec}
	})
	var s []float32
	for i := 0; i < 20; i++ { // 20 utterances over ~40 s
		s = append(s, rt.Utterances(16000, 1, 500, 800, 700)...)
	}
	status, body := readAll(t, postForm(t, e, wavOf(t, pipeline.Audio{Rate: 16000, Samples: s}), "model", "whisper-1",
		"response_format", "verbose_json"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	var vj struct{ Segments []any }
	require.NoError(t, json.Unmarshal(body, &vj))
	assert.Len(t, vj.Segments, 20)
	assert.Equal(t, int64(20), rec.utterances.Load())
}

func TestTranscriptionBadInput(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) { o.opts.MaxUploadBytes = 256 << 10 })
	good := wavOf(t, pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 1, 300, 300, 600)})
	absurd := bytes.Clone(good)
	binary.LittleEndian.PutUint32(absurd[24:], 7) // 7 Hz
	binary.LittleEndian.PutUint32(absurd[28:], 14)
	huge := make([]byte, 300<<10)
	copy(huge, good)
	for name, c := range map[string]struct {
		file   []byte
		fields []string
		status int
		param  string
	}{
		"not audio":      {[]byte("this is plainly not audio at all"), nil, 400, "file"},
		"truncated":      {good[:30], nil, 400, "file"},
		"zero length":    {[]byte{}, nil, 400, "file"},
		"no file":        {nil, nil, 400, "file"},
		"absurd rate":    {absurd, nil, 400, "file"},
		"oversized":      {huge, nil, 413, "file"},
		"bad format":     {good, []string{"response_format", "mp4"}, 400, "response_format"},
		"bad stream":     {good, []string{"stream", "maybe"}, 400, "stream"},
		"bad chunking":   {good, []string{"chunking_strategy", `{"type":"x"}`}, 400, "chunking_strategy"},
		"bad timestamps": {good, []string{"timestamp_granularities[]", "char"}, 400, "timestamp_granularities"},
	} {
		t.Run(name, func(t *testing.T) {
			fields := append([]string{"model", "whisper-1"}, c.fields...)
			status, body := readAll(t, postForm(t, e, c.file, fields...))
			require.Equal(t, c.status, status, "%s", body)
			eb := errBodyOf(t, body)
			if c.param != "" {
				require.NotNil(t, eb.Error.Param, "%s", body)
				assert.Equal(t, c.param, *eb.Error.Param)
			}
		})
	}
	// Not multipart, not JSON; JSON with bad base64; body over the route limit.
	resp, err := http.Post(e.url+"/v1/audio/transcriptions", "text/plain", strings.NewReader("hi"))
	require.NoError(t, err)
	status, _ := readAll(t, resp)
	assert.Equal(t, http.StatusBadRequest, status)
	status, body := readAll(t, e.post("/v1/audio/transcriptions", `{"file":"@@@"}`))
	assert.Equal(t, http.StatusBadRequest, status, "%s", body)
	status, _ = readAll(t, e.post("/v1/audio/transcriptions", `{"file":"`+strings.Repeat("A", 2<<20)+`"}`))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)

	// The server is unharmed.
	status, body = readAll(t, postForm(t, e, good, "model", "whisper-1"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	e.idle()
}

func TestTranscriptionNoRecognizer(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) { o.load = map[pipeline.Category]string{pipeline.LLMSlot: "scripted"} })
	status, body := readAll(t, postForm(t, e, wavOf(t, threeUtterances()), "model", "whisper-1"))
	assert.Equal(t, http.StatusServiceUnavailable, status, "%s", body)
}

// countingASR counts the utterances its streams end.
type countingASR struct {
	pipelinetest.Transcriber
	utterances atomic.Int64
}

func (c *countingASR) NewStream(o pipeline.TranscribeOptions) (pipeline.TranscribeStream, error) {
	s, err := c.Transcriber.NewStream(o)
	return &countingStream{TranscribeStream: s, n: &c.utterances}, err
}

type countingStream struct {
	pipeline.TranscribeStream
	n *atomic.Int64
}

func (s *countingStream) EndUtterance() (pipeline.Transcript, error) {
	s.n.Add(1)
	return s.TranscribeStream.EndUtterance()
}

// slowTTS is the scripted synthesizer taking delay per clause, standing in
// for real compute.
type slowTTS struct {
	pipelinetest.Synthesizer
	delay time.Duration
}

func (s slowTTS) Synthesize(text string, o pipeline.SpeechOptions) (pipeline.Audio, error) {
	time.Sleep(s.delay)
	return s.Synthesizer.Synthesize(text, o)
}

func speechBody(input string, extra map[string]any) string {
	m := map[string]any{"model": "tts-1", "input": input, "voice": "alloy"}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// decodeSpeech decodes a response body of format f back to audio.
func decodeSpeech(t *testing.T, f string, body []byte) pipeline.Audio {
	t.Helper()
	if f == "pcm" {
		s := make([]float32, len(body)/2)
		for i := range s {
			s[i] = float32(int16(binary.LittleEndian.Uint16(body[2*i:]))) / 32768
		}
		return pipeline.Audio{Rate: 24000, Samples: s}
	}
	a, err := audio.New().Decode(body, pipeline.DecodeOptions{})
	require.NoError(t, err, "decode %s", f)
	return a
}

// The scripted synthesizer speaks 10 ms per character of each clause.
const speechInput = "Hello there. This is a test of streamed speech, clause by clause."

func spokenSeconds(input string) float64 {
	n := 0
	for _, c := range []string{"Hello there.", "This is a test of streamed speech,", "clause by clause."} {
		n += len(c)
	}
	return float64(n) / 100
}

func TestSpeechFormats(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	types := map[string]string{"wav": "audio/wav", "pcm": "audio/pcm", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg"}
	for _, f := range audio.EncodeFormats() {
		t.Run(f, func(t *testing.T) {
			resp := e.post("/v1/audio/speech", speechBody(speechInput, map[string]any{"response_format": f, "speed": 1.0,
				"instructions": "Speak cheerfully."}))
			assert.Equal(t, types[f], resp.Header.Get("Content-Type"))
			assert.Empty(t, resp.Header.Get("Content-Length"), "streamed, so chunked")
			status, body := readAll(t, resp)
			require.Equal(t, http.StatusOK, status, "%s", body)
			a := decodeSpeech(t, f, body)
			assert.InDelta(t, spokenSeconds(speechInput), a.Seconds(), 0.08, "%s decodes to the right length", f)
		})
	}
	// Without LAME, mp3 (the default format) is refused clearly, before any work.
	if !contains(audio.EncodeFormats(), "mp3") {
		status, body := readAll(t, e.post("/v1/audio/speech", speechBody("Hi.", nil)))
		assert.NotEqual(t, http.StatusOK, status, "%s", body)
		assert.Contains(t, string(body), "mp3")
	}
	e.idle()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSpeechSSE(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	spec := maybeSpec(t)
	resp := e.post("/v1/audio/speech", speechBody(speechInput, map[string]any{"response_format": "pcm", "stream_format": "sse"}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	frames := readFrames(t, resp.Body)
	resp.Body.Close()
	var pcm []byte
	deltas, dones := 0, 0
	for _, f := range frames {
		if f.Data == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(f.Data), &m))
		switch m["type"] {
		case "speech.audio.delta":
			require.Zero(t, dones)
			if spec != nil {
				spec.RequireStrict(t, "SpeechAudioDeltaEvent", f.Data)
			}
			b, err := base64.StdEncoding.DecodeString(m["audio"].(string))
			require.NoError(t, err)
			pcm = append(pcm, b...)
			deltas++
		case "speech.audio.done":
			if spec != nil {
				spec.RequireStrict(t, "SpeechAudioDoneEvent", f.Data)
			}
			u := m["usage"].(map[string]any)
			assert.Positive(t, u["input_tokens"])
			dones++
		default:
			t.Fatalf("unexpected frame %s", f.Data)
		}
	}
	assert.Equal(t, 1, dones)
	assert.GreaterOrEqual(t, deltas, 3, "one delta per clause at least")
	assert.InDelta(t, spokenSeconds(speechInput), decodeSpeech(t, "pcm", pcm).Seconds(), 0.05)
}

// A streamed WAV is playable while it arrives: with a slow synthesizer and
// a long input, the first bytes (a valid WAV header and audio) come long
// before the whole input is spoken.
func TestSpeechStreamsWhileSynthesizing(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) {
		o.models["slow-tts"] = slowTTS{delay: 40 * time.Millisecond}
		o.load[pipeline.TTSSlot] = "slow-tts"
	})
	input := strings.Repeat("This sentence is spoken on its own. ", 25)
	start := time.Now()
	resp := e.post("/v1/audio/speech", speechBody(input, map[string]any{"response_format": "wav"}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	br := bufio.NewReader(resp.Body)
	head := make([]byte, 44+3200)
	_, err := io.ReadFull(br, head)
	require.NoError(t, err)
	first := time.Since(start)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	resp.Body.Close()
	total := time.Since(start)
	t.Logf("wav: first %d bytes after %v, all %d bytes after %v (25 clauses at 40 ms each)", len(head), first, len(head)+len(rest), total)
	assert.Less(t, first, total/3, "first bytes must arrive long before the end")
	// The prefix alone is a playable WAV (sizes 0xFFFFFFFF, as OpenAI streams it).
	assert.Equal(t, "RIFF", string(head[:4]))
	assert.Equal(t, uint32(0xFFFFFFFF), binary.LittleEndian.Uint32(head[4:]))
	a, err := audio.New().Decode(head, pipeline.DecodeOptions{})
	require.NoError(t, err, "a prefix of the stream decodes")
	assert.InDelta(t, 3200.0/2/24000, a.Seconds(), 0.01)
	full, err := audio.New().Decode(append(head, rest...), pipeline.DecodeOptions{})
	require.NoError(t, err)
	assert.InDelta(t, 25*35.0/100, full.Seconds(), 0.1, "25 sentences of 35 characters, 10 ms each")
}

func TestSpeechBadInput(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	for name, c := range map[string]struct {
		body, param, code string
	}{
		"aac":             {speechBody("Hi.", map[string]any{"response_format": "aac"}), "response_format", "unsupported_format"},
		"unknown format":  {speechBody("Hi.", map[string]any{"response_format": "ogg"}), "response_format", ""},
		"unknown voice":   {speechBody("Hi.", map[string]any{"voice": "nobody"}), "voice", "invalid_value"},
		"reference voice": {speechBody("Hi.", map[string]any{"voice": "ref:/tmp/me.wav"}), "voice", "voice_cloning_unavailable"},
		"custom voice":    {speechBody("Hi.", map[string]any{"voice": map[string]any{"id": "voice_123"}}), "voice", "voice_cloning_unavailable"},
		"reference audio": {speechBody("Hi.", map[string]any{"reference_audio": "UklGRg=="}), "reference_audio", "voice_cloning_unavailable"},
		"too long":        {speechBody(strings.Repeat("a", 4097), nil), "input", "string_above_max_length"},
		"empty":           {speechBody("  ", nil), "input", ""},
		"no input":        {`{"model":"tts-1","voice":"alloy"}`, "input", "missing_required_parameter"},
		"speed":           {speechBody("Hi.", map[string]any{"speed": 5}), "speed", ""},
		"stream format":   {speechBody("Hi.", map[string]any{"stream_format": "chunks"}), "stream_format", ""},
		"not json":        {`{"input": `, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := readAll(t, e.post("/v1/audio/speech", c.body))
			require.Equal(t, http.StatusBadRequest, status, "%s", body)
			eb := errBodyOf(t, body)
			if c.param != "" {
				require.NotNil(t, eb.Error.Param, "%s", body)
				assert.Equal(t, c.param, *eb.Error.Param)
			}
			if c.code != "" {
				require.NotNil(t, eb.Error.Code, "%s", body)
				assert.Equal(t, c.code, *eb.Error.Code)
			}
			if strings.Contains(name, "voice") || strings.Contains(name, "reference") {
				assert.Contains(t, eb.Error.Message, "oice")
			}
		})
	}
	status, body := readAll(t, e.post("/v1/audio/speech", speechBody("Still fine.", map[string]any{"response_format": "wav"})))
	require.Equal(t, http.StatusOK, status, "%s", body)
	e.idle()
}

func TestSpeechNoSynthesizer(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) { o.load = map[pipeline.Category]string{pipeline.LLMSlot: "scripted"} })
	status, body := readAll(t, e.post("/v1/audio/speech", speechBody("Hi.", map[string]any{"response_format": "wav"})))
	assert.Equal(t, http.StatusServiceUnavailable, status, "%s", body)
}

func TestAudioRoutesNeedKey(t *testing.T) {
	e := newAudioEnv(t, "sk-k", nil)
	status, _ := readAll(t, e.post("/v1/audio/speech", speechBody("Hi.", nil)))
	assert.Equal(t, http.StatusUnauthorized, status)
	req, err := http.NewRequest(http.MethodPost, e.url+"/v1/audio/speech", strings.NewReader(speechBody("Hi.", map[string]any{"response_format": "wav"})))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-k")
	status, _ = readAll(t, do(t, req))
	assert.Equal(t, http.StatusOK, status)
}
