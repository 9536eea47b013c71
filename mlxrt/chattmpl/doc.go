// Package chattmpl renders chat prompts with a model's Jinja chat template the
// way transformers' apply_chat_template does.
//
// Use [Load] to read the template of a model directory (chat_template.jinja,
// or tokenizer_config.json's chat_template as a string or a list of named
// templates) together with its special tokens, or [Parse] for a template
// source; then [Template.Render] turns pipeline messages and tools into the
// prompt text. [Template.RenderDicts] takes messages and tools already in the
// dictionary shape transformers passes to templates.
//
// The environment follows transformers': trim_blocks and lstrip_blocks on,
// raise_exception, tojson with ensure_ascii=False, strftime_now, namespace,
// Python string methods, and the usual filters and tests. Templates cannot
// read files (include/import/extends only see the template itself).
//
// Rendering is bounded: template source size, output size, the number of loop
// iterations and range() items, macro call depth and wall-clock time all have
// caps (see [Options]); a template that exceeds one fails with an error
// wrapping [ErrLimit].
//
// A Template is immutable after Load/Parse and safe for concurrent use.
package chattmpl
