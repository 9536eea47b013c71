// Package speechtest helps test and benchmark speech engines: word error
// rate, a minimal 16-bit PCM WAV reader and writer, and the CPU time of the
// calling thread. Use WER to score a transcript against its reference,
// ReadWAV and WriteWAV for fixture files and for the command-line tools
// benchmarks compare against, and ThreadCPU on the pinned thread to
// measure an engine's work apart from scheduling delays. Use Missing where
// a test would skip for lack of an engine, model or recording, so that
// OMINIX_REQUIRE_SPEECH=1 makes it fail instead. Resample with
// pipeline/dsp. Shipped code must not import this package: production
// decoding lives in the codecs packages.
package speechtest
