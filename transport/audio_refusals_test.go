package transport_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// newEnglishEnv serves a scripted recognizer that, like pocketsphinx with
// Debian's model, knows only English.
func newEnglishEnv(t *testing.T, tweak func(*envOptions)) *env {
	return newAudioEnv(t, "", func(o *envOptions) {
		o.models["words-asr"] = &pipelinetest.Transcriber{Words: testWords, Langs: []string{"en"}}
		if tweak != nil {
			tweak(o)
		}
	})
}

// requireErr checks an OpenAI error body: its param and code, and that the
// message names what the client can send instead.
func requireErr(t *testing.T, body []byte, param, code, hint string) {
	t.Helper()
	eb := errBodyOf(t, body)
	require.NotNil(t, eb.Error.Param, "%s", body)
	require.NotNil(t, eb.Error.Code, "%s", body)
	assert.Equal(t, param, *eb.Error.Param)
	assert.Equal(t, code, *eb.Error.Code)
	assert.Equal(t, "invalid_request_error", eb.Error.Type)
	assert.Contains(t, eb.Error.Message, hint)
}

// A language the recognizer lacks is a 400 naming the language it knows —
// on the file endpoint (form and seed JSON, streamed or not) and for
// native transcription sessions; English in any spelling is recognized.
func TestTranscriptionLanguage(t *testing.T) {
	e := newEnglishEnv(t, nil)
	wav := wavOf(t, pipeline.Audio{Rate: 16000, Samples: rt.Utterances(16000, 1, 300, 300, 600)})
	for _, lang := range []string{"", "en", "EN", "en-US", "en_GB"} {
		status, body := readAll(t, postForm(t, e, wav, "model", "whisper-1", "language", lang, "response_format", "text"))
		require.Equal(t, http.StatusOK, status, "%q: %s", lang, body)
		assert.Equal(t, "alpha bravo charlie\n", string(body))
	}
	for _, c := range []struct{ lang, stream string }{{"fr", "false"}, {"zh", "true"}, {"de-DE", "false"}, {"english", "true"}} {
		status, body := readAll(t, postForm(t, e, wav, "model", "whisper-1", "language", c.lang, "stream", c.stream))
		require.Equal(t, http.StatusBadRequest, status, "%q: %s", c.lang, body)
		requireErr(t, body, "language", "unsupported_language", "'en'")
		assert.Contains(t, string(body), c.lang)
	}
	seed, _ := json.Marshal(map[string]any{"file": base64.StdEncoding.EncodeToString(wav), "language": "fr"})
	status, body := readAll(t, e.post("/v1/audio/transcriptions", string(seed)))
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	requireErr(t, body, "language", "unsupported_language", "'en'")

	status, body = readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"language":"fr"}}`))
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	requireErr(t, body, "request.language", "unsupported_language", "'en'")
	status, body = readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"language":"en-US"}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	deleteSession(t, e, body)
	e.idle()
}

// Realtime reports an unsupported transcription language as OpenAI reports
// invalid session parameters: an error event (invalid_request_error, the
// member as param, the client's event_id), the session unchanged and the
// connection open.
func TestRealtimeLanguage(t *testing.T) {
	e := newEnglishEnv(t, nil)
	for _, beta := range []bool{false, true} {
		var opts *websocket.DialOptions
		update := map[string]any{"type": "session.update", "event_id": "evt_lang", "session": map[string]any{"type": "transcription",
			"audio": map[string]any{"input": map[string]any{"transcription": map[string]any{"model": "whisper-1", "language": "fr"}}}}}
		param, updated := "session.audio.input.transcription.language", "session.updated"
		if beta {
			opts = &websocket.DialOptions{HTTPHeader: http.Header{"OpenAI-Beta": {"realtime=v1"}}}
			update = map[string]any{"type": "transcription_session.update", "event_id": "evt_lang", "session": map[string]any{
				"input_audio_transcription": map[string]any{"model": "whisper-1", "language": "fr"}}}
			param, updated = "session.input_audio_transcription.language", "transcription_session.updated"
		}
		c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), opts)
		c.Next()
		c.Send(update)
		ev := c.WaitFor("error")
		assert.Equal(t, "invalid_request_error", ev.Get("error", "type"))
		assert.Equal(t, "unsupported_language", ev.Get("error", "code"))
		assert.Equal(t, param, ev.Get("error", "param"))
		assert.Equal(t, "evt_lang", ev.Get("error", "event_id"))
		assert.Contains(t, ev.Get("error", "message"), "'en'")

		c.Append(rt.PCM16(rt.Utterances(24000, 1, 300, 300, 700)))
		done := c.WaitFor("conversation.item.input_audio_transcription.completed")
		assert.Equal(t, "alpha bravo charlie", done.Str("transcript"), "the connection goes on as before")
		assert.Zero(t, c.Count(updated), "the refused update was not applied")
		realtimeCheck(t, c, beta)
	}
}

// With TTS_REF_AUDIO set and no voice-cloning engine, a request that names
// no voice asks for the cloned voice and is refused with
// voice_cloning_unavailable wherever speech is made; naming a built-in
// voice works.
func TestTTSRefAudio(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) { o.opts.TTSRefAudio = "/srv/voices/me.wav" })
	status, body := readAll(t, e.post("/v1/audio/speech", `{"model":"tts-1","input":"Hi.","response_format":"wav"}`))
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	requireErr(t, body, "voice", "voice_cloning_unavailable", "built-in voices")
	status, body = readAll(t, e.post("/v1/audio/speech", speechBody("Hi.", map[string]any{"response_format": "wav"})))
	require.Equal(t, http.StatusOK, status, "%s", body)

	status, body = readAll(t, e.post("/v1/sessions", `{"type":"speech","request":{"input":"Hi."}}`))
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	requireErr(t, body, "request.voice", "voice_cloning_unavailable", "built-in voices")
	status, body = readAll(t, e.post("/v1/sessions", `{"type":"speech","request":{"input":"Hi.","voice":"alloy"}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	deleteSession(t, e, body)

	c := dialJSON(t, wsURL(e, "/ws/v1/tts"), nil)
	c.must()
	c.send(map[string]any{"event": "task_start", "audio_setting": map[string]any{"format": "pcm"}})
	m := c.must()
	assert.Equal(t, "error", m["event"])
	assert.Equal(t, "voice_cloning_unavailable", m["code"])
	c.send(map[string]any{"event": "task_start", "voice_setting": map[string]any{"voice_id": "alloy"}, "audio_setting": map[string]any{"format": "pcm"}})
	assert.Equal(t, "task_started", c.must()["event"])
	c.send(map[string]any{"event": "task_finish"})
	assert.Equal(t, "task_finished", c.must()["event"])

	// A realtime conversation that names no voice is refused the same way;
	// naming one per response works.
	rc := rt.Dial(t, wsURL(e, "/v1/realtime?model=gpt-realtime"), nil)
	rc.Next()
	rc.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
		"content": []map[string]any{{"type": "input_text", "text": "Say hello."}}}})
	rc.Send(map[string]any{"type": "response.create", "event_id": "evt_1"})
	ev := rc.WaitFor("error")
	assert.Equal(t, "voice_cloning_unavailable", ev.Get("error", "code"))
	assert.Equal(t, "session.audio.output.voice", ev.Get("error", "param"))
	assert.Equal(t, "evt_1", ev.Get("error", "event_id"))
	assert.Contains(t, ev.Get("error", "message"), "TTS_REF_AUDIO")
	rc.Send(map[string]any{"type": "response.create", "response": map[string]any{"audio": map[string]any{"output": map[string]any{"voice": "alloy"}}}})
	done := rc.WaitFor("response.done")
	assert.Equal(t, "completed", done.Get("response", "status"), "%s", done.Raw)
	assert.Positive(t, rc.Count("response.output_audio.delta"))
	realtimeCheck(t, rc, false)
	e.idle()
}

// deleteSession ends the native session whose creation answered body.
func deleteSession(t *testing.T, e *env, body []byte) {
	t.Helper()
	var sess struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &sess))
	req, err := http.NewRequest(http.MethodDelete, e.url+"/v1/sessions/"+sess.ID, nil)
	require.NoError(t, err)
	status, b := readAll(t, do(t, req))
	require.Less(t, status, 300, "%s", b)
}
