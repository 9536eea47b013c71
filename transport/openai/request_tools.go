package openai

import (
	"encoding/json"

	"github.com/ominix/ominix-api/pipeline"
)

// maxDescriptionBytes bounds a tool's description.
const maxDescriptionBytes = 64 << 10

func (d *chatDecoder) toolsMember() error {
	raw, ok := d.top.get("tools")
	if !ok {
		return nil
	}
	items, err := parseArray(raw, "tools")
	if err != nil {
		return err
	}
	if len(items) > d.o.MaxTools {
		return tooMany("tools", d.o.MaxTools, len(items))
	}
	seen := make(map[string]bool, len(items))
	tools := make([]pipeline.Tool, 0, len(items))
	for i, it := range items {
		param := indexed("tools", i)
		t, err := d.tool(it, param)
		if err != nil {
			return err
		}
		if seen[t.Name] {
			return invalidValue(param+".function.name", "Invalid 'tools': duplicate function name '%s'; each tool needs a unique name.", t.Name)
		}
		seen[t.Name] = true
		tools = append(tools, t)
	}
	if len(tools) > 0 {
		d.p.Request.Tools = tools
	}
	return nil
}

func (d *chatDecoder) tool(raw json.RawMessage, param string) (pipeline.Tool, error) {
	var t pipeline.Tool
	o, err := parseObject(raw, param)
	if err != nil {
		return t, err
	}
	if _, ok := o.get("type"); !ok {
		return t, missing(param + ".type")
	}
	if err := functionType(o, param); err != nil {
		return t, err
	}
	fraw, ok := o.get("function")
	if !ok {
		return t, missing(param + ".function")
	}
	f, err := parseObject(fraw, param+".function")
	if err != nil {
		return t, err
	}
	return functionTool(f, param+".function")
}

func functionTool(f object, param string) (pipeline.Tool, error) {
	var t pipeline.Tool
	name, ok, err := f.str("name", param+".name")
	if err != nil {
		return t, err
	}
	if !ok {
		return t, missing(param + ".name")
	}
	if !namePattern.MatchString(name) {
		return t, invalidValue(param+".name",
			"Invalid '%s.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.", param)
	}
	t.Name = name
	desc, _, err := f.str("description", param+".description")
	if err != nil {
		return t, err
	}
	if len(desc) > maxDescriptionBytes {
		return t, tooLong(param+".description", maxDescriptionBytes, len(desc))
	}
	t.Description = desc
	if p, ok := f.get("parameters"); ok {
		if _, err := parseObject(p, param+".parameters"); err != nil {
			return t, err
		}
		t.Parameters = p
	}
	strict, err := f.boolean("strict", param+".strict")
	if err != nil {
		return t, err
	}
	t.Strict = strict != nil && *strict
	return t, nil
}

// toolChoice decodes tool_choice. Without tools only "none" and "auto" are
// accepted (both mean no tool calls); the default is "auto" with tools and
// "none" without, as in OpenAI's API.
func (d *chatDecoder) toolChoice() error {
	hasTools := len(d.p.Request.Tools) > 0
	tc := &d.p.Request.ToolChoice
	tc.Mode = "none"
	if hasTools {
		tc.Mode = "auto"
	}
	raw, ok := d.top.get("tool_choice")
	if !ok {
		return nil
	}
	if kind(raw) == "a string" {
		mode, _ := decodeString(raw, "tool_choice")
		switch mode {
		case "none", "auto":
			if hasTools {
				tc.Mode = mode
			}
			return nil
		case "required":
			if !hasTools {
				return noTools()
			}
			tc.Mode = mode
			return nil
		}
		return invalidValue("tool_choice", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", clip(mode))
	}
	return d.namedToolChoice(raw, hasTools)
}

func (d *chatDecoder) namedToolChoice(raw json.RawMessage, hasTools bool) error {
	o, err := parseObject(raw, "tool_choice")
	if err != nil {
		return typeError("tool_choice", "one of a string or an object", raw)
	}
	typ, ok, err := o.str("type", "tool_choice.type")
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return missing("tool_choice.type")
	case typ == "allowed_tools" || typ == "custom":
		return unsupported("tool_choice.type", "unsupported_value",
			"Unsupported value: tool_choice of type '%s' is not supported by this server; use 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.", typ)
	case typ != "function":
		return invalidValue("tool_choice.type", "Invalid value: '%s'. Supported values are: 'function'.", clip(typ))
	case !hasTools:
		return noTools()
	}
	fraw, ok := o.get("function")
	if !ok {
		return missing("tool_choice.function")
	}
	f, err := parseObject(fraw, "tool_choice.function")
	if err != nil {
		return err
	}
	name, ok, err := f.str("name", "tool_choice.function.name")
	if err != nil {
		return err
	}
	if !ok {
		return missing("tool_choice.function.name")
	}
	for _, t := range d.p.Request.Tools {
		if t.Name == name {
			d.p.Request.ToolChoice = pipeline.ToolChoice{Mode: "function", Name: name}
			return nil
		}
	}
	return invalidValue("tool_choice.function.name", "Invalid value for 'tool_choice': no function named '%s' is in 'tools'.", clip(name))
}

func noTools() error {
	return invalidValue("tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
}
