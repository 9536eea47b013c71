package audio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// WAVE format tags this decoder reads.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavExtensible = 0xFFFE
	// wavUnknownSize is what streaming writers (and OpenAI) put in the
	// RIFF and data sizes when the length is not known up front.
	wavUnknownSize = 0xFFFFFFFF
	wavMaxChannels = 32
)

// extensibleGUIDTail is the fixed part of KSDATAFORMAT_SUBTYPE_* GUIDs
// after the leading format tag.
var extensibleGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavFormat is the decoded fmt chunk.
type wavFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int // container bits per sample
	block    int // bytes per frame (all channels)
}

// wavStream is a WAVE file whose structure parseWAV has checked: its
// format and the bytes of its data chunk, cut to whole frames.
type wavStream struct {
	f    *wavFormat
	data []byte
	// streamed is set when the RIFF or data size is 0xFFFFFFFF or the file
	// is RF64: the data chunk then runs to the end of the input.
	streamed bool
}

// frames is the number of whole frames in the data chunk.
func (w wavStream) frames() int64 { return int64(len(w.data) / w.f.block) }

// decodeWAV reads RIFF/RF64 WAVE: PCM 8/16/24/32-bit, IEEE float 32/64,
// μ-law and A-law, plain or WAVE_FORMAT_EXTENSIBLE. Classic integer PCM
// goes through github.com/go-audio/wav (see viaGoAudio); the rest through
// decodeWAVOwn.
func decodeWAV(data []byte, lim limits) (pipeline.Audio, error) {
	w, err := parseWAV(data)
	if err != nil {
		return pipeline.Audio{}, err
	}
	if w.frames() > lim.maxSamples(w.f.rate) {
		return pipeline.Audio{}, lim.tooLong()
	}
	if w.viaGoAudio() {
		return decodeWAVGoAudio(w, lim)
	}
	return decodeWAVOwn(w, lim)
}

// parseWAV walks the chunks up to the data chunk, checking every declared
// size against the bytes present before using it, and validates the fmt
// chunk. Nothing is allocated from a declared size.
func parseWAV(data []byte) (wavStream, error) {
	if len(data) < 12 {
		return wavStream{}, truncated("WAV")
	}
	rf64 := string(data[:4]) == "RF64"
	streamed := rf64 || binary.LittleEndian.Uint32(data[4:]) == wavUnknownSize
	var ds64Data uint64 // RF64: the real data size from the ds64 chunk
	var fmtc *wavFormat
	for p := 12; ; {
		if p+8 > len(data) {
			if fmtc == nil {
				return wavStream{}, invalidf("WAV file has no fmt chunk")
			}
			return wavStream{}, invalidf("WAV file has no data chunk")
		}
		id := string(data[p : p+4])
		size := uint64(binary.LittleEndian.Uint32(data[p+4:]))
		body := data[p+8:]
		switch id {
		case "ds64":
			if !rf64 || size < 24 || uint64(len(body)) < 24 {
				return wavStream{}, invalidf("WAV file has a malformed ds64 chunk")
			}
			ds64Data = binary.LittleEndian.Uint64(body[8:])
		case "fmt ":
			if size > uint64(len(body)) {
				return wavStream{}, truncated("WAV")
			}
			f, err := parseWAVFormat(body[:size])
			if err != nil {
				return wavStream{}, err
			}
			fmtc = f
		case "data":
			if fmtc == nil {
				return wavStream{}, invalidf("WAV file has its data chunk before the fmt chunk")
			}
			n, err := wavDataSize(size, rf64, ds64Data, len(body))
			if err != nil {
				return wavStream{}, err
			}
			n -= n % fmtc.block // a trailing partial frame is dropped
			return wavStream{f: fmtc, data: body[:n], streamed: streamed || size == wavUnknownSize}, nil
		}
		// Chunks are padded to an even size; a size past the end of the
		// file means a truncated or lying header, never an allocation.
		next := uint64(p) + 8 + size + size&1
		if next > uint64(len(data)) {
			return wavStream{}, truncated("WAV")
		}
		p = int(next)
	}
}

// wavDataSize is how many bytes of body the data chunk covers.
func wavDataSize(size uint64, rf64 bool, ds64 uint64, avail int) (int, error) {
	switch {
	case rf64 && size == wavUnknownSize && ds64 > 0:
		size = ds64
	case size == wavUnknownSize:
		// Streamed WAV: the data runs to the end of the file.
		return avail, nil
	}
	if size > uint64(avail) {
		return 0, invalidf("truncated WAV file: the data chunk declares %d bytes but only %d are present", size, avail)
	}
	return int(size), nil
}

func parseWAVFormat(b []byte) (*wavFormat, error) {
	if len(b) < 16 {
		return nil, invalidf("WAV file has a malformed fmt chunk (%d bytes)", len(b))
	}
	f := &wavFormat{
		tag:      binary.LittleEndian.Uint16(b),
		channels: int(binary.LittleEndian.Uint16(b[2:])),
		rate:     int(binary.LittleEndian.Uint32(b[4:])),
		block:    int(binary.LittleEndian.Uint16(b[12:])),
		bits:     int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == wavExtensible {
		if len(b) < 40 || binary.LittleEndian.Uint16(b[16:]) < 22 {
			return nil, invalidf("WAV file has a malformed WAVE_FORMAT_EXTENSIBLE fmt chunk")
		}
		guid := b[24:40]
		if string(guid[2:]) != string(extensibleGUIDTail) {
			return nil, invalidf("WAV file uses an unsupported WAVE_FORMAT_EXTENSIBLE sub-format")
		}
		f.tag = binary.LittleEndian.Uint16(guid)
	}
	if f.channels < 1 || f.channels > wavMaxChannels {
		return nil, invalidf("WAV file declares %d channels (supported: 1 to %d)", f.channels, wavMaxChannels)
	}
	if err := checkRate("WAV", f.rate); err != nil {
		return nil, err
	}
	if !wavEncodingOK(f.tag, f.bits) {
		return nil, invalidf("WAV encoding %s is not supported (supported: PCM 8/16/24/32-bit, float 32/64-bit, μ-law, A-law)", wavEncodingName(f.tag, f.bits))
	}
	// The container size of a sample follows from the block alignment; it
	// must hold the declared bits.
	if f.block <= 0 || f.block%f.channels != 0 || f.block/f.channels != (f.bits+7)/8 {
		return nil, invalidf("WAV file has an inconsistent block alignment of %d bytes for %d channels of %d bits", f.block, f.channels, f.bits)
	}
	return f, nil
}

func wavEncodingOK(tag uint16, bits int) bool {
	switch tag {
	case wavPCM:
		return bits == 8 || bits == 16 || bits == 24 || bits == 32
	case wavFloat:
		return bits == 32 || bits == 64
	case wavALaw, wavMuLaw:
		return bits == 8
	}
	return false
}

func wavEncodingName(tag uint16, bits int) string {
	switch tag {
	case wavPCM:
		return fmt.Sprintf("PCM %d-bit", bits)
	case wavFloat:
		return fmt.Sprintf("float %d-bit", bits)
	case wavALaw:
		return fmt.Sprintf("A-law %d-bit", bits)
	case wavMuLaw:
		return fmt.Sprintf("μ-law %d-bit", bits)
	case 0x0002:
		return "MS ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0055:
		return "MP3-in-WAV"
	}
	return fmt.Sprintf("format tag 0x%04X", tag)
}

// decodeWAVOwn converts the data chunk to mono float32, a bounded block
// at a time, with the package's own sample converters. It reads every
// encoding parseWAVFormat admits.
func decodeWAVOwn(w wavStream, lim limits) (pipeline.Audio, error) {
	f := w.f
	frames := w.frames()
	c := newCollector(f.rate, lim, frames)
	conv := wavSampleFunc(f.tag, f.bits)
	width := f.block / f.channels
	inter := make([]float32, 0, wavChunkFrames*f.channels)
	for start := int64(0); start < frames; start += wavChunkFrames {
		end := min(start+wavChunkFrames, frames)
		inter = inter[:0]
		for off := int(start) * f.block; off < int(end)*f.block; off += width {
			inter = append(inter, conv(w.data[off:off+width]))
		}
		c.samples = dsp.Downmix(c.samples, inter, f.channels)
	}
	return c.audio("WAV")
}

// wavChunkFrames is how many frames either WAV path converts at a time.
const wavChunkFrames = 4096

// wavSampleFunc returns the converter of one little-endian sample.
func wavSampleFunc(tag uint16, bits int) func([]byte) float32 {
	switch {
	case tag == wavPCM && bits == 8:
		return func(s []byte) float32 { return u8ToFloat(int(s[0])) }
	case tag == wavPCM && bits == 16:
		return func(s []byte) float32 { return s16ToFloat(int(int16(binary.LittleEndian.Uint16(s)))) }
	case tag == wavPCM && bits == 24:
		return func(s []byte) float32 {
			return s24ToFloat(int(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24) >> 8))
		}
	case tag == wavPCM && bits == 32:
		return func(s []byte) float32 { return s32ToFloat(int(int32(binary.LittleEndian.Uint32(s)))) }
	case tag == wavFloat && bits == 32:
		return func(s []byte) float32 { return finite(math.Float32frombits(binary.LittleEndian.Uint32(s))) }
	case tag == wavFloat && bits == 64:
		return func(s []byte) float32 { return finite(float32(math.Float64frombits(binary.LittleEndian.Uint64(s)))) }
	case tag == wavALaw:
		return func(s []byte) float32 { return float32(dsp.ALawDecode(s[0])) / 32768 }
	default: // μ-law; wavEncodingOK admitted nothing else
		return func(s []byte) float32 { return float32(dsp.MuLawDecode(s[0])) / 32768 }
	}
}

// Integer PCM scaling, shared by both WAV paths so that they agree to the
// bit: 8-bit samples are unsigned around 128, the others signed.
func u8ToFloat(v int) float32  { return (float32(v) - 128) / 128 }
func s16ToFloat(v int) float32 { return float32(v) / 32768 }
func s24ToFloat(v int) float32 { return float32(v) / (1 << 23) }
func s32ToFloat(v int) float32 { return float32(float64(v) / (1 << 31)) }

// finite clamps float samples to [-1, 1] and maps NaN to 0, so a hostile
// file cannot poison later arithmetic with NaN or infinities.
func finite(v float32) float32 {
	switch {
	case v != v:
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return v
}
