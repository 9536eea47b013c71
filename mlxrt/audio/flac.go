package audio

import (
	"bytes"
	"errors"
	"io"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// decodeFLAC decodes a FLAC stream frame by frame with mewkiz/flac, mixing
// each frame down to mono as it goes.
func decodeFLAC(data []byte, lim limits) (pipeline.Audio, error) {
	stream, err := flac.New(bytes.NewReader(data))
	if err != nil {
		if isEOF(err) {
			return pipeline.Audio{}, truncated("FLAC")
		}
		return pipeline.Audio{}, malformed("FLAC", err)
	}
	info := stream.Info
	if err := checkRate("FLAC", int(info.SampleRate)); err != nil {
		return pipeline.Audio{}, err
	}
	if info.NSamples > uint64(lim.maxSamples(int(info.SampleRate))) {
		return pipeline.Audio{}, lim.tooLong()
	}
	// A header can claim anything: presize for at most what the bytes
	// could hold (FLAC cannot beat about 1/8 bit per sample on silence).
	hint := min(int64(info.NSamples), int64(len(data))*64)
	c := newCollector(int(info.SampleRate), lim, hint)
	mono := make([]float32, 0, int(info.BlockSizeMax))
	for {
		f, err := stream.ParseNext()
		if err == io.EOF {
			break
		}
		if err != nil {
			if isEOF(err) {
				return pipeline.Audio{}, truncated("FLAC")
			}
			return pipeline.Audio{}, malformed("FLAC", err)
		}
		if f.SampleRate != 0 && f.SampleRate != info.SampleRate {
			return pipeline.Audio{}, invalidf("FLAC file changes sample rate mid-stream (%d Hz to %d Hz)", info.SampleRate, f.SampleRate)
		}
		mono = flacMono(mono[:0], f, info.BitsPerSample)
		if err := c.add(mono); err != nil {
			return pipeline.Audio{}, err
		}
	}
	if info.NSamples != 0 && uint64(len(c.samples)) < info.NSamples {
		return pipeline.Audio{}, truncated("FLAC")
	}
	return c.audio("FLAC")
}

// flacMono averages a frame's channels (already undecorrelated by the
// decoder) into mono float32.
func flacMono(dst []float32, f *frame.Frame, streamBits uint8) []float32 {
	if len(f.Subframes) == 0 {
		return dst
	}
	n := f.Subframes[0].NSamples
	for _, sf := range f.Subframes {
		n = min(n, len(sf.Samples))
	}
	bits := f.BitsPerSample
	if bits == 0 { // "see STREAMINFO"
		bits = streamBits
	}
	scale := 1 / (float32(int64(1)<<(min(max(bits, 1), 32)-1)) * float32(len(f.Subframes)))
	for i := range n {
		var s int64
		for _, sf := range f.Subframes {
			s += int64(sf.Samples[i])
		}
		dst = append(dst, finite(float32(s)*scale))
	}
	return dst
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// flacBlockSize is the number of samples per encoded frame.
const flacBlockSize = 4096

// flacEncoder writes 16-bit mono FLAC with mewkiz/flac, one frame per 4096
// samples. The STREAMINFO block is written before the length is known, so
// it leaves the sample count and MD5 unset (allowed by the format).
type flacEncoder struct {
	w       io.Writer
	rs      resampling
	enc     *flac.Encoder
	buf     bytes.Buffer // the encoder writes here; each frame is copied to w at once
	pending []int32
	closed  bool
}

func newFLACEncoder(w io.Writer, rate int) (*flacEncoder, error) {
	return &flacEncoder{w: w, rs: resampling{out: rate}}, nil
}

func (e *flacEncoder) ContentType() string { return "audio/flac" }

func (e *flacEncoder) Write(a pipeline.Audio) error {
	if e.closed {
		return errClosed
	}
	s, err := e.rs.convert(a)
	if err != nil {
		return err
	}
	return e.encode(s, false)
}

func (e *flacEncoder) Close() error {
	if e.closed {
		return nil
	}
	err := e.encode(e.rs.flush(), true)
	e.closed = true
	return err
}

// encode queues samples and writes every complete frame (and, at the end,
// the partial last one).
func (e *flacEncoder) encode(s []float32, final bool) error {
	if e.enc == nil {
		info := &meta.StreamInfo{
			BlockSizeMin:  flacBlockSize,
			BlockSizeMax:  flacBlockSize,
			SampleRate:    uint32(e.rs.out),
			NChannels:     1,
			BitsPerSample: 16,
		}
		enc, err := flac.NewEncoder(writeOnly{&e.buf}, info)
		if err != nil {
			return err
		}
		e.enc = enc
	}
	for _, v := range s {
		e.pending = append(e.pending, int32(dsp.FloatToS16(v)))
	}
	for len(e.pending) >= flacBlockSize || (final && len(e.pending) > 0) {
		n := min(len(e.pending), flacBlockSize)
		if err := e.writeFrame(e.pending[:n]); err != nil {
			return err
		}
		e.pending = append(e.pending[:0], e.pending[n:]...)
	}
	return e.drain()
}

func (e *flacEncoder) writeFrame(samples []int32) error {
	f := &frame.Frame{
		Header: frame.Header{
			HasFixedBlockSize: true,
			BlockSize:         uint16(len(samples)),
			SampleRate:        uint32(e.rs.out),
			Channels:          frame.ChannelsMono,
			BitsPerSample:     16,
		},
		Subframes: []*frame.Subframe{{
			// Verbatim asks the encoder's analysis to pick the best of
			// constant, fixed-predictor and verbatim coding.
			SubHeader: frame.SubHeader{Pred: frame.PredVerbatim},
			Samples:   append([]int32(nil), samples...),
			NSamples:  len(samples),
		}},
	}
	return e.enc.WriteFrame(f)
}

// drain copies what the encoder produced to the client in one write.
func (e *flacEncoder) drain() error {
	if e.buf.Len() == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf.Bytes())
	e.buf.Reset()
	return err
}

// writeOnly hides every method but Write, so libraries cannot close or
// seek the client's stream.
type writeOnly struct{ w io.Writer }

func (o writeOnly) Write(p []byte) (int, error) { return o.w.Write(p) }
