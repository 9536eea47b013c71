package dsp

import (
	"errors"
	"fmt"
	"time"
)

// Sample rates the resampler (and the codecs built on it) accept.
const (
	MinRate = 1000
	MaxRate = 384000
)

// ErrRate reports a sample rate outside [MinRate, MaxRate]. Errors returned
// by NewResampler, Resample and CheckRate wrap it.
var ErrRate = errors.New("sample rate out of range")

// CheckRate reports whether rate (in Hz) is one the package handles.
func CheckRate(rate int) error {
	if rate < MinRate || rate > MaxRate {
		return fmt.Errorf("%w: %d Hz (supported: %d to %d Hz)", ErrRate, rate, MinRate, MaxRate)
	}
	return nil
}

// Resampler converts a stream of mono float32 samples from one rate to
// another with a band-limited polyphase filter (Kaiser-windowed sinc, about
// 90 dB of stopband attenuation, flat to 88% of the lower Nyquist
// frequency, no aliasing from above the lower Nyquist frequency).
//
// Feed chunks of any size to Process and call Flush at the end of the
// stream: the concatenated output is bit-identical to Resample on the whole
// input, so a realtime stream can be converted chunk by chunk without
// clicks. Output lags input by Delay; Flush drains it. Output length over a
// whole stream is ceil(n*to/from) for n input samples.
//
// A Resampler is not safe for concurrent use; the coefficient tables it
// reads are immutable and shared between Resamplers of the same rate pair.
type Resampler struct {
	from, to int
	k        *kernel // nil when from == to
	buf      []float32
	start    int64 // input index of buf[0] (negative: leading silence)
	nIn      int64 // input samples received since the last Reset
	nOut     int64 // output samples produced since the last Reset
	base     int64 // integer input time of the next output sample
	phase    int64 // its fractional part, in units of 1/k.up
}

// NewResampler returns a Resampler from rate from to rate to (Hz). Rates
// outside [MinRate, MaxRate] fail with an error wrapping ErrRate. Building
// the coefficient table of a new rate pair takes a few milliseconds; tables
// are cached for the life of the process.
func NewResampler(from, to int) (*Resampler, error) {
	if err := CheckRate(from); err != nil {
		return nil, fmt.Errorf("resample input: %w", err)
	}
	if err := CheckRate(to); err != nil {
		return nil, fmt.Errorf("resample output: %w", err)
	}
	r := &Resampler{from: from, to: to}
	if from != to {
		r.k = kernelFor(from, to)
	}
	r.Reset()
	return r, nil
}

// Resample converts a whole signal from rate from to rate to; it equals
// Process followed by Flush on a fresh Resampler.
func Resample(in []float32, from, to int) ([]float32, error) {
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, OutputLen(len(in), from, to))
	out = r.Process(out, in)
	return r.Flush(out), nil
}

// OutputLen is the number of samples a whole stream of n input samples
// becomes: ceil(n*to/from).
func OutputLen(n, from, to int) int {
	if n <= 0 || from <= 0 || to <= 0 {
		return 0
	}
	return int((int64(n)*int64(to) + int64(from) - 1) / int64(from))
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// Delay is how far the output lags the input: the samples of a chunk that
// come out only once later input (or Flush) arrives.
func (r *Resampler) Delay() time.Duration {
	if r.k == nil {
		return 0
	}
	return time.Duration(r.k.half) * time.Second / time.Duration(r.from)
}

// Reset forgets the stream so the Resampler can start a new one.
func (r *Resampler) Reset() {
	r.nIn, r.nOut, r.base, r.phase = 0, 0, 0, 0
	if r.k == nil {
		return
	}
	// The filter reaches half-1 samples into the past: start with that
	// much silence so the first output sample needs no special case.
	lead := r.k.half - 1
	r.buf = append(r.buf[:0], make([]float32, lead)...)
	r.start = -int64(lead)
}

// Process consumes in and appends every output sample it can now compute
// to dst, returning the extended slice.
func (r *Resampler) Process(dst, in []float32) []float32 {
	r.nIn += int64(len(in))
	if r.k == nil {
		return append(dst, in...)
	}
	r.compact()
	r.buf = append(r.buf, in...)
	return r.run(dst, -1)
}

// Flush treats the input as ended (followed by silence), appends the
// remaining output to dst and resets the Resampler for a new stream.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.k == nil {
		r.Reset()
		return dst
	}
	total := (r.nIn*int64(r.k.up) + int64(r.k.down) - 1) / int64(r.k.down)
	r.buf = append(r.buf, make([]float32, r.k.half)...)
	dst = r.run(dst, total)
	r.Reset()
	return dst
}

// run appends output samples while the filter has all the input it needs
// and, when limit >= 0, fewer than limit samples were produced in total.
func (r *Resampler) run(dst []float32, limit int64) []float32 {
	k := r.k
	up, down := int64(k.up), int64(k.down)
	end := r.start + int64(len(r.buf))
	for r.base+int64(k.half) < end && (limit < 0 || r.nOut < limit) {
		off := int(r.base - int64(k.half-1) - r.start)
		x := r.buf[off : off+k.taps]
		var y float32
		if k.exact {
			y = dot(k.row(int(r.phase)), x)
		} else {
			num := r.phase * int64(k.rows-1)
			q := int(num / up)
			a := float32(num%up) / float32(up)
			y0 := dot(k.row(q), x)
			y1 := dot(k.row(q+1), x)
			y = y0 + a*(y1-y0)
		}
		dst = append(dst, y)
		r.nOut++
		r.phase += down
		r.base += r.phase / up
		r.phase %= up
	}
	return dst
}

// compact drops history the filter no longer reaches, moving the rest to
// the front once the dead prefix is large enough to be worth the copy.
func (r *Resampler) compact() {
	drop := int(r.base - int64(r.k.half-1) - r.start)
	if drop <= 0 || drop < len(r.buf)/2 {
		return
	}
	n := copy(r.buf, r.buf[drop:])
	r.buf = r.buf[:n]
	r.start += int64(drop)
}
