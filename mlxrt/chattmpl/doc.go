// Package chattmpl renders chat prompts with a model's Jinja chat template the
// way transformers' apply_chat_template does.
//
// Use [Load] to read the template of a model directory (chat_template.jinja,
// or tokenizer_config.json's chat_template as a string or a list of named
// templates) together with its special tokens, or [Parse] for a template
// source; then [Template.Render] turns pipeline messages and tools into the
// prompt text. [Template.RenderJSON] takes messages and tools as JSON in the
// dictionary shape transformers passes to templates ([MessagesJSON] and
// [ToolsJSON] build it).
//
// Templates run on a Jinja interpreter written for chat templates
// (internal/jinja) with Python's semantics and transformers' environment:
// trim_blocks and lstrip_blocks, loop controls, raise_exception, tojson as
// json.dumps(ensure_ascii=False, indent, separators, sort_keys),
// strftime_now, namespace, Python string/dict methods, the Jinja filters and
// tests, and the immutable sandbox (list.append and other mutations fail).
// Templates cannot read files: include, import and extends are rejected.
//
// Rendering is bounded (see [Options]): template size, output size, steps
// (statements, loop iterations, calls, range() items), macro depth and
// wall-clock time; a template that exceeds one fails with an error wrapping
// [ErrLimit], and the render stops where it is (no goroutine is left
// running). raise_exception in a template gives an error wrapping
// [ErrRejected].
//
// A Template is immutable after Load/Parse and safe for concurrent use.
package chattmpl
