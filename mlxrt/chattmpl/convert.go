package chattmpl

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ominix/ominix-api/pipeline"
)

// MessagesJSON encodes pipeline messages as the JSON array transformers
// passes to templates: each {"role", "content", ["name"],
// ["reasoning_content"], ["tool_calls": [{"id", "type": "function",
// "function": {"name", "arguments"}}]], ["tool_call_id"]}. arguments is the
// JSON object the model wrote when it parses as one (templates expect a
// mapping), else the string. An assistant message with tool calls and empty
// content gets "content": null, as OpenAI clients send it.
func MessagesJSON(messages []pipeline.Message) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, m := range messages {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"role":`)
		writeString(&b, m.Role)
		b.WriteString(`,"content":`)
		if m.Content == "" && len(m.ToolCalls) > 0 {
			b.WriteString("null")
		} else {
			writeString(&b, m.Content)
		}
		if m.Name != "" {
			b.WriteString(`,"name":`)
			writeString(&b, m.Name)
		}
		if m.Reasoning != "" {
			b.WriteString(`,"reasoning_content":`)
			writeString(&b, m.Reasoning)
		}
		if len(m.ToolCalls) > 0 {
			b.WriteString(`,"tool_calls":[`)
			for j, c := range m.ToolCalls {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"id":`)
				writeString(&b, c.ID)
				b.WriteString(`,"type":"function","function":{"name":`)
				writeString(&b, c.Name)
				b.WriteString(`,"arguments":`)
				writeArguments(&b, c.Arguments)
				b.WriteString(`}}`)
			}
			b.WriteByte(']')
		}
		if m.ToolCallID != "" {
			b.WriteString(`,"tool_call_id":`)
			writeString(&b, m.ToolCallID)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// writeArguments writes tool-call arguments as the object itself when they
// are a JSON object, else as a JSON string.
func writeArguments(b *bytes.Buffer, args string) {
	trimmed := bytes.TrimSpace([]byte(args))
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		b.Write(trimmed)
		return
	}
	writeString(b, args)
}

// ToolsJSON encodes tools as OpenAI tool dictionaries: [{"type": "function",
// "function": {"name", ["description"], ["parameters"]}}], parameters kept
// as the client sent them.
func ToolsJSON(tools []pipeline.Tool) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, t := range tools {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"function","function":{"name":`)
		writeString(&b, t.Name)
		if t.Description != "" {
			b.WriteString(`,"description":`)
			writeString(&b, t.Description)
		}
		if p := bytes.TrimSpace(t.Parameters); len(p) > 0 && string(p) != "null" {
			if !json.Valid(p) {
				return nil, fmt.Errorf("tool %s: parameters are not valid JSON", t.Name)
			}
			b.WriteString(`,"parameters":`)
			b.Write(p)
		}
		b.WriteString(`}}`)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
