// Package audio decodes uploaded audio and encodes synthesized audio for
// ominix-api; it implements pipeline.Codecs. Use New().Decode to turn an
// upload (WAV, FLAC, MP3, Ogg/Opus or WebM/Opus as browsers' MediaRecorder
// makes it; recognised by its bytes, never its name) into mono samples,
// and New().NewEncoder to stream wav, pcm, flac, mp3 or opus to a client
// while the audio is being produced.
//
// WAV, FLAC (github.com/mewkiz/flac), MP3 decoding
// (github.com/hajimehoshi/go-mp3) and the Ogg and WebM demuxers are pure
// Go. Opus needs libopus (build tag opus, Debian package libopus-dev) and
// MP3 encoding needs LAME (build tag lame, libmp3lame-dev); without them
// those formats fail with an error naming the package to install. No code
// path runs an external program.
//
// A WAV upload's chunks are always walked by this package's own bounded
// RIFF parser. The samples of classic integer PCM (8, 16, 24 or 32-bit,
// plain or inside WAVE_FORMAT_EXTENSIBLE) with real sizes are then decoded
// by github.com/go-audio/wav, which reads a rebuilt 44-byte header and only
// the validated whole frames, never the upload's own chunk sizes (it would
// allocate whatever they declare). Streamed WAV (0xFFFFFFFF sizes, as
// OpenAI and this package's encoder write it), RF64, IEEE float, μ-law and
// A-law, which go-audio/wav cannot read, are decoded by this package; both
// paths give the same samples to the bit. The wav encoder is this
// package's own: go-audio/wav's Encoder needs an io.WriteSeeker and writes
// the sizes at Close, so its output is not playable while it streams.
//
// Decoding is bounded: DecodeOptions.MaxSeconds is enforced while decoding,
// declared sizes are checked against the bytes actually present before
// anything is allocated from them, and every malformed input yields a
// KindInvalid *pipeline.Error with a message fit for the caller.
package audio
