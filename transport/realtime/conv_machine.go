package realtime

import (
	"fmt"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/audioapi"
)

// convConfig is a conversation session's configuration.
type convConfig struct {
	// modalities as the client set them; nil means the dialect's default
	// (GA ["audio"], beta ["text", "audio"]).
	modalities   []string
	instructions string
	voice        string
	voiceSet     bool // the client named the voice (not the default)
	speed        float64
	format       InputFormat // output audio
	maxTokens    int         // 0: "inf"
	temperature  *float64
	create       bool // turn_detection.create_response
	interrupt    bool // turn_detection.interrupt_response
	// transcripts: send input transcription events (the turns are
	// recognized either way, for the LLM).
	transcripts bool
	tools       []pipeline.Tool
	toolChoice  pipeline.ToolChoice
}

func defaultConvConfig() convConfig {
	return convConfig{voice: "alloy", speed: 1, format: InputFormat{Type: FormatPCM, Rate: defaultInputRate},
		create: true, interrupt: true, transcripts: true, toolChoice: pipeline.ToolChoice{Mode: "auto"}}
}

func (m *Machine) modalities() []string {
	switch {
	case m.cc.modalities != nil:
		return m.cc.modalities
	case m.dialect == Beta:
		return []string{"text", "audio"}
	}
	return []string{"audio"}
}

// validVoice checks a voice against Options.Voices (ignoring case); any
// voice passes when the list is empty. A name that asks for a cloned
// voice (see audioapi.CloneVoice: "voice_…", "ref:…", a path to audio)
// fails with voice_cloning_unavailable, as on the HTTP endpoints.
func (m *Machine) validVoice(param, voice string) *ProtocolError {
	if audioapi.CloneVoice(voice) {
		return protoErr(audioapi.CodeVoiceCloning, param,
			"Voice '%s' asks for a cloned voice, and no voice-cloning TTS engine is loaded; use a built-in voice%s.", clip(voice, 64), m.voiceList())
	}
	if len(m.opts.Voices) == 0 {
		return nil
	}
	for _, v := range m.opts.Voices {
		if strings.EqualFold(v, voice) {
			return nil
		}
	}
	return protoErr(CodeInvalidValue, param, "Unknown voice '%s'. Supported voices: %s.", clip(voice, 64), strings.Join(m.opts.Voices, ", "))
}

// voiceList is ": a, b, …" of Options.Voices, or "" when unknown.
func (m *Machine) voiceList() string {
	if len(m.opts.Voices) == 0 {
		return ""
	}
	return ": " + strings.Join(m.opts.Voices, ", ")
}

// voiceParam names the session's voice member in the connection's dialect.
func (m *Machine) voiceParam() string {
	if m.dialect == Beta {
		return "session.voice"
	}
	return "session.audio.output.voice"
}

// checkRealtime validates what applyRealtime cannot reject later, so a
// failed update changes nothing.
func (m *Machine) checkRealtime(u *RealtimeUpdate) *ProtocolError {
	if u == nil || u.Voice == nil {
		return nil
	}
	return m.validVoice(m.voiceParam(), *u.Voice)
}

// applyRealtime changes the conversation settings of a session.update.
func (m *Machine) applyRealtime(su *SessionUpdate) {
	u := su.Realtime
	if u == nil {
		return
	}
	c := &m.cc
	switch {
	case u.TranscriptionOff:
		c.transcripts = false
	case su.Transcription != nil:
		c.transcripts = true
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if u.Modalities != nil {
		c.modalities = u.Modalities
	}
	set(&c.instructions, u.Instructions)
	set(&c.voice, u.Voice)
	c.voiceSet = c.voiceSet || u.Voice != nil
	if u.OutputFormat != nil {
		c.format = *u.OutputFormat
	}
	if u.Speed != nil {
		c.speed = *u.Speed
	}
	if u.MaxOutputTokens != nil {
		c.maxTokens = *u.MaxOutputTokens
	}
	if u.Temperature != nil {
		c.temperature = u.Temperature
	}
	if u.CreateResponse != nil {
		c.create = *u.CreateResponse
	}
	if u.InterruptResponse != nil {
		c.interrupt = *u.InterruptResponse
	}
	if u.Tools != nil {
		c.tools = *u.Tools
	}
	if u.ToolChoice != nil {
		c.toolChoice = *u.ToolChoice
	}
}

// conversationEvent handles the client events of conversation sessions.
func (m *Machine) conversationEvent(out *Output, ev ClientEvent) {
	switch ev.Type {
	case EventConversationItemCreate:
		m.createItem(out, ev)
	case EventConversationItemDelete:
		m.deleteItem(out, ev)
	case EventConversationItemRetrieve:
		if it := m.findItem(out, ev, "item_id", ev.ItemID); it != nil {
			m.emit(out, &RetrievedEvent{Header: Header{Type: EventConversationItemRetrieved}, Item: it.wire()})
		}
	case EventConversationItemTruncate:
		m.truncate(out, ev)
	case EventResponseCreate:
		m.createResponse(out, ev.Response, ev.EventID)
	case EventResponseCancel:
		m.cancel(out, ev)
	case EventOutputAudioBufferClear:
		m.protocolError(out, &ProtocolError{Code: CodeUnsupportedEvent, Param: "type", EventID: ev.EventID,
			Message: "output_audio_buffer.clear belongs to WebRTC connections; over a WebSocket the client plays the audio, so it stops its own playback and sends conversation.item.truncate with what was heard."})
	}
}

func (m *Machine) findItem(out *Output, ev ClientEvent, param, id string) *convItem {
	it := m.conv.get(id)
	if it == nil {
		m.protocolError(out, &ProtocolError{Code: CodeItemNotFound, Param: param, EventID: ev.EventID,
			Message: fmt.Sprintf("Item with item_id not found: %s.", clip(id, 64))})
	}
	return it
}

func (m *Machine) createItem(out *Output, ev ClientEvent) {
	p := ev.Item
	id := p.ID
	if id == "" {
		id = m.opts.NewID("item_")
	} else if m.conv.get(id) != nil {
		m.protocolError(out, &ProtocolError{Code: CodeInvalidValue, Param: "item.id", EventID: ev.EventID,
			Message: fmt.Sprintf("The conversation already holds an item with id %s.", clip(id, 64))})
		return
	}
	if ev.PreviousItemID != "" && ev.PreviousItemID != "root" && m.conv.get(ev.PreviousItemID) == nil {
		m.findItem(out, ev, "previous_item_id", ev.PreviousItemID)
		return
	}
	m.addItem(out, itemFrom(p, id), ev.PreviousItemID)
}

// addItem inserts it after the item after ("" appends) and announces it:
// conversation.item.added (GA; also .done unless it is in progress) or
// conversation.item.created (beta). Beyond Options.MaxItems the oldest
// items are deleted (conversation.item.deleted).
func (m *Machine) addItem(out *Output, it *convItem, after string) {
	prev, _ := m.conv.insert(it, after)
	if m.dialect == Beta {
		m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemCreated}, PreviousItemID: strPtr(prev), Item: it.wire()})
	} else {
		m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemAdded}, PreviousItemID: strPtr(prev), Item: it.wire()})
		if it.status != statusInProgress {
			m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemDone}, PreviousItemID: strPtr(prev), Item: it.wire()})
		}
	}
	for len(m.conv.items) > m.opts.MaxItems {
		old := m.conv.items[0]
		m.conv.remove(old.id)
		m.forgetItem(old)
		m.emit(out, &DeletedEvent{Header: Header{Type: EventConversationItemDeleted}, ItemID: old.id})
	}
}

// before returns the id of the item before id in the conversation.
func (m *Machine) before(id string) string {
	if i := m.conv.index(id); i > 0 {
		return m.conv.items[i-1].id
	}
	return ""
}

// forgetItem drops what refers to a deleted item: a transcript still
// being recognized for it is not reported.
func (m *Machine) forgetItem(it *convItem) {
	if rec := m.items[it.id]; rec != nil {
		rec.discarded = true
	}
	it.pending = false
}

func (m *Machine) deleteItem(out *Output, ev ClientEvent) {
	it := m.findItem(out, ev, "item_id", ev.ItemID)
	if it == nil {
		return
	}
	if r := m.active; r != nil && r.index(it) >= 0 {
		m.protocolError(out, &ProtocolError{Code: CodeItemInProgress, Param: "item_id", EventID: ev.EventID,
			Message: fmt.Sprintf("Item %s is being written by response %s; cancel the response (response.cancel) before deleting it.", it.id, r.id)})
		return
	}
	m.conv.remove(it.id)
	m.forgetItem(it)
	m.emit(out, &DeletedEvent{Header: Header{Type: EventConversationItemDeleted}, ItemID: it.id})
	m.maybeStart(out)
}

// truncate cuts an assistant audio item at audio_end_ms (what the client
// played): the audio after it is forgotten and the transcript keeps only
// the words heard (see heard), so later responses read only that. An item
// the active response is still writing is first cancelled.
func (m *Machine) truncate(out *Output, ev ClientEvent) {
	it := m.findItem(out, ev, "item_id", ev.ItemID)
	if it == nil {
		return
	}
	fail := func(code, param, format string, args ...any) {
		m.protocolError(out, &ProtocolError{Code: code, Param: param, EventID: ev.EventID, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case it.typ != itemMessage || it.role != roleAssistant || len(it.parts) == 0 || !it.parts[0].isAudio():
		fail(CodeTruncateNotAudio, "item_id", "Only assistant messages with audio can be truncated; item %s is not one.", it.id)
		return
	case ev.ContentIndex != 0:
		fail(CodeInvalidValue, "content_index", "Item %s has one content part; content_index must be 0.", it.id)
		return
	case float64(ev.AudioEndMs) > it.audioMs+1:
		fail(CodeTruncateBeyondEnd, "audio_end_ms", "Item %s holds %.0f ms of audio, which is shorter than audio_end_ms %d ms.", it.id, it.audioMs, ev.AudioEndMs)
		return
	}
	if r := m.active; r != nil && r.msg == it {
		m.cancelResponse(out, reasonClientCancelled)
	}
	cut := min(float64(ev.AudioEndMs), it.audioMs)
	it.parts[0].transcript, it.spoken = heard(it.spoken, cut)
	it.audioMs = cut
	m.emit(out, &TruncatedEvent{Header: Header{Type: EventConversationItemTruncated}, ItemID: it.id,
		ContentIndex: 0, AudioEndMs: ev.AudioEndMs})
}

func (m *Machine) cancel(out *Output, ev ClientEvent) {
	r := m.active
	if r == nil || (ev.ResponseID != "" && ev.ResponseID != r.id) {
		msg := "Cancellation failed: no active response found."
		if ev.ResponseID != "" {
			msg = fmt.Sprintf("Cancellation failed: response %s is not active.", clip(ev.ResponseID, 64))
		}
		m.protocolError(out, &ProtocolError{Code: CodeCancelNotActive, EventID: ev.EventID, Message: msg})
		return
	}
	m.cancelResponse(out, reasonClientCancelled)
}

// bargeIn cancels the active response when the person starts speaking
// (speech_started) and interrupt_response is on.
func (m *Machine) bargeIn(out *Output) {
	if m.stype == SessionRealtime && m.cc.interrupt && m.active != nil {
		m.cancelResponse(out, reasonTurnDetected)
	}
}

// userTurn adds a committed user turn to the conversation (it waits for
// its transcript) and, under server_vad with create_response, asks for
// the automatic response: at once, or when the active one ends.
func (m *Machine) userTurn(out *Output, id string, vad bool) {
	it := &convItem{id: id, typ: itemMessage, role: roleUser, status: statusCompleted, pending: true,
		parts: []convPart{{typ: contentInputAudio}}}
	m.addItem(out, it, "")
	if !vad || !m.cc.create {
		return
	}
	if m.active != nil {
		m.autoPending = true
		return
	}
	m.createResponse(out, nil, "")
}

// transcribed records a user turn's transcript ("" when recognition
// failed) and starts a response that waited for it.
func (m *Machine) transcribed(out *Output, id, text string) {
	it := m.conv.get(id)
	if it == nil || !it.pending {
		return
	}
	it.pending = false
	it.parts[0].transcript, it.parts[0].hasTranscript = text, true
	m.maybeStart(out)
}
