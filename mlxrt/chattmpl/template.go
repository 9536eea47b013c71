package chattmpl

import (
	"errors"
	"time"

	"github.com/ominix/ominix-api/pipeline"
)

// ErrLimit is wrapped by errors from templates that exceed a bound of
// Options (source size, output size, loop iterations, call depth, time).
var ErrLimit = errors.New("chat template limit exceeded")

// ErrNoTemplate is returned by Load when the directory has no chat template.
var ErrNoTemplate = errors.New("no chat template")

// Options bounds template loading and rendering. A nil *Options means all
// defaults.
type Options struct {
	// MaxSourceBytes caps the template source (and tokenizer_config.json).
	// Zero means 1 MiB.
	MaxSourceBytes int64
	// MaxOutputBytes caps the rendered prompt. Zero means 16 MiB.
	MaxOutputBytes int
	// MaxSteps caps loop iterations plus range() items over one render.
	// Zero means 1<<20.
	MaxSteps int
	// Timeout caps one render's wall-clock time. Zero means 10s.
	Timeout time.Duration
	// Now is used by strftime_now. Nil means time.Now.
	Now func() time.Time
}

// Template is a parsed chat template with its special-token variables. It is
// immutable and safe for concurrent use.
type Template struct{}

// Load reads the chat template of a model directory: chat_template.jinja if
// present (transformers 5), else tokenizer_config.json's chat_template (a
// string, or a list of {name, template} where "default" is used and other
// names, such as "tool_use", are variants). bos_token, eos_token, pad_token,
// unk_token and the other *_token strings of tokenizer_config.json become
// template variables. It returns ErrNoTemplate when there is none.
func Load(dir string, opts *Options) (*Template, error) { panic("todo") }

// Parse compiles a template source. vars are extra global variables (such as
// bos_token); they are copied.
func Parse(source string, vars map[string]any, opts *Options) (*Template, error) { panic("todo") }

// Variant returns the named template of a multi-template tokenizer_config
// (for example "tool_use").
func (t *Template) Variant(name string) (*Template, bool) { panic("todo") }

// Render renders messages and tools as transformers' apply_chat_template(
// messages, tools=tools, add_generation_prompt=addGenerationPrompt,
// tokenize=False, **kwargs). When tools are given and the template has a
// "tool_use" variant, that variant renders, as in transformers.
func (t *Template) Render(messages []pipeline.Message, tools []pipeline.Tool, addGenerationPrompt bool, kwargs map[string]any) (string, error) {
	panic("todo")
}

// RenderDicts is Render for messages and tools already in the JSON-like
// shape templates receive (maps, slices, strings, float64/int, bool, nil).
func (t *Template) RenderDicts(messages []any, tools []any, addGenerationPrompt bool, kwargs map[string]any) (string, error) {
	panic("todo")
}

// MessageDicts converts pipeline messages to the dictionaries transformers
// passes to templates: {role, content, name?, reasoning_content?,
// tool_call_id?, tool_calls?: [{id, type: "function", function: {name,
// arguments}}]} where arguments is the parsed JSON object when the arguments
// are a JSON object, else the string. An assistant message with tool calls
// and empty content gets content None, as OpenAI clients send it.
func MessageDicts(messages []pipeline.Message) []any { panic("todo") }

// ToolDicts converts tools to OpenAI tool dictionaries {type: "function",
// function: {name, description, parameters}}.
func ToolDicts(tools []pipeline.Tool) []any { panic("todo") }
