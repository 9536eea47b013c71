// Package audio decodes uploaded audio and encodes synthesized audio for
// ominix-api; it implements pipeline.Codecs. Use New().Decode to turn an
// upload (WAV, FLAC, MP3, Ogg/Opus or WebM/Opus as browsers' MediaRecorder
// makes it; recognised by its bytes, never its name) into mono samples,
// and New().NewEncoder to stream wav, pcm, flac, mp3 or opus to a client
// while the audio is being produced.
//
// WAV, FLAC (github.com/mewkiz/flac), MP3 decoding (github.com/hajimehoshi/go-mp3)
// and the Ogg and WebM demuxers are pure Go. Opus needs libopus (build tag
// opus, Debian package libopus-dev) and MP3 encoding needs LAME (build tag
// lame, libmp3lame-dev); without them those formats fail with an error
// naming the package to install. No code path runs an external program.
//
// Decoding is bounded: DecodeOptions.MaxSeconds is enforced while decoding,
// declared sizes are checked against the bytes actually present before
// anything is allocated from them, and every malformed input yields a
// KindInvalid *pipeline.Error with a message fit for the caller.
package audio
