package transport_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/pipeline"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// jsonConn is a WebSocket client exchanging JSON objects.
type jsonConn struct {
	t *testing.T
	c *websocket.Conn
}

func dialJSON(t *testing.T, url string, opts *websocket.DialOptions) *jsonConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	require.NoError(t, err)
	c.SetReadLimit(16 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &jsonConn{t: t, c: c}
}

func (j *jsonConn) send(v any) {
	j.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(j.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(j.t, j.c.Write(ctx, websocket.MessageText, b))
}

func (j *jsonConn) sendBinary(b []byte) {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(j.t, j.c.Write(ctx, websocket.MessageBinary, b))
}

// next reads one object; err is the close error once the server closed.
func (j *jsonConn) next() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := j.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	require.NoError(j.t, json.Unmarshal(b, &m), "%s", b)
	return m, nil
}

func (j *jsonConn) must() map[string]any {
	j.t.Helper()
	m, err := j.next()
	require.NoError(j.t, err)
	return m
}

func TestTTSWebSocket(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := dialJSON(t, wsURL(e, "/ws/v1/tts"), nil)
	assert.Equal(t, "connected_success", c.must()["event"])

	c.send(map[string]any{"event": "task_continue", "text": "too early"})
	assert.Equal(t, "error", c.must()["event"])

	c.send(map[string]any{"event": "task_start", "voice_setting": map[string]any{"voice_id": "alloy", "speed": 1},
		"audio_setting": map[string]any{"format": "wav"}})
	assert.Equal(t, "task_started", c.must()["event"])

	c.send(map[string]any{"event": "task_continue", "text": "Hello there. How are you?"})
	c.send(map[string]any{"event": "task_continue", "text": "Fine.", "voice_id": "tone"})
	c.send(map[string]any{"event": "task_continue", "text": "Who?", "voice_id": "nobody"})
	c.send(map[string]any{"event": "task_finish"})

	var msgs [][]byte
	var cur []byte
	errs := 0
	for {
		m, err := c.next()
		if err != nil {
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
			break
		}
		switch m["event"] {
		case "task_progress":
			b, err := hex.DecodeString(m["data"].(map[string]any)["audio"].(string))
			require.NoError(t, err)
			cur = append(cur, b...)
			if m["is_final"] == true {
				msgs = append(msgs, cur)
				cur = nil
			}
		case "error":
			errs++
			assert.Contains(t, m["message"], "nobody")
		case "task_finished":
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	assert.Equal(t, 1, errs, "the unknown voice override is refused, the connection stays up")
	require.Len(t, msgs, 2, "one final per accepted message")
	for i, want := range []float64{0.24, 0.05} { // "Hello there." + "How are you?"; "Fine."
		a, err := audio.New().Decode(msgs[i], pipeline.DecodeOptions{})
		require.NoError(t, err, "message %d is a WAV of its own", i)
		assert.InDelta(t, want, a.Seconds(), 0.02)
	}
	e.idle()
}

func TestTTSWebSocketBadStart(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := dialJSON(t, wsURL(e, "/ws/v1/tts"), nil)
	c.must()
	for _, m := range []map[string]any{
		{"event": "task_start", "audio_setting": map[string]any{"format": "aac"}},
		{"event": "task_start", "voice_setting": map[string]any{"voice_id": "clone:me"}},
		{"event": "task_start", "voice_setting": map[string]any{"speed": 9}},
		{"event": "dance"},
	} {
		c.send(m)
		assert.Equal(t, "error", c.must()["event"], "%v", m)
	}
	c.send(map[string]any{"event": "task_start", "audio_setting": map[string]any{"format": "pcm"}})
	assert.Equal(t, "task_started", c.must()["event"])
	c.send(map[string]any{"event": "task_continue", "text": "Ok."})
	m := c.must()
	assert.Equal(t, "task_progress", m["event"])
}

// A "transcription" native session takes binary PCM over its WebSocket
// and streams native events; input_audio_buffer.end finishes it.
func TestNativeTranscriptionSession(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	status, body := readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"rate":16000,"language":"en"}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	var sess struct{ ID, Type string }
	require.NoError(t, json.Unmarshal(body, &sess))
	require.Equal(t, "transcription", sess.Type)

	c := dialJSON(t, wsURL(e, "/v1/sessions/"+sess.ID+"/ws"), nil)
	for _, f := range rt.Frames(rt.PCM16(rt.Utterances(16000, 2, 300, 400, 700)), 32*20) {
		c.sendBinary(f)
	}
	c.send(map[string]any{"type": "input_audio_buffer.end"})
	counts := map[string]int{}
	var lastSeq float64
	for {
		m, err := c.next()
		if err != nil {
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err))
			break
		}
		counts[m["type"].(string)]++
		assert.Greater(t, m["seq"].(float64), lastSeq)
		lastSeq = m["seq"].(float64)
		if m["type"] == "transcript.done" {
			assert.InDelta(t, 4, len(strings.Fields(m["text"].(string))), 1, "400 ms of tone")
		}
	}
	assert.Equal(t, 2, counts["speech.started"])
	assert.Equal(t, 2, counts["speech.stopped"])
	assert.Equal(t, 2, counts["transcript.done"])
	assert.Positive(t, counts["transcript.delta"])
	assert.Equal(t, 1, counts["done"])
}

// Manual commits, JSON append events, and a bad message answered with an
// error message while the connection stays up.
func TestNativeTranscriptionManual(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	status, body := readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"format":"g711_ulaw","turn_detection":null}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	var sess struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &sess))
	c := dialJSON(t, wsURL(e, "/v1/sessions/"+sess.ID+"/ws"), nil)
	c.send(map[string]any{"type": "nonsense"})
	assert.Equal(t, "error", c.must()["type"])
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(rt.MuLaw(rt.Tone(8000, 300, 440, 0.5)))})
	c.send(map[string]any{"type": "input_audio_buffer.commit"})
	for {
		m := c.must()
		if m["type"] == "transcript.done" {
			assert.Equal(t, "alpha bravo charlie", m["text"])
			break
		}
	}
	status, _ = readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"format":"mp3"}}`))
	assert.Equal(t, http.StatusBadRequest, status)
}

// A "speech" native session streams audio.chunk events over SSE.
func TestNativeSpeechSession(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	status, body := readAll(t, e.post("/v1/sessions", `{"type":"speech","request":{"input":"One. Two, three.","voice":"alloy"}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	var sess struct {
		ID        string `json:"id"`
		EventsURL string `json:"events_url"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	resp, err := http.Get(e.url + sess.EventsURL)
	require.NoError(t, err)
	frames := readFrames(t, resp.Body)
	resp.Body.Close()
	var pcm []byte
	var types []string
	for _, f := range frames {
		if f.Data == "" {
			continue
		}
		types = append(types, f.Event)
		if f.Event == "audio.chunk" {
			var m struct {
				Audio string
				Rate  int
			}
			require.NoError(t, json.Unmarshal([]byte(f.Data), &m))
			b, err := base64.StdEncoding.DecodeString(m.Audio)
			require.NoError(t, err)
			assert.Equal(t, 16000, m.Rate)
			pcm = append(pcm, b...)
		}
	}
	assert.Equal(t, []string{"audio.chunk", "audio.chunk", "done"}, types)
	assert.Equal(t, (len("One.")+len("Two, three."))*160*2, len(pcm))

	// keep_open: text arrives over the WebSocket, a flush marks it, end ends it.
	status, body = readAll(t, e.post("/v1/sessions", `{"type":"speech","request":{"keep_open":true}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, json.Unmarshal(body, &sess))
	c := dialJSON(t, wsURL(e, "/v1/sessions/"+sess.ID+"/ws"), nil)
	c.send(map[string]any{"type": "input_text", "text": "Streaming text"})
	c.send(map[string]any{"type": "flush", "voice": "tone"})
	c.send(map[string]any{"type": "input_text", "text": "More."})
	c.send(map[string]any{"type": "end"})
	var got []string
	for {
		m, err := c.next()
		if err != nil {
			break
		}
		got = append(got, m["type"].(string))
	}
	assert.Equal(t, []string{"audio.chunk", "audio.mark", "audio.chunk", "done"}, got)
}
