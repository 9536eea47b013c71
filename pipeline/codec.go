package pipeline

import "io"

// AudioFormat names an audio container/codec as OpenAI's response_format does.
type AudioFormat string

// Audio formats. PCM is 24 kHz signed 16-bit little-endian mono without a header.
const (
	FormatWAV  AudioFormat = "wav"
	FormatPCM  AudioFormat = "pcm"
	FormatMP3  AudioFormat = "mp3"
	FormatOpus AudioFormat = "opus"
	FormatFLAC AudioFormat = "flac"
	FormatAAC  AudioFormat = "aac"
)

// DecodeOptions bound audio decoding.
type DecodeOptions struct {
	// MaxSeconds caps the decoded length; longer input fails with a
	// KindTooLarge *Error. Zero means 30 minutes.
	MaxSeconds float64
}

// Codecs decodes uploaded audio and encodes synthesized audio. Transports use
// it through this port; the implementation (which may use C libraries) lives
// in mlxrt and is wired in by cmd.
type Codecs interface {
	// Decode sniffs the container (WAV, FLAC, MP3, Ogg/Opus, WebM/Opus),
	// decodes it and mixes it down to mono at the file's own rate. Malformed
	// or unsupported input fails with a KindInvalid *Error.
	Decode(data []byte, opts DecodeOptions) (Audio, error)
	// NewEncoder starts a streaming encoder of format writing to w. Input
	// audio of any rate is resampled to what the format needs (24 kHz for
	// PCM). Unsupported formats fail with a KindInvalid *Error, Param
	// "response_format".
	NewEncoder(w io.Writer, format AudioFormat, rate int) (AudioEncoder, error)
}

// AudioEncoder encodes audio incrementally: each Write may emit bytes so that
// clients can play the stream while it arrives.
type AudioEncoder interface {
	Write(a Audio) error
	// Close flushes the encoder and writes any trailer. It does not close
	// the underlying writer.
	Close() error
	// ContentType is the MIME type of the output, e.g. "audio/wav".
	ContentType() string
}
