// Package smallfile reads small files (configs, templates, tokenizer
// files) whole, with a bound on their size; use [Read] to load one such
// file of a model directory without trusting its length.
package smallfile
