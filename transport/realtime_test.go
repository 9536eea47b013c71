package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

var testWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}

// newAudioEnv starts a server with the scripted recognizer ("words-asr",
// every loud 100 ms is the next of testWords) and synthesizer loaded, the
// real codecs, and the given API key.
func newAudioEnv(t *testing.T, key string, tweak func(*envOptions)) *env {
	o := envOptions{
		models: map[string]pipeline.Model{"words-asr": &pipelinetest.Transcriber{Words: testWords}},
		load: map[pipeline.Category]string{pipeline.LLMSlot: "scripted", pipeline.ASRSlot: "words-asr",
			pipeline.TTSSlot: "scripted-tts"},
		opts: &transport.Options{APIKey: key},
		deps: func(d *transport.Deps) { d.Codecs = audio.New() },
	}
	if tweak != nil {
		tweak(&o)
	}
	return newEnv(t, o)
}

func wsURL(e *env, pathAndQuery string) string {
	return "ws" + strings.TrimPrefix(e.url, "http") + pathAndQuery
}

func bearer(key string) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + key}}}
}

// realtimeCheck validates every event read on c against the OpenAPI
// schemas of its dialect and checks event ids are unique.
func realtimeCheck(t *testing.T, c *rt.Conn, beta bool) {
	t.Helper()
	var spec *oapitest.Spec
	if p, err := oapitest.Path(); err == nil {
		if _, err := os.Stat(p); err == nil {
			spec = oapitest.Load(t)
		}
	}
	ids := map[string]bool{}
	for _, ev := range c.Events {
		id := ev.Str("event_id")
		require.NotEmpty(t, id, "%s has no event_id", ev.Raw)
		require.False(t, ids[id], "duplicate event_id in %s", ev.Raw)
		ids[id] = true
		name, inst := rt.SchemaInstance(ev.Raw, beta)
		require.NotEmpty(t, name, "unexpected event %s", ev.Raw)
		if spec != nil && !rt.OtherRate(ev.Raw) {
			spec.Require(t, name, inst)
		}
	}
}

// sendPaced sends pcm in frames of frameMs, paced like a microphone (one
// frame per frameMs of wall time, on a ticker); it returns when each
// frame was sent.
func sendPaced(c *rt.Conn, pcm []byte, bytesPerMs, frameMs int) []time.Time {
	tick := time.NewTicker(time.Duration(frameMs) * time.Millisecond)
	defer tick.Stop()
	var sent []time.Time
	for _, f := range rt.Frames(pcm, bytesPerMs*frameMs) {
		<-tick.C
		c.Append(f)
		sent = append(sent, time.Now())
	}
	return sent
}

// checkTurns verifies the event stream of n server_vad turns: one
// speech_started, speech_stopped, committed and completed per item, a
// partial delta of each item before its speech_stopped, deltas that spell
// the final transcript, and unique item ids.
func checkTurns(t *testing.T, c *rt.Conn, n int, itemEvent string) {
	t.Helper()
	type item struct {
		stoppedAt, deltasBeforeStop int
		deltas, final               string
		completed, committed, added int
	}
	items := map[string]*item{}
	var order []string
	get := func(id string) *item {
		if items[id] == nil {
			items[id] = &item{stoppedAt: -1}
			order = append(order, id)
		}
		return items[id]
	}
	for i, ev := range c.Events {
		switch ev.Type {
		case "input_audio_buffer.speech_started":
			get(ev.Str("item_id"))
		case "input_audio_buffer.speech_stopped":
			get(ev.Str("item_id")).stoppedAt = i
		case "input_audio_buffer.committed":
			get(ev.Str("item_id")).committed++
		case itemEvent:
			get(ev.Get("item", "id").(string)).added++
		case "conversation.item.input_audio_transcription.delta":
			it := get(ev.Str("item_id"))
			it.deltas += ev.Str("delta")
			if it.stoppedAt < 0 {
				it.deltasBeforeStop++
			}
		case "conversation.item.input_audio_transcription.completed":
			it := get(ev.Str("item_id"))
			it.completed++
			it.final = ev.Str("transcript")
		}
	}
	require.Len(t, order, n, "items: %v; events: %v", order, c.Types())
	for _, id := range order {
		it := items[id]
		assert.Equal(t, 1, it.committed, "item %s committed", id)
		assert.Equal(t, 1, it.added, "item %s %s", id, itemEvent)
		assert.Equal(t, 1, it.completed, "item %s completed", id)
		assert.Positive(t, it.deltasBeforeStop, "item %s: no partial before speech_stopped", id)
		assert.NotEmpty(t, it.final)
		assert.Equal(t, it.final, it.deltas, "item %s: deltas spell the transcript", id)
	}
}

func TestRealtimeServerVADTurnsGA(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	assert.Equal(t, "session.created", c.Next().Type)
	c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{
			"format":         map[string]any{"type": "audio/pcm", "rate": 24000},
			"transcription":  map[string]any{"model": "gpt-4o-transcribe", "language": "en"},
			"turn_detection": map[string]any{"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500},
		}}}})
	up := c.WaitFor("session.updated")
	assert.Equal(t, "gpt-4o-transcribe", up.Get("session", "audio", "input", "transcription", "model"))

	pcm := rt.PCM16(rt.Utterances(24000, 3, 300, 700, 900))
	sent := sendPaced(c, pcm, 48, 20)
	c.WaitCount("conversation.item.input_audio_transcription.completed", 3)
	realtimeCheck(t, c, false)
	checkTurns(t, c, 3, "conversation.item.added")
	assert.Equal(t, 3, c.Count("conversation.item.done"))
	reportPartialLatency(t, c, sent, 300, 700, 900)
}

func TestRealtimeServerVADTurnsBeta(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"),
		&websocket.DialOptions{HTTPHeader: http.Header{"OpenAI-Beta": {"realtime=v1"}}})
	assert.Equal(t, "transcription_session.created", c.Next().Type)
	c.Send(map[string]any{"type": "transcription_session.update", "session": map[string]any{
		"input_audio_format":        "pcm16",
		"input_audio_transcription": map[string]any{"model": "whisper-1"},
		"turn_detection":            map[string]any{"type": "server_vad", "silence_duration_ms": 400},
	}})
	up := c.WaitFor("transcription_session.updated")
	assert.Equal(t, float64(400), up.Get("session", "turn_detection", "silence_duration_ms"))
	sendPaced(c, rt.PCM16(rt.Utterances(24000, 2, 200, 600, 800)), 48, 40)
	c.WaitCount("conversation.item.input_audio_transcription.completed", 2)
	realtimeCheck(t, c, true)
	checkTurns(t, c, 2, "conversation.item.created")
	assert.Zero(t, c.Count("conversation.item.added"))
}

// reportPartialLatency logs how long after the audio of a word was sent
// the delta carrying it arrived. The scripted recognizer makes a word of
// each loud 100 ms, so the k-th word of an utterance is complete once the
// audio up to k*100 ms into its tone was sent.
func reportPartialLatency(t *testing.T, c *rt.Conn, sent []time.Time, leadMs, toneMs, gapMs int) {
	t.Helper()
	var lat []time.Duration
	words := map[string]int{}
	utt := map[string]int{}
	for _, ev := range c.Events {
		switch ev.Type {
		case "input_audio_buffer.speech_started":
			utt[ev.Str("item_id")] = len(utt)
		case "conversation.item.input_audio_transcription.delta":
			id := ev.Str("item_id")
			words[id] += len(strings.Fields(ev.Str("delta")))
			u, ok := utt[id]
			if !ok {
				continue
			}
			audioMs := leadMs + u*(toneMs+gapMs) + words[id]*100
			frame := min(audioMs/20, len(sent)-1)
			if d := ev.At.Sub(sent[frame]); d > 0 && words[id]*100 <= toneMs {
				lat = append(lat, d)
			}
		}
	}
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("partial latency (audio sent → delta event, scripted recognizer, 200 ms ASR steps): n=%d median=%v p90=%v max=%v",
		len(lat), lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])
}

func TestRealtimeManualCommit(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	c.WaitFor("session.updated")

	c.Send(map[string]any{"type": "input_audio_buffer.commit", "event_id": "empty-1"})
	ev := c.WaitFor("error")
	assert.Equal(t, "input_audio_buffer_commit_empty", ev.Get("error", "code"))
	assert.Equal(t, "empty-1", ev.Get("error", "event_id"))

	for i := 0; i < 2; i++ {
		for _, f := range rt.Frames(rt.PCM16(rt.Tone(24000, 500, 440, 0.5)), 48*20) {
			c.Append(f)
		}
		c.Send(map[string]any{"type": "input_audio_buffer.commit"})
		c.WaitCount("conversation.item.input_audio_transcription.completed", i+1)
	}
	realtimeCheck(t, c, false)
	assert.Zero(t, c.Count("input_audio_buffer.speech_started"))
	var committed []string
	for _, ev := range c.Events {
		if ev.Type == "input_audio_buffer.committed" {
			committed = append(committed, ev.Str("item_id"))
		}
		if ev.Type == "conversation.item.input_audio_transcription.completed" {
			assert.Len(t, strings.Fields(ev.Str("transcript")), 5, "500 ms of tone is five words")
		}
	}
	require.Len(t, committed, 2)
	assert.NotEqual(t, committed[0], committed[1])
	// The second committed names the first as previous.
	for _, ev := range c.Events {
		if ev.Type == "input_audio_buffer.committed" && ev.Str("item_id") == committed[1] {
			assert.Equal(t, committed[0], ev.Str("previous_item_id"))
		}
	}
}

func TestRealtimeG711(t *testing.T) {
	for _, c := range []struct {
		name, dialect, format string
		enc                   func([]float32) []byte
	}{
		{"pcmu", "ga", "audio/pcmu", rt.MuLaw},
		{"pcma", "ga", "audio/pcma", rt.ALaw},
		{"g711_ulaw", "beta", "g711_ulaw", rt.MuLaw},
		{"g711_alaw", "beta", "g711_alaw", rt.ALaw},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newAudioEnv(t, "", nil)
			conn := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
			conn.Next()
			if c.dialect == "ga" {
				conn.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
					"audio": map[string]any{"input": map[string]any{"format": map[string]any{"type": c.format}}}}})
				conn.WaitFor("session.updated")
			} else {
				conn.Send(map[string]any{"type": "transcription_session.update", "session": map[string]any{"input_audio_format": c.format}})
				conn.WaitFor("transcription_session.updated")
			}
			for _, f := range rt.Frames(c.enc(rt.Utterances(8000, 2, 300, 500, 800)), 8*100) {
				conn.Append(f)
			}
			conn.WaitCount("conversation.item.input_audio_transcription.completed", 2)
			realtimeCheck(t, conn, c.dialect == "beta")
			assert.Equal(t, 2, conn.Count("input_audio_buffer.committed"))
		})
	}
}

func TestRealtimeClearDropsTurn(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	// Speech in progress, then clear: the turn is dropped.
	c.Append(rt.PCM16(append(rt.Silence(24000, 300), rt.Tone(24000, 400, 440, 0.5)...)))
	started := c.WaitFor("input_audio_buffer.speech_started")
	c.Send(map[string]any{"type": "input_audio_buffer.clear"})
	c.WaitFor("input_audio_buffer.cleared")
	// A following turn is transcribed.
	c.Append(rt.PCM16(rt.Utterances(24000, 1, 300, 500, 700)))
	done := c.WaitFor("conversation.item.input_audio_transcription.completed")
	assert.NotEqual(t, started.Str("item_id"), done.Str("item_id"))
	for _, ev := range c.Events {
		if ev.Type == "input_audio_buffer.committed" || ev.Type == "conversation.item.input_audio_transcription.completed" {
			assert.NotEqual(t, started.Str("item_id"), ev.Str("item_id"), "the cleared turn reappeared: %s", ev.Raw)
		}
	}
	realtimeCheck(t, c, false)
}

func TestRealtimeMalformedEvents(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	for _, m := range []struct{ msg, code string }{
		{`{"type":`, "invalid_json"},
		{`{"event_id":"x1"}`, "missing_required_parameter"},
		{`{"type":"no.such.event","event_id":"x2"}`, "invalid_value"},
		{`{"type":"input_audio_buffer.append","audio":"%%%"}`, "invalid_value"},
		{`{"type":"response.create"}`, "unsupported_session_type"},
	} {
		c.SendRaw(websocket.MessageText, []byte(m.msg))
		ev := c.WaitFor("error")
		assert.Equal(t, m.code, ev.Get("error", "code"), "for %s", m.msg)
		assert.Equal(t, "invalid_request_error", ev.Get("error", "type"))
	}
	c.SendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	assert.Equal(t, "invalid_event", c.WaitFor("error").Get("error", "code"))
	// Still serving.
	c.Send(map[string]any{"type": "input_audio_buffer.clear"})
	c.WaitFor("input_audio_buffer.cleared")
	realtimeCheck(t, c, false)
}

func TestRealtimeOversizeMessageCloses(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	c.Next()
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = 'A'
	}
	msg := append(append([]byte(`{"type":"input_audio_buffer.append","audio":"`), big...), '"', '}')
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = c.C.Write(ctx, websocket.MessageText, msg) // the server may close before it has read it all
	_, err := c.Read()
	require.Error(t, err)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.StatusMessageTooBig, ce.Code)
	assert.Contains(t, ce.Reason, "message too big")

	// The server is unharmed.
	c2 := rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
	assert.Equal(t, "session.created", c2.Next().Type)
	c2.Append(rt.PCM16(rt.Utterances(24000, 1, 300, 400, 700)))
	c2.WaitFor("conversation.item.input_audio_transcription.completed")
}

func TestRealtimeAPIKey(t *testing.T) {
	const key = "sk-test-key"
	e := newAudioEnv(t, key, nil)
	base := wsURL(e, "/v1/realtime?intent=transcription")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, base, nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	for name, dial := range map[string]func() *rt.Conn{
		"header": func() *rt.Conn { return rt.Dial(t, base, bearer(key)) },
		"query":  func() *rt.Conn { return rt.Dial(t, base+"&api_key="+key, nil) },
		"subprotocol": func() *rt.Conn {
			return rt.Dial(t, base, &websocket.DialOptions{Subprotocols: []string{"realtime", "openai-insecure-api-key." + key}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := dial()
			if name == "subprotocol" {
				assert.Equal(t, "realtime", c.C.Subprotocol())
			}
			assert.Equal(t, "session.created", c.Next().Type)
		})
	}
	_, resp, err = websocket.Dial(ctx, base, &websocket.DialOptions{Subprotocols: []string{"realtime", "openai-insecure-api-key.wrong"}})
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestRealtimeModelConnection(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	c := rt.Dial(t, wsURL(e, "/v1/realtime?model=gpt-realtime"), nil)
	created := c.Next()
	assert.Equal(t, "realtime", created.Get("session", "type"))
	c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription"}})
	assert.Equal(t, "transcription", c.WaitFor("session.updated").Get("session", "type"))
	c.Append(rt.PCM16(rt.Utterances(24000, 1, 300, 400, 700)))
	c.WaitFor("conversation.item.input_audio_transcription.completed")
	assert.Zero(t, c.Count("response.created"), "transcription sessions do not answer")
	realtimeCheck(t, c, false)

	// A conversation that holds items stays a conversation.
	c2 := rt.Dial(t, wsURL(e, "/v1/realtime?model=gpt-realtime"), nil)
	c2.Next()
	c2.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
		"content": []map[string]any{{"type": "input_text", "text": "hi"}}}})
	c2.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription"}})
	assert.Equal(t, "session_type_change", c2.WaitFor("error").Get("error", "code"))
	realtimeCheck(t, c2, false)
}

func TestRealtimeHTTPErrors(t *testing.T) {
	e := newAudioEnv(t, "", func(o *envOptions) {
		o.load = map[pipeline.Category]string{pipeline.LLMSlot: "scripted"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for q, status := range map[string]int{
		"?intent=conversation":  http.StatusBadRequest,
		"":                      http.StatusBadRequest,
		"?intent=transcription": http.StatusServiceUnavailable, // no recognizer loaded
	} {
		_, resp, err := websocket.Dial(ctx, wsURL(e, "/v1/realtime"+q), nil)
		require.Error(t, err, q)
		require.NotNil(t, resp, q)
		assert.Equal(t, status, resp.StatusCode, q)
	}
}

// Two connections at once stay separate, and closing them leaves no work.
func TestRealtimeConcurrentConnections(t *testing.T) {
	e := newAudioEnv(t, "", nil)
	conns := []*rt.Conn{
		rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil),
		rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil),
	}
	for i, c := range conns {
		c.Next()
		c.Append(rt.PCM16(rt.Utterances(24000, i+1, 300, 400, 700)))
	}
	for i, c := range conns {
		c.WaitCount("conversation.item.input_audio_transcription.completed", i+1)
		assert.Equal(t, i+1, c.Count("input_audio_buffer.committed"), fmt.Sprint("conn ", i))
	}
	for _, c := range conns {
		require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
	}
	require.Eventually(t, func() bool { return e.reg.Active() == 0 && e.reg.Len() == 0 }, wait, time.Millisecond,
		"work left after the connections closed")
}
