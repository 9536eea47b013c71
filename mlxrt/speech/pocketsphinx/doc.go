// Package pocketsphinx is the offline streaming speech recognizer of
// ominix-api: CMU PocketSphinx (the Debian 0.8+5prealpha library) behind
// pipeline.Transcriber, with partial hypotheses while audio arrives and
// word timings at the end of each utterance.
//
// Use NewLoader for the ASR slot (it loads the Debian en-us model, or a
// model directory such as ASR_MODEL_DIR names: see ResolveDir for the
// layout), New to build a recognizer from explicit ModelPaths, and
// Available to ask whether the engine and its default model are installed.
// The cgo implementation is compiled only with the build tags "cgo" and
// "pocketsphinx"; without them the package still builds and every
// constructor returns a KindUnavailable error naming the Debian packages to
// install (libpocketsphinx-dev pocketsphinx-en-us).
//
// Streams take 16 kHz mono audio. Each holds a decoder from a fixed pool
// (Options.Decoders); Accept runs one chunk and returns the current
// hypothesis; EndUtterance runs the decoder's second pass and returns the
// text, its duration, segments with a confidence, and word timings relative
// to the start of the utterance. Long utterances are decoded in parts cut
// at pauses (Options.SplitAfter), so that no single step on the pinned
// thread grows with the length of the audio. A stream starts from the
// model's cepstral mean and adapts it as audio arrives, so one stream never
// inherits another's channel statistics.
//
// Threading: Load and New read the model files and create the decoders on
// the calling goroutine (the library keeps no per-thread state, and its
// process-wide logging is routed to a mutex-guarded callback, so this is
// safe off the pinned thread and while other decoders run). After that
// every method except Info must run on the pinned thread (pipeline.Thread),
// one call at a time.
package pocketsphinx
