package realtime

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/audioapi"
	"github.com/ominix/ominix-api/transport/openai"
)

// Source names the task of a response an engine event comes from.
type Source int

// Sources of response events.
const (
	SourceChat   Source = iota // the LLM generation
	SourceSpeech               // the synthesis of its text
)

// StartResponse asks the driver to run a response: the LLM on Chat (its
// messages may be trimmed from the oldest non-system message on, so the
// prompt leaves room for the answer), and, when Audio is set, a synthesis
// task with Speech that SpeakText actions feed. The tasks' events come
// back through Machine.ResponseEvent; a task that cannot start is
// reported with Machine.ResponseFailed.
type StartResponse struct {
	ResponseID string
	Chat       pipeline.ChatRequest
	Audio      bool
	Speech     pipeline.SpeechOptions
}

// SpeakText is LLM text for the response's synthesis (Synthesis.Push).
type SpeakText struct {
	ResponseID string
	Text       string
}

// EndSpeech ends the response's synthesis after the text pushed so far
// (Synthesis.Close).
type EndSpeech struct {
	ResponseID string
}

// StopResponse ends the response's tasks: those still running are
// cancelled (they stop at their next step) and their later events are
// dropped.
type StopResponse struct {
	ResponseID string
}

func (StartResponse) action() {}
func (SpeakText) action()     {}
func (EndSpeech) action()     {}
func (StopResponse) action()  {}

// respConfig is a response's configuration: the session's, overridden by
// response.create's members.
type respConfig struct {
	modalities   []string
	audio        bool
	instructions string
	voice        string
	speed        float64
	format       InputFormat
	maxTokens    int // 0: up to the context
	temperature  *float64
	tools        []pipeline.Tool
	toolChoice   pipeline.ToolChoice
	metadata     map[string]string
	outOfBand    bool // conversation "none": nothing joins the conversation
}

// response is one response in progress (the Machine holds at most one).
type response struct {
	id      string
	cfg     respConfig
	input   []*convItem // response.input; nil: the conversation
	waiting bool        // created, waiting for user transcripts
	started bool

	chatDone, speechDone bool
	finish               pipeline.FinishReason
	usage                pipeline.Usage

	outputs []*convItem // output items by output_index
	msg     *convItem   // the message item, once opened
	text    strings.Builder
	tools   map[int]*convItem // function calls by the LLM's tool call index
	out     audioOut
}

func (r *response) index(it *convItem) int {
	for i, o := range r.outputs {
		if o == it {
			return i
		}
	}
	return -1
}

// name picks the event name of the connection's dialect.
func (m *Machine) name(ga, beta string) string {
	if m.dialect == Beta {
		return beta
	}
	return ga
}

// responseConfig resolves a response's configuration.
func (m *Machine) responseConfig(p *ResponseParams) respConfig {
	c := respConfig{modalities: m.modalities(), instructions: m.cc.instructions, voice: m.cc.voice,
		speed: m.cc.speed, format: m.cc.format, maxTokens: m.cc.maxTokens, temperature: m.cc.temperature,
		tools: m.cc.tools, toolChoice: m.cc.toolChoice}
	if p != nil {
		if p.Modalities != nil {
			c.modalities = p.Modalities
		}
		if p.Instructions != nil {
			c.instructions = *p.Instructions
		}
		if p.Voice != nil {
			c.voice = *p.Voice
		}
		if p.OutputFormat != nil {
			c.format = *p.OutputFormat
		}
		if p.MaxOutputTokens != nil {
			c.maxTokens = *p.MaxOutputTokens
		}
		if p.Temperature != nil {
			c.temperature = p.Temperature
		}
		if p.Tools != nil {
			c.tools = *p.Tools
		}
		if p.ToolChoice != nil {
			c.toolChoice = *p.ToolChoice
		}
		c.metadata = p.Metadata
		c.outOfBand = p.Conversation == "none"
	}
	c.audio = contains(c.modalities, "audio")
	return c
}

// createResponse answers response.create (and starts the automatic
// response of a committed turn, p nil): response.created at once; the
// LLM starts as soon as no user turn before it waits for its transcript.
func (m *Machine) createResponse(out *Output, p *ResponseParams, eventID string) {
	if m.active != nil {
		m.protocolError(out, &ProtocolError{Code: CodeActiveResponse, EventID: eventID,
			Message: fmt.Sprintf("Conversation already has an active response in progress: %s. Wait until the response is finished (response.done) or cancel it (response.cancel) before creating a new one.", m.active.id)})
		return
	}
	if perr := m.checkVoice(p); perr != nil {
		perr.EventID = eventID
		m.protocolError(out, perr)
		return
	}
	r := &response{id: m.opts.NewID("resp_"), cfg: m.responseConfig(p), tools: map[int]*convItem{}}
	r.out.format = r.cfg.format
	if p != nil && p.InputSet {
		input, perr := m.resolveInput(p.Input)
		if perr != nil {
			perr.EventID = eventID
			m.protocolError(out, perr)
			return
		}
		r.input = input
	}
	m.active = r
	m.emit(out, &ResponseEvent{Header: Header{Type: EventResponseCreated}, Response: m.responseObject(r, statusInProgress, nil)})
	r.waiting = true
	m.maybeStart(out)
}

// checkVoice validates response.voice; with none given, a response that
// would speak in the session's default voice while Options.RefAudio asks
// for a cloned one fails as POST /v1/audio/speech does without a voice.
func (m *Machine) checkVoice(p *ResponseParams) *ProtocolError {
	if p != nil && p.Voice != nil {
		return m.validVoice("response.voice", *p.Voice)
	}
	if !m.opts.RefAudio || m.cc.voiceSet || !m.responseConfig(p).audio {
		return nil
	}
	return protoErr(audioapi.CodeVoiceCloning, m.voiceParam(),
		"This server is configured with reference audio for a cloned voice (TTS_REF_AUDIO), and no voice-cloning TTS engine is loaded, so a session that names no voice cannot be answered with audio. Name a built-in voice%s in session.update or response.create, or ask for text only.",
		m.voiceList())
}

// resolveInput builds the items of response.input; references name items
// of the conversation.
func (m *Machine) resolveInput(ps []ItemParams) ([]*convItem, *ProtocolError) {
	items := make([]*convItem, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		if p.Type == "item_reference" {
			it := m.conv.get(p.ID)
			if it == nil {
				return nil, protoErr(CodeItemNotFound, fmt.Sprintf("response.input[%d].id", i), "Item with item_id not found: %s.", clip(p.ID, 64))
			}
			items = append(items, it)
			continue
		}
		items = append(items, itemFrom(p, p.ID))
	}
	return items, nil
}

// maybeStart starts the waiting response once its input has every
// transcript.
func (m *Machine) maybeStart(out *Output) {
	r := m.active
	if r == nil || !r.waiting {
		return
	}
	items := r.input
	if items == nil {
		items = m.conv.items
	}
	if pendingTranscript(items) {
		return
	}
	r.waiting, r.started = false, true
	var msgs []pipeline.Message
	if s := strings.TrimSpace(r.cfg.instructions); s != "" {
		msgs = append(msgs, pipeline.Message{Role: roleSystem, Content: s})
	}
	msgs = append(msgs, messagesOf(items)...)
	noThinking := false
	req := pipeline.ChatRequest{Model: m.opts.Model, Messages: msgs, MaxTokens: r.cfg.maxTokens,
		Tools: r.cfg.tools, ToolChoice: r.cfg.toolChoice, EnableThinking: &noThinking}
	req.Sampling.Temperature = r.cfg.temperature
	out.Actions = append(out.Actions, StartResponse{ResponseID: r.id, Chat: req, Audio: r.cfg.audio,
		Speech: pipeline.SpeechOptions{Voice: r.cfg.voice, Speed: r.cfg.speed}})
}

// ResponseEvent handles an event of one of a response's tasks: LLM text
// becomes text deltas (text output) or SpeakText actions (audio output;
// reasoning text is never spoken), tool calls become function_call items,
// synthesized clauses become transcript and audio deltas; the tasks' ends
// finish the response. Events of responses that already ended are
// dropped.
func (m *Machine) ResponseEvent(id string, src Source, ev pipeline.Event) Output {
	var out Output
	r := m.active
	if r == nil || r.id != id || !r.started {
		return out
	}
	if err := pipeline.ErrorOf(ev); err != nil {
		m.failResponse(&out, r, err)
		return out
	}
	switch e := ev.(type) {
	case pipeline.TextDelta:
		r.usage.CompletionTokens += e.Tokens
		m.llmText(&out, r, e)
	case pipeline.AudioChunk:
		m.spoken(&out, r, e)
	case pipeline.Done:
		m.taskDone(&out, r, src, e)
	}
	return out
}

// ChatStarted records the prompt size of response id's LLM request, so
// that a response cancelled before its generation ends still reports the
// tokens it used (the generation's own total replaces the count when it
// ends).
func (m *Machine) ChatStarted(id string, promptTokens int) {
	if r := m.active; r != nil && r.id == id {
		r.usage.PromptTokens = promptTokens
	}
}

// ResponseFailed reports that a task of response id could not start or
// take input: the response fails (an error event, then response.done with
// status "failed").
func (m *Machine) ResponseFailed(id string, err error) Output {
	var out Output
	if r := m.active; r != nil && r.id == id {
		m.failResponse(&out, r, err)
	}
	return out
}

func (m *Machine) failResponse(out *Output, r *response, err error) {
	e := openai.NewError(err)
	m.emit(out, &ErrorEvent{Header: Header{Type: EventError}, Error: ErrorDetail{Type: e.Type, Code: e.Code,
		Message: e.Message, Param: e.Param}})
	se := &StatusError{Type: e.Type}
	if e.Code != nil {
		se.Code = *e.Code
	}
	m.finishResponse(out, r, statusFailed, "", se)
}

func (m *Machine) llmText(out *Output, r *response, d pipeline.TextDelta) {
	for _, tc := range d.ToolCalls {
		m.toolCall(out, r, tc)
	}
	if d.Content == "" {
		return
	}
	if r.msg == nil && strings.TrimSpace(d.Content) == "" {
		if r.cfg.audio {
			out.Actions = append(out.Actions, SpeakText{ResponseID: r.id, Text: d.Content})
		}
		return
	}
	m.openMessage(out, r)
	if r.cfg.audio {
		out.Actions = append(out.Actions, SpeakText{ResponseID: r.id, Text: d.Content})
		return
	}
	r.text.WriteString(d.Content)
	r.msg.parts[0].text = r.text.String()
	m.emit(out, &DeltaEvent{Header: Header{Type: m.name(EventOutputTextDelta, EventTextDeltaBeta)},
		ResponseID: r.id, ItemID: r.msg.id, OutputIndex: r.index(r.msg), Delta: d.Content})
}

// openMessage starts the response's assistant message: output_item.added,
// the conversation's item event, content_part.added.
func (m *Machine) openMessage(out *Output, r *response) {
	if r.msg != nil {
		return
	}
	it := &convItem{id: m.opts.NewID("item_"), typ: itemMessage, role: roleAssistant, status: statusInProgress}
	r.msg = it
	m.addOutput(out, r, it)
	part := convPart{typ: contentOutputText}
	wire := ContentPart{Type: partText, Text: ptr("")}
	if r.cfg.audio {
		part = convPart{typ: contentOutputAudio, hasTranscript: true}
		wire = ContentPart{Type: partAudio, Transcript: ptr("")}
	}
	it.parts = []convPart{part}
	m.emit(out, &ContentPartEvent{Header: Header{Type: EventContentPartAdded}, ResponseID: r.id, ItemID: it.id,
		OutputIndex: r.index(it), Part: wire})
}

// addOutput announces a new output item and adds it to the conversation.
func (m *Machine) addOutput(out *Output, r *response, it *convItem) {
	r.outputs = append(r.outputs, it)
	m.emit(out, &OutputItemEvent{Header: Header{Type: EventOutputItemAdded}, ResponseID: r.id,
		OutputIndex: len(r.outputs) - 1, Item: it.wire()})
	if r.cfg.outOfBand {
		return
	}
	m.addItem(out, it, "")
}

func (m *Machine) toolCall(out *Output, r *response, tc pipeline.ToolCallDelta) {
	it := r.tools[tc.Index]
	if it == nil {
		it = &convItem{id: m.opts.NewID("item_"), typ: itemFunctionCall, status: statusInProgress,
			callID: tc.ID, name: tc.Name}
		if it.callID == "" {
			it.callID = m.opts.NewID("call_")
		}
		r.tools[tc.Index] = it
		m.addOutput(out, r, it)
	}
	if tc.Arguments == "" {
		return
	}
	it.arguments += tc.Arguments
	m.emit(out, &ArgumentsDeltaEvent{Header: Header{Type: EventFunctionCallArgumentsDelta}, ResponseID: r.id,
		ItemID: it.id, OutputIndex: r.index(it), CallID: it.callID, Delta: tc.Arguments})
}

// spoken sends a synthesized clause: its text as a transcript delta, then
// its audio in deltas of at most audioDeltaMs. The clause is recorded on
// the item's audio clock for truncation.
func (m *Machine) spoken(out *Output, r *response, c pipeline.AudioChunk) {
	m.openMessage(out, r)
	it := r.msg
	text := strings.TrimSpace(c.Text)
	if text != "" {
		delta := text
		if it.parts[0].transcript != "" {
			delta = " " + text
		}
		it.parts[0].transcript += delta
		m.emit(out, &DeltaEvent{Header: Header{Type: m.name(EventOutputAudioTranscriptDelta, EventAudioTranscriptDeltaBeta)},
			ResponseID: r.id, ItemID: it.id, OutputIndex: r.index(it), Delta: delta})
	}
	ms := c.Audio.Seconds() * 1000
	it.spoken = append(it.spoken, spokenClause{text: text, start: it.audioMs, end: it.audioMs + ms})
	it.audioMs += ms
	m.audioDeltas(out, r, r.out.encode(c.Audio))
}

func (m *Machine) audioDeltas(out *Output, r *response, b []byte) {
	n := r.out.pieceBytes()
	for len(b) > 0 {
		k := min(n, len(b))
		m.emit(out, &DeltaEvent{Header: Header{Type: m.name(EventOutputAudioDelta, EventAudioDeltaBeta)}, ResponseID: r.id,
			ItemID: r.msg.id, OutputIndex: r.index(r.msg), Delta: base64.StdEncoding.EncodeToString(b[:k])})
		b = b[k:]
	}
}

func (m *Machine) taskDone(out *Output, r *response, src Source, d pipeline.Done) {
	if src == SourceSpeech {
		r.speechDone = true
		if r.msg != nil {
			m.audioDeltas(out, r, r.out.flush())
		}
	} else {
		r.chatDone, r.finish, r.usage = true, d.Finish, d.Usage
		if r.cfg.audio {
			out.Actions = append(out.Actions, EndSpeech{ResponseID: r.id})
		}
	}
	if !r.chatDone || (r.cfg.audio && !r.speechDone) {
		return
	}
	if r.finish == pipeline.FinishLength {
		m.finishResponse(out, r, statusIncomplete, reasonMaxOutputTokens, nil)
		return
	}
	m.finishResponse(out, r, statusCompleted, "", nil)
}

// cancelResponse stops the active response at once (barge-in or
// response.cancel): its tasks are cancelled and response.done reports
// status "cancelled" with reason.
func (m *Machine) cancelResponse(out *Output, reason string) {
	if r := m.active; r != nil {
		m.finishResponse(out, r, statusCancelled, reason, nil)
	}
}

// finishResponse closes the response's output items (completed, or
// incomplete unless the response completed), sends response.done and
// stops its tasks. A turn committed while it ran gets its automatic
// response now.
func (m *Machine) finishResponse(out *Output, r *response, status, reason string, serr *StatusError) {
	itemStatus := statusCompleted
	if status != statusCompleted {
		itemStatus = statusIncomplete
	}
	for _, it := range r.outputs {
		m.closeOutput(out, r, it, itemStatus)
	}
	var details *StatusDetails
	if status != statusCompleted {
		details = &StatusDetails{Type: status, Reason: reason, Error: serr}
	}
	m.emit(out, &ResponseEvent{Header: Header{Type: EventResponseDone}, Response: m.responseObject(r, status, details)})
	if r.started {
		out.Actions = append(out.Actions, StopResponse{ResponseID: r.id})
	}
	m.active = nil
	if m.autoPending {
		m.autoPending = false
		m.createResponse(out, nil, "")
	}
}

func (m *Machine) closeOutput(out *Output, r *response, it *convItem, status string) {
	idx := r.index(it)
	if it.typ == itemFunctionCall {
		m.emit(out, &ArgumentsDoneEvent{Header: Header{Type: EventFunctionCallArgumentsDone}, ResponseID: r.id,
			ItemID: it.id, OutputIndex: idx, CallID: it.callID, Name: it.name, Arguments: it.arguments})
	} else {
		p := it.parts[0]
		wire := ContentPart{Type: partText, Text: ptr(p.text)}
		if p.isAudio() {
			wire = ContentPart{Type: partAudio, Transcript: ptr(p.transcript)}
			m.emit(out, &AudioDoneEvent{Header: Header{Type: m.name(EventOutputAudioDone, EventAudioDoneBeta)},
				ResponseID: r.id, ItemID: it.id, OutputIndex: idx})
			m.emit(out, &TranscriptDoneEvent{Header: Header{Type: m.name(EventOutputAudioTranscriptDone, EventAudioTranscriptDoneBeta)},
				ResponseID: r.id, ItemID: it.id, OutputIndex: idx, Transcript: p.transcript})
		} else {
			m.emit(out, &TextDoneEvent{Header: Header{Type: m.name(EventOutputTextDone, EventTextDoneBeta)},
				ResponseID: r.id, ItemID: it.id, OutputIndex: idx, Text: p.text})
		}
		m.emit(out, &ContentPartEvent{Header: Header{Type: EventContentPartDone}, ResponseID: r.id, ItemID: it.id,
			OutputIndex: idx, Part: wire})
	}
	it.status = status
	m.emit(out, &OutputItemEvent{Header: Header{Type: EventOutputItemDone}, ResponseID: r.id, OutputIndex: idx, Item: it.wire()})
	if m.dialect == GA && !r.cfg.outOfBand && m.conv.get(it.id) != nil {
		m.emit(out, &ItemEvent{Header: Header{Type: EventConversationItemDone}, PreviousItemID: strPtr(m.before(it.id)), Item: it.wire()})
	}
}

// responseObject renders r in the connection's dialect.
func (m *Machine) responseObject(r *response, status string, details *StatusDetails) any {
	output := make([]any, 0, len(r.outputs))
	for _, it := range r.outputs {
		output = append(output, it.wire())
	}
	var usage *ResponseUsage
	if status != statusInProgress {
		u := r.usage
		usage = &ResponseUsage{TotalTokens: u.PromptTokens + u.CompletionTokens, InputTokens: u.PromptTokens,
			OutputTokens:       u.CompletionTokens,
			InputTokenDetails:  InputTokenDetails{CachedTokens: u.CachedTokens, TextTokens: u.PromptTokens},
			OutputTokenDetails: OutputTokenDetails{TextTokens: u.CompletionTokens}}
	}
	var maxTokens any = "inf"
	if r.cfg.maxTokens > 0 {
		maxTokens = r.cfg.maxTokens
	}
	if m.dialect == Beta {
		return &ResponseBeta{ID: r.id, Object: objectResponse, Status: status, StatusDetails: details, Output: output,
			ConversationID: m.conversationID(r), Modalities: r.cfg.modalities, Voice: r.cfg.voice,
			OutputAudioFormat: betaFormatName(r.cfg.format), Temperature: r.cfg.temperature, MaxOutputTokens: maxTokens,
			Usage: usage, Metadata: r.cfg.metadata}
	}
	resp := &ResponseGA{ID: r.id, Object: objectResponse, Status: status, StatusDetails: details, Output: output,
		ConversationID: m.conversationID(r), OutputModalities: r.cfg.modalities, MaxOutputTokens: maxTokens,
		Usage: usage, Metadata: r.cfg.metadata}
	if r.cfg.audio {
		resp.Audio = &ResponseAudioGA{Output: ResponseAudioOutputGA{Format: gaFormat(r.cfg.format), Voice: r.cfg.voice}}
	}
	return resp
}

func (m *Machine) conversationID(r *response) string {
	if r.cfg.outOfBand {
		return ""
	}
	return m.convID
}

func gaFormat(f InputFormat) FormatGA {
	g := FormatGA{Type: f.Type}
	if f.Type == FormatPCM {
		g.Rate = f.Rate
	}
	return g
}
