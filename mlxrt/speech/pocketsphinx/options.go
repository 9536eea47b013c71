package pocketsphinx

import "time"

// InputRate is the sample rate, in Hz, of the audio streams accept: the
// en-us acoustic model is trained on 16 kHz speech.
const InputRate = 16000

// Options configure a Recognizer. The zero value (or nil) gives the defaults
// documented on each field.
type Options struct {
	// Decoders is the size of the decoder pool, created at load time: each
	// open stream holds one decoder, so it is also the number of streams
	// that can be open at once. NewStream on an exhausted pool fails with a
	// KindOverloaded error (code "asr_streams_exhausted", Retry-After 1 s).
	// The pool never grows: each decoder holds its own copy of the model
	// (about 90 MiB resident for Debian's en-us, and 0.6 s to create), and
	// creating one on demand would stall the pinned thread. One pinned
	// thread recognizes only a few streams in real time (see the package
	// benchmarks), so a larger pool mostly buys queueing. Zero means 4
	// (about 360 MiB); at most 64.
	Decoders int
	// MaxUtterance caps the audio of one utterance; Accept past it fails
	// with a KindTooLarge error (code "utterance_too_long"), after which
	// the caller ends the utterance. The decoder keeps every frame of an
	// utterance for its second pass, so this bounds memory and the cost of
	// EndUtterance. Zero means 2 minutes.
	MaxUtterance time.Duration
	// MaxChunk caps the audio of one Accept call, which runs as one step on
	// the pinned thread; longer chunks fail with a KindInvalid error. Feed
	// 100–200 ms per call for prompt partial results. Zero means 10 s.
	MaxChunk time.Duration
}

const maxDecoders = 64

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Decoders <= 0 {
		v.Decoders = 4
	}
	v.Decoders = min(v.Decoders, maxDecoders)
	if v.MaxUtterance <= 0 {
		v.MaxUtterance = 2 * time.Minute
	}
	if v.MaxChunk <= 0 {
		v.MaxChunk = 10 * time.Second
	}
	return v
}
