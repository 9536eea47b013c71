package audio

import (
	"fmt"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// fileParam is the request field decode errors blame.
const fileParam = "file"

// supportedInputs is quoted in errors about unrecognised input.
const supportedInputs = "WAV, FLAC, MP3, Ogg/Opus or WebM/Opus"

// invalidf returns the KindInvalid error for malformed or unsupported input.
func invalidf(format string, args ...any) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: fileParam, Message: fmt.Sprintf(format, args...)}
}

// malformed wraps a third-party decoder's error as a KindInvalid error whose
// message names the container; the library's own words go to Err for logs.
func malformed(container string, err error) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: fileParam, Message: "malformed " + container + " file", Err: err}
}

func truncated(container string) *pipeline.Error {
	return invalidf("truncated %s file: it ends before the data its headers announce", container)
}

// unavailable reports a format that needs a C library this binary was built
// without.
func unavailable(what, tag, pkg string) *pipeline.Error {
	return &pipeline.Error{
		Kind:    pipeline.KindInvalid,
		Message: fmt.Sprintf("%s is not available in this build: install the Debian package %s and build with -tags %s", what, pkg, tag),
	}
}

// limits bounds one decode: the longest audio accepted.
type limits struct {
	maxSeconds float64
}

func newLimits(opts pipeline.DecodeOptions) limits {
	s := opts.MaxSeconds
	if s <= 0 {
		s = 30 * 60
	}
	return limits{maxSeconds: s}
}

// maxSamples is the most samples accepted at rate.
func (l limits) maxSamples(rate int) int64 { return int64(l.maxSeconds * float64(rate)) }

func (l limits) tooLong() *pipeline.Error {
	return &pipeline.Error{
		Kind:    pipeline.KindTooLarge,
		Param:   fileParam,
		Message: fmt.Sprintf("audio is longer than the %s limit", seconds(l.maxSeconds)),
	}
}

func seconds(s float64) string {
	if s >= 60 && s == float64(int64(s)) && int64(s)%60 == 0 {
		return fmt.Sprintf("%d minute", int64(s)/60)
	}
	return fmt.Sprintf("%g second", s)
}

// checkRate validates a sample rate read from a file header.
func checkRate(container string, rate int) error {
	if err := dsp.CheckRate(rate); err != nil {
		return invalidf("%s file has an unsupported sample rate of %d Hz (supported: %d to %d Hz)", container, rate, dsp.MinRate, dsp.MaxRate)
	}
	return nil
}

// collector accumulates decoded mono samples, refusing to grow past the
// duration limit.
type collector struct {
	rate    int
	max     int64
	lim     limits
	samples []float32
}

// newCollector prepares for audio at rate; hint (samples the header
// announces, already capped by what the input can hold) presizes the
// buffer, never beyond the limit.
func newCollector(rate int, lim limits, hint int64) *collector {
	c := &collector{rate: rate, max: lim.maxSamples(rate), lim: lim}
	if hint > 0 {
		c.samples = make([]float32, 0, min(hint, c.max+1))
	}
	return c
}

// room is how many more samples fit.
func (c *collector) room() int64 { return c.max - int64(len(c.samples)) }

// add appends samples or fails with KindTooLarge when they do not fit.
func (c *collector) add(s []float32) error {
	if int64(len(s)) > c.room() {
		return c.lim.tooLong()
	}
	c.samples = append(c.samples, s...)
	return nil
}

func (c *collector) audio(container string) (pipeline.Audio, error) {
	if len(c.samples) == 0 {
		return pipeline.Audio{}, invalidf("%s file contains no audio samples", container)
	}
	return pipeline.Audio{Rate: c.rate, Samples: c.samples}, nil
}
