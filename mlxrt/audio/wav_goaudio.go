package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	goaudio "github.com/go-audio/audio"
	gowav "github.com/go-audio/wav"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// canonicalWAVHeaderSize is the size of the header rebuilt for
// go-audio/wav: RIFF, a 16-byte fmt chunk and the data chunk's header.
const canonicalWAVHeaderSize = 44

// viaGoAudio reports whether go-audio/wav decodes w: classic integer PCM
// (8, 16, 24 or 32-bit, plain or inside WAVE_FORMAT_EXTENSIBLE) with real
// sizes. go-audio/wav reads no float, μ-law or A-law, no RF64, and no
// 0xFFFFFFFF sizes (it reads 0 samples from a streamed file); those stay on
// decodeWAVOwn.
func (w wavStream) viaGoAudio() bool {
	return w.f.tag == wavPCM && !w.streamed && len(w.data) <= math.MaxUint32-canonicalWAVHeaderSize
}

// decodeWAVGoAudio decodes w with go-audio/wav's decoder. go-audio/wav
// trusts the sizes it reads (a chunk declaring 4 GiB gets a 4 GiB
// allocation or read), so it never sees the uploaded header: it reads a
// rebuilt canonical header followed by w.data, whose size parseWAV has
// checked against the input and cut to whole frames. Samples are read in
// bounded blocks and scaled exactly as decodeWAVOwn scales them.
func decodeWAVGoAudio(w wavStream, lim limits) (pipeline.Audio, error) {
	f := w.f
	d := gowav.NewDecoder(&joinedReader{head: canonicalWAVHeader(f, len(w.data)), body: w.data})
	err := d.FwdToPCM()
	if err == nil {
		err = d.Err() // FwdToPCM returns nil when the header cannot be read
	}
	if err != nil {
		return pipeline.Audio{}, malformed("WAV", fmt.Errorf("go-audio/wav: %w", err))
	}
	if int(d.NumChans) != f.channels || int(d.BitDepth) != f.bits || int(d.SampleRate) != f.rate {
		return pipeline.Audio{}, malformed("WAV", fmt.Errorf("go-audio/wav read %d channels, %d bits, %d Hz from a header of %d, %d, %d",
			d.NumChans, d.BitDepth, d.SampleRate, f.channels, f.bits, f.rate))
	}
	scale := intSampleScale(f.bits)
	frames := w.frames()
	c := newCollector(f.rate, lim, frames)
	// A whole number of frames per read keeps every block frame-aligned.
	buf := &goaudio.IntBuffer{Data: make([]int, wavChunkFrames*f.channels)}
	inter := make([]float32, 0, len(buf.Data))
	for {
		n, err := d.PCMBuffer(buf)
		if err != nil {
			return pipeline.Audio{}, malformed("WAV", fmt.Errorf("go-audio/wav: %w", err))
		}
		if n == 0 {
			break
		}
		if n%f.channels != 0 || int64(len(c.samples)+n/f.channels) > frames {
			return pipeline.Audio{}, malformed("WAV", fmt.Errorf("go-audio/wav returned %d samples past frame %d of %d", n, len(c.samples), frames))
		}
		inter = inter[:0]
		for _, v := range buf.Data[:n] {
			inter = append(inter, scale(v))
		}
		c.samples = dsp.Downmix(c.samples, inter, f.channels)
	}
	return c.audio("WAV")
}

// intSampleScale maps go-audio/wav's integer samples of bits to [-1, 1).
func intSampleScale(bits int) func(int) float32 {
	switch bits {
	case 8:
		return u8ToFloat
	case 16:
		return s16ToFloat
	case 24:
		return s24ToFloat
	default: // 32; wavEncodingOK admitted nothing else
		return s32ToFloat
	}
}

// canonicalWAVHeader is a 44-byte RIFF/WAVE header announcing dataSize
// bytes of PCM in format f.
func canonicalWAVHeader(f *wavFormat, dataSize int) []byte {
	b := make([]byte, 0, canonicalWAVHeaderSize)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(canonicalWAVHeaderSize-8+dataSize))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, wavPCM)
	b = binary.LittleEndian.AppendUint16(b, uint16(f.channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(f.rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(f.rate*f.block))
	b = binary.LittleEndian.AppendUint16(b, uint16(f.block))
	b = binary.LittleEndian.AppendUint16(b, uint16(f.bits))
	b = append(b, "data"...)
	return binary.LittleEndian.AppendUint32(b, uint32(dataSize))
}

// joinedReader reads head then body as one seekable stream, so that
// go-audio/wav (which wants an io.ReadSeeker) reads the rebuilt header and
// the upload's samples without a copy of the samples.
type joinedReader struct {
	head, body []byte
	off        int64
}

func (r *joinedReader) size() int64 { return int64(len(r.head) + len(r.body)) }

func (r *joinedReader) Read(p []byte) (int, error) {
	if r.off >= r.size() {
		return 0, io.EOF
	}
	n := 0
	if h := int64(len(r.head)); r.off < h {
		n = copy(p, r.head[r.off:])
	}
	if bodyOff := r.off + int64(n) - int64(len(r.head)); bodyOff >= 0 {
		n += copy(p[n:], r.body[bodyOff:])
	}
	r.off += int64(n)
	return n, nil
}

func (r *joinedReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size()
	default:
		return 0, fmt.Errorf("joinedReader: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("joinedReader: seek to negative offset %d", offset)
	}
	r.off = offset
	return offset, nil
}
