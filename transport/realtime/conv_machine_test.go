package realtime_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/realtime"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// newConversation is a conversation session (a ?model= connection) set up
// with instructions and the given output modalities.
func newConversation(t *testing.T, beta bool, modalities ...string) *harness {
	h := newHarness(t, realtime.Options{Model: "gpt-realtime", Beta: beta, Voices: []string{"alloy", "tone"}})
	session := map[string]any{"type": "realtime", "instructions": "Answer briefly.", "output_modalities": modalities}
	if beta {
		session = map[string]any{"instructions": "Answer briefly.", "modalities": modalities}
	}
	out := h.send(map[string]any{"type": "session.update", "session": session})
	require.Equal(t, []string{"session.updated"}, types(out.Events))
	return h
}

func actionsOf[T realtime.Action](out realtime.Output) []T {
	var as []T
	for _, a := range out.Actions {
		if x, ok := a.(T); ok {
			as = append(as, x)
		}
	}
	return as
}

func (h *harness) userText(text string) realtime.Output {
	h.t.Helper()
	return h.send(map[string]any{"type": "conversation.item.create", "item": map[string]any{
		"type": "message", "role": "user", "content": []map[string]any{{"type": "input_text", "text": text}}}})
}

// startResponse sends response.create and returns the StartResponse it
// asks for.
func (h *harness) startResponse(params map[string]any) (string, realtime.StartResponse) {
	h.t.Helper()
	ev := map[string]any{"type": "response.create"}
	if params != nil {
		ev["response"] = params
	}
	out := h.send(ev)
	require.Equal(h.t, "response.created", realtime.TypeOf(out.Events[0]), "%v", types(out.Events))
	starts := actionsOf[realtime.StartResponse](out)
	require.Len(h.t, starts, 1)
	return starts[0].ResponseID, starts[0]
}

func (h *harness) resp(id string, src realtime.Source, ev pipeline.Event) realtime.Output {
	h.t.Helper()
	return h.take(h.m.ResponseEvent(id, src, ev))
}

// clause is synthesized audio: ms of a 16 kHz tone speaking text.
func clause(text string, ms int) pipeline.AudioChunk {
	return pipeline.AudioChunk{Text: text, Audio: pipeline.Audio{Rate: 16000, Samples: rt.Tone(16000, ms, 300, 0.3)}}
}

// audioBytes decodes the audio deltas of events.
func audioBytes(t *testing.T, evs []realtime.ServerEvent) int {
	n := 0
	for _, e := range evs {
		if d, ok := e.(*realtime.DeltaEvent); ok && strings.HasSuffix(realtime.TypeOf(e), "audio.delta") {
			b, err := base64.StdEncoding.DecodeString(d.Delta)
			require.NoError(t, err)
			n += len(b)
		}
	}
	return n
}

func TestConversationAudioResponseGA(t *testing.T) {
	h := newConversation(t, false, "audio")
	out := h.userText("What is the weather?")
	require.Equal(t, []string{"conversation.item.added", "conversation.item.done"}, types(out.Events))
	item := out.Events[0].(*realtime.ItemEvent).Item.(*realtime.MessageItem)
	assert.Equal(t, "user", item.Role)
	assert.Equal(t, "What is the weather?", *item.Content[0].Text)

	id, start := h.startResponse(nil)
	assert.True(t, start.Audio)
	assert.Equal(t, "alloy", start.Speech.Voice)
	assert.Equal(t, []pipeline.Message{{Role: "system", Content: "Answer briefly."},
		{Role: "user", Content: "What is the weather?"}}, start.Chat.Messages)
	require.NotNil(t, start.Chat.EnableThinking)
	assert.False(t, *start.Chat.EnableThinking)

	out = h.resp(id, realtime.SourceChat, pipeline.TextDelta{Content: "It is sunny.", Reasoning: "think"})
	assert.Equal(t, []string{"response.output_item.added", "conversation.item.added", "response.content_part.added"}, types(out.Events))
	assert.Equal(t, []realtime.SpeakText{{ResponseID: id, Text: "It is sunny."}}, actionsOf[realtime.SpeakText](out))
	out = h.resp(id, realtime.SourceChat, pipeline.TextDelta{Content: " Take a hat."})
	assert.Empty(t, out.Events, "text waits for its audio")
	out = h.resp(id, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop, Usage: pipeline.Usage{PromptTokens: 20, CompletionTokens: 7}})
	assert.Equal(t, []realtime.EndSpeech{{ResponseID: id}}, actionsOf[realtime.EndSpeech](out))

	out = h.resp(id, realtime.SourceSpeech, clause("It is sunny.", 700))
	assert.Equal(t, "response.output_audio_transcript.delta", realtime.TypeOf(out.Events[0]))
	assert.Equal(t, "It is sunny.", out.Events[0].(*realtime.DeltaEvent).Delta)
	assert.Equal(t, 4, countType(out.Events, "response.output_audio.delta"), "700 ms in deltas of at most 200 ms")
	out = h.resp(id, realtime.SourceSpeech, clause("Take a hat.", 500))
	assert.Equal(t, " Take a hat.", out.Events[0].(*realtime.DeltaEvent).Delta)
	out = h.resp(id, realtime.SourceSpeech, pipeline.Done{Finish: pipeline.FinishStop})
	assert.Equal(t, []string{"response.output_audio.delta", "response.output_audio.done", "response.output_audio_transcript.done",
		"response.content_part.done", "response.output_item.done", "conversation.item.done", "response.done"}, types(out.Events))
	assert.Equal(t, []realtime.StopResponse{{ResponseID: id}}, actionsOf[realtime.StopResponse](out))
	assert.InDelta(t, 1200*24*2, audioBytes(t, h.events), 48, "1.2 s at 24 kHz PCM16")

	done := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "completed", done.Status)
	assert.Equal(t, 27, done.Usage.TotalTokens)
	assert.Equal(t, 20, done.Usage.InputTokens)
	require.Len(t, done.Output, 1)
	msg := done.Output[0].(*realtime.MessageItem)
	assert.Equal(t, "It is sunny. Take a hat.", *msg.Content[0].Transcript)
	assert.Equal(t, "output_audio", msg.Content[0].Type)

	// The next response reads the answer back.
	h.userText("And tomorrow?")
	_, start = h.startResponse(nil)
	assert.Equal(t, []pipeline.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: "What is the weather?"},
		{Role: "assistant", Content: "It is sunny. Take a hat."}, {Role: "user", Content: "And tomorrow?"}}, start.Chat.Messages)
}

func TestConversationBetaNames(t *testing.T) {
	h := newConversation(t, true, "text", "audio")
	assert.Equal(t, realtime.Beta, h.m.Dialect())
	out := h.userText("Hi")
	require.Equal(t, []string{"conversation.item.created"}, types(out.Events))
	id, start := h.startResponse(map[string]any{"voice": "tone", "temperature": 0.7})
	assert.Equal(t, "tone", start.Speech.Voice)
	require.NotNil(t, start.Chat.Sampling.Temperature)
	assert.Equal(t, 0.7, *start.Chat.Sampling.Temperature)
	h.resp(id, realtime.SourceChat, pipeline.TextDelta{Content: "Hello."})
	h.resp(id, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
	h.resp(id, realtime.SourceSpeech, clause("Hello.", 300))
	h.resp(id, realtime.SourceSpeech, pipeline.Done{Finish: pipeline.FinishStop})
	for _, typ := range []string{"response.audio.delta", "response.audio_transcript.delta", "response.audio.done",
		"response.audio_transcript.done", "response.done"} {
		assert.Positive(t, countType(h.events, typ), typ)
	}
	for _, e := range h.events {
		assert.NotContains(t, realtime.TypeOf(e), "output_audio", "beta names only")
		assert.NotEqual(t, "conversation.item.added", realtime.TypeOf(e))
	}
}

func TestConversationTextOnly(t *testing.T) {
	for _, beta := range []bool{false, true} {
		t.Run(fmt.Sprint("beta=", beta), func(t *testing.T) {
			h := newConversation(t, beta, "text")
			h.userText("Count to two.")
			id, start := h.startResponse(nil)
			assert.False(t, start.Audio)
			out := h.resp(id, realtime.SourceChat, pipeline.TextDelta{Content: "One,"})
			assert.Empty(t, actionsOf[realtime.SpeakText](out))
			h.resp(id, realtime.SourceChat, pipeline.TextDelta{Content: " two."})
			out = h.resp(id, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
			textDone := "response.output_text.done"
			if beta {
				textDone = "response.text.done"
			}
			assert.Equal(t, textDone, realtime.TypeOf(out.Events[0]))
			assert.Equal(t, "One, two.", out.Events[0].(*realtime.TextDoneEvent).Text)
			assert.Equal(t, "response.done", realtime.TypeOf(out.Events[len(out.Events)-1]))
			assert.Zero(t, audioBytes(t, h.events))
		})
	}
}

func TestResponseCreateAndCancelErrors(t *testing.T) {
	h := newConversation(t, false, "audio")
	code, _, id := errorCode(t, h.send(map[string]any{"type": "response.cancel", "event_id": "c0"}))
	assert.Equal(t, realtime.CodeCancelNotActive, code)
	assert.Equal(t, "c0", id)

	h.userText("Hello")
	rid, _ := h.startResponse(nil)
	code, _, _ = errorCode(t, h.send(map[string]any{"type": "response.create"}))
	assert.Equal(t, realtime.CodeActiveResponse, code)
	code, _, _ = errorCode(t, h.send(map[string]any{"type": "response.cancel", "response_id": "resp_other"}))
	assert.Equal(t, realtime.CodeCancelNotActive, code)

	out := h.send(map[string]any{"type": "response.cancel"})
	require.Equal(t, []string{"response.done"}, types(out.Events))
	done := out.Events[0].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "cancelled", done.Status)
	assert.Equal(t, &realtime.StatusDetails{Type: "cancelled", Reason: "client_cancelled"}, done.StatusDetails)
	assert.Equal(t, []realtime.StopResponse{{ResponseID: rid}}, actionsOf[realtime.StopResponse](out))
	// Events of the cancelled response's tasks are dropped.
	assert.Empty(t, h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "late"}).Events)
	code, _, _ = errorCode(t, h.send(map[string]any{"type": "response.cancel"}))
	assert.Equal(t, realtime.CodeCancelNotActive, code)

	// Cancelling after output began closes the item as incomplete.
	rid, _ = h.startResponse(nil)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "Partly said."})
	h.resp(rid, realtime.SourceSpeech, clause("Partly said.", 300))
	out = h.send(map[string]any{"type": "response.cancel"})
	assert.Equal(t, []string{"response.output_audio.done", "response.output_audio_transcript.done", "response.content_part.done",
		"response.output_item.done", "conversation.item.done", "response.done"}, types(out.Events))
	item := out.Events[3].(*realtime.OutputItemEvent).Item.(*realtime.MessageItem)
	assert.Equal(t, "incomplete", item.Status)
}

func TestResponseFailure(t *testing.T) {
	h := newConversation(t, false, "audio")
	h.userText("Hello")
	rid, _ := h.startResponse(nil)
	out := h.take(h.m.ResponseFailed(rid, &pipeline.Error{Kind: pipeline.KindOverloaded, Message: "the server is at capacity"}))
	require.Equal(t, []string{"error", "response.done"}, types(out.Events))
	assert.Equal(t, "rate_limit_exceeded", *out.Events[0].(*realtime.ErrorEvent).Error.Code)
	done := out.Events[1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "failed", done.Status)
	assert.Equal(t, "rate_limit_exceeded", done.StatusDetails.Error.Code)
	// A new response may start.
	h.startResponse(nil)
}

func TestResponseMaxOutputTokens(t *testing.T) {
	h := newConversation(t, false, "text")
	h.userText("Talk.")
	rid, start := h.startResponse(map[string]any{"max_output_tokens": 3})
	assert.Equal(t, 3, start.Chat.MaxTokens)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "a b c"})
	out := h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishLength})
	done := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "incomplete", done.Status)
	assert.Equal(t, "max_output_tokens", done.StatusDetails.Reason)
	assert.Equal(t, 3, done.MaxOutputTokens)

	_, start = h.startResponse(map[string]any{"max_output_tokens": "inf"})
	assert.Zero(t, start.Chat.MaxTokens)
	out = h.send(map[string]any{"type": "response.cancel"})
	assert.Equal(t, []string{"response.done"}, types(out.Events))
}

// A server_vad turn is committed, its response is created at once and
// starts once the turn's transcript is known.
func TestAutoResponseWaitsForTranscript(t *testing.T) {
	h := newConversation(t, false, "audio")
	for _, f := range rt.Frames(rt.PCM16(rt.Utterances(24000, 1, 300, 500, 700)), 960) {
		h.appendAudio(f)
	}
	var committed string
	for _, e := range h.events {
		if c, ok := e.(*realtime.CommittedEvent); ok {
			committed = c.ItemID
		}
	}
	require.NotEmpty(t, committed)
	require.Equal(t, 1, countType(h.events, "response.created"))
	for _, a := range h.actions {
		_, ok := a.(realtime.StartResponse)
		require.False(t, ok, "the response must wait for the transcript")
	}
	out := h.engine(pipeline.TranscriptDone{ItemID: committed, Transcript: pipeline.Transcript{Text: "hello there"}})
	require.Equal(t, []string{"conversation.item.input_audio_transcription.delta",
		"conversation.item.input_audio_transcription.completed"}, types(out.Events))
	starts := actionsOf[realtime.StartResponse](out)
	require.Len(t, starts, 1)
	assert.Equal(t, "hello there", starts[0].Chat.Messages[len(starts[0].Chat.Messages)-1].Content)

	// With create_response off, turns get no response.
	h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"audio": map[string]any{"input": map[string]any{"turn_detection": map[string]any{"type": "server_vad", "create_response": false}}}}})
	h.send(map[string]any{"type": "response.cancel"})
	n := countType(h.events, "response.created")
	for _, f := range rt.Frames(rt.PCM16(rt.Utterances(24000, 1, 300, 500, 700)), 960) {
		h.appendAudio(f)
	}
	assert.Equal(t, n, countType(h.events, "response.created"))
}

// Speech that starts while a response runs cancels it (interrupt_response).
func TestBargeInCancelsResponse(t *testing.T) {
	h := newConversation(t, false, "audio")
	h.userText("Tell me a story.")
	rid, _ := h.startResponse(nil)
	h.m.ChatStarted(rid, 12)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "Once upon a time.", Tokens: 5})
	h.resp(rid, realtime.SourceSpeech, clause("Once upon a time.", 400))
	var out realtime.Output
	for _, f := range rt.Frames(rt.PCM16(append(rt.Silence(24000, 200), rt.Tone(24000, 300, 440, 0.5)...)), 960) {
		o := h.appendAudio(f)
		out.Events = append(out.Events, o.Events...)
		out.Actions = append(out.Actions, o.Actions...)
	}
	typs := types(out.Events)
	require.Contains(t, typs, "input_audio_buffer.speech_started")
	require.Equal(t, "response.done", typs[len(typs)-1])
	done := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "cancelled", done.Status)
	assert.Equal(t, "turn_detected", done.StatusDetails.Reason)
	require.NotNil(t, done.Usage, "a cancelled response reports what it used")
	assert.Equal(t, 12, done.Usage.InputTokens)
	assert.Equal(t, 5, done.Usage.OutputTokens)
	assert.Equal(t, 17, done.Usage.TotalTokens)
	assert.Equal(t, []realtime.StopResponse{{ResponseID: rid}}, actionsOf[realtime.StopResponse](out))
}

// With interrupt_response off, speech during a response starts a turn but
// leaves the response running to its end.
func TestNoInterruptKeepsResponse(t *testing.T) {
	h := newConversation(t, false, "audio")
	out := h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"audio": map[string]any{"input": map[string]any{"turn_detection": map[string]any{
			"type": "server_vad", "interrupt_response": false, "create_response": false}}}}})
	require.Equal(t, []string{"session.updated"}, types(out.Events))
	h.userText("Tell me a story.")
	rid, _ := h.startResponse(nil)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "Once upon a time."})
	h.resp(rid, realtime.SourceSpeech, clause("Once upon a time.", 400))
	var all realtime.Output
	for _, f := range rt.Frames(rt.PCM16(append(rt.Silence(24000, 200), rt.Tone(24000, 300, 440, 0.5)...)), 960) {
		o := h.appendAudio(f)
		all.Events = append(all.Events, o.Events...)
		all.Actions = append(all.Actions, o.Actions...)
	}
	typs := types(all.Events)
	require.Contains(t, typs, "input_audio_buffer.speech_started")
	assert.NotContains(t, typs, "response.done", "the response is not interrupted")
	assert.Empty(t, actionsOf[realtime.StopResponse](all))

	h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
	out = h.resp(rid, realtime.SourceSpeech, pipeline.Done{})
	typs = types(out.Events)
	require.Equal(t, "response.done", typs[len(typs)-1])
	done := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, "completed", done.Status)
}

// Truncation keeps the heard part of the transcript for later responses.
func TestTruncateTrimsTranscript(t *testing.T) {
	h := newConversation(t, false, "audio")
	h.userText("Tell me two things.")
	rid, _ := h.startResponse(nil)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "First thing here. Second thing is long."})
	h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
	h.resp(rid, realtime.SourceSpeech, clause("First thing here.", 1000))
	h.resp(rid, realtime.SourceSpeech, clause("Second thing is long.", 1000))
	out := h.resp(rid, realtime.SourceSpeech, pipeline.Done{Finish: pipeline.FinishStop})
	item := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA).Output[0].(*realtime.MessageItem)

	bad := []struct {
		ev   map[string]any
		code string
	}{
		{map[string]any{"item_id": "nope", "content_index": 0, "audio_end_ms": 10}, realtime.CodeItemNotFound},
		{map[string]any{"item_id": item.ID, "content_index": 1, "audio_end_ms": 10}, realtime.CodeInvalidValue},
		{map[string]any{"item_id": item.ID, "content_index": 0, "audio_end_ms": 2500}, realtime.CodeTruncateBeyondEnd},
		{map[string]any{"item_id": item.ID, "content_index": 0}, realtime.CodeMissingParameter},
	}
	for _, b := range bad {
		b.ev["type"] = "conversation.item.truncate"
		code, _, _ := errorCode(t, h.send(b.ev))
		assert.Equal(t, b.code, code, "%v", b.ev)
	}
	var userItem string
	for _, e := range h.events {
		if ie, ok := e.(*realtime.ItemEvent); ok {
			userItem = ie.Item.(*realtime.MessageItem).ID
			break
		}
	}
	code, _, _ := errorCode(t, h.send(map[string]any{"type": "conversation.item.truncate", "item_id": userItem, "content_index": 0, "audio_end_ms": 0}))
	assert.Equal(t, realtime.CodeTruncateNotAudio, code)

	out = h.send(map[string]any{"type": "conversation.item.truncate", "item_id": item.ID, "content_index": 0, "audio_end_ms": 1500})
	require.Equal(t, []string{"conversation.item.truncated"}, types(out.Events))
	out = h.send(map[string]any{"type": "conversation.item.retrieve", "item_id": item.ID})
	require.Equal(t, []string{"conversation.item.retrieved"}, types(out.Events))
	got := out.Events[0].(*realtime.RetrievedEvent).Item.(*realtime.MessageItem)
	assert.Equal(t, "First thing here. Second thing", *got.Content[0].Transcript, "half of the second clause's words were heard")

	h.userText("What else?")
	_, start := h.startResponse(nil)
	assert.Contains(t, start.Chat.Messages, pipeline.Message{Role: "assistant", Content: "First thing here. Second thing"})
}

func TestItemDeleteAndRetrieve(t *testing.T) {
	h := newConversation(t, false, "audio")
	out := h.userText("one")
	first := out.Events[0].(*realtime.ItemEvent).Item.(*realtime.MessageItem).ID
	h.userText("two")
	for _, typ := range []string{"conversation.item.delete", "conversation.item.retrieve"} {
		code, param, id := errorCode(t, h.send(map[string]any{"type": typ, "item_id": "missing", "event_id": "e9"}))
		assert.Equal(t, realtime.CodeItemNotFound, code)
		assert.Equal(t, "item_id", param)
		assert.Equal(t, "e9", id)
	}
	out = h.send(map[string]any{"type": "conversation.item.delete", "item_id": first})
	require.Equal(t, []string{"conversation.item.deleted"}, types(out.Events))
	_, start := h.startResponse(nil)
	assert.Equal(t, []pipeline.Message{{Role: "system", Content: "Answer briefly."}, {Role: "user", Content: "two"}}, start.Chat.Messages)

	// Items can be placed first, and ids chosen by the client are kept.
	h.send(map[string]any{"type": "response.cancel"})
	out = h.send(map[string]any{"type": "conversation.item.create", "previous_item_id": "root", "item": map[string]any{
		"id": "item_mine", "type": "message", "role": "system", "content": []map[string]any{{"type": "input_text", "text": "Be kind."}}}})
	require.Equal(t, "item_mine", out.Events[0].(*realtime.ItemEvent).Item.(*realtime.MessageItem).ID)
	assert.Nil(t, out.Events[0].(*realtime.ItemEvent).PreviousItemID)
	code, _, _ := errorCode(t, h.send(map[string]any{"type": "conversation.item.create", "item": map[string]any{
		"id": "item_mine", "type": "message", "role": "user", "content": []map[string]any{{"type": "input_text", "text": "x"}}}}))
	assert.Equal(t, realtime.CodeInvalidValue, code)
	code, _, _ = errorCode(t, h.send(map[string]any{"type": "conversation.item.create", "previous_item_id": "gone", "item": map[string]any{
		"type": "message", "role": "user", "content": []map[string]any{{"type": "input_text", "text": "x"}}}}))
	assert.Equal(t, realtime.CodeItemNotFound, code)
}

func TestFunctionCalls(t *testing.T) {
	h := newConversation(t, false, "audio")
	h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"tools": []map[string]any{{"type": "function", "name": "get_weather", "parameters": map[string]any{"type": "object"}}}}})
	h.userText("Weather in Paris?")
	rid, start := h.startResponse(nil)
	require.Len(t, start.Chat.Tools, 1)
	assert.Equal(t, "get_weather", start.Chat.Tools[0].Name)
	out := h.resp(rid, realtime.SourceChat, pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, ID: "call_1", Name: "get_weather"}}})
	assert.Equal(t, []string{"response.output_item.added", "conversation.item.added"}, types(out.Events))
	out = h.resp(rid, realtime.SourceChat, pipeline.TextDelta{ToolCalls: []pipeline.ToolCallDelta{{Index: 0, Arguments: `{"city":"Paris"}`}}})
	assert.Equal(t, []string{"response.function_call_arguments.delta"}, types(out.Events))
	h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishToolCalls})
	out = h.resp(rid, realtime.SourceSpeech, pipeline.Done{Finish: pipeline.FinishStop})
	assert.Equal(t, []string{"response.function_call_arguments.done", "response.output_item.done", "conversation.item.done", "response.done"}, types(out.Events))
	call := out.Events[1].(*realtime.OutputItemEvent).Item.(*realtime.FunctionCallItem)
	assert.Equal(t, `{"city":"Paris"}`, call.Arguments)

	h.send(map[string]any{"type": "conversation.item.create", "item": map[string]any{
		"type": "function_call_output", "call_id": "call_1", "output": `{"sky":"clear"}`}})
	_, start = h.startResponse(nil)
	n := len(start.Chat.Messages)
	assert.Equal(t, pipeline.Message{Role: "assistant", ToolCalls: []pipeline.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}, start.Chat.Messages[n-2])
	assert.Equal(t, pipeline.Message{Role: "tool", ToolCallID: "call_1", Content: `{"sky":"clear"}`}, start.Chat.Messages[n-1])
}

func TestOutOfBandResponse(t *testing.T) {
	h := newConversation(t, false, "text")
	h.userText("Keep this.")
	rid, start := h.startResponse(map[string]any{"conversation": "none", "metadata": map[string]any{"topic": "x"},
		"input": []map[string]any{{"type": "message", "role": "user", "content": []map[string]any{{"type": "input_text", "text": "Classify."}}}}})
	assert.Equal(t, "Classify.", start.Chat.Messages[len(start.Chat.Messages)-1].Content)
	h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "ok"})
	out := h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
	assert.Equal(t, 1, countType(h.events, "conversation.item.added"), "only the user item was added")
	done := out.Events[len(out.Events)-1].(*realtime.ResponseEvent).Response.(*realtime.ResponseGA)
	assert.Equal(t, map[string]string{"topic": "x"}, done.Metadata)
	assert.Empty(t, done.ConversationID)
	_, start = h.startResponse(nil)
	assert.Equal(t, "Keep this.", start.Chat.Messages[len(start.Chat.Messages)-1].Content, "the out-of-band answer is not in the conversation")
}

func TestConversationBounds(t *testing.T) {
	h := newHarness(t, realtime.Options{Model: "m", MaxItems: 3, Voices: []string{"alloy"}})
	var deleted int
	for i := 0; i < 5; i++ {
		out := h.userText(fmt.Sprint("message ", i))
		deleted += countType(out.Events, "conversation.item.deleted")
	}
	assert.Equal(t, 2, deleted)
	_, start := h.startResponse(nil)
	require.Len(t, start.Chat.Messages, 3)
	assert.Equal(t, "message 2", start.Chat.Messages[0].Content)
	h.send(map[string]any{"type": "response.cancel"})

	for _, c := range []struct{ msg, code, param string }{
		{`{"type":"session.update","session":{"type":"realtime","audio":{"output":{"voice":"nobody"}}}}`, realtime.CodeInvalidValue, "session.audio.output.voice"},
		{`{"type":"session.update","session":{"type":"realtime","audio":{"output":{"voice":{"id":"voice_123"}}}}}`, "voice_cloning_unavailable", "session.audio.output.voice"},
		{`{"type":"session.update","session":{"type":"realtime","output_modalities":["video"]}}`, realtime.CodeInvalidValue, "session.output_modalities"},
		{`{"type":"session.update","session":{"type":"realtime","max_output_tokens":0}}`, realtime.CodeInvalidValue, "session.max_output_tokens"},
		{`{"type":"session.update","session":{"type":"realtime","tools":[{"type":"mcp","name":"x"}]}}`, realtime.CodeInvalidValue, "session.tools[0].type"},
		{`{"type":"response.create","response":{"voice":"nobody"}}`, realtime.CodeInvalidValue, "response.voice"},
		{`{"type":"response.create","response":{"conversation":"conv_123"}}`, realtime.CodeInvalidValue, "response.conversation"},
		{`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image"}]}}`, realtime.CodeUnsupportedContent, "item.content[0].type"},
		{`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_audio","audio":"AAAA"}]}}`, realtime.CodeUnsupportedContent, "item.content[0].transcript"},
		{`{"type":"conversation.item.create","item":{"type":"message","role":"robot","content":[]}}`, realtime.CodeInvalidValue, "item.role"},
		{`{"type":"conversation.item.create"}`, realtime.CodeMissingParameter, "item"},
		{`{"type":"output_audio_buffer.clear"}`, realtime.CodeUnsupportedEvent, "type"},
		{`{"type":"session.update","session":{"type":"transcription"}}`, realtime.CodeSessionTypeChange, "session.type"},
	} {
		code, param, _ := errorCode(t, h.take(h.m.Client([]byte(c.msg))))
		assert.Equal(t, c.code, code, c.msg)
		assert.Equal(t, c.param, param, c.msg)
	}
}

func TestTranscriptionSessionStaysOne(t *testing.T) {
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	code, param, _ := errorCode(t, h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime"}}))
	assert.Equal(t, realtime.CodeSessionTypeChange, code)
	assert.Equal(t, "session.type", param)
	code, _, _ = errorCode(t, h.send(map[string]any{"type": "conversation.item.create", "item": map[string]any{
		"type": "message", "role": "user", "content": []map[string]any{{"type": "input_text", "text": "x"}}}}))
	assert.Equal(t, realtime.CodeUnsupported, code)
}

// Output formats: G.711 at 8 kHz and PCM at another declared rate.
func TestOutputFormats(t *testing.T) {
	for _, c := range []struct {
		format        map[string]any
		bytesPerMs    int
		betaName      string
		wantBytesHalf int
	}{
		{map[string]any{"type": "audio/pcmu"}, 8, "g711_ulaw", 4000},
		{map[string]any{"type": "audio/pcma"}, 8, "g711_alaw", 4000},
		{map[string]any{"type": "audio/pcm", "rate": 16000}, 32, "pcm16", 16000},
	} {
		t.Run(c.betaName+fmt.Sprint(c.bytesPerMs), func(t *testing.T) {
			h := newConversation(t, false, "audio")
			h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
				"audio": map[string]any{"output": map[string]any{"format": c.format}}}})
			h.userText("x")
			rid, _ := h.startResponse(nil)
			h.resp(rid, realtime.SourceChat, pipeline.TextDelta{Content: "Yes."})
			h.resp(rid, realtime.SourceChat, pipeline.Done{Finish: pipeline.FinishStop})
			h.resp(rid, realtime.SourceSpeech, clause("Yes.", 500))
			h.resp(rid, realtime.SourceSpeech, pipeline.Done{Finish: pipeline.FinishStop})
			assert.InDelta(t, c.wantBytesHalf, audioBytes(t, h.events), float64(c.bytesPerMs))
		})
	}
}

// With the transcription member null, no input transcription events are
// sent, yet the LLM still reads the recognized turn.
func TestTranscriptionEventsOff(t *testing.T) {
	h := newConversation(t, false, "audio")
	out := h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"audio": map[string]any{"input": map[string]any{"transcription": nil}}}})
	assert.Nil(t, out.Events[0].(*realtime.SessionEvent).Session.(*realtime.RealtimeSessionGA).Audio.Input.Transcription)
	for _, f := range rt.Frames(rt.PCM16(rt.Utterances(24000, 1, 300, 500, 700)), 960) {
		h.appendAudio(f)
	}
	var committed string
	for _, e := range h.events {
		if c, ok := e.(*realtime.CommittedEvent); ok {
			committed = c.ItemID
		}
	}
	h.engine(pipeline.TranscriptDelta{ItemID: committed, Text: "good"})
	out = h.engine(pipeline.TranscriptDone{ItemID: committed, Transcript: pipeline.Transcript{Text: "good morning"}})
	assert.Empty(t, out.Events)
	starts := actionsOf[realtime.StartResponse](out)
	require.Len(t, starts, 1)
	assert.Equal(t, "good morning", starts[0].Chat.Messages[len(starts[0].Chat.Messages)-1].Content)
	// A later update without the member leaves them off; a transcription
	// object turns them on.
	out = h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime", "instructions": "x"}})
	assert.Nil(t, out.Events[0].(*realtime.SessionEvent).Session.(*realtime.RealtimeSessionGA).Audio.Input.Transcription)
	out = h.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"audio": map[string]any{"input": map[string]any{"transcription": map[string]any{"model": "whisper-1"}}}}})
	assert.NotNil(t, out.Events[0].(*realtime.SessionEvent).Session.(*realtime.RealtimeSessionGA).Audio.Input.Transcription)
}

// Cloned voices are refused clearly wherever a voice is named, and with
// RefAudio (TTS_REF_AUDIO) a session that names no voice cannot be
// answered with audio until it names a built-in one.
func TestConversationClonedVoices(t *testing.T) {
	for _, c := range []struct{ msg, param string }{
		{`{"type":"session.update","session":{"type":"realtime","audio":{"output":{"voice":"voice_123"}}}}`, "session.audio.output.voice"},
		{`{"type":"session.update","session":{"type":"realtime","audio":{"output":{"voice":"ref:/srv/me.wav"}}}}`, "session.audio.output.voice"},
		{`{"type":"response.create","response":{"voice":"clone:me"}}`, "response.voice"},
		{`{"type":"response.create","response":{"audio":{"output":{"voice":"/tmp/me.wav"}}}}`, "response.voice"},
	} {
		h := newConversation(t, false, "audio")
		out := h.take(h.m.Client([]byte(c.msg)))
		code, param, _ := errorCode(t, out)
		assert.Equal(t, "voice_cloning_unavailable", code, c.msg)
		assert.Equal(t, c.param, param, c.msg)
		assert.Contains(t, errorMessage(out), "alloy, tone", "the message names the built-in voices")
	}

	for _, beta := range []bool{false, true} {
		h := newHarness(t, realtime.Options{Model: "gpt-realtime", Beta: beta, Voices: []string{"alloy", "tone"}, RefAudio: true})
		h.userText("Hello?")
		out := h.send(map[string]any{"type": "response.create"})
		code, param, _ := errorCode(t, out)
		assert.Equal(t, "voice_cloning_unavailable", code)
		want := "session.audio.output.voice"
		if beta {
			want = "session.voice"
		}
		assert.Equal(t, want, param)
		assert.Contains(t, errorMessage(out), "TTS_REF_AUDIO")
		assert.Zero(t, countType(h.events, "response.created"), "no response starts")

		// Text needs no voice; a built-in voice named per response or for
		// the session is spoken.
		rid, _ := h.startResponse(map[string]any{"modalities": []string{"text"}, "output_modalities": []string{"text"}})
		h.send(map[string]any{"type": "response.cancel", "response_id": rid})
		rid, start := h.startResponse(map[string]any{"voice": "tone"})
		assert.Equal(t, "tone", start.Speech.Voice)
		h.send(map[string]any{"type": "response.cancel", "response_id": rid})
		session := map[string]any{"type": "realtime", "audio": map[string]any{"output": map[string]any{"voice": "alloy"}}}
		if beta {
			session = map[string]any{"voice": "alloy"}
		}
		h.send(map[string]any{"type": "session.update", "session": session})
		_, start = h.startResponse(nil)
		assert.Equal(t, "alloy", start.Speech.Voice)
	}
}

// A transcription language the recognizer lacks is refused with
// unsupported_language, naming the member in the connection's dialect,
// and the update changes nothing; "en", regional variants and no language
// are accepted.
func TestSessionLanguage(t *testing.T) {
	ga := func(lang string) map[string]any {
		return map[string]any{"type": "session.update", "event_id": "ev_1", "session": map[string]any{"type": "transcription",
			"audio": map[string]any{"input": map[string]any{"transcription": map[string]any{"model": "whisper-1", "language": lang},
				"turn_detection": nil}}}}
	}
	beta := func(lang string) map[string]any {
		return map[string]any{"type": "transcription_session.update", "event_id": "ev_1", "session": map[string]any{
			"input_audio_transcription": map[string]any{"model": "whisper-1", "language": lang}, "turn_detection": nil}}
	}
	conv := func(lang string) map[string]any {
		return map[string]any{"type": "session.update", "event_id": "ev_1", "session": map[string]any{
			"input_audio_transcription": map[string]any{"model": "whisper-1", "language": lang}}}
	}
	for _, c := range []struct {
		name   string
		opts   realtime.Options
		update func(string) map[string]any
		param  string
	}{
		{"ga", realtime.Options{Intent: "transcription", Languages: []string{"en"}}, ga, "session.audio.input.transcription.language"},
		{"beta", realtime.Options{Intent: "transcription", Beta: true, Languages: []string{"en"}}, beta, "session.input_audio_transcription.language"},
		{"beta conversation", realtime.Options{Model: "m", Beta: true, Languages: []string{"en"}}, conv, "session.input_audio_transcription.language"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.opts)
			for _, lang := range []string{"fr", "de-DE", "english"} {
				out := h.send(c.update(lang))
				code, param, eventID := errorCode(t, out)
				assert.Equal(t, pipeline.CodeUnsupportedLanguage, code, lang)
				assert.Equal(t, c.param, param, lang)
				assert.Equal(t, "ev_1", eventID)
				assert.Contains(t, errorMessage(out), "'en'", lang)
				assert.Empty(t, actionsOf[realtime.Configure](out), "a refused update changes nothing")
			}
			for _, lang := range []string{"en", "en-US", "EN_gb", ""} {
				out := h.send(c.update(lang))
				assert.Zero(t, countType(out.Events, "error"), "%q: %v", lang, types(out.Events))
			}
			// The recognizer's options follow the accepted update.
			cfg := actionsOf[realtime.Configure](h.send(c.update("en-GB")))
			require.Len(t, cfg, 1)
			assert.Equal(t, "en-GB", cfg[0].Options.Language)
		})
	}
	// Without a list, any language passes to the recognizer.
	h := newHarness(t, realtime.Options{Intent: "transcription"})
	cfg := actionsOf[realtime.Configure](h.send(ga("fr")))
	require.Len(t, cfg, 1)
	assert.Equal(t, "fr", cfg[0].Options.Language)
}

// errorMessage is the message of the one error event of out.
func errorMessage(out realtime.Output) string {
	if len(out.Events) != 1 {
		return ""
	}
	if e, ok := out.Events[0].(*realtime.ErrorEvent); ok {
		return e.Error.Message
	}
	return ""
}
