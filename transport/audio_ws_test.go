package transport_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// writeOversize sends a text message of n bytes and returns the close
// error the next read sees.
func (j *jsonConn) writeOversize(n int) error {
	j.t.Helper()
	msg := append([]byte(`{"event":"task_continue","type":"input_text","text":"`), bytes.Repeat([]byte("a"), n)...)
	msg = append(msg, '"', '}')
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = j.c.Write(ctx, websocket.MessageText, msg) // the server may close before it has read it all
	for {
		if _, err := j.next(); err != nil {
			return err
		}
	}
}

// A message over /ws/v1/tts's 64 KiB limit closes the connection with
// 1009 (message too big); one just under it is an ordinary message, and
// the server goes on serving.
func TestTTSWebSocketOversizeMessage(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := dialJSON(t, wsURL(e, "/ws/v1/tts"), nil)
	c.must()
	c.send(map[string]any{"event": "task_start", "audio_setting": map[string]any{"format": "pcm"}})
	require.Equal(t, "task_started", c.must()["event"])
	// 60 KiB of text is within the message limit but over the 4096
	// characters one message may speak: an error, the connection stays.
	c.send(map[string]any{"event": "task_continue", "text": strings.Repeat("a", 60<<10)})
	m := c.must()
	assert.Equal(t, "error", m["event"])
	err := c.writeOversize(64 << 10)
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)

	c = dialJSON(t, wsURL(e, "/ws/v1/tts"), nil)
	c.must()
	c.send(map[string]any{"event": "task_start", "audio_setting": map[string]any{"format": "pcm"}})
	require.Equal(t, "task_started", c.must()["event"])
	c.send(map[string]any{"event": "task_continue", "text": "Still here."})
	assert.Equal(t, "task_progress", c.must()["event"])
	c.send(map[string]any{"event": "task_finish"})
	for {
		if _, err := c.next(); err != nil {
			break
		}
	}
	e.idle()
}

// The native session WebSocket bounds client messages per session type
// (1 MiB for transcription audio, 64 KiB otherwise): a larger one closes
// that connection with 1009, and the session itself goes on — a new
// connection can still feed it.
func TestNativeSessionOversizeMessage(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	for _, c := range []struct {
		request string
		limit   int
	}{
		{`{"type":"speech","request":{"keep_open":true}}`, 64 << 10},
		{`{"type":"transcription","request":{"rate":16000,"turn_detection":null}}`, 1 << 20},
	} {
		status, body := readAll(t, e.post("/v1/sessions", c.request))
		require.Equal(t, http.StatusOK, status, "%s", body)
		var sess struct{ ID, Type string }
		require.NoError(t, json.Unmarshal(body, &sess))
		url := wsURL(e, "/v1/sessions/"+sess.ID+"/ws")
		conn := dialJSON(t, url, nil)
		err := conn.writeOversize(c.limit)
		assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%s: %v", sess.Type, err)

		conn = dialJSON(t, url, nil)
		if sess.Type == "speech" {
			conn.send(map[string]any{"type": "input_text", "text": "Fine."})
			conn.send(map[string]any{"type": "end"})
		} else {
			conn.sendBinary(rt.PCM16(rt.Tone(16000, 300, 440, 0.5)))
			conn.send(map[string]any{"type": "input_audio_buffer.end"})
		}
		var types []string
		for {
			m, err := conn.next()
			if err != nil {
				assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
				break
			}
			types = append(types, m["type"].(string))
		}
		assert.Equal(t, "done", types[len(types)-1], "%s: %v", sess.Type, types)
	}
	e.idle()
}

// A native transcription session streams its events to an SSE subscriber
// while a WebSocket client feeds it audio; the SSE stream ends after done.
func TestNativeTranscriptionSSE(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	status, body := readAll(t, e.post("/v1/sessions", `{"type":"transcription","request":{"rate":16000}}`))
	require.Equal(t, http.StatusOK, status, "%s", body)
	var sess struct {
		ID        string `json:"id"`
		EventsURL string `json:"events_url"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	resp, err := http.Get(e.url + sess.EventsURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	frames := make(chan []sseFrame, 1)
	go func() { frames <- readFrames(t, resp.Body) }()

	c := dialJSON(t, wsURL(e, "/v1/sessions/"+sess.ID+"/ws"), nil)
	for _, f := range rt.Frames(rt.PCM16(rt.Utterances(16000, 2, 300, 400, 700)), 32*20) {
		c.sendBinary(f)
	}
	c.send(map[string]any{"type": "input_audio_buffer.end"})

	var got []sseFrame
	select {
	case got = <-frames:
	case <-time.After(wait):
		t.Fatal("the SSE stream did not end after done")
	}
	counts := map[string]int{}
	var texts []string
	lastID := 0
	for _, f := range got {
		if f.Data == "" {
			continue
		}
		counts[f.Event]++
		id, err := strconv.Atoi(f.ID)
		require.NoError(t, err, "SSE id %q", f.ID)
		assert.Greater(t, id, lastID, "ids increase")
		lastID = id
		if f.Event == "transcript.done" {
			var m struct{ Text string }
			require.NoError(t, json.Unmarshal([]byte(f.Data), &m))
			texts = append(texts, m.Text)
		}
	}
	assert.Equal(t, 2, counts["speech.started"])
	assert.Equal(t, 2, counts["speech.stopped"])
	assert.Positive(t, counts["transcript.delta"])
	require.Len(t, texts, 2)
	checkWords(t, strings.Join(texts, " "), 8, 10) // four or five words of each 400 ms tone
	assert.Equal(t, 1, counts["done"])
	assert.Equal(t, "done", got[len(got)-1].Event)
	e.idle()
}
