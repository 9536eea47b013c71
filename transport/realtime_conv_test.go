package transport_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// answer is the scripted LLM's reply to every request: three sentences,
// so synthesis speaks three clauses.
const answer = "Sure thing, here is my answer. It has a second sentence. And a third one to finish."

// requests records what a scripted LLM was asked, for tests that check
// what the conversation's history became.
type requests struct {
	mu   sync.Mutex
	reqs [][]pipeline.Message
}

// script answers with reply(last user message) word by word and records
// each request (the server's history fitting prepares a request once more
// before running it, so a request may appear twice in a row).
func (r *requests) script(reply func(user string) string) pipelinetest.Script {
	return func(req *pipeline.ChatRequest) []string {
		r.mu.Lock()
		r.reqs = append(r.reqs, slices.Clone(req.Messages))
		r.mu.Unlock()
		user := ""
		for _, m := range req.Messages {
			if m.Role == "user" {
				user = m.Content
			}
		}
		return pipelinetest.Words(reply(user))
	}
}

func (r *requests) last() []pipeline.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		return nil
	}
	return r.reqs[len(r.reqs)-1]
}

func (r *requests) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func fixedReply(text string) func(string) string { return func(string) string { return text } }

// newConvEnv serves the scripted recognizer (a word per loud 100 ms), the
// scripted synthesizer (10 ms of tone per character at 16 kHz) and llm.
func newConvEnv(t *testing.T, llm *pipelinetest.LLM, tweak func(*envOptions)) *env {
	return newAudioEnv(t, "", func(o *envOptions) {
		o.llm = llm
		if tweak != nil {
			tweak(o)
		}
	})
}

// dialConversation opens a conversation session and configures it:
// instructions, 24 kHz PCM in and out, server_vad (create_response and
// interrupt_response on), the output modalities given.
func dialConversation(t *testing.T, e *env, beta bool, modalities ...string) *rt.Conn {
	t.Helper()
	var opts *websocket.DialOptions
	if beta {
		opts = &websocket.DialOptions{HTTPHeader: http.Header{"OpenAI-Beta": {"realtime=v1"}}}
	}
	c := rt.Dial(t, wsURL(e, "/v1/realtime?model=gpt-realtime"), opts)
	created := c.Next()
	require.Equal(t, "session.created", created.Type)
	td := map[string]any{"type": "server_vad", "silence_duration_ms": 500, "create_response": true, "interrupt_response": true}
	session := map[string]any{"type": "realtime", "instructions": "You are terse.", "output_modalities": modalities,
		"audio": map[string]any{
			"input":  map[string]any{"format": map[string]any{"type": "audio/pcm", "rate": 24000}, "transcription": map[string]any{"model": "whisper-1"}, "turn_detection": td},
			"output": map[string]any{"format": map[string]any{"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
		}}
	if beta {
		session = map[string]any{"instructions": "You are terse.", "modalities": modalities, "voice": "alloy",
			"input_audio_format": "pcm16", "output_audio_format": "pcm16", "turn_detection": td,
			"input_audio_transcription": map[string]any{"model": "whisper-1"}}
	}
	c.Send(map[string]any{"type": "session.update", "session": session})
	c.WaitFor("session.updated")
	return c
}

// sendFrames sends samples as 24 kHz PCM16 in 20 ms frames, unpaced.
func sendFrames(c *rt.Conn, s []float32) {
	for _, f := range rt.Frames(rt.PCM16(s), 48*20) {
		c.Append(f)
	}
}

// order asserts that events of the types given came in that order: each
// one after the event found for the type before it.
func order(t *testing.T, c *rt.Conn, types ...string) {
	t.Helper()
	all := c.Types()
	at := -1
	for _, typ := range types {
		i := slices.Index(all[at+1:], typ)
		require.GreaterOrEqual(t, i, 0, "no %s after position %d in %v", typ, at, all)
		at += 1 + i
	}
}

// responseAudio sums the decoded audio deltas of response id, in bytes.
func responseAudio(t *testing.T, c *rt.Conn, id string) int {
	n := 0
	for _, ev := range c.Events {
		if strings.HasSuffix(ev.Type, "audio.delta") && ev.Str("response_id") == id {
			b, err := base64.StdEncoding.DecodeString(ev.Str("delta"))
			require.NoError(t, err)
			n += len(b)
		}
	}
	return n
}

func joined(c *rt.Conn, typ, id string) string {
	var b strings.Builder
	for _, ev := range c.Events {
		if ev.Type == typ && ev.Str("response_id") == id {
			b.WriteString(ev.Str("delta"))
		}
	}
	return b.String()
}

// A spoken turn (a tone, then silence) becomes an answer spoken back:
// VAD → recognition → LLM → synthesis in one stream, in both dialects.
func TestRealtimeConversationAudioTurn(t *testing.T) {
	for _, beta := range []bool{false, true} {
		t.Run(map[bool]string{false: "ga", true: "beta"}[beta], func(t *testing.T) {
			var reqs requests
			e := newConvEnv(t, &pipelinetest.LLM{Script: reqs.script(fixedReply(answer))}, nil)
			c := dialConversation(t, e, beta, "audio")
			sendFrames(c, rt.Utterances(24000, 1, 300, 600, 900))
			done := c.WaitFor("response.done")
			realtimeCheck(t, c, beta)

			item, audioDelta, transcriptDelta := "conversation.item.added", "response.output_audio.delta", "response.output_audio_transcript.delta"
			audioDone, transcriptDone := "response.output_audio.done", "response.output_audio_transcript.done"
			if beta {
				item, audioDelta, transcriptDelta = "conversation.item.created", "response.audio.delta", "response.audio_transcript.delta"
				audioDone, transcriptDone = "response.audio.done", "response.audio_transcript.done"
			}
			order(t, c, "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
				item, "response.created", "conversation.item.input_audio_transcription.completed", "response.output_item.added",
				"response.content_part.added", transcriptDelta, audioDelta, audioDone, transcriptDone, "response.content_part.done",
				"response.output_item.done", "response.done")
			if !beta {
				order(t, c, "response.output_item.done", "conversation.item.done", "response.done")
			}

			assert.Equal(t, "completed", done.Get("response", "status"))
			id := done.Get("response", "id").(string)
			want := answer
			assert.Equal(t, want, joined(c, transcriptDelta, id), "transcript deltas are the spoken clauses")
			out := done.Get("response", "output").([]any)
			require.Len(t, out, 1)
			content := out[0].(map[string]any)["content"].([]any)[0].(map[string]any)
			assert.Equal(t, want, content["transcript"])
			// The scripted voice speaks 10 ms per character of each clause.
			chars := 0
			for _, s := range []string{"Sure thing, here is my answer.", "It has a second sentence.", "And a third one to finish."} {
				chars += len(s)
			}
			assert.InDelta(t, chars*10*48, responseAudio(t, c, id), 96, "audio bytes: 24 kHz PCM16 of every clause")
			usage := done.Get("response", "usage").(map[string]any)
			assert.Positive(t, usage["input_tokens"])
			assert.Positive(t, usage["output_tokens"])

			// The LLM heard the instructions and the recognized turn.
			msgs := reqs.last()
			require.GreaterOrEqual(t, len(msgs), 2)
			assert.Equal(t, pipeline.Message{Role: "system", Content: "You are terse."}, msgs[0])
			assert.Equal(t, "user", msgs[len(msgs)-1].Role)
			assert.Equal(t, "alpha bravo charlie delta echo foxtrot", msgs[len(msgs)-1].Content)
			require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
			e.idle()
		})
	}
}

// Typed text with conversation.item.create, then response.create with
// text output.
func TestRealtimeConversationTypedText(t *testing.T) {
	for _, beta := range []bool{false, true} {
		t.Run(map[bool]string{false: "ga", true: "beta"}[beta], func(t *testing.T) {
			var reqs requests
			e := newConvEnv(t, &pipelinetest.LLM{Script: reqs.script(func(u string) string { return "You said: " + u })}, nil)
			c := dialConversation(t, e, beta, "audio")
			c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
				"content": []map[string]any{{"type": "input_text", "text": "hello there"}}}})
			c.Send(map[string]any{"type": "response.create", "response": map[string]any{"output_modalities": []string{"text"},
				"modalities": []string{"text"}, "instructions": "Echo."}})
			done := c.WaitFor("response.done")
			realtimeCheck(t, c, beta)
			id := done.Get("response", "id").(string)
			textDelta := map[bool]string{false: "response.output_text.delta", true: "response.text.delta"}[beta]
			assert.Equal(t, "You said: hello there", joined(c, textDelta, id))
			assert.Zero(t, responseAudio(t, c, id))
			assert.Equal(t, []pipeline.Message{{Role: "system", Content: "Echo."}, {Role: "user", Content: "hello there"}}, reqs.last())
			assert.Equal(t, "completed", done.Get("response", "status"))
		})
	}
}

// Speech during a long spoken answer cancels it at once (turn_detected);
// no audio of it follows; truncating the answer to what was heard changes
// what the next response's LLM request holds.
func TestRealtimeBargeInAndTruncate(t *testing.T) {
	long := strings.Repeat("This sentence keeps the answer going for a while. ", 40)
	var reqs requests
	e := newConvEnv(t, &pipelinetest.LLM{Script: reqs.script(fixedReply(long)), StepDelay: 5 * time.Millisecond}, nil)
	c := dialConversation(t, e, false, "audio")
	c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
		"content": []map[string]any{{"type": "input_text", "text": "Talk for a long time."}}}})
	c.Send(map[string]any{"type": "response.create"})
	created := c.WaitFor("response.created")
	id := created.Get("response", "id").(string)
	// Let some audio flow.
	for c.Count("response.output_audio.delta") < 3 {
		c.Next()
	}
	itemID := c.WaitFor("response.output_audio.delta").Str("item_id")

	// The person speaks.
	sendFrames(c, append(rt.Silence(24000, 200), rt.Tone(24000, 300, 440, 0.5)...))
	done := c.WaitFor("response.done")
	assert.Equal(t, id, done.Get("response", "id"))
	assert.Equal(t, "cancelled", done.Get("response", "status"))
	assert.Equal(t, "turn_detected", done.Get("response", "status_details", "reason"))
	assert.Positive(t, done.Get("response", "usage", "input_tokens"), "a cancelled response reports its prompt")
	assert.Positive(t, done.Get("response", "usage", "output_tokens"), "and the tokens generated before the cancel")
	assert.Less(t, slices.Index(c.Types(), "input_audio_buffer.speech_started"), slices.Index(c.Types(), "response.done"))
	heardMs := responseAudio(t, c, id) / 48 / 2
	require.Positive(t, heardMs)

	// The client played half of what it got and truncates there.
	c.Send(map[string]any{"type": "conversation.item.truncate", "item_id": itemID, "content_index": 0, "audio_end_ms": heardMs})
	tr := c.WaitFor("conversation.item.truncated")
	assert.Equal(t, itemID, tr.Str("item_id"))
	assert.EqualValues(t, heardMs, tr.Get("audio_end_ms"))
	full := done.Get("response", "output").([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["transcript"].(string)

	// The rest of the turn; its automatic response reads the heard part.
	before := reqs.count()
	sendFrames(c, append(rt.Tone(24000, 200, 440, 0.5), rt.Silence(24000, 900)...))
	second := c.WaitFor("response.created")
	assert.NotEqual(t, id, second.Get("response", "id"))
	require.Eventually(t, func() bool { return reqs.count() > before }, wait, time.Millisecond)
	msgs := reqs.last()
	var assistant string
	for _, m := range msgs {
		if m.Role == "assistant" {
			assistant = m.Content
		}
	}
	require.NotEmpty(t, assistant)
	assert.Less(t, len(assistant), len(full), "the history holds less than was sent: %q vs %q", assistant, full)
	assert.True(t, strings.HasPrefix(full, assistant), "the heard part is a prefix of the transcript")

	// Nothing of the cancelled response follows its response.done.
	c.Send(map[string]any{"type": "response.cancel"})
	c.WaitFor("response.done")
	at := slices.IndexFunc(c.Events, func(ev rt.Event) bool { return ev.Type == "response.done" && ev.Get("response", "id") == id })
	for _, ev := range c.Events[at+1:] {
		assert.NotEqual(t, id, ev.Str("response_id"), "event of the cancelled response after its end: %s", ev.Type)
	}
	realtimeCheck(t, c, false)
	require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
	e.idle()
}

// response.cancel right after response.create, twice, and with nothing
// running; a second response.create while one runs.
func TestRealtimeResponseCancelRaces(t *testing.T) {
	e := newConvEnv(t, &pipelinetest.LLM{Script: pipelinetest.Fixed(pipelinetest.Words(answer)...)}, nil)
	c := dialConversation(t, e, false, "audio")
	c.Send(map[string]any{"type": "response.cancel", "event_id": "idle"})
	ev := c.WaitFor("error")
	assert.Equal(t, "response_cancel_not_active", ev.Get("error", "code"))
	assert.Equal(t, "idle", ev.Get("error", "event_id"))

	c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
		"content": []map[string]any{{"type": "input_text", "text": "hi"}}}})
	for i := 0; i < 5; i++ {
		n := c.Count("response.done")
		c.Send(map[string]any{"type": "response.create"})
		c.Send(map[string]any{"type": "response.create", "event_id": "again"})
		c.Send(map[string]any{"type": "response.cancel"})
		c.Send(map[string]any{"type": "response.cancel", "event_id": "twice"})
		c.WaitCount("response.done", n+1)
		done := c.Events[len(c.Events)-1]
		assert.Equal(t, "cancelled", done.Get("response", "status"))
		assert.Equal(t, "client_cancelled", done.Get("response", "status_details", "reason"))
	}
	for c.Count("error") < 1+2*5 {
		c.Next()
	}
	codes := map[string]int{}
	for _, ev := range c.Events {
		if ev.Type == "error" {
			codes[ev.Get("error", "code").(string)]++
		}
	}
	assert.Equal(t, map[string]int{"response_cancel_not_active": 6, "conversation_already_has_active_response": 5}, codes)

	// The connection is healthy: a response runs to completion.
	c.Send(map[string]any{"type": "response.create"})
	n := c.Count("response.done")
	c.WaitCount("response.done", n+1)
	assert.Equal(t, "completed", c.Events[len(c.Events)-1].Get("response", "status"))
	realtimeCheck(t, c, false)
	require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
	e.idle()
}

// Two conversations at once keep their own histories and answers.
func TestRealtimeConversationsSeparate(t *testing.T) {
	var reqs requests
	e := newConvEnv(t, &pipelinetest.LLM{Script: reqs.script(func(u string) string { return "Answer to " + u + "." })}, nil)
	conns := []*rt.Conn{dialConversation(t, e, false, "audio"), dialConversation(t, e, true, "text", "audio")}
	for round := 0; round < 2; round++ {
		for i, c := range conns {
			c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
				"content": []map[string]any{{"type": "input_text", "text": fmt.Sprintf("conn%d round%d", i, round)}}}})
			c.Send(map[string]any{"type": "response.create"})
		}
		for i, c := range conns {
			done := c.WaitFor("response.done")
			id := done.Get("response", "id").(string)
			typ := map[int]string{0: "response.output_audio_transcript.delta", 1: "response.audio_transcript.delta"}[i]
			assert.Equal(t, fmt.Sprintf("Answer to conn%d round%d.", i, round), joined(c, typ, id))
			assert.Positive(t, responseAudio(t, c, id))
		}
	}
	for i, c := range conns {
		realtimeCheck(t, c, i == 1)
		require.NoError(t, c.C.Close(websocket.StatusNormalClosure, ""))
	}
	e.idle()
}

// An overloaded scheduler fails the response with an error event and
// response.done "failed"; the connection goes on.
func TestRealtimeConversationOverload(t *testing.T) {
	gate := make(chan struct{})
	e := newConvEnv(t, &pipelinetest.LLM{Gate: gate, Script: pipelinetest.Fixed("Hi.")}, func(o *envOptions) {
		o.sched = &pipeline.SchedulerOptions{MaxInFlight: 1, MaxBacklog: 1}
	})
	var conns []*rt.Conn
	for i := 0; i < 3; i++ {
		c := dialConversation(t, e, false, "text")
		c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
			"content": []map[string]any{{"type": "input_text", "text": "hi"}}}})
		c.Send(map[string]any{"type": "response.create"})
		c.WaitFor("response.created")
		conns = append(conns, c)
		// The first is admitted (and held by the gate), the second waits.
		want := map[int]int{0: 0, 1: 1, 2: 1}[i]
		require.Eventually(t, func() bool { return e.sched.QueueDepth() == want }, wait, time.Millisecond)
	}
	c := conns[2]
	errEv := c.WaitFor("error")
	assert.Equal(t, "rate_limit_exceeded", errEv.Get("error", "code"))
	done := c.WaitFor("response.done")
	assert.Equal(t, "failed", done.Get("response", "status"))
	assert.Equal(t, "rate_limit_exceeded", done.Get("response", "status_details", "error", "code"))
	close(gate)
	for _, c := range conns[:2] {
		assert.Equal(t, "completed", c.WaitFor("response.done").Get("response", "status"))
	}
	c.Send(map[string]any{"type": "response.create"})
	assert.Equal(t, "completed", c.WaitFor("response.done").Get("response", "status"))
	for _, c := range conns {
		realtimeCheck(t, c, false)
	}
}

// A long history is trimmed from the oldest item so the prompt leaves
// room for the answer.
func TestRealtimeHistoryTrimmed(t *testing.T) {
	var reqs requests
	e := newConvEnv(t, &pipelinetest.LLM{Context: 256, Script: reqs.script(fixedReply("Ok."))}, nil)
	c := dialConversation(t, e, false, "text")
	for i := 0; i < 12; i++ {
		c.Send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"type": "message", "role": "user",
			"content": []map[string]any{{"type": "input_text", "text": fmt.Sprintf("message %02d %s", i, strings.Repeat("x", 60))}}}})
	}
	c.Send(map[string]any{"type": "response.create"})
	assert.Equal(t, "completed", c.WaitFor("response.done").Get("response", "status"))
	msgs := reqs.last()
	assert.Equal(t, "system", msgs[0].Role, "instructions stay")
	assert.Contains(t, msgs[len(msgs)-1].Content, "message 11", "the newest message stays")
	assert.Less(t, len(msgs), 13, "old messages were left out")
	assert.NotContains(t, msgs[1].Content, "message 00")
}
