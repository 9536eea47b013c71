// Package speechtest helps test and benchmark speech engines: word error
// rate and a minimal 16-bit PCM WAV reader and writer. Use WER to score a
// transcript against its reference, ReadWAV and WriteWAV for fixture files
// and for the command-line tools benchmarks compare against. Resample with
// pipeline/dsp. Shipped code must not import this package: production
// decoding lives in the codecs packages.
package speechtest
