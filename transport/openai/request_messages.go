package openai

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// partSeparator joins the text parts of one message, as vLLM does.
const partSeparator = "\n"

func indexed(param string, i int) string { return param + "[" + strconv.Itoa(i) + "]" }

func (d *chatDecoder) messagesMember() error {
	raw, ok := d.top.get("messages")
	if !ok {
		return missing("messages")
	}
	items, err := parseArray(raw, "messages")
	if err != nil {
		return err
	}
	switch {
	case len(items) == 0:
		return emptyArray("messages")
	case len(items) > d.o.MaxMessages:
		return tooMany("messages", d.o.MaxMessages, len(items))
	}
	msgs := make([]pipeline.Message, 0, len(items))
	total := 0
	for i, it := range items {
		m, size, err := d.message(it, indexed("messages", i))
		if err != nil {
			return err
		}
		if total += size; total > d.o.MaxTotalBytes {
			return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "messages", Code: "string_above_max_length",
				Message: "Invalid 'messages': the messages hold more than " + strconv.Itoa(d.o.MaxTotalBytes) +
					" bytes of text in total; shorten the conversation."}
		}
		msgs = append(msgs, m)
	}
	d.p.Request.Messages = msgs
	return nil
}

var roles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// message decodes one message and returns it with the size of its text.
func (d *chatDecoder) message(raw json.RawMessage, param string) (pipeline.Message, int, error) {
	var m pipeline.Message
	o, err := parseObject(raw, param)
	if err != nil {
		return m, 0, err
	}
	role, ok, err := o.str("role", param+".role")
	switch {
	case err != nil:
		return m, 0, err
	case !ok:
		return m, 0, missing(param + ".role")
	case role == "function":
		return m, 0, unsupported(param+".role", "unsupported_value",
			"Unsupported value: messages with role 'function' are deprecated and not supported; use role 'tool' with a 'tool_call_id'.")
	case !roles[role]:
		return m, 0, invalidValue(param+".role",
			"Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.", clip(role))
	}
	m.Role = role
	if m.Content, err = d.content(o, param, role); err != nil {
		return m, 0, err
	}
	if err := d.messageStrings(o, param, &m); err != nil {
		return m, 0, err
	}
	if role == "assistant" {
		if m.ToolCalls, err = d.assistantToolCalls(o, param); err != nil {
			return m, 0, err
		}
	}
	size := len(m.Content) + len(m.Reasoning)
	for _, tc := range m.ToolCalls {
		size += len(tc.Name) + len(tc.Arguments)
	}
	if size > d.o.MaxMessageBytes {
		return m, 0, tooLong(param+".content", d.o.MaxMessageBytes, size)
	}
	return m, size, nil
}

// messageStrings decodes name, tool_call_id and reasoning_content.
func (d *chatDecoder) messageStrings(o object, param string, m *pipeline.Message) error {
	name, _, err := o.str("name", param+".name")
	if err != nil {
		return err
	}
	if len(name) > maxNameBytes {
		return tooLong(param+".name", maxNameBytes, len(name))
	}
	m.Name = name
	if m.Role == "tool" {
		id, ok, err := o.str("tool_call_id", param+".tool_call_id")
		if err != nil {
			return err
		}
		if !ok {
			return missing(param + ".tool_call_id")
		}
		if len(id) > maxNameBytes {
			return tooLong(param+".tool_call_id", maxNameBytes, len(id))
		}
		m.ToolCallID = id
	}
	if m.Role == "assistant" {
		r, _, err := o.str("reasoning_content", param+".reasoning_content")
		if err != nil {
			return err
		}
		m.Reasoning = r
	}
	return nil
}

// content decodes a message's content: a string, or an array of parts whose
// text is joined. Assistant messages may omit it (or send null).
func (d *chatDecoder) content(o object, param, role string) (string, error) {
	param += ".content"
	raw, ok := o.get("content")
	if !ok {
		if role == "assistant" {
			return "", nil
		}
		return "", missing(param)
	}
	switch kind(raw) {
	case "a string":
		s, err := decodeString(raw, param)
		if err != nil {
			return "", err
		}
		if len(s) > d.o.MaxMessageBytes {
			return "", tooLong(param, d.o.MaxMessageBytes, len(s))
		}
		return s, nil
	case "an array":
		return d.parts(raw, param, role)
	}
	return "", typeError(param, "one of a string or array of objects", raw)
}

func (d *chatDecoder) parts(raw json.RawMessage, param, role string) (string, error) {
	items, err := parseArray(raw, param)
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "", emptyArray(param)
	}
	var b strings.Builder
	for i, it := range items {
		text, err := d.part(it, indexed(param, i), role)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(partSeparator)
		}
		if b.Len()+len(text) > d.o.MaxMessageBytes {
			return "", tooLong(param, d.o.MaxMessageBytes, b.Len()+len(text))
		}
		b.WriteString(text)
	}
	return b.String(), nil
}

// part decodes one content part. Text is accepted for every role (and
// refusal text for assistants); media parts get a clear 400 until the
// pipeline has multimodal models.
func (d *chatDecoder) part(raw json.RawMessage, param, role string) (string, error) {
	o, err := parseObject(raw, param)
	if err != nil {
		return "", err
	}
	typ, ok, err := o.str("type", param+".type")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", missing(param + ".type")
	}
	switch {
	case typ == "text" || (typ == "refusal" && role == "assistant"):
		text, ok, err := o.str(typ, param+"."+typ)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", missing(param + "." + typ)
		}
		return text, nil
	case role == "user" && (typ == "image_url" || typ == "input_audio" || typ == "file"):
		what := map[string]string{"image_url": "Image", "input_audio": "Audio", "file": "File"}[typ]
		hint := ""
		if typ == "input_audio" {
			hint = " (use /v1/audio/transcriptions to turn audio into text)"
		}
		return "", unsupported(param+".type", "unsupported_content",
			"%s content parts are not supported by this server yet: '%s' has type '%s'; send text parts only%s.", what, param, typ, hint)
	}
	return "", invalidValue(param+".type", "Invalid value: '%s'. Supported values for %s messages are: %s.", clip(typ), role, partTypes(role))
}

func partTypes(role string) string {
	switch role {
	case "user":
		return "'text', 'image_url', 'input_audio', and 'file'"
	case "assistant":
		return "'text' and 'refusal'"
	}
	return "'text'"
}

func (d *chatDecoder) assistantToolCalls(o object, param string) ([]pipeline.ToolCall, error) {
	param += ".tool_calls"
	raw, ok := o.get("tool_calls")
	if !ok {
		return nil, nil
	}
	items, err := parseArray(raw, param)
	if err != nil {
		return nil, err
	}
	if len(items) > d.o.MaxTools {
		return nil, tooMany(param, d.o.MaxTools, len(items))
	}
	calls := make([]pipeline.ToolCall, 0, len(items))
	for i, it := range items {
		tc, err := d.assistantToolCall(it, indexed(param, i))
		if err != nil {
			return nil, err
		}
		calls = append(calls, tc)
	}
	return calls, nil
}

func (d *chatDecoder) assistantToolCall(raw json.RawMessage, param string) (pipeline.ToolCall, error) {
	var tc pipeline.ToolCall
	o, err := parseObject(raw, param)
	if err != nil {
		return tc, err
	}
	if err := functionType(o, param); err != nil {
		return tc, err
	}
	id, ok, err := o.str("id", param+".id")
	if err != nil {
		return tc, err
	}
	if !ok {
		return tc, missing(param + ".id")
	}
	if len(id) > maxNameBytes {
		return tc, tooLong(param+".id", maxNameBytes, len(id))
	}
	fraw, ok := o.get("function")
	if !ok {
		return tc, missing(param + ".function")
	}
	f, err := parseObject(fraw, param+".function")
	if err != nil {
		return tc, err
	}
	name, ok, err := f.str("name", param+".function.name")
	if err != nil {
		return tc, err
	}
	if !ok {
		return tc, missing(param + ".function.name")
	}
	if len(name) > maxNameBytes {
		return tc, tooLong(param+".function.name", maxNameBytes, len(name))
	}
	args, ok, err := f.str("arguments", param+".function.arguments")
	if err != nil {
		return tc, err
	}
	if !ok {
		return tc, missing(param + ".function.arguments")
	}
	return pipeline.ToolCall{ID: id, Name: name, Arguments: args}, nil
}

// functionType checks an optional "type" member that must be "function".
func functionType(o object, param string) error {
	typ, ok, err := o.str("type", param+".type")
	if err != nil || !ok || typ == "function" {
		return err
	}
	if typ == "custom" {
		return unsupported(param+".type", "unsupported_value",
			"Unsupported value: custom tools are not supported by this server; use tools of type 'function'.")
	}
	return invalidValue(param+".type", "Invalid value: '%s'. Supported values are: 'function'.", clip(typ))
}
