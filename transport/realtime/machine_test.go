package realtime_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
	"github.com/ominix/ominix-api/transport/realtime"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// harness drives a Machine and checks every event it emits against the
// OpenAPI schemas (when the spec is present) and for unique event ids.
type harness struct {
	t       *testing.T
	m       *realtime.Machine
	spec    *oapitest.Spec
	ids     map[string]bool
	events  []realtime.ServerEvent
	actions []realtime.Action
}

func newHarness(t *testing.T, opts realtime.Options) *harness {
	h := &harness{t: t, m: realtime.NewMachine(opts), ids: map[string]bool{}}
	if specAvailable(t) {
		h.spec = oapitest.Load(t)
	}
	h.take(h.m.Start())
	return h
}

// specAvailable reports whether the OpenAPI spec is on disk, without
// skipping the test when it is not.
func specAvailable(t *testing.T) bool {
	p, err := oapitest.Path()
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func (h *harness) take(out realtime.Output) realtime.Output {
	h.t.Helper()
	for _, ev := range out.Events {
		id := realtime.IDOf(ev)
		require.NotEmpty(h.t, id)
		require.False(h.t, h.ids[id], "duplicate event_id %s", id)
		h.ids[id] = true
		b, err := realtime.Encode(ev)
		require.NoError(h.t, err)
		if h.spec != nil {
			name, inst := rt.SchemaInstance(b, h.m.Dialect() == realtime.Beta)
			require.NotEmpty(h.t, name, "no schema for %s", realtime.TypeOf(ev))
			if !rt.OtherRate(b) {
				h.spec.Require(h.t, name, inst)
			}
		}
	}
	h.events = append(h.events, out.Events...)
	h.actions = append(h.actions, out.Actions...)
	return out
}

func (h *harness) send(v any) realtime.Output {
	h.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(h.t, err)
	return h.take(h.m.Client(b))
}

func (h *harness) appendAudio(b []byte) realtime.Output {
	h.t.Helper()
	return h.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(b)})
}

func (h *harness) engine(ev pipeline.Event) realtime.Output {
	h.t.Helper()
	return h.take(h.m.Engine(ev))
}

func types(evs []realtime.ServerEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = realtime.TypeOf(e)
	}
	return out
}

func countType(evs []realtime.ServerEvent, typ string) int {
	n := 0
	for _, e := range evs {
		if realtime.TypeOf(e) == typ {
			n++
		}
	}
	return n
}

// samplesIn sums the samples of the Append actions per item, in the order
// items began.
func samplesIn(actions []realtime.Action) (order []string, n map[string]int) {
	n = map[string]int{}
	cur := ""
	for _, a := range actions {
		switch a := a.(type) {
		case realtime.BeginItem:
			cur = a.ItemID
			order = append(order, cur)
		case realtime.Append:
			n[cur] += len(a.Samples)
		}
	}
	return order, n
}

func errorCode(t *testing.T, out realtime.Output) (code, param, eventID string) {
	t.Helper()
	require.Len(t, out.Events, 1, "events: %v", types(out.Events))
	e, ok := out.Events[0].(*realtime.ErrorEvent)
	require.True(t, ok, "got %s", realtime.TypeOf(out.Events[0]))
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	if e.Error.Param != nil {
		param = *e.Error.Param
	}
	if e.Error.EventID != nil {
		eventID = *e.Error.EventID
	}
	return code, param, eventID
}

func TestStartGATranscription(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription", TranscriptionModel: "scripted-asr"})
	require.Equal(t, []string{"session.created"}, types(h.events))
	s := h.events[0].(*realtime.SessionEvent).Session.(*realtime.SessionGA)
	assert.Equal(t, "transcription", s.Type)
	assert.Equal(t, "realtime.transcription_session", s.Object)
	assert.Equal(t, realtime.FormatGA{Type: "audio/pcm", Rate: 24000}, s.Audio.Input.Format)
	assert.Equal(t, "scripted-asr", s.Audio.Input.Transcription.Model)
	require.NotNil(t, s.Audio.Input.TurnDetection)
	assert.Equal(t, "server_vad", s.Audio.Input.TurnDetection.Type)
	require.Len(t, h.actions, 1)
	assert.IsType(t, realtime.Configure{}, h.actions[0])
}

func TestStartBeta(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription", Beta: true})
	require.Equal(t, []string{"transcription_session.created"}, types(h.events))
	s := h.events[0].(*realtime.SessionEvent).Session.(*realtime.SessionBeta)
	assert.Equal(t, "pcm16", s.InputAudioFormat)
	assert.Equal(t, realtime.Beta, h.m.Dialect())
}

func TestModelConnectionBecomesTranscription(t *testing.T) {
	h := newHarness(t, realtime.Options{Model: "gpt-realtime"})
	s := h.events[0].(*realtime.SessionEvent).Session.(*realtime.RealtimeSessionGA)
	assert.Equal(t, "realtime", s.Type)
	assert.Equal(t, "gpt-realtime", s.Model)

	// A conversation session accepts audio and conversation updates.
	assert.Empty(t, h.appendAudio(make([]byte, 4800)).Events)
	out := h.send(map[string]any{"type": "session.update", "event_id": "ev1",
		"session": map[string]any{"type": "realtime", "instructions": "Be brief."}})
	require.Equal(t, []string{"session.updated"}, types(out.Events))
	assert.Equal(t, "Be brief.", out.Events[0].(*realtime.SessionEvent).Session.(*realtime.RealtimeSessionGA).Instructions)

	out = h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"transcription": map[string]any{"model": "whisper-1", "language": "en"}}}}})
	require.Equal(t, []string{"session.updated"}, types(out.Events))
	s2 := out.Events[0].(*realtime.SessionEvent).Session.(*realtime.SessionGA)
	assert.Equal(t, "transcription", s2.Type)
	assert.Equal(t, "en", s2.Audio.Input.Transcription.Language)
	assert.Equal(t, []realtime.Action{realtime.Configure{Options: pipeline.TranscribeOptions{Language: "en"}}}, out.Actions)
	assert.Equal(t, "transcription", h.m.SessionType())
}

func TestManualCommitGA(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	out := h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	s := out.Events[0].(*realtime.SessionEvent).Session.(*realtime.SessionGA)
	assert.Nil(t, s.Audio.Input.TurnDetection)

	// 50 ms is not enough to commit.
	h.appendAudio(rt.PCM16(rt.Tone(24000, 50, 440, 0.5)))
	code, _, id := errorCode(t, h.send(map[string]any{"type": "input_audio_buffer.commit", "event_id": "c1"}))
	assert.Equal(t, realtime.CodeCommitEmpty, code)
	assert.Equal(t, "c1", id)

	h.appendAudio(rt.PCM16(rt.Tone(24000, 150, 440, 0.5)))
	out = h.send(map[string]any{"type": "input_audio_buffer.commit"})
	require.Equal(t, []string{"input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"}, types(out.Events))
	committed := out.Events[0].(*realtime.CommittedEvent)
	assert.Nil(t, committed.PreviousItemID)
	order, n := samplesIn(h.actions)
	require.Len(t, order, 1)
	assert.Equal(t, committed.ItemID, order[0])
	assert.Equal(t, 24000*200/1000, n[order[0]])
	assert.Equal(t, realtime.Commit{ItemID: committed.ItemID}, h.actions[len(h.actions)-1])

	// Partials: a word is sent once three hypotheses agree on it and three
	// words follow it (see audioapi.Deltas).
	item := committed.ItemID
	for _, hyp := range []string{"hello", "hello world", "hello world again"} {
		assert.Empty(t, h.engine(pipeline.TranscriptDelta{ItemID: item, Text: hyp}).Events)
	}
	out = h.engine(pipeline.TranscriptDelta{ItemID: item, Text: "hello world again now"})
	require.Len(t, out.Events, 1)
	assert.Equal(t, "hello", out.Events[0].(*realtime.TranscriptionDeltaEvent).Delta)
	out = h.engine(pipeline.TranscriptDone{ItemID: item, Transcript: pipeline.Transcript{Text: "hello world again"},
		Usage: pipeline.Usage{InputAudioSeconds: 0.2}})
	require.Equal(t, []string{"conversation.item.input_audio_transcription.delta",
		"conversation.item.input_audio_transcription.completed"}, types(out.Events))
	assert.Equal(t, " world again", out.Events[0].(*realtime.TranscriptionDeltaEvent).Delta)
	done := out.Events[1].(*realtime.TranscriptionCompletedEvent)
	assert.Equal(t, "hello world again", done.Transcript)
	assert.Equal(t, realtime.Usage{Type: "duration", Seconds: 0.2}, done.Usage)

	// The second item names the first as its predecessor.
	h.appendAudio(rt.PCM16(rt.Tone(24000, 120, 440, 0.5)))
	out = h.send(map[string]any{"type": "input_audio_buffer.commit"})
	assert.Equal(t, item, *out.Events[0].(*realtime.CommittedEvent).PreviousItemID)
}

func TestManualCommitBetaItemCreated(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	out := h.send(map[string]any{"type": "transcription_session.update", "session": map[string]any{
		"input_audio_format": "g711_ulaw", "turn_detection": nil,
		"input_audio_transcription": map[string]any{"model": "gpt-4o-transcribe", "prompt": "names"}}})
	require.Equal(t, []string{"transcription_session.updated"}, types(out.Events))
	assert.Equal(t, realtime.Beta, h.m.Dialect())
	s := out.Events[0].(*realtime.SessionEvent).Session.(*realtime.SessionBeta)
	assert.Equal(t, "g711_ulaw", s.InputAudioFormat)
	assert.Nil(t, s.TurnDetection)

	tone := rt.Tone(8000, 200, 440, 0.5)
	h.appendAudio(rt.MuLaw(tone))
	out = h.send(map[string]any{"type": "input_audio_buffer.commit"})
	require.Equal(t, []string{"input_audio_buffer.committed", "conversation.item.created"}, types(out.Events))
	_, n := samplesIn(h.actions)
	for _, v := range n {
		assert.Equal(t, len(tone), v)
	}
	var begin realtime.BeginItem
	for _, a := range h.actions {
		if b, ok := a.(realtime.BeginItem); ok {
			begin = b
		}
	}
	assert.Equal(t, 8000, begin.Rate)
}

// The decoded audio of every input format matches the samples sent.
func TestInputFormats(t *testing.T) {
	tone := rt.Tone(8000, 150, 440, 0.5)
	for _, c := range []struct {
		format string
		rate   int
		enc    func([]float32) []byte
	}{
		{"audio/pcmu", 8000, rt.MuLaw},
		{"audio/pcma", 8000, rt.ALaw},
		{"audio/pcm", 16000, rt.PCM16},
	} {
		t.Run(c.format, func(t *testing.T) {
			h := newHarness(t, realtime.Options{Intent: "transcription"})
			format := map[string]any{"type": c.format}
			if c.format == "audio/pcm" {
				format["rate"] = c.rate
			}
			h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
				"audio": map[string]any{"input": map[string]any{"format": format, "turn_detection": nil}}}})
			in := tone
			if c.rate != 8000 {
				in = rt.Tone(c.rate, 150, 440, 0.5)
			}
			b := c.enc(in)
			// Split at an odd byte: 16-bit PCM must carry the half sample.
			h.appendAudio(b[:len(b)/2+1])
			h.appendAudio(b[len(b)/2+1:])
			var got []float32
			for _, a := range h.actions {
				if ap, ok := a.(realtime.Append); ok {
					got = append(got, ap.Samples...)
				}
			}
			require.Len(t, got, len(in))
			for i := range in {
				require.InDelta(t, in[i], got[i], 0.03, "sample %d", i)
			}
		})
	}
}

// Under server_vad each tone becomes one item: speech_started, audio,
// speech_stopped, committed and the item events, with times on the
// connection clock.
func TestServerVADTurns(t *testing.T) {
	for _, beta := range []bool{false, true} {
		t.Run(fmt.Sprint("beta=", beta), func(t *testing.T) {
			h := newHarness(t, realtime.Options{Intent: "transcription", Beta: beta})
			audio := rt.Utterances(24000, 3, 500, 400, 900)
			for _, f := range rt.Frames(rt.PCM16(audio), 24000*2*20/1000) { // 20 ms frames
				h.appendAudio(f)
			}
			evs := h.events
			assert.Equal(t, 3, countType(evs, "input_audio_buffer.speech_started"))
			assert.Equal(t, 3, countType(evs, "input_audio_buffer.speech_stopped"))
			assert.Equal(t, 3, countType(evs, "input_audio_buffer.committed"))
			if beta {
				assert.Equal(t, 3, countType(evs, "conversation.item.created"))
			} else {
				assert.Equal(t, 3, countType(evs, "conversation.item.added"))
				assert.Equal(t, 3, countType(evs, "conversation.item.done"))
			}
			var starts []int64
			open := ""
			for _, e := range evs {
				switch e := e.(type) {
				case *realtime.SpeechStartedEvent:
					starts = append(starts, e.AudioStartMs)
					open = e.ItemID
				case *realtime.SpeechStoppedEvent:
					assert.Equal(t, open, e.ItemID, "speech_stopped names the started item")
					assert.Greater(t, e.AudioEndMs, starts[len(starts)-1])
				case *realtime.CommittedEvent:
					assert.Equal(t, open, e.ItemID)
				}
			}
			// Onsets at 500, 1800, 3100 ms, minus the 300 ms prefix padding.
			require.Len(t, starts, 3)
			for i, want := range []int64{200, 1500, 2800} {
				assert.InDelta(t, want, starts[i], 30, "turn %d", i)
			}
			order, n := samplesIn(h.actions)
			require.Len(t, order, 3)
			for _, id := range order {
				// prefix 300 + tone 400 + silence 500 ms, at 24 kHz.
				assert.InDelta(t, 24*1200, n[id], 24*40, "item %s", id)
			}
			commits := 0
			for _, a := range h.actions {
				if c, ok := a.(realtime.Commit); ok {
					assert.False(t, c.Discard)
					commits++
				}
			}
			assert.Equal(t, 3, commits)
		})
	}
}

func TestServerVADCommitAndClear(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	code, _, _ := errorCode(t, h.send(map[string]any{"type": "input_audio_buffer.commit"}))
	assert.Equal(t, realtime.CodeCommitEmpty, code)

	// A commit during a turn ends it.
	h.appendAudio(rt.PCM16(append(rt.Silence(24000, 300), rt.Tone(24000, 300, 440, 0.5)...)))
	out := h.send(map[string]any{"type": "input_audio_buffer.commit"})
	assert.Equal(t, []string{"input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
		"conversation.item.added", "conversation.item.done"}, types(out.Events))

	// A clear during a turn drops it: its transcript is never reported.
	h.appendAudio(rt.PCM16(append(rt.Silence(24000, 600), rt.Tone(24000, 300, 440, 0.5)...)))
	require.True(t, countType(h.events, "input_audio_buffer.speech_started") == 2)
	out = h.send(map[string]any{"type": "input_audio_buffer.clear"})
	assert.Equal(t, []string{"input_audio_buffer.cleared"}, types(out.Events))
	last := out.Actions[len(out.Actions)-1].(realtime.Commit)
	assert.True(t, last.Discard)
	assert.Empty(t, h.engine(pipeline.TranscriptDelta{ItemID: last.ItemID, Text: "a b"}).Events)
	assert.Empty(t, h.engine(pipeline.TranscriptDone{ItemID: last.ItemID, Transcript: pipeline.Transcript{Text: "a b"}}).Events)
}

func TestFailedItems(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	h.appendAudio(rt.PCM16(rt.Tone(24000, 200, 440, 0.5)))
	out := h.send(map[string]any{"type": "input_audio_buffer.commit"})
	item := out.Events[0].(*realtime.CommittedEvent).ItemID
	out = h.take(h.m.Failed(&pipeline.Error{Kind: pipeline.KindUnavailable, Message: "model unloaded"}, []string{item, "unknown"}))
	require.Equal(t, []string{"conversation.item.input_audio_transcription.failed"}, types(out.Events))
	f := out.Events[0].(*realtime.TranscriptionFailedEvent)
	assert.Equal(t, item, f.ItemID)
	assert.Equal(t, "model unloaded", f.Error.Message)
}

func TestProtocolErrors(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	for _, c := range []struct {
		name, msg, code, param string
	}{
		{"not json", `{"type": `, realtime.CodeInvalidJSON, ""},
		{"array", `[1,2]`, realtime.CodeInvalidJSON, ""},
		{"no type", `{"event_id":"e1"}`, realtime.CodeMissingParameter, "type"},
		{"type not string", `{"type":5,"event_id":"e1"}`, realtime.CodeInvalidType, "type"},
		{"unknown type", `{"type":"bogus.event","event_id":"e1"}`, realtime.CodeInvalidValue, "type"},
		{"no audio", `{"type":"input_audio_buffer.append","event_id":"e1"}`, realtime.CodeMissingParameter, "audio"},
		{"bad base64", `{"type":"input_audio_buffer.append","audio":"!!!","event_id":"e1"}`, realtime.CodeInvalidValue, "audio"},
		{"no session", `{"type":"session.update","event_id":"e1"}`, realtime.CodeMissingParameter, "session"},
		{"bad session type", `{"type":"session.update","event_id":"e1","session":{"type":"x"}}`, realtime.CodeInvalidValue, "session.type"},
		{"bad rate", `{"type":"session.update","event_id":"e1","session":{"type":"transcription","audio":{"input":{"format":{"type":"audio/pcm","rate":1}}}}}`, realtime.CodeInvalidValue, "session.audio.input.format.rate"},
		{"rate type", `{"type":"session.update","event_id":"e1","session":{"type":"transcription","audio":{"input":{"format":{"type":"audio/pcm","rate":"fast"}}}}}`, realtime.CodeInvalidType, "session.audio.input.format.rate"},
		{"bad format", `{"type":"transcription_session.update","event_id":"e1","session":{"input_audio_format":"mp3"}}`, realtime.CodeInvalidValue, "session.input_audio_format"},
		{"semantic vad", `{"type":"session.update","event_id":"e1","session":{"type":"transcription","audio":{"input":{"turn_detection":{"type":"semantic_vad"}}}}}`, realtime.CodeInvalidValue, "session.audio.input.turn_detection.type"},
		{"threshold", `{"type":"transcription_session.update","event_id":"e1","session":{"turn_detection":{"type":"server_vad","threshold":2}}}`, realtime.CodeInvalidValue, "session.turn_detection.threshold"},
		{"response.create", `{"type":"response.create","event_id":"e1"}`, realtime.CodeUnsupported, "type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, param, id := errorCode(t, h.take(h.m.Client([]byte(c.msg))))
			assert.Equal(t, c.code, code)
			assert.Equal(t, c.param, param)
			if strings.Contains(c.msg, `"event_id":"e1"`) {
				assert.Equal(t, "e1", id)
			}
		})
	}
	code, _, _ := errorCode(t, h.take(h.m.Binary()))
	assert.Equal(t, realtime.CodeInvalidEvent, code)
	// The machine still works.
	out := h.send(map[string]any{"type": "input_audio_buffer.clear"})
	assert.Equal(t, []string{"input_audio_buffer.cleared"}, types(out.Events))
}

func TestManualBufferBound(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription", MaxBufferSeconds: 1})
	h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	h.appendAudio(rt.PCM16(rt.Silence(24000, 800)))
	code, _, _ := errorCode(t, h.appendAudio(rt.PCM16(rt.Silence(24000, 800))))
	assert.Equal(t, realtime.CodeBufferFull, code)
	out := h.send(map[string]any{"type": "input_audio_buffer.commit"})
	assert.Equal(t, "input_audio_buffer.committed", realtime.TypeOf(out.Events[0]))
}

// Switching from manual commits to server_vad commits the open buffer.
func TestTurnDetectionSwitchCommitsOpenItem(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	h.appendAudio(rt.PCM16(rt.Tone(24000, 300, 440, 0.5)))
	out := h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
		"audio": map[string]any{"input": map[string]any{"turn_detection": map[string]any{"type": "server_vad", "silence_duration_ms": 200}}}}})
	assert.Equal(t, []string{"input_audio_buffer.committed", "conversation.item.added", "conversation.item.done",
		"session.updated"}, types(out.Events))
	// The clock carries on: the next turn starts after the 300 ms already sent.
	h.appendAudio(rt.PCM16(append(rt.Silence(24000, 500), rt.Tone(24000, 300, 440, 0.5)...)))
	var start *realtime.SpeechStartedEvent
	for _, e := range h.events {
		if s, ok := e.(*realtime.SpeechStartedEvent); ok {
			start = s
		}
	}
	require.NotNil(t, start)
	assert.InDelta(t, 300+500-300, start.AudioStartMs, 30)
}

func FuzzClientEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"input_audio_buffer.append","audio":"AAAA","event_id":"x"}`,
		`{"type":"input_audio_buffer.commit"}`,
		`{"type":"input_audio_buffer.clear"}`,
		`{"type":"session.update","session":{"type":"transcription","audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":null,"transcription":{"model":"m","language":"en"}}}}}`,
		`{"type":"session.update","session":{"type":"transcription","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":0.2,"prefix_padding_ms":0,"silence_duration_ms":1}}}}}`,
		`{"type":"transcription_session.update","session":{"input_audio_format":"g711_alaw","turn_detection":{"type":"server_vad"},"input_audio_noise_reduction":{"type":"near_field"}}}`,
		`{"type":"response.create"}`,
		`{"type":1}`, `[]`, `null`, `{"type":"session.update","session":[]}`,
		`{"type":"session.update","session":{"type":"realtime","instructions":"hi","output_modalities":["text"],"audio":{"output":{"format":{"type":"audio/pcmu"},"voice":"alloy","speed":1.2}},"max_output_tokens":"inf","tools":[{"type":"function","name":"f","parameters":{}}],"tool_choice":{"type":"function","name":"f"}}}`,
		`{"type":"session.update","session":{"modalities":["text","audio"],"voice":"alloy","output_audio_format":"g711_alaw","temperature":0.8,"max_response_output_tokens":12,"input_audio_transcription":null,"turn_detection":{"type":"server_vad","create_response":false,"interrupt_response":false}}}`,
		`{"type":"conversation.item.create","previous_item_id":"root","item":{"id":"i1","type":"message","role":"user","content":[{"type":"input_text","text":"hello"},{"type":"input_audio","audio":"AAAA","transcript":"hi"}]}}`,
		`{"type":"conversation.item.create","item":{"type":"message","role":"assistant","content":[{"type":"audio","transcript":"x"}]}}`,
		`{"type":"conversation.item.create","item":{"type":"function_call","name":"f","call_id":"c","arguments":"{}"}}`,
		`{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c","output":"1"}}`,
		`{"type":"conversation.item.truncate","item_id":"i1","content_index":0,"audio_end_ms":100}`,
		`{"type":"conversation.item.delete","item_id":"i1"}`,
		`{"type":"conversation.item.retrieve","item_id":"i1"}`,
		`{"type":"response.create","response":{"instructions":"x","modalities":["text"],"voice":"alloy","max_output_tokens":5,"conversation":"none","metadata":{"a":"b"},"input":[{"id":"i1"},{"type":"message","role":"system","content":[{"type":"input_text","text":"s"}]}]}}`,
		`{"type":"response.cancel","response_id":"resp_1"}`,
		`{"type":"output_audio_buffer.clear"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, perr := realtime.ParseClientEvent(data)
		if perr != nil {
			if perr.Code == "" || perr.Message == "" {
				t.Fatalf("error without code or message: %+v", perr)
			}
			return
		}
		if ev.Type == "" {
			t.Fatalf("accepted an event without type: %q", data)
		}
		if (ev.Type == "session.update" || ev.Type == "transcription_session.update") && ev.Session == nil {
			t.Fatalf("session update without session: %q", data)
		}
		// Machines fed the event must not fail, and must answer with
		// well-formed events: a transcription session, and a conversation
		// session holding items and a response in progress.
		m := realtime.NewMachine(realtime.Options{Intent: "transcription"})
		m.Start()
		encodeAll(t, m.Handle(ev))
		c := realtime.NewMachine(realtime.Options{Model: "m"})
		c.Start()
		c.Client([]byte(`{"type":"conversation.item.create","item":{"id":"i1","type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]}}`))
		out := c.Client([]byte(`{"type":"response.create"}`))
		var rid string
		for _, a := range out.Actions {
			if s, ok := a.(realtime.StartResponse); ok {
				rid = s.ResponseID
			}
		}
		c.ResponseEvent(rid, realtime.SourceChat, pipeline.TextDelta{Content: "Hi there."})
		c.ResponseEvent(rid, realtime.SourceSpeech, pipeline.AudioChunk{Text: "Hi there.", Audio: pipeline.Audio{Rate: 16000, Samples: make([]float32, 3200)}})
		encodeAll(t, c.Handle(ev))
		encodeAll(t, c.ResponseEvent(rid, realtime.SourceChat, pipeline.Done{}))
	})
}

func encodeAll(t *testing.T, out realtime.Output) {
	for _, e := range out.Events {
		if _, err := realtime.Encode(e); err != nil {
			t.Fatalf("encode %s: %v", realtime.TypeOf(e), err)
		}
	}
}
