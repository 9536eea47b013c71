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
	// the caller ends the utterance. Zero means 30 minutes, the longest
	// audio the codecs decode by default.
	MaxUtterance time.Duration
	// SplitAfter bounds the parts an utterance is decoded in. The decoder
	// keeps every frame of a part for its second pass, which runs when the
	// part ends and costs about 6% of the part's duration in one step on
	// the pinned thread. Once a part is this long, Accept ends it at the
	// next pause of 300 ms (or when it reaches twice this length) and
	// continues with a new part; the transcript joins the parts, one
	// segment each. Zero means 15 s.
	SplitAfter time.Duration
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
		v.MaxUtterance = 30 * time.Minute
	}
	if v.SplitAfter <= 0 {
		v.SplitAfter = 15 * time.Second
	}
	if v.MaxChunk <= 0 {
		v.MaxChunk = 10 * time.Second
	}
	return v
}
