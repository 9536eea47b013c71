package audio

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// Codecs implements pipeline.Codecs. The zero value is ready to use and
// safe for concurrent use; encoders it returns are not.
type Codecs struct{}

var _ pipeline.Codecs = Codecs{}

// New returns the codecs of this build.
func New() Codecs { return Codecs{} }

// Decode sniffs data by its magic bytes (never by name) and decodes WAV,
// FLAC, MP3, Ogg/Opus or WebM/Opus to mono float32 at the file's own rate
// (Opus: the original input rate when libopus decodes to it directly,
// else 48 kHz). Channels are averaged. Audio longer than opts.MaxSeconds
// fails with KindTooLarge as soon as the decoder gets past the limit;
// empty, truncated, malformed or unsupported input fails with a
// KindInvalid *pipeline.Error (Param "file") whose message says why.
// Nothing is allocated from a size a header declares beyond what the input
// can hold.
func (Codecs) Decode(data []byte, opts pipeline.DecodeOptions) (a pipeline.Audio, err error) {
	if len(data) == 0 {
		return pipeline.Audio{}, invalidf("audio file is empty")
	}
	lim := newLimits(opts)
	s := sniff(data)
	if s.err != nil {
		return pipeline.Audio{}, s.err
	}
	// The pure-Go decoders come from other projects: a panic on hostile
	// input becomes a clear error rather than a crash.
	defer func() {
		if p := recover(); p != nil {
			a, err = pipeline.Audio{}, &pipeline.Error{
				Kind: pipeline.KindInvalid, Param: fileParam,
				Message: "malformed " + s.kind.String() + " file",
				Err:     fmt.Errorf("decoder panic: %v\n%s", p, debug.Stack()),
			}
		}
	}()
	body := data[s.start:]
	switch s.kind {
	case wavContainer:
		return decodeWAV(body, lim)
	case flacContainer:
		return decodeFLAC(body, lim)
	case mp3Container:
		return decodeMP3(body, lim)
	case oggContainer:
		in, err := demuxOggOpus(body)
		if err != nil {
			return pipeline.Audio{}, err
		}
		return decodeOpus(in, lim)
	case webmContainer:
		in, err := demuxWebM(body)
		if err != nil {
			return pipeline.Audio{}, err
		}
		return decodeOpus(in, lim)
	}
	return pipeline.Audio{}, invalidf("file is not a supported audio format; supported: %s", supportedInputs)
}

func (c container) String() string {
	switch c {
	case wavContainer:
		return "WAV"
	case flacContainer:
		return "FLAC"
	case mp3Container:
		return "MP3"
	case oggContainer:
		return "Ogg"
	case webmContainer:
		return "WebM"
	}
	return "audio"
}

// NewEncoder starts a streaming encoder of format writing to w. rate is the
// output sample rate; 0 means DefaultRate (24 kHz). Audio written at any
// other rate is resampled. Output is mono:
//   - wav: 16-bit PCM with 0xFFFFFFFF RIFF/data sizes (streamed, as OpenAI
//     sends it), so every prefix is a playable file;
//   - pcm: raw signed 16-bit little-endian samples, no header;
//   - flac: 16-bit, 4096-sample frames;
//   - mp3: constant bitrate via LAME (build tag lame), at the smallest
//     MPEG-1/2 rate at or above rate (16 to 48 kHz);
//   - opus: Ogg/Opus via libopus (build tag opus), 20 ms packets, one Ogg
//     page per Write;
//   - aac and anything else: a KindInvalid error with Param
//     "response_format" listing the supported formats.
//
// Nothing is written to w until the first Write or Close, so a caller can
// still set headers from ContentType.
func (Codecs) NewEncoder(w io.Writer, format pipeline.AudioFormat, rate int) (pipeline.AudioEncoder, error) {
	if w == nil {
		return nil, fmt.Errorf("audio encoder: nil writer")
	}
	switch format {
	case pipeline.FormatWAV, pipeline.FormatPCM, pipeline.FormatFLAC, pipeline.FormatMP3, pipeline.FormatOpus:
	default:
		return nil, &pipeline.Error{
			Kind: pipeline.KindInvalid, Param: "response_format",
			Message: fmt.Sprintf("response_format %q is not supported; use one of: %s", truncateString(string(format), 32), strings.Join(EncodeFormats(), ", ")),
		}
	}
	out, err := outputRate(format, rate)
	if err != nil {
		return nil, err
	}
	switch format {
	case pipeline.FormatWAV:
		return &s16Encoder{w: w, rs: resampling{out: out}, wav: true}, nil
	case pipeline.FormatPCM:
		return &s16Encoder{w: w, rs: resampling{out: out}}, nil
	case pipeline.FormatFLAC:
		return newFLACEncoder(w, out)
	case pipeline.FormatMP3:
		return newMP3Encoder(w, out)
	default:
		return newOpusEncoder(w, out)
	}
}

// EncodeFormats lists the response formats this build can produce.
func EncodeFormats() []string {
	f := []string{string(pipeline.FormatWAV), string(pipeline.FormatPCM), string(pipeline.FormatFLAC)}
	if mp3Available {
		f = append(f, string(pipeline.FormatMP3))
	}
	if opusAvailable {
		f = append(f, string(pipeline.FormatOpus))
	}
	return f
}

// DecodeFormats lists the containers this build can decode.
func DecodeFormats() []string {
	f := []string{"wav", "flac", "mp3"}
	if opusAvailable {
		f = append(f, "ogg/opus", "webm/opus")
	}
	return f
}
