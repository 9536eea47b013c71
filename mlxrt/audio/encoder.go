package audio

import (
	"errors"
	"fmt"
	"io"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// DefaultRate is the output sample rate of every format when NewEncoder is
// given rate 0, as OpenAI's speech endpoint uses.
const DefaultRate = 24000

var errClosed = errors.New("audio encoder: write after Close")

// resampling converts whatever rate the engine writes to the encoder's
// output rate, keeping filter state across Writes (and across a change of
// input rate, which flushes the old filter first).
type resampling struct {
	out int
	in  int
	rs  *dsp.Resampler
	buf []float32
}

// convert returns a's samples at the output rate. The slice is valid until
// the next call and must not be modified (it may be a's own).
func (r *resampling) convert(a pipeline.Audio) ([]float32, error) {
	if a.Rate != r.in || r.in == 0 {
		if err := dsp.CheckRate(a.Rate); err != nil {
			return nil, fmt.Errorf("audio encoder: input %w", err)
		}
		r.buf = r.buf[:0]
		if r.rs != nil {
			r.buf = r.rs.Flush(r.buf)
		}
		r.in, r.rs = a.Rate, nil
		if a.Rate != r.out {
			rs, err := dsp.NewResampler(a.Rate, r.out)
			if err != nil {
				return nil, fmt.Errorf("audio encoder: %w", err)
			}
			r.rs = rs
		}
		if r.rs == nil {
			return append(r.buf, a.Samples...), nil
		}
		return r.rs.Process(r.buf, a.Samples), nil
	}
	if r.rs == nil {
		return a.Samples, nil
	}
	r.buf = r.rs.Process(r.buf[:0], a.Samples)
	return r.buf, nil
}

// flush returns the resampler's tail at the end of the stream.
func (r *resampling) flush() []float32 {
	if r.rs == nil {
		return nil
	}
	r.buf = r.rs.Flush(r.buf[:0])
	return r.buf
}

// outputRate resolves NewEncoder's rate argument.
func outputRate(format pipeline.AudioFormat, rate int) (int, error) {
	if rate == 0 {
		return DefaultRate, nil
	}
	if err := dsp.CheckRate(rate); err != nil {
		return 0, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "sample_rate", Message: fmt.Sprintf("%s output: %v", format, err)}
	}
	return rate, nil
}

// s16Encoder streams signed 16-bit little-endian mono samples: raw PCM, or
// WAV when wav is set. The WAV header, written with the first bytes, carries
// 0xFFFFFFFF as the RIFF and data sizes (the length is not known yet), so
// every prefix of the output is a playable WAV file.
type s16Encoder struct {
	w      io.Writer
	rs     resampling
	wav    bool
	header bool // the WAV header has been written
	closed bool
	buf    []byte
}

func (e *s16Encoder) ContentType() string {
	if e.wav {
		return "audio/wav"
	}
	return "audio/pcm"
}

func (e *s16Encoder) Write(a pipeline.Audio) error {
	if e.closed {
		return errClosed
	}
	s, err := e.rs.convert(a)
	if err != nil {
		return err
	}
	return e.emit(s)
}

func (e *s16Encoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	return e.emit(e.rs.flush())
}

func (e *s16Encoder) emit(s []float32) error {
	e.buf = e.buf[:0]
	if e.wav && !e.header {
		e.buf = appendWAVHeader(e.buf, e.rs.out)
		e.header = true
	}
	e.buf = dsp.AppendFloat32AsS16LE(e.buf, s)
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	return err
}

// appendWAVHeader writes a 44-byte PCM s16 mono header with unknown sizes.
func appendWAVHeader(b []byte, rate int) []byte {
	le32 := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	le16 := func(v uint16) { b = append(b, byte(v), byte(v>>8)) }
	b = append(b, "RIFF"...)
	le32(wavUnknownSize)
	b = append(b, "WAVEfmt "...)
	le32(16)
	le16(wavPCM)
	le16(1) // channels
	le32(uint32(rate))
	le32(uint32(rate * 2)) // bytes per second
	le16(2)                // block align
	le16(16)               // bits per sample
	b = append(b, "data"...)
	le32(wavUnknownSize)
	return b
}
