// Package pipelinetest provides scripted engines for tests: a language model
// that "generates" a script, a recognizer and a synthesizer that follow
// simple rules. They implement the pipeline ports faithfully (steps,
// batching, release, pinned-thread use), so the scheduler, sessions and
// transports can be tested without model weights. Never use them in the
// shipped binary.
package pipelinetest
