package realtime

import (
	"fmt"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/audioapi"
	"github.com/ominix/ominix-api/transport/openai"
)

// Dialect is the flavour of the Realtime protocol a connection speaks.
type Dialect int

// Dialects. GA names items conversation.item.added / .done and configures
// sessions with session.update {type, audio: {input: …}}; Beta names them
// conversation.item.created and configures transcription with
// transcription_session.update and flat members.
const (
	GA Dialect = iota
	Beta
)

func (d Dialect) String() string {
	if d == Beta {
		return "beta"
	}
	return "ga"
}

// Options configure a Machine. Zero values give the defaults named.
type Options struct {
	// Intent is the connection's ?intent= query parameter: "transcription"
	// starts a transcription session. Empty means a ?model= connection,
	// which starts as a conversation session (type "realtime") until a
	// session.update sets type "transcription".
	Intent string
	// Model is the ?model= query parameter, reported in conversation
	// sessions.
	Model string
	// Beta is set when the client sent "OpenAI-Beta: realtime=v1": the
	// session.created event uses the beta dialect. The first client event
	// that exists in only one dialect then fixes the dialect for good
	// (transcription_session.update: beta; session.update with
	// session.type: GA).
	Beta bool
	// TranscriptionModel is reported as the transcription model until the
	// client names one. Empty means "whisper-1".
	TranscriptionModel string
	// MaxBufferSeconds bounds the uncommitted audio of manual-commit mode
	// (turn_detection null); appends beyond it fail with
	// input_audio_buffer_full. Zero means 300 seconds.
	MaxBufferSeconds float64
	// MaxTurnSeconds bounds one server_vad turn; a longer one is committed
	// (speech_stopped, committed) and the next turn starts when speech
	// goes on. Zero means 60 seconds.
	MaxTurnSeconds float64
	// NewID makes unique ids with the given prefix. Nil means
	// pipeline.NewID (random).
	NewID func(prefix string) string
	// Now tells the time for expires_at. Nil means time.Now.
	Now func() time.Time
	// SessionLifetime is reported through expires_at. Zero means 30 minutes.
	SessionLifetime time.Duration
	// Voices are the voices the synthesizer accepts; session.update and
	// response.create naming another fail with invalid_value. Empty
	// accepts any voice (an unknown one then fails the response).
	Voices []string
	// MaxItems bounds a conversation's items; adding one more deletes the
	// oldest (conversation.item.deleted). Zero means 512.
	MaxItems int
	// Languages are the ISO-639-1 codes the recognizer understands (see
	// pipeline.CheckLanguage); an update naming another transcription
	// language fails with unsupported_language and changes nothing.
	// Empty accepts any language.
	Languages []string
	// RefAudio is set when the server is configured with reference audio
	// for a cloned voice (TTS_REF_AUDIO) but no engine can clone voices:
	// as on POST /v1/audio/speech, a conversation that names no voice asks
	// for the cloned one, so its audio responses fail with
	// voice_cloning_unavailable until session.update or response.create
	// names a built-in voice.
	RefAudio bool
}

func (o Options) withDefaults() Options {
	if o.TranscriptionModel == "" {
		o.TranscriptionModel = "whisper-1"
	}
	if o.MaxBufferSeconds <= 0 {
		o.MaxBufferSeconds = 300
	}
	if o.MaxTurnSeconds <= 0 {
		o.MaxTurnSeconds = 60
	}
	if o.NewID == nil {
		o.NewID = pipeline.NewID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = 30 * time.Minute
	}
	if o.MaxItems <= 0 {
		o.MaxItems = 512
	}
	return o
}

// Action is work the Machine asks its driver to do on the recognizer.
// Actions come in order and must be applied in order.
type Action interface{ action() }

// Configure sets the recognizer options for the items that begin after it;
// an item already begun keeps the options it started with.
type Configure struct {
	Options pipeline.TranscribeOptions
}

// BeginItem starts the utterance ItemID: the Append actions that follow
// carry its audio, mono float32 at Rate Hz, until its Commit.
type BeginItem struct {
	ItemID string
	Rate   int
}

// Append is audio of the current item, at the rate its BeginItem named.
// The driver owns Samples.
type Append struct {
	Samples []float32
}

// Commit ends the item: the recognizer finishes it and reports its final
// transcript. A Commit of a discarded item (Discard set) asks for the
// same, but the Machine drops its transcript.
type Commit struct {
	ItemID  string
	Discard bool
}

func (Configure) action() {}
func (BeginItem) action() {}
func (Append) action()    {}
func (Commit) action()    {}

// Output is what one input to the Machine produced: events to send, in
// order, and actions for the driver, in order.
type Output struct {
	Events  []ServerEvent
	Actions []Action
}

// item is a user audio item: open (receiving audio), committed (waiting
// for its transcript) or discarded (cleared before commit).
type item struct {
	id        string
	samples   int // input samples pushed
	rate      int
	committed bool
	discarded bool
	deltas    audioapi.Deltas
}

// Machine is the protocol state of one Realtime connection: client event
// bytes and recognizer events go in, server events and recognizer actions
// come out. It does no I/O and starts no goroutines, so the protocol is
// tested without a socket; Serve drives it over a WebSocket. A Machine is
// not safe for concurrent use: one goroutine feeds it.
//
// Transcription sessions recognize each committed turn. Conversation
// sessions (session.type "realtime") also keep the conversation's items
// and run responses: the Machine asks for the LLM and synthesis tasks
// with StartResponse, SpeakText, EndSpeech and StopResponse actions and
// turns their events (ResponseEvent) into response events.
type Machine struct {
	opts    Options
	dialect Dialect
	decided bool
	id      string
	created time.Time
	stype   string
	format  InputFormat
	trans   Transcription
	turn    *TurnDetectionGA
	noise   *NoiseReduction
	include []string
	in      input
	open    *item
	prev    string
	items   map[string]*item
	// lastOpts are the recognizer options last sent in a Configure.
	lastOpts   pipeline.TranscribeOptions
	configured bool

	// Conversation sessions.
	cc          convConfig
	conv        conversation
	convID      string
	active      *response
	autoPending bool // a turn was committed while a response ran
}

// NewMachine returns the state of a new connection. Call Start first.
func NewMachine(opts Options) *Machine {
	o := opts.withDefaults()
	m := &Machine{
		opts:    o,
		id:      o.NewID("sess_"),
		created: o.Now(),
		stype:   SessionRealtime,
		format:  InputFormat{Type: FormatPCM, Rate: defaultInputRate},
		trans:   Transcription{Model: o.TranscriptionModel},
		turn: &TurnDetectionGA{Type: TurnServerVAD, Threshold: defaultVADThreshold,
			PrefixPaddingMs: defaultVADPrefixPaddingMs, SilenceDurationMs: defaultVADSilenceMs},
		items:  map[string]*item{},
		cc:     defaultConvConfig(),
		convID: o.NewID("conv_"),
	}
	if o.Intent == SessionTranscription {
		m.stype = SessionTranscription
	}
	if o.Beta {
		m.dialect = Beta
	}
	m.resetInput()
	return m
}

// ID is the session id reported to the client.
func (m *Machine) ID() string { return m.id }

// Dialect is the dialect the connection speaks (so far).
func (m *Machine) Dialect() Dialect { return m.dialect }

// SessionType is "transcription" or "realtime".
func (m *Machine) SessionType() string { return m.stype }

// Start returns the session.created (or transcription_session.created)
// event and the initial recognizer configuration.
func (m *Machine) Start() Output {
	var out Output
	typ := EventSessionCreated
	if m.dialect == Beta && m.stype == SessionTranscription {
		typ = EventTranscriptionSessionCreated
	}
	m.emit(&out, &SessionEvent{Header: Header{Type: typ}, Session: m.sessionObject(typ)})
	m.configure(&out)
	return out
}

// Client handles one text message from the client.
func (m *Machine) Client(data []byte) Output {
	ev, perr := ParseClientEvent(data)
	if perr != nil {
		var out Output
		m.protocolError(&out, perr)
		return out
	}
	return m.Handle(ev)
}

// Handle handles one decoded client event.
func (m *Machine) Handle(ev ClientEvent) Output {
	var out Output
	m.decideDialect(ev)
	switch {
	case ev.Type == EventSessionUpdate || ev.Type == EventTranscriptionSessionUpdate:
		m.sessionUpdate(&out, ev)
	case conversationEvents[ev.Type] && m.stype != SessionRealtime:
		m.unsupported(&out, ev)
	case conversationEvents[ev.Type]:
		m.conversationEvent(&out, ev)
	case ev.Type == EventInputAudioBufferAppend:
		m.appendAudio(&out, ev)
	case ev.Type == EventInputAudioBufferCommit:
		m.commit(&out, ev)
	case ev.Type == EventInputAudioBufferClear:
		m.clear(&out)
	}
	return out
}

// Binary answers a binary WebSocket message, which the protocol does not
// use, with an error event.
func (m *Machine) Binary() Output {
	var out Output
	m.protocolError(&out, protoErr(CodeInvalidEvent, "", "Binary messages are not part of the Realtime protocol; send JSON text events (audio goes base64-encoded in input_audio_buffer.append)."))
	return out
}

// decideDialect lets the first dialect-specific client event fix the
// dialect.
func (m *Machine) decideDialect(ev ClientEvent) {
	if m.decided {
		return
	}
	switch {
	case ev.Type == EventTranscriptionSessionUpdate:
		m.dialect, m.decided = Beta, true
	case ev.Type == EventSessionUpdate && ev.Session != nil:
		m.dialect = GA
		if ev.Session.Beta {
			m.dialect = Beta
		}
		m.decided = true
	}
}

func (m *Machine) unsupported(out *Output, ev ClientEvent) {
	msg := "This connection is a transcription session; '" + ev.Type + "' belongs to conversation sessions (connect with /v1/realtime?model=… for those)."
	m.protocolError(out, &ProtocolError{Code: CodeUnsupported, Param: "type", Message: msg, EventID: ev.EventID})
}

// sessionUpdate applies session.update or transcription_session.update.
// A conversation session may become a transcription session while its
// conversation is empty; a transcription session stays one.
func (m *Machine) sessionUpdate(out *Output, ev ClientEvent) {
	u := ev.Session
	fail := func(code, param, msg string) {
		m.protocolError(out, &ProtocolError{Code: code, Param: param, EventID: ev.EventID, Message: msg})
	}
	switch {
	case u.Type == SessionRealtime && m.stype == SessionTranscription:
		fail(CodeSessionTypeChange, "session.type", "This connection is a transcription session and cannot become a conversation session; open /v1/realtime?model=… for conversations.")
		return
	case u.Type == SessionTranscription && m.stype == SessionRealtime && (m.active != nil || len(m.conv.items) > 0):
		fail(CodeSessionTypeChange, "session.type", "This conversation session already holds a conversation and cannot become a transcription session.")
		return
	}
	if perr := m.checkLanguage(u); perr != nil {
		perr.EventID = ev.EventID
		m.protocolError(out, perr)
		return
	}
	if u.Type == SessionRealtime {
		if perr := m.checkRealtime(u.Realtime); perr != nil {
			perr.EventID = ev.EventID
			m.protocolError(out, perr)
			return
		}
		m.applyRealtime(u)
	}
	if u.Type == SessionTranscription {
		m.stype = SessionTranscription
	}
	m.apply(out, u)
	typ := EventSessionUpdated
	if ev.Type == EventTranscriptionSessionUpdate {
		typ = EventTranscriptionSessionUpdated
	}
	m.emit(out, &SessionEvent{Header: Header{Type: typ}, Session: m.sessionObject(typ)})
}

// checkLanguage refuses a transcription language the recognizer lacks,
// before anything of the update is applied.
func (m *Machine) checkLanguage(u *SessionUpdate) *ProtocolError {
	if u.Transcription == nil {
		return nil
	}
	param := "session.audio.input.transcription.language"
	if u.Beta {
		param = "session.input_audio_transcription.language"
	}
	err := pipeline.CheckLanguage(m.opts.Languages, param, u.Transcription.Language)
	if err == nil {
		return nil
	}
	pe := pipeline.AsError(err)
	return &ProtocolError{Code: pe.Code, Param: pe.Param, Message: pe.Message}
}

// apply changes the configuration. A change of input format or turn
// detection ends the open item first (committed when it holds at least
// 100 ms of audio, dropped otherwise), since one item has one format and
// one way of ending.
func (m *Machine) apply(out *Output, u *SessionUpdate) {
	formatChanged := u.Format != nil && *u.Format != m.format
	turnChanged := u.TurnDetectionSet && !sameTurn(m.turn, u.TurnDetection)
	if formatChanged || turnChanged {
		m.closeOpen(out)
		m.in.advanceClock()
		if formatChanged {
			m.format = *u.Format
		}
		if turnChanged {
			m.turn = u.TurnDetection
		}
		m.resetInput()
	}
	if u.Transcription != nil {
		m.trans = *u.Transcription
		if m.trans.Model == "" {
			m.trans.Model = m.opts.TranscriptionModel
		}
	}
	if u.NoiseReductionSet {
		m.noise = u.NoiseReduction
	}
	if u.Include != nil {
		m.include = u.Include
	}
	m.configure(out)
}

func sameTurn(a, b *TurnDetectionGA) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// configure emits a Configure action when the recognizer options changed
// (always on the first call).
func (m *Machine) configure(out *Output) {
	o := pipeline.TranscribeOptions{Language: m.trans.Language, Prompt: m.trans.Prompt}
	if m.configured && o == m.lastOpts {
		return
	}
	m.configured, m.lastOpts = true, o
	out.Actions = append(out.Actions, Configure{Options: o})
}

func (m *Machine) appendAudio(out *Output, ev ClientEvent) {
	samples := m.in.decode(m.format, ev.Audio)
	if len(samples) == 0 {
		return
	}
	if m.turn == nil {
		m.appendManual(out, samples, ev.EventID)
		return
	}
	m.in.turns.Feed(samples, turnSink{m: m, out: out})
}

func (m *Machine) appendManual(out *Output, samples []float32, eventID string) {
	limit := int(m.opts.MaxBufferSeconds * float64(m.format.Rate))
	held := 0
	if m.open != nil {
		held = m.open.samples
	}
	if held+len(samples) > limit {
		m.protocolError(out, &ProtocolError{Code: CodeBufferFull, Param: "audio", EventID: eventID,
			Message: fmt.Sprintf("The input audio buffer holds %.1f s of uncommitted audio; this server keeps at most %.0f s. Commit or clear it.",
				float64(held)/float64(m.format.Rate), m.opts.MaxBufferSeconds)})
		return
	}
	if m.open == nil {
		m.beginItem(out)
	}
	m.push(out, samples)
	m.in.manualSamples += int64(len(samples))
}

// push appends owned samples to the open item, merging with a preceding
// Append action.
func (m *Machine) push(out *Output, s []float32) {
	m.open.samples += len(s)
	if n := len(out.Actions); n > 0 {
		if a, ok := out.Actions[n-1].(Append); ok {
			out.Actions[n-1] = Append{Samples: append(a.Samples, s...)}
			return
		}
	}
	out.Actions = append(out.Actions, Append{Samples: s})
}

func (m *Machine) beginItem(out *Output) *item {
	it := &item{id: m.opts.NewID("item_"), rate: m.format.Rate}
	m.items[it.id] = it
	m.open = it
	out.Actions = append(out.Actions, BeginItem{ItemID: it.id, Rate: it.rate})
	return it
}

func (m *Machine) commit(out *Output, ev ClientEvent) {
	if m.turn != nil {
		if m.open != nil && m.in.turns.End(turnSink{m: m, out: out}) {
			return
		}
		m.protocolError(out, &ProtocolError{Code: CodeCommitEmpty, EventID: ev.EventID,
			Message: "Error committing input audio buffer: no speech is in progress (server_vad commits each turn itself), so the buffer holds 0.00ms of speech. Expected at least 100ms of audio."})
		return
	}
	ms := 0.0
	if m.open != nil {
		ms = float64(m.open.samples) * 1000 / float64(m.open.rate)
	}
	if ms < minCommitMs {
		m.protocolError(out, &ProtocolError{Code: CodeCommitEmpty, EventID: ev.EventID,
			Message: fmt.Sprintf("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has %.2fms of audio.", ms)})
		return
	}
	m.commitOpen(out)
}

// commitOpen commits the open item and announces it.
func (m *Machine) commitOpen(out *Output) {
	it := m.open
	m.open = nil
	it.committed = true
	out.Actions = append(out.Actions, Commit{ItemID: it.id})
	if m.stype == SessionRealtime {
		m.emit(out, &CommittedEvent{Header: Header{Type: EventInputAudioBufferCommitted},
			PreviousItemID: strPtr(m.conv.last()), ItemID: it.id})
		m.userTurn(out, it.id, m.turn != nil)
		return
	}
	prev := strPtr(m.prev)
	m.prev = it.id
	m.emit(out, &CommittedEvent{Header: Header{Type: EventInputAudioBufferCommitted}, PreviousItemID: prev, ItemID: it.id})
	body := &MessageItem{ID: it.id, Object: objectItem, Type: itemMessage, Status: statusCompleted, Role: roleUser,
		Content: []ItemContent{{Type: contentInputAudio}}}
	if m.dialect == Beta {
		m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemCreated}, PreviousItemID: prev, Item: body})
		return
	}
	m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemAdded}, PreviousItemID: prev, Item: body})
	m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemDone}, PreviousItemID: prev, Item: body})
}

// closeOpen ends the open item before a configuration change: a server_vad
// turn in progress stops, a manual buffer of at least 100 ms is committed,
// anything shorter is dropped.
func (m *Machine) closeOpen(out *Output) {
	if m.open == nil {
		return
	}
	if m.turn != nil && m.in.turns.End(turnSink{m: m, out: out}) {
		return
	}
	if m.open.samples*1000 >= minCommitMs*m.open.rate {
		m.commitOpen(out)
		return
	}
	m.discardOpen(out)
}

func (m *Machine) discardOpen(out *Output) {
	it := m.open
	m.open = nil
	it.discarded = true
	out.Actions = append(out.Actions, Commit{ItemID: it.id, Discard: true})
}

func (m *Machine) clear(out *Output) {
	if m.open != nil {
		m.discardOpen(out)
	}
	m.in.clear()
	m.emit(out, &ClearedEvent{Header: Header{Type: EventInputAudioBufferCleared}})
}

// Engine handles an event of the recognizer: a partial hypothesis becomes
// append-only deltas (see audioapi.Deltas), a final transcript the last
// delta and the completed event. Events of discarded or unknown items
// are dropped. Failed events go to Failed instead.
func (m *Machine) Engine(ev pipeline.Event) Output {
	var out Output
	switch e := ev.(type) {
	case pipeline.TranscriptDelta:
		it := m.items[e.ItemID]
		if it == nil || it.discarded {
			return out
		}
		if d := it.deltas.Hypothesis(e.Text); d != "" && m.transcriptEvents() {
			m.delta(&out, it.id, d)
		}
	case pipeline.TranscriptDone:
		it := m.items[e.ItemID]
		if it == nil {
			return out
		}
		delete(m.items, e.ItemID)
		if it.discarded {
			return out
		}
		if m.transcriptEvents() {
			m.completed(&out, it, e)
		}
		m.transcribed(&out, it.id, e.Text)
	}
	return out
}

// transcriptEvents reports whether input transcription events are sent.
func (m *Machine) transcriptEvents() bool { return m.stype == SessionTranscription || m.cc.transcripts }

func (m *Machine) completed(out *Output, it *item, e pipeline.TranscriptDone) {
	if d := it.deltas.Final(e.Text); d != "" {
		m.delta(out, it.id, d)
	}
	secs := e.Usage.InputAudioSeconds
	if secs == 0 {
		secs = e.Duration
	}
	m.emit(out, &TranscriptionCompletedEvent{Header: Header{Type: EventInputAudioTranscriptionDone},
		ItemID: it.id, ContentIndex: 0, Transcript: e.Text, Usage: Usage{Type: usageTypeDuration, Seconds: secs}})
}

func (m *Machine) delta(out *Output, itemID, d string) {
	m.emit(out, &TranscriptionDeltaEvent{Header: Header{Type: EventInputAudioTranscriptionDelta},
		ItemID: itemID, ContentIndex: 0, Delta: d})
}

// Failed reports that the recognizer running items stopped with err: each
// of those items still waiting for a transcript gets a
// conversation.item.input_audio_transcription.failed event. An open item
// among them is dropped (a server_vad turn in progress is forgotten); the
// next audio starts a new item.
func (m *Machine) Failed(err error, itemIDs []string) Output {
	var out Output
	e := openai.NewError(err)
	for _, id := range itemIDs {
		it := m.items[id]
		if it == nil {
			continue
		}
		delete(m.items, id)
		if m.open == it {
			m.open = nil
			m.in.clear()
		}
		if it.discarded {
			continue
		}
		fd := FailureDetail{Type: e.Type, Message: e.Message}
		if e.Code != nil {
			fd.Code = *e.Code
		}
		m.emit(&out, &TranscriptionFailedEvent{Header: Header{Type: EventInputAudioTranscriptionFailed},
			ItemID: id, ContentIndex: 0, Error: fd})
		m.transcribed(&out, id, "")
	}
	return out
}

// Error reports a failure to act on a client event (eventID, when known)
// as an error event: a *pipeline.Error keeps its message and code, other
// errors show a generic message.
func (m *Machine) Error(err error, eventID string) Output {
	var out Output
	e := openai.NewError(err)
	d := ErrorDetail{Type: e.Type, Code: e.Code, Message: e.Message, Param: e.Param, EventID: strPtr(eventID)}
	m.emit(&out, &ErrorEvent{Header: Header{Type: EventError}, Error: d})
	return out
}

func (m *Machine) protocolError(out *Output, perr *ProtocolError) {
	d := ErrorDetail{Type: errorTypeInvalidRequest, Code: strPtr(perr.Code), Message: perr.Message,
		Param: strPtr(perr.Param), EventID: strPtr(perr.EventID)}
	m.emit(out, &ErrorEvent{Header: Header{Type: EventError}, Error: d})
}

// emit gives ev a fresh event id and queues it.
func (m *Machine) emit(out *Output, ev ServerEvent) {
	ev.header().EventID = m.opts.NewID("event_")
	out.Events = append(out.Events, ev)
}
