// Package jinja is a Jinja2 interpreter for chat templates: it parses and
// renders the subset of Jinja that Hugging Face chat templates use, with
// Python's semantics for values (ordered dicts, Unicode strings, int/float
// arithmetic, repr and json.dumps formatting) and the environment
// transformers builds (trim_blocks, lstrip_blocks, loop controls, an
// immutable sandbox).
//
// Use [Parse] to compile a template and [Template.Render] to execute it with
// variables and [Limits]. Rendering is bounded: every loop iteration, call
// and output byte counts against the limits, macro recursion is capped, and
// a deadline is checked as it runs, so a hostile template fails with an
// error wrapping [ErrLimit] instead of hanging or exhausting memory. Errors
// never panic out of Render.
//
// A Template is immutable and safe for concurrent use.
package jinja
