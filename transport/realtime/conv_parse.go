package realtime

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// Bounds on conversation events.
const (
	maxItemIDLen       = 64
	maxItemText        = 256 << 10 // bytes of text in one item (all parts)
	maxContentParts    = 16
	maxInstructionsLen = 64 << 10
	maxVoiceLen        = 256
	maxTools           = 128
	maxToolBytes       = 64 << 10 // description + parameters of one tool
	maxInputItems      = 256
	maxMetadataKeys    = 16
	maxOutputTokensCap = 1 << 20
)

var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ItemParams is the item of conversation.item.create (or of
// response.create's input), validated. Type is "message",
// "function_call", "function_call_output", or "item_reference" (input
// only: ID names an item of the conversation).
type ItemParams struct {
	ID      string
	Type    string
	Role    string
	Content []ContentParams
	// Function call members.
	CallID, Name, Arguments, Output string
}

// ContentParams is one content part of a message item. Type is
// normalized to the GA names (input_text, input_audio, output_text,
// output_audio); audio parts carry their transcript (the audio itself is
// not kept).
type ContentParams struct {
	Type       string
	Text       string
	Transcript string
}

// ResponseParams is response.create's "response" member, in either
// dialect, validated. Nil members take the session's setting.
type ResponseParams struct {
	Modalities      []string
	Instructions    *string
	Voice           *string
	OutputFormat    *InputFormat
	MaxOutputTokens *int // 0 means "inf"
	Temperature     *float64
	// Conversation is "auto" (the response reads and extends the
	// conversation) or "none" (an out-of-band response: nothing is added).
	Conversation string
	// Input, when set, replaces the conversation as the response's input.
	Input    []ItemParams
	InputSet bool
	Metadata map[string]string
	Tools    *[]pipeline.Tool
	// ToolChoice is nil when not given.
	ToolChoice *pipeline.ToolChoice
}

// decodeConversationEvent fills the members of the conversation client
// events.
func (ev *ClientEvent) decodeConversationEvent(m map[string]json.RawMessage) *ProtocolError {
	switch ev.Type {
	case EventConversationItemCreate:
		if raw, ok := m["previous_item_id"]; ok && !isNull(raw) {
			s, perr := decodeString("previous_item_id", raw, maxItemIDLen)
			if perr != nil {
				return perr
			}
			ev.PreviousItemID = s
		}
		it, perr := decodeItem("item", m["item"], false)
		ev.Item = it
		return perr
	case EventConversationItemTruncate:
		var perr *ProtocolError
		if ev.ItemID, perr = requiredString("item_id", m["item_id"]); perr != nil {
			return perr
		}
		if ev.ContentIndex, perr = requiredInt("content_index", m["content_index"]); perr != nil {
			return perr
		}
		var ms int
		ms, perr = requiredInt("audio_end_ms", m["audio_end_ms"])
		ev.AudioEndMs = int64(ms)
		return perr
	case EventConversationItemDelete, EventConversationItemRetrieve:
		var perr *ProtocolError
		ev.ItemID, perr = requiredString("item_id", m["item_id"])
		return perr
	case EventResponseCreate:
		raw, ok := m["response"]
		if !ok || isNull(raw) {
			ev.Response = &ResponseParams{Conversation: "auto"}
			return nil
		}
		r, perr := decodeResponseParams(raw)
		ev.Response = r
		return perr
	case EventResponseCancel:
		if raw, ok := m["response_id"]; ok && !isNull(raw) {
			s, perr := decodeString("response_id", raw, maxItemIDLen)
			ev.ResponseID = s
			return perr
		}
	}
	return nil
}

func requiredString(param string, raw json.RawMessage) (string, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return "", protoErr(CodeMissingParameter, param, "Missing required parameter: '%s'.", param)
	}
	s, perr := decodeString(param, raw, maxItemIDLen)
	if perr == nil && s == "" {
		return "", protoErr(CodeInvalidValue, param, "'%s' is empty.", param)
	}
	return s, perr
}

func decodeString(param string, raw json.RawMessage, limit int) (string, *ProtocolError) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", protoErr(CodeInvalidType, param, "Invalid type for '%s': expected a string.", param)
	}
	if len(s) > limit {
		return "", protoErr(CodeInvalidValue, param, "'%s' is longer than %d bytes.", param, limit)
	}
	return s, nil
}

func requiredInt(param string, raw json.RawMessage) (int, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return 0, protoErr(CodeMissingParameter, param, "Missing required parameter: '%s'.", param)
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected an integer.", param)
	}
	if n < 0 || n > 1<<30 {
		return 0, protoErr(CodeInvalidValue, param, "Invalid '%s': %d is outside 0 to %d.", param, n, 1<<30)
	}
	return n, nil
}

// wireItem is a conversation item as clients send it.
type wireItem struct {
	ID        *string         `json:"id"`
	Type      *string         `json:"type"`
	Role      *string         `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    *string         `json:"call_id"`
	Name      *string         `json:"name"`
	Arguments *string         `json:"arguments"`
	Output    *string         `json:"output"`
}

// decodeItem validates one item at param. References ({"type":
// "item_reference", "id": …}, or an object with only an id) are accepted
// where allowRef is set.
func decodeItem(param string, raw json.RawMessage, allowRef bool) (*ItemParams, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, protoErr(CodeMissingParameter, param, "Missing required parameter: '%s'.", param)
	}
	if !isObject(raw) {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected an object.", param)
	}
	var w wireItem
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, typeError(param, err)
	}
	it := &ItemParams{}
	if w.ID != nil {
		if len(*w.ID) > maxItemIDLen {
			return nil, protoErr(CodeInvalidValue, param+".id", "'%s.id' is longer than %d characters.", param, maxItemIDLen)
		}
		it.ID = *w.ID
	}
	if allowRef && it.ID != "" && (w.Type == nil || *w.Type == "item_reference") {
		it.Type = "item_reference"
		return it, nil
	}
	if w.Type == nil {
		return nil, protoErr(CodeMissingParameter, param+".type", "Missing required parameter: '%s.type'.", param)
	}
	it.Type = *w.Type
	switch it.Type {
	case itemMessage:
		return it, it.decodeMessage(param, &w)
	case itemFunctionCall:
		if w.Name == nil || !toolNameRE.MatchString(*w.Name) {
			return nil, protoErr(CodeInvalidValue, param+".name", "'%s.name' must be a function name of 1 to 64 letters, digits, '_' or '-'.", param)
		}
		it.Name = *w.Name
		it.CallID = deref(w.CallID)
		it.Arguments = deref(w.Arguments)
	case itemFunctionCallOutput:
		if w.CallID == nil || *w.CallID == "" {
			return nil, protoErr(CodeMissingParameter, param+".call_id", "Missing required parameter: '%s.call_id'.", param)
		}
		if w.Output == nil {
			return nil, protoErr(CodeMissingParameter, param+".output", "Missing required parameter: '%s.output'.", param)
		}
		it.CallID, it.Output = *w.CallID, *w.Output
	default:
		return nil, protoErr(CodeInvalidValue, param+".type", "Invalid value: '%s'. Supported values are: 'message', 'function_call' and 'function_call_output'.", clip(it.Type, 64))
	}
	if len(it.CallID) > maxItemIDLen {
		return nil, protoErr(CodeInvalidValue, param+".call_id", "'%s.call_id' is longer than %d characters.", param, maxItemIDLen)
	}
	if len(it.Arguments)+len(it.Output) > maxItemText {
		return nil, protoErr(CodeInvalidValue, param, "'%s' holds more than %d bytes of text.", param, maxItemText)
	}
	return it, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wirePart is one content part as clients send it.
type wirePart struct {
	Type       *string `json:"type"`
	Text       *string `json:"text"`
	Transcript *string `json:"transcript"`
	Audio      *string `json:"audio"`
}

func (it *ItemParams) decodeMessage(param string, w *wireItem) *ProtocolError {
	if w.Role == nil {
		return protoErr(CodeMissingParameter, param+".role", "Missing required parameter: '%s.role'.", param)
	}
	it.Role = *w.Role
	if it.Role != roleUser && it.Role != roleAssistant && it.Role != roleSystem {
		return protoErr(CodeInvalidValue, param+".role", "Invalid value: '%s'. Supported values are: 'user', 'assistant' and 'system'.", clip(it.Role, 64))
	}
	if w.Content == nil || isNull(w.Content) {
		return protoErr(CodeMissingParameter, param+".content", "Missing required parameter: '%s.content'.", param)
	}
	var parts []wirePart
	if err := json.Unmarshal(w.Content, &parts); err != nil {
		return typeError(param+".content", err)
	}
	if len(parts) > maxContentParts {
		return protoErr(CodeInvalidValue, param+".content", "'%s.content' has more than %d parts.", param, maxContentParts)
	}
	size := 0
	for i, p := range parts {
		pp := param + ".content[" + itoa(i) + "]"
		c, perr := decodePart(pp, it.Role, p)
		if perr != nil {
			return perr
		}
		size += len(c.Text) + len(c.Transcript)
		it.Content = append(it.Content, c)
	}
	if size > maxItemText {
		return protoErr(CodeInvalidValue, param+".content", "'%s.content' holds more than %d bytes of text.", param, maxItemText)
	}
	return nil
}

// decodePart checks one content part against what its role may hold.
func decodePart(param, role string, p wirePart) (ContentParams, *ProtocolError) {
	if p.Type == nil {
		return ContentParams{}, protoErr(CodeMissingParameter, param+".type", "Missing required parameter: '%s.type'.", param)
	}
	c := ContentParams{Type: *p.Type, Text: deref(p.Text), Transcript: deref(p.Transcript)}
	switch {
	case role == roleAssistant && c.Type == "text":
		c.Type = contentOutputText
	case role == roleAssistant && c.Type == "audio":
		c.Type = contentOutputAudio
	}
	allowed := map[string][]string{
		roleUser:      {contentInputText, contentInputAudio},
		roleSystem:    {contentInputText},
		roleAssistant: {contentOutputText, contentOutputAudio},
	}[role]
	ok := false
	for _, a := range allowed {
		ok = ok || a == c.Type
	}
	if !ok {
		if c.Type == "input_image" {
			return c, protoErr(CodeUnsupportedContent, param+".type", "Images are not supported: no vision model is loaded.")
		}
		return c, protoErr(CodeInvalidValue, param+".type", "Invalid value: '%s'. A %s message holds '%s' parts.", clip(c.Type, 64), role, strings.Join(allowed, "' or '"))
	}
	if p.Audio != nil {
		if _, err := base64.StdEncoding.DecodeString(*p.Audio); err != nil {
			return c, protoErr(CodeInvalidValue, param+".audio", "Invalid '%s.audio': not valid base64 (%v).", param, err)
		}
	}
	if (c.Type == contentInputAudio || c.Type == contentOutputAudio) && p.Transcript == nil {
		return c, protoErr(CodeUnsupportedContent, param+".transcript",
			"Audio parts of conversation.item.create need a 'transcript' on this server (created items are not run through the recognizer); stream audio with input_audio_buffer.append to have it recognized.")
	}
	return c, nil
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// wireResponse is response.create's "response" in either dialect.
type wireResponse struct {
	OutputModalities  json.RawMessage `json:"output_modalities"`
	Modalities        json.RawMessage `json:"modalities"`
	Instructions      json.RawMessage `json:"instructions"`
	Voice             json.RawMessage `json:"voice"`
	OutputAudioFormat json.RawMessage `json:"output_audio_format"`
	Audio             *struct {
		Output *struct {
			Format json.RawMessage `json:"format"`
			Voice  json.RawMessage `json:"voice"`
		} `json:"output"`
	} `json:"audio"`
	MaxOutputTokens         json.RawMessage   `json:"max_output_tokens"`
	MaxResponseOutputTokens json.RawMessage   `json:"max_response_output_tokens"`
	Temperature             json.RawMessage   `json:"temperature"`
	Conversation            json.RawMessage   `json:"conversation"`
	Input                   []json.RawMessage `json:"input"`
	Metadata                json.RawMessage   `json:"metadata"`
	Tools                   json.RawMessage   `json:"tools"`
	ToolChoice              json.RawMessage   `json:"tool_choice"`
}

func decodeResponseParams(raw json.RawMessage) (*ResponseParams, *ProtocolError) {
	if !isObject(raw) {
		return nil, protoErr(CodeInvalidType, "response", "Invalid type for 'response': expected an object.")
	}
	var w wireResponse
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, typeError("response", err)
	}
	r := &ResponseParams{Conversation: "auto"}
	var perr *ProtocolError
	if r.Modalities, perr = pickModalities("response", w.OutputModalities, w.Modalities); perr != nil {
		return nil, perr
	}
	if r.Instructions, perr = optText("response.instructions", w.Instructions, maxInstructionsLen); perr != nil {
		return nil, perr
	}
	voice, format := w.Voice, json.RawMessage(nil)
	if w.Audio != nil && w.Audio.Output != nil {
		format = w.Audio.Output.Format
		if w.Audio.Output.Voice != nil {
			voice = w.Audio.Output.Voice
		}
	}
	if r.Voice, perr = decodeVoice("response.voice", voice); perr != nil {
		return nil, perr
	}
	if r.OutputFormat, perr = decodeOutputFormat("response", format, w.OutputAudioFormat); perr != nil {
		return nil, perr
	}
	tokens := w.MaxOutputTokens
	if tokens == nil {
		tokens = w.MaxResponseOutputTokens
	}
	if r.MaxOutputTokens, perr = decodeMaxTokens("response.max_output_tokens", tokens); perr != nil {
		return nil, perr
	}
	if r.Temperature, perr = decodeTemperature("response.temperature", w.Temperature); perr != nil {
		return nil, perr
	}
	if perr = r.decodeConversation(&w); perr != nil {
		return nil, perr
	}
	if r.Metadata, perr = decodeMetadata("response.metadata", w.Metadata); perr != nil {
		return nil, perr
	}
	if r.Tools, perr = decodeTools("response.tools", w.Tools); perr != nil {
		return nil, perr
	}
	if r.ToolChoice, perr = decodeToolChoice("response.tool_choice", w.ToolChoice); perr != nil {
		return nil, perr
	}
	return r, nil
}

func (r *ResponseParams) decodeConversation(w *wireResponse) *ProtocolError {
	if w.Conversation != nil && !isNull(w.Conversation) {
		s, perr := decodeString("response.conversation", w.Conversation, maxItemIDLen)
		if perr != nil {
			return perr
		}
		if s != "auto" && s != "none" {
			return protoErr(CodeInvalidValue, "response.conversation", "Invalid value: '%s'. Supported values are: 'auto' and 'none' (a connection holds one conversation).", clip(s, 64))
		}
		r.Conversation = s
	}
	if w.Input == nil {
		return nil
	}
	if len(w.Input) > maxInputItems {
		return protoErr(CodeInvalidValue, "response.input", "'response.input' has more than %d items.", maxInputItems)
	}
	r.InputSet = true
	for i, raw := range w.Input {
		it, perr := decodeItem("response.input["+itoa(i)+"]", raw, true)
		if perr != nil {
			return perr
		}
		r.Input = append(r.Input, *it)
	}
	return nil
}

// pickModalities reads output_modalities (GA) or modalities (beta).
func pickModalities(prefix string, ga, beta json.RawMessage) ([]string, *ProtocolError) {
	if ga != nil && !isNull(ga) {
		return decodeModalities(prefix+".output_modalities", ga)
	}
	if beta != nil && !isNull(beta) {
		return decodeModalities(prefix+".modalities", beta)
	}
	return nil, nil
}

func decodeModalities(param string, raw json.RawMessage) ([]string, *ProtocolError) {
	var ms []string
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected an array of strings.", param)
	}
	out := []string{}
	for _, m := range ms {
		if m != "text" && m != "audio" {
			return nil, protoErr(CodeInvalidValue, param, "Invalid value: '%s'. Supported values are: 'text' and 'audio'.", clip(m, 64))
		}
		if !contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, protoErr(CodeInvalidValue, param, "'%s' is empty: give 'text' or 'audio'.", param)
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func optText(param string, raw json.RawMessage, limit int) (*string, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	s, perr := decodeString(param, raw, limit)
	if perr != nil {
		return nil, perr
	}
	return &s, nil
}

// decodeVoice reads a voice name. A custom voice object ({"id": …}) asks
// for voice cloning, which no engine here does.
func decodeVoice(param string, raw json.RawMessage) (*string, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	if isObject(raw) {
		return nil, protoErr("voice_cloning_unavailable", param,
			"Custom voices need a voice-cloning engine, and none is loaded; use a built-in voice name.")
	}
	s, perr := decodeString(param, raw, maxVoiceLen)
	if perr != nil {
		return nil, perr
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, protoErr(CodeInvalidValue, param, "'%s' is empty.", param)
	}
	return &s, nil
}

// decodeOutputFormat reads the GA audio.output.format object or the beta
// output_audio_format name.
func decodeOutputFormat(prefix string, ga, beta json.RawMessage) (*InputFormat, *ProtocolError) {
	if ga != nil && !isNull(ga) {
		return decodeFormatGA(prefix+".audio.output.format", ga)
	}
	return decodeFormatBeta(prefix+".output_audio_format", beta)
}

// decodeMaxTokens reads an integer of at least 1 or "inf" (returned as 0).
func decodeMaxTokens(param string, raw json.RawMessage) (*int, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "inf" {
			return nil, protoErr(CodeInvalidValue, param, "Invalid value: '%s'. Use an integer or 'inf'.", clip(s, 32))
		}
		zero := 0
		return &zero, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected an integer or 'inf'.", param)
	}
	if n < 1 || n > maxOutputTokensCap {
		return nil, protoErr(CodeInvalidValue, param, "Invalid '%s': %d is outside 1 to %d (or 'inf').", param, n, maxOutputTokensCap)
	}
	return &n, nil
}

func decodeTemperature(param string, raw json.RawMessage) (*float64, *ProtocolError) {
	return decodeNumber(param, raw, 0, 2)
}

func decodeNumber(param string, raw json.RawMessage, lo, hi float64) (*float64, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected a number.", param)
	}
	if !(f >= lo && f <= hi) {
		return nil, protoErr(CodeInvalidValue, param, "Invalid '%s': %v is outside %v to %v.", param, f, lo, hi)
	}
	return &f, nil
}

func decodeMetadata(param string, raw json.RawMessage) (map[string]string, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var md map[string]string
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, protoErr(CodeInvalidType, param, "Invalid type for '%s': expected an object of strings.", param)
	}
	if len(md) > maxMetadataKeys {
		return nil, protoErr(CodeInvalidValue, param, "'%s' has more than %d keys.", param, maxMetadataKeys)
	}
	for k, v := range md {
		if len(k) > 64 || len(v) > 512 {
			return nil, protoErr(CodeInvalidValue, param, "'%s' keys are at most 64 characters and values at most 512.", param)
		}
	}
	return md, nil
}

// wireTool is one function tool.
type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

func decodeTools(param string, raw json.RawMessage) (*[]pipeline.Tool, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var ws []wireTool
	if err := json.Unmarshal(raw, &ws); err != nil {
		return nil, typeError(param, err)
	}
	if len(ws) > maxTools {
		return nil, protoErr(CodeInvalidValue, param, "'%s' has more than %d tools.", param, maxTools)
	}
	tools := []pipeline.Tool{}
	for i, w := range ws {
		p := param + "[" + itoa(i) + "]"
		switch {
		case w.Type != "function" && w.Type != "":
			return nil, protoErr(CodeInvalidValue, p+".type", "Invalid value: '%s'. Supported values are: 'function' (MCP tools are not available here).", clip(w.Type, 64))
		case !toolNameRE.MatchString(w.Name):
			return nil, protoErr(CodeInvalidValue, p+".name", "'%s.name' must be 1 to 64 letters, digits, '_' or '-'.", p)
		case w.Parameters != nil && !isNull(w.Parameters) && !isObject(w.Parameters):
			return nil, protoErr(CodeInvalidType, p+".parameters", "Invalid type for '%s.parameters': expected a JSON Schema object.", p)
		case len(w.Description)+len(w.Parameters) > maxToolBytes:
			return nil, protoErr(CodeInvalidValue, p, "'%s' is larger than %d bytes.", p, maxToolBytes)
		}
		t := pipeline.Tool{Name: w.Name, Description: w.Description}
		if w.Parameters != nil && !isNull(w.Parameters) {
			t.Parameters = w.Parameters
		}
		tools = append(tools, t)
	}
	return &tools, nil
}

func decodeToolChoice(param string, raw json.RawMessage) (*pipeline.ToolChoice, *ProtocolError) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "auto" && s != "none" && s != "required" {
			return nil, protoErr(CodeInvalidValue, param, "Invalid value: '%s'. Supported values are: 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": …}.", clip(s, 64))
		}
		return &pipeline.ToolChoice{Mode: s}, nil
	}
	var f struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &f); err != nil || f.Type != "function" || !toolNameRE.MatchString(f.Name) {
		return nil, protoErr(CodeInvalidValue, param, "Invalid '%s': use 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": …}.", param)
	}
	return &pipeline.ToolChoice{Mode: "function", Name: f.Name}, nil
}

// realtime reads the conversation members of a GA session.update.
func (g *gaSession) realtime(u *SessionUpdate, flags turnFlags) *ProtocolError {
	r := &RealtimeUpdate{CreateResponse: flags.create, InterruptResponse: flags.interrupt}
	if g.Audio != nil && g.Audio.Input != nil && g.Audio.Input.Transcription != nil && isNull(g.Audio.Input.Transcription) {
		r.TranscriptionOff = true
	}
	var perr *ProtocolError
	if g.OutputModalities != nil && !isNull(g.OutputModalities) {
		if r.Modalities, perr = decodeModalities("session.output_modalities", g.OutputModalities); perr != nil {
			return perr
		}
	}
	if r.Instructions, perr = optText("session.instructions", g.Instructions, maxInstructionsLen); perr != nil {
		return perr
	}
	if g.Audio != nil && g.Audio.Output != nil {
		o := g.Audio.Output
		if r.OutputFormat, perr = decodeFormatGA("session.audio.output.format", o.Format); perr != nil {
			return perr
		}
		if r.Voice, perr = decodeVoice("session.audio.output.voice", o.Voice); perr != nil {
			return perr
		}
		if r.Speed, perr = decodeNumber("session.audio.output.speed", o.Speed, 0.25, 1.5); perr != nil {
			return perr
		}
	}
	if r.MaxOutputTokens, perr = decodeMaxTokens("session.max_output_tokens", g.MaxOutputTokens); perr != nil {
		return perr
	}
	if r.Tools, perr = decodeTools("session.tools", g.Tools); perr != nil {
		return perr
	}
	if r.ToolChoice, perr = decodeToolChoice("session.tool_choice", g.ToolChoice); perr != nil {
		return perr
	}
	u.Realtime = r
	return nil
}

// betaRealtimeSession is a beta session.update's "session" member: flat.
type betaRealtimeSession struct {
	Modalities               json.RawMessage `json:"modalities"`
	Instructions             json.RawMessage `json:"instructions"`
	Voice                    json.RawMessage `json:"voice"`
	InputAudioFormat         json.RawMessage `json:"input_audio_format"`
	OutputAudioFormat        json.RawMessage `json:"output_audio_format"`
	InputAudioTranscription  json.RawMessage `json:"input_audio_transcription"`
	TurnDetection            json.RawMessage `json:"turn_detection"`
	InputAudioNoiseReduction json.RawMessage `json:"input_audio_noise_reduction"`
	Temperature              json.RawMessage `json:"temperature"`
	MaxResponseOutputTokens  json.RawMessage `json:"max_response_output_tokens"`
	Speed                    json.RawMessage `json:"speed"`
	Tools                    json.RawMessage `json:"tools"`
	ToolChoice               json.RawMessage `json:"tool_choice"`
	Include                  []string        `json:"include"`
}

func (b *betaRealtimeSession) normalize() (*SessionUpdate, *ProtocolError) {
	u := &SessionUpdate{Beta: true, Type: SessionRealtime, Realtime: &RealtimeUpdate{}}
	r := u.Realtime
	if perr := checkInclude("session.include", b.Include); perr != nil {
		return nil, perr
	}
	u.Include = b.Include
	var perr *ProtocolError
	if u.Format, perr = decodeFormatBeta("session.input_audio_format", b.InputAudioFormat); perr != nil {
		return nil, perr
	}
	if b.InputAudioTranscription != nil && isNull(b.InputAudioTranscription) {
		r.TranscriptionOff = true
	} else if u.Transcription, perr = decodeTranscription("session.input_audio_transcription", b.InputAudioTranscription); perr != nil {
		return nil, perr
	}
	if b.TurnDetection != nil {
		var flags turnFlags
		u.TurnDetectionSet = true
		if u.TurnDetection, flags, perr = decodeTurnDetection("session.turn_detection", b.TurnDetection); perr != nil {
			return nil, perr
		}
		r.CreateResponse, r.InterruptResponse = flags.create, flags.interrupt
	}
	if b.InputAudioNoiseReduction != nil {
		u.NoiseReductionSet = true
		if u.NoiseReduction, perr = decodeNoiseReduction("session.input_audio_noise_reduction", b.InputAudioNoiseReduction); perr != nil {
			return nil, perr
		}
	}
	return u, b.conversation(r)
}

func (b *betaRealtimeSession) conversation(r *RealtimeUpdate) *ProtocolError {
	var perr *ProtocolError
	if b.Modalities != nil && !isNull(b.Modalities) {
		if r.Modalities, perr = decodeModalities("session.modalities", b.Modalities); perr != nil {
			return perr
		}
	}
	if r.Instructions, perr = optText("session.instructions", b.Instructions, maxInstructionsLen); perr != nil {
		return perr
	}
	if r.Voice, perr = decodeVoice("session.voice", b.Voice); perr != nil {
		return perr
	}
	if r.OutputFormat, perr = decodeFormatBeta("session.output_audio_format", b.OutputAudioFormat); perr != nil {
		return perr
	}
	if r.Speed, perr = decodeNumber("session.speed", b.Speed, 0.25, 1.5); perr != nil {
		return perr
	}
	if r.MaxOutputTokens, perr = decodeMaxTokens("session.max_response_output_tokens", b.MaxResponseOutputTokens); perr != nil {
		return perr
	}
	if r.Temperature, perr = decodeTemperature("session.temperature", b.Temperature); perr != nil {
		return perr
	}
	if r.Tools, perr = decodeTools("session.tools", b.Tools); perr != nil {
		return perr
	}
	r.ToolChoice, perr = decodeToolChoice("session.tool_choice", b.ToolChoice)
	return perr
}
