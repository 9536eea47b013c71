package chattmpl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ominix/ominix-api/mlxrt/chattmpl/internal/jinja"
	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
	"github.com/ominix/ominix-api/pipeline"
)

// ErrLimit is wrapped by errors from templates that exceed a bound of
// Options (source size, output size, steps, call depth, time).
var ErrLimit = jinja.ErrLimit

// ErrNoTemplate is returned by Load when the directory has no chat template.
var ErrNoTemplate = errors.New("no chat template")

// ErrRejected is wrapped by Render's error when the template itself refused
// the conversation with raise_exception (for example roles that do not
// alternate); the message is the template's. It is a client error.
var ErrRejected = errors.New("chat template rejected the conversation")

// Options bounds template loading and rendering. A nil *Options means all
// defaults.
type Options struct {
	// MaxSourceBytes caps the template source. Zero means 1 MiB.
	MaxSourceBytes int64
	// MaxOutputBytes caps the rendered prompt and every string a template
	// builds. Zero means 16 MiB.
	MaxOutputBytes int
	// MaxSteps caps the statements, loop iterations, calls and range()
	// items of one render. Zero means 1<<22.
	MaxSteps int
	// Timeout caps one render's wall-clock time. Zero means 5s.
	Timeout time.Duration
	// Now is the clock of strftime_now. Nil means time.Now.
	Now func() time.Time
}

func (o *Options) resolved() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxSourceBytes <= 0 {
		r.MaxSourceBytes = 1 << 20
	}
	if r.MaxOutputBytes <= 0 {
		r.MaxOutputBytes = 16 << 20
	}
	if r.MaxSteps <= 0 {
		r.MaxSteps = 1 << 22
	}
	if r.Timeout <= 0 {
		r.Timeout = 5 * time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// maxConfigBytes caps tokenizer_config.json.
const maxConfigBytes = 16 << 20

// Template is a parsed chat template with its special-token variables. It is
// immutable and safe for concurrent use.
type Template struct {
	tpl      *jinja.Template
	vars     map[string]jinja.Value
	variants map[string]*Template
	opts     Options
}

// Load reads the chat template of a model directory: chat_template.jinja if
// present (transformers 5; it wins over tokenizer_config.json), else
// tokenizer_config.json's chat_template (a string, or a list of {name,
// template} where "default" is used and other names, such as "tool_use",
// become variants). additional_chat_templates/<name>.jinja files are
// variants too. bos_token, eos_token, unk_token, pad_token, sep_token,
// cls_token, mask_token and additional_special_tokens of
// tokenizer_config.json become template variables. It returns an error
// wrapping ErrNoTemplate when there is none.
func Load(dir string, opts *Options) (*Template, error) {
	o := opts.resolved()
	cfg, err := smallfile.Read(filepath.Join(dir, "tokenizer_config.json"), maxConfigBytes, ErrLimit)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load chat template: %w", err)
	}
	var c struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if len(cfg) > 0 {
		if err := json.Unmarshal(cfg, &c); err != nil {
			return nil, fmt.Errorf("load chat template: tokenizer_config.json: %w", err)
		}
	}
	vars, err := specialTokenVars(cfg)
	if err != nil {
		return nil, fmt.Errorf("load chat template: tokenizer_config.json: %w", err)
	}
	sources, err := templateSources(dir, c.ChatTemplate, o.MaxSourceBytes)
	if err != nil {
		return nil, fmt.Errorf("load chat template: %w", err)
	}
	def, ok := sources["default"]
	if !ok {
		return nil, fmt.Errorf("load chat template %s: %w", dir, ErrNoTemplate)
	}
	t, err := Parse(def, vars, &o)
	if err != nil {
		return nil, fmt.Errorf("load chat template: %w", err)
	}
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name == "default" {
			continue
		}
		v, err := Parse(sources[name], vars, &o)
		if err != nil {
			return nil, fmt.Errorf("load chat template %q: %w", name, err)
		}
		if t.variants == nil {
			t.variants = map[string]*Template{}
		}
		t.variants[name] = v
	}
	return t, nil
}

// templateSources collects the named template sources of a model
// directory; "default" is the main one.
func templateSources(dir string, fromConfig json.RawMessage, limit int64) (map[string]string, error) {
	out := map[string]string{}
	if len(fromConfig) > 0 && string(fromConfig) != "null" {
		if int64(len(fromConfig)) > limit*2 {
			return nil, fmt.Errorf("%w: chat_template exceeds %d bytes", ErrLimit, limit)
		}
		var s string
		if err := json.Unmarshal(fromConfig, &s); err == nil {
			out["default"] = s
		} else {
			var list []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(fromConfig, &list); err != nil {
				return nil, fmt.Errorf("chat_template is neither a string nor a list of {name, template}")
			}
			for _, e := range list {
				out[e.Name] = e.Template
			}
		}
	}
	b, err := smallfile.Read(filepath.Join(dir, "chat_template.jinja"), limit, ErrLimit)
	switch {
	case err == nil:
		out["default"] = string(b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	extra, err := os.ReadDir(filepath.Join(dir, "additional_chat_templates"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range extra {
		name, ok := strings.CutSuffix(e.Name(), ".jinja")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		b, err := smallfile.Read(filepath.Join(dir, "additional_chat_templates", e.Name()), limit, ErrLimit)
		if err != nil {
			return nil, err
		}
		out[name] = string(b)
	}
	return out, nil
}

// specialTokenVars reads the special token strings transformers passes to
// templates (tokens may be strings or AddedToken objects).
func specialTokenVars(cfg []byte) (map[string]any, error) {
	vars := map[string]any{}
	if len(cfg) == 0 {
		return vars, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(cfg, &raw); err != nil {
		return nil, err
	}
	for _, key := range []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"} {
		if s, ok := tokenContent(raw[key]); ok {
			vars[key] = s
		}
	}
	var extra []json.RawMessage
	if json.Unmarshal(raw["additional_special_tokens"], &extra) == nil && len(extra) > 0 {
		list := make([]any, 0, len(extra))
		for _, e := range extra {
			if s, ok := tokenContent(e); ok {
				list = append(list, s)
			}
		}
		vars["additional_special_tokens"] = list
	}
	return vars, nil
}

func tokenContent(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
		return *obj.Content, true
	}
	return "", false
}

// Parse compiles a template source. vars are extra global variables (such as
// bos_token) as Go values (nil, bool, numbers, strings, []any,
// map[string]any); they are converted once.
func Parse(source string, vars map[string]any, opts *Options) (*Template, error) {
	o := opts.resolved()
	if int64(len(source)) > o.MaxSourceBytes {
		return nil, fmt.Errorf("%w: template of %d bytes exceeds %d", ErrLimit, len(source), o.MaxSourceBytes)
	}
	tpl, err := jinja.Parse(source)
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	t := &Template{tpl: tpl, vars: map[string]jinja.Value{}, opts: o}
	for k, v := range vars {
		jv, err := jinja.FromGo(v)
		if err != nil {
			return nil, fmt.Errorf("chat template variable %s: %w", k, err)
		}
		t.vars[k] = jv
	}
	return t, nil
}

// Variant returns the named template of a multi-template model (for
// example "tool_use").
func (t *Template) Variant(name string) (*Template, bool) {
	v, ok := t.variants[name]
	return v, ok
}

// Variants returns the names of the other templates, sorted.
func (t *Template) Variants() []string {
	names := make([]string, 0, len(t.variants))
	for n := range t.variants {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Render renders messages and tools as transformers' apply_chat_template(
// messages, tools=tools, add_generation_prompt=addGenerationPrompt,
// tokenize=False, **kwargs). When tools are given and the model has a
// "tool_use" template, that one renders, as in transformers. Messages and
// tools take the dictionary shapes described at MessagesJSON and ToolsJSON.
// kwargs values are Go values (bool, numbers, strings, []any,
// map[string]any); they override the special-token variables.
//
// Errors wrap ErrRejected when the template raised an exception about the
// conversation, and ErrLimit when it exceeded a bound.
func (t *Template) Render(messages []pipeline.Message, tools []pipeline.Tool, addGenerationPrompt bool, kwargs map[string]any) (string, error) {
	msgs, err := MessagesJSON(messages)
	if err != nil {
		return "", err
	}
	var toolsJSON []byte
	if len(tools) > 0 {
		if toolsJSON, err = ToolsJSON(tools); err != nil {
			return "", err
		}
	}
	return t.RenderJSON(msgs, toolsJSON, addGenerationPrompt, kwargs)
}

// RenderJSON is Render for messages and tools given as JSON arrays in the
// shape templates receive (object key order is kept, as Python's json
// does). A nil tools means no tools (the template sees None).
func (t *Template) RenderJSON(messagesJSON, toolsJSON []byte, addGenerationPrompt bool, kwargs map[string]any) (string, error) {
	msgs, err := jinja.FromJSON(messagesJSON)
	if err != nil {
		return "", fmt.Errorf("chat template messages: %w", err)
	}
	if len(jinja.Items(msgs)) == 0 {
		// transformers refuses before rendering.
		return "", fmt.Errorf("%w: Cannot apply chat template to an empty conversation. Provide at least one message.", ErrRejected)
	}
	tools := jinja.None()
	if len(toolsJSON) > 0 && string(toolsJSON) != "null" {
		if tools, err = jinja.FromJSON(toolsJSON); err != nil {
			return "", fmt.Errorf("chat template tools: %w", err)
		}
	}
	tpl := t
	if tools.Kind() != jinja.KindNone {
		if v, ok := t.variants["tool_use"]; ok {
			tpl = v
		}
	}
	vars := make(map[string]jinja.Value, len(tpl.vars)+len(kwargs)+4)
	for k, v := range tpl.vars {
		vars[k] = v
	}
	for k, v := range kwargs {
		jv, err := jinja.FromGo(v)
		if err != nil {
			return "", fmt.Errorf("chat template kwarg %s: %w", k, err)
		}
		vars[k] = jv
	}
	vars["messages"] = msgs
	vars["tools"] = tools
	vars["documents"] = jinja.None()
	vars["add_generation_prompt"] = jinja.Bool(addGenerationPrompt)
	out, err := tpl.tpl.Render(vars, jinja.Limits{
		MaxOutput: tpl.opts.MaxOutputBytes,
		MaxSteps:  tpl.opts.MaxSteps,
		Deadline:  time.Now().Add(tpl.opts.Timeout),
		Now:       tpl.opts.Now,
	})
	if err != nil {
		var te *jinja.Error
		if errors.As(err, &te) && te.Raised {
			return "", fmt.Errorf("%w: %s", ErrRejected, te.Msg)
		}
		return "", fmt.Errorf("render chat template: %w", err)
	}
	return out, nil
}
