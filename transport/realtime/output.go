package realtime

import (
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// audioDeltaMs bounds the audio in one audio delta event, so a long
// clause reaches the client as several messages a player can start on.
const audioDeltaMs = 200

// audioOut converts a response's synthesized audio to the session's output
// format: resampled (band-limited, streaming; see dsp.Resampler) from the
// engine's rate to 24 kHz PCM16 (or the declared PCM rate), or to 8 kHz
// G.711. The resampler's state carries across clauses, so clause joins
// have no clicks; flush drains its delay at the end.
type audioOut struct {
	format InputFormat
	rs     *dsp.Resampler
	inRate int
}

// encode returns the bytes of a, in the output format.
func (o *audioOut) encode(a pipeline.Audio) []byte {
	if len(a.Samples) == 0 || a.Rate <= 0 {
		return nil
	}
	if o.inRate != a.Rate {
		tail := o.flushSamples()
		o.inRate, o.rs = a.Rate, nil
		if a.Rate != o.format.Rate {
			// Rates outside the resampler's range are rejected by the
			// engines' own checks; fall back to passing samples through.
			o.rs, _ = dsp.NewResampler(a.Rate, o.format.Rate)
		}
		return append(o.bytes(tail), o.bytes(o.process(a.Samples))...)
	}
	return o.bytes(o.process(a.Samples))
}

func (o *audioOut) process(s []float32) []float32 {
	if o.rs == nil {
		return s
	}
	return o.rs.Process(nil, s)
}

func (o *audioOut) flushSamples() []float32 {
	if o.rs == nil {
		return nil
	}
	return o.rs.Flush(nil)
}

// flush returns what the resampler still holds, in the output format.
func (o *audioOut) flush() []byte { return o.bytes(o.flushSamples()) }

func (o *audioOut) bytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	switch o.format.Type {
	case FormatPCMU:
		return dsp.AppendFloat32AsMuLaw(nil, s)
	case FormatPCMA:
		return dsp.AppendFloat32AsALaw(nil, s)
	}
	return dsp.AppendFloat32AsS16LE(nil, s)
}

// pieceBytes is the size of one audio delta: audioDeltaMs of audio,
// whole samples.
func (o *audioOut) pieceBytes() int {
	n := o.format.Rate * audioDeltaMs / 1000
	if o.format.Type == FormatPCM {
		n *= 2
	}
	return max(n, 2)
}
