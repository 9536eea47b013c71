package openai

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// Defaults of DecodeOptions.
const (
	DefaultMaxMessages     = 2048
	DefaultMaxMessageBytes = 4 << 20
	DefaultMaxTotalBytes   = 16 << 20
	DefaultMaxTools        = 128
	DefaultMaxStopBytes    = 256
	MaxStopSequences       = 4
	maxNameBytes           = 256
	maxModelBytes          = 256
)

// DecodeOptions bound what DecodeChatRequest accepts. A nil *DecodeOptions
// means all defaults; so does each zero field.
type DecodeOptions struct {
	// MaxMessages bounds len(messages). Zero means 2048.
	MaxMessages int
	// MaxMessageBytes bounds the text of one message: its content (text
	// parts joined), reasoning and tool-call arguments. Zero means 4 MiB.
	MaxMessageBytes int
	// MaxTotalBytes bounds the text of all messages together. Zero means
	// 16 MiB.
	MaxTotalBytes int
	// MaxTools bounds len(tools) and the tool calls of one assistant
	// message. Zero means 128, OpenAI's limit.
	MaxTools int
	// MaxStopBytes bounds each stop sequence. Zero means 256 bytes.
	MaxStopBytes int
	// MaxCompletionTokens, when positive, bounds max_tokens and
	// max_completion_tokens (a larger value is a 400). Zero leaves the bound
	// to the model's context length, checked by the pipeline.
	MaxCompletionTokens int
	// AllowJSONSchema accepts response_format {"type": "json_schema"} and
	// passes the schema on in ChatParams.ResponseFormat. The zero value
	// rejects it with a 400, because nothing constrains generation to a
	// schema yet and silently ignoring a strict schema would be a lie.
	AllowJSONSchema bool
}

func (o *DecodeOptions) withDefaults() DecodeOptions {
	var d DecodeOptions
	if o != nil {
		d = *o
	}
	def := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	def(&d.MaxMessages, DefaultMaxMessages)
	def(&d.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&d.MaxTotalBytes, DefaultMaxTotalBytes)
	def(&d.MaxTools, DefaultMaxTools)
	def(&d.MaxStopBytes, DefaultMaxStopBytes)
	return d
}

// ChatParams is a decoded, validated POST /v1/chat/completions request: the
// pipeline request plus what only the transport acts on.
type ChatParams struct {
	// Request is what the pipeline runs.
	Request pipeline.ChatRequest
	// Stream is the request's stream member: answer with SSE chunks.
	Stream bool
	// IncludeUsage is stream_options.include_usage (only with Stream).
	IncludeUsage bool
	// ParallelToolCalls is parallel_tool_calls; true when absent. When false
	// the transport should end the response after the first tool call.
	ParallelToolCalls bool
	// ResponseFormat is response_format; Type is "text" when absent.
	ResponseFormat ResponseFormat
}

// ResponseFormat is a validated response_format. "json_object" passes the
// model's output through unchanged (no grammar constrains it yet; OpenAI's
// rule that the messages mention JSON is enforced, so the prompt asks for
// it); "json_schema" is accepted only with DecodeOptions.AllowJSONSchema.
type ResponseFormat struct {
	Type   string          // "text", "json_object" or "json_schema"
	Name   string          // json_schema.name
	Schema json.RawMessage // json_schema.schema, a JSON object or nil
	Strict bool            // json_schema.strict
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// DecodeChatRequest decodes and validates the body of a chat completion
// request. Every failure is a *pipeline.Error of kind KindInvalid whose Param
// is the JSON path at fault (e.g. "messages[3].content") and whose Message
// follows OpenAI's wording; a body that is not JSON fails with code
// "invalid_json" and the byte offset. Unknown members are ignored, as are
// user, metadata, store, service_tier and other members that do not change
// what is generated. Members that would change it but are not supported
// (n > 1, image or audio content, functions, logit_bias, audio output)
// fail clearly instead of being ignored.
func DecodeChatRequest(body []byte, opts *DecodeOptions) (*ChatParams, error) {
	if !json.Valid(body) {
		var v any
		return nil, syntaxError(body, json.Unmarshal(body, &v))
	}
	if kind(body) != "an object" {
		return nil, bodyTypeError(body)
	}
	top, ok := splitObject(body)
	if !ok { // unreachable for valid JSON; kept so a scanner bug fails closed
		return nil, bodyTypeError(body)
	}
	d := chatDecoder{o: opts.withDefaults(), top: top}
	return d.decode()
}

type chatDecoder struct {
	o   DecodeOptions
	top object
	p   ChatParams
}

func (d *chatDecoder) decode() (*ChatParams, error) {
	d.p.ParallelToolCalls = true
	steps := []func() error{
		d.model, d.unsupportedMembers, d.messagesMember, d.toolsMember, d.toolChoice,
		d.sampling, d.extensions, d.maxTokens, d.stop, d.logprobs, d.choices,
		d.stream, d.responseFormat, d.templateKwargs,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return &d.p, nil
}

func (d *chatDecoder) model() error {
	m, _, err := d.top.str("model", "model")
	if err != nil {
		return err
	}
	if len(m) > maxModelBytes {
		return tooLong("model", maxModelBytes, len(m))
	}
	d.p.Request.Model = m
	return nil
}

// unsupportedMembers rejects members that would change the output in ways
// this server cannot honour.
func (d *chatDecoder) unsupportedMembers() error {
	for _, name := range []string{"functions", "function_call"} {
		if _, ok := d.top.get(name); ok {
			return unsupported(name, "unsupported_parameter",
				"Unsupported parameter: '%s' is deprecated and not supported by this server; use 'tools' and 'tool_choice' instead.", name)
		}
	}
	if _, ok := d.top.get("audio"); ok {
		return unsupported("audio", "unsupported_parameter",
			"Unsupported parameter: 'audio': chat completions here produce text only; use /v1/audio/speech to speak the answer.")
	}
	if _, ok := d.top.get("web_search_options"); ok {
		return unsupported("web_search_options", "unsupported_parameter",
			"Unsupported parameter: 'web_search_options': this server has no web search.")
	}
	if raw, ok := d.top.get("logit_bias"); ok {
		o, err := parseObject(raw, "logit_bias")
		if err != nil {
			return err
		}
		if len(o) > 0 {
			return unsupported("logit_bias", "unsupported_parameter", "Unsupported parameter: 'logit_bias' is not supported by this server yet.")
		}
	}
	return d.modalities()
}

func (d *chatDecoder) modalities() error {
	raw, ok := d.top.get("modalities")
	if !ok {
		return nil
	}
	items, err := parseArray(raw, "modalities")
	if err != nil {
		return err
	}
	for i, it := range items {
		param := indexed("modalities", i)
		m, err := decodeString(it, param)
		if err != nil {
			return err
		}
		if m != "text" {
			return unsupported(param, "unsupported_value",
				"Unsupported value: '%s' modality is not supported by chat completions here; only 'text' is.", clip(m))
		}
	}
	return nil
}

func (d *chatDecoder) sampling() error {
	s := &d.p.Request.Sampling
	var err error
	if s.Temperature, err = d.boundedNumber("temperature", 0, 2, false); err != nil {
		return err
	}
	if s.TopP, err = d.boundedNumber("top_p", 0, 1, true); err != nil {
		return err
	}
	for _, pen := range []struct {
		name string
		dst  *float64
	}{{"presence_penalty", &s.PresencePenalty}, {"frequency_penalty", &s.FrequencyPenalty}} {
		v, err := d.boundedNumber(pen.name, -2, 2, false)
		if err != nil {
			return err
		}
		if v != nil {
			*pen.dst = *v
		}
	}
	seed, err := d.top.integer("seed", "seed")
	if err != nil {
		return err
	}
	s.Seed = seed
	return nil
}

// extensions decodes the sampling members OpenAI lacks but vLLM, llama.cpp
// and others accept: top_k, min_p and repetition_penalty.
func (d *chatDecoder) extensions() error {
	s := &d.p.Request.Sampling
	k, err := d.top.integer("top_k", "top_k")
	if err != nil {
		return err
	}
	if k != nil {
		if err := checkRange("top_k", float64(*k), -1, 1<<20, false, true); err != nil {
			return err
		}
		if *k > 0 { // -1 and 0 mean "no top-k", as in vLLM
			v := int(*k)
			s.TopK = &v
		}
	}
	if s.MinP, err = d.boundedNumber("min_p", 0, 1, false); err != nil {
		return err
	}
	rp, err := d.boundedNumber("repetition_penalty", 0, 2, true)
	if err != nil || rp == nil {
		return err
	}
	s.RepetitionPenalty = *rp
	return nil
}

func (d *chatDecoder) boundedNumber(name string, lo, hi float64, openLo bool) (*float64, error) {
	v, err := d.top.number(name, name)
	if err != nil || v == nil {
		return nil, err
	}
	if err := checkRange(name, *v, lo, hi, openLo, false); err != nil {
		return nil, err
	}
	return v, nil
}

// maxTokens decodes max_tokens and max_completion_tokens; the latter wins
// when both are set.
func (d *chatDecoder) maxTokens() error {
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		n, err := d.top.integer(name, name)
		if err != nil {
			return err
		}
		if n == nil {
			continue
		}
		hi := float64(1 << 30)
		if d.o.MaxCompletionTokens > 0 {
			hi = float64(d.o.MaxCompletionTokens)
		}
		if err := checkRange(name, float64(*n), 1, hi, false, true); err != nil {
			return err
		}
		d.p.Request.MaxTokens = int(*n)
	}
	return nil
}

// stop decodes stop as a string or an array of at most 4 strings. Empty
// strings are dropped: they could never match anything useful.
func (d *chatDecoder) stop() error {
	raw, ok := d.top.get("stop")
	if !ok {
		return nil
	}
	var items []json.RawMessage
	single := kind(raw) == "a string"
	if single {
		items = []json.RawMessage{raw}
	} else {
		if kind(raw) != "an array" {
			return typeError("stop", "a string or an array of strings", raw)
		}
		var err error
		if items, err = parseArray(raw, "stop"); err != nil {
			return err
		}
		if len(items) > MaxStopSequences {
			return tooMany("stop", MaxStopSequences, len(items))
		}
	}
	for i, it := range items {
		param := "stop"
		if !single {
			param = indexed("stop", i)
		}
		s, err := decodeString(it, param)
		if err != nil {
			return err
		}
		if len(s) > d.o.MaxStopBytes {
			return tooLong(param, d.o.MaxStopBytes, len(s))
		}
		if s != "" {
			d.p.Request.Stop = append(d.p.Request.Stop, s)
		}
	}
	return nil
}

func (d *chatDecoder) logprobs() error {
	lp, err := d.top.boolean("logprobs", "logprobs")
	if err != nil {
		return err
	}
	d.p.Request.Logprobs = lp != nil && *lp
	top, err := d.top.integer("top_logprobs", "top_logprobs")
	if err != nil || top == nil {
		return err
	}
	if err := checkRange("top_logprobs", float64(*top), 0, 20, false, true); err != nil {
		return err
	}
	if *top > 0 && !d.p.Request.Logprobs {
		return invalidValue("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.")
	}
	d.p.Request.TopLogprobs = int(*top)
	return nil
}

// choices checks n: one choice per request is all this server generates.
func (d *chatDecoder) choices() error {
	n, err := d.top.integer("n", "n")
	if err != nil || n == nil || *n == 1 {
		return err
	}
	if err := checkRange("n", float64(*n), 1, 128, false, true); err != nil {
		return err
	}
	return unsupported("n", "unsupported_value",
		"Unsupported value: 'n' must be 1 on this server (it generates one choice per request); send %d requests instead.", *n)
}

func (d *chatDecoder) stream() error {
	st, err := d.top.boolean("stream", "stream")
	if err != nil {
		return err
	}
	d.p.Stream = st != nil && *st
	if ptc, err := d.top.boolean("parallel_tool_calls", "parallel_tool_calls"); err != nil {
		return err
	} else if ptc != nil {
		d.p.ParallelToolCalls = *ptc
	}
	raw, ok := d.top.get("stream_options")
	if !ok {
		return nil
	}
	if !d.p.Stream {
		return invalidValue("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	so, err := parseObject(raw, "stream_options")
	if err != nil {
		return err
	}
	iu, err := so.boolean("include_usage", "stream_options.include_usage")
	if err != nil {
		return err
	}
	if _, err := so.boolean("include_obfuscation", "stream_options.include_obfuscation"); err != nil {
		return err
	}
	d.p.IncludeUsage = iu != nil && *iu
	return nil
}

func (d *chatDecoder) responseFormat() error {
	d.p.ResponseFormat.Type = "text"
	raw, ok := d.top.get("response_format")
	if !ok {
		return nil
	}
	rf, err := parseObject(raw, "response_format")
	if err != nil {
		return err
	}
	typ, ok, err := rf.str("type", "response_format.type")
	if err != nil {
		return err
	}
	if !ok {
		return missing("response_format.type")
	}
	switch typ {
	case "text":
		return nil
	case "json_object":
		d.p.ResponseFormat.Type = typ
		return d.requireJSONMention()
	case "json_schema":
		return d.jsonSchema(rf)
	}
	return invalidValue("response_format.type",
		"Invalid value: '%s'. Supported values are: 'text', 'json_object', and 'json_schema'.", clip(typ))
}

// requireJSONMention enforces OpenAI's JSON-mode rule: without an
// instruction to produce JSON, models tend to emit whitespace forever.
func (d *chatDecoder) requireJSONMention() error {
	for _, m := range d.p.Request.Messages {
		if strings.Contains(strings.ToLower(m.Content), "json") {
			return nil
		}
	}
	return invalidValue("messages", "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
}

func (d *chatDecoder) jsonSchema(rf object) error {
	if !d.o.AllowJSONSchema {
		return unsupported("response_format.type", "unsupported_value",
			"Unsupported value: response_format of type 'json_schema' is not supported by this server yet: nothing constrains generation to a schema. Use {\"type\": \"json_object\"} and describe the schema in the prompt.")
	}
	raw, ok := rf.get("json_schema")
	if !ok {
		return missing("response_format.json_schema")
	}
	js, err := parseObject(raw, "response_format.json_schema")
	if err != nil {
		return err
	}
	f := ResponseFormat{Type: "json_schema"}
	name, ok, err := js.str("name", "response_format.json_schema.name")
	if err != nil {
		return err
	}
	if !ok {
		return missing("response_format.json_schema.name")
	}
	if !namePattern.MatchString(name) {
		return invalidValue("response_format.json_schema.name",
			"Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.")
	}
	f.Name = name
	if s, ok := js.get("schema"); ok {
		if _, err := parseObject(s, "response_format.json_schema.schema"); err != nil {
			return err
		}
		f.Schema = s
	}
	strict, err := js.boolean("strict", "response_format.json_schema.strict")
	if err != nil {
		return err
	}
	f.Strict = strict != nil && *strict
	d.p.ResponseFormat = f
	return nil
}

// templateKwargs decodes chat_template_kwargs (vLLM's extension); its
// enable_thinking member becomes ChatRequest.EnableThinking.
func (d *chatDecoder) templateKwargs() error {
	raw, ok := d.top.get("chat_template_kwargs")
	if !ok {
		return nil
	}
	if _, err := parseObject(raw, "chat_template_kwargs"); err != nil {
		return err
	}
	var kw map[string]any
	if err := json.Unmarshal(raw, &kw); err != nil {
		return typeError("chat_template_kwargs", "an object", raw)
	}
	if v, ok := kw["enable_thinking"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return typeError("chat_template_kwargs.enable_thinking", "a boolean", mustJSON(v))
		}
		d.p.Request.EnableThinking = &b
	}
	delete(kw, "enable_thinking")
	if len(kw) > 0 {
		d.p.Request.TemplateKwargs = kw
	}
	return nil
}

func bodyTypeError(body []byte) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "invalid_type",
		Message: "Invalid type for the request body: expected a JSON object, but got " + kind(body) + " instead."}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
