//go:build cgo && pocketsphinx

package pocketsphinx

// #include <pocketsphinx.h>
// double ominix_ps_logprob(ps_decoder_t *ps);
// void ominix_ps_cmn_update(ps_decoder_t *ps);
import "C"

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/ominix/ominix-api/pipeline"
)

// Pause detection for splitting long utterances: 10 ms frames more than
// quietDB below the loudest frame of the part, or below the absolute floor,
// are quiet; pauseSamples of them in a row make a pause.
const (
	frameSamples = InputRate / 100
	quietDB      = 35.0
	quietFloor   = 1e-7 // mean square, about -70 dBFS
	pauseSamples = InputRate * 3 / 10
)

// stream is one recognition stream holding one decoder. An utterance may be
// decoded as several parts (see Options.SplitAfter); the decoder has a part
// open while inPart.
type stream struct {
	r     *recognizer
	d     *decoder
	ps    *C.ps_decoder_t // d.ps; nil once closed
	words bool

	samples   int64 // audio in the open utterance
	inPart    bool
	partStart int64     // offset of the open part in the utterance, in samples
	peak      float64   // loudest frame (mean square) of the open part
	quiet     int64     // quiet samples at the end of the audio so far
	done      []partRes // finished parts of the open utterance
	pcm       []int16   // conversion buffer, reused
}

// partRes is the result of one decoded part, times relative to the
// utterance.
type partRes struct {
	text    string
	words   []pipeline.Word
	logprob float64 // natural log of the part's posterior
}

func errClosedStream() error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "stream_closed", Message: "the recognition stream is closed"}
}

// Accept feeds 16 kHz mono samples (clipped to [-1, 1]; NaN counts as
// silence) into the open utterance, starting one if needed, and returns the
// current partial hypothesis of the whole utterance. Calls longer than
// Options.MaxChunk fail with KindInvalid; audio past Options.MaxUtterance
// fails with KindTooLarge and leaves the utterance as it was, ready for
// EndUtterance. When the part being decoded has run past
// Options.SplitAfter and the audio pauses (or it reaches twice that), the
// part is finished within this call, which then costs that part's second
// pass.
func (s *stream) Accept(samples []float32) (string, error) {
	if s.ps == nil {
		return "", errClosedStream()
	}
	if err := s.checkLimits(len(samples)); err != nil {
		return "", err
	}
	if len(samples) == 0 {
		return s.partial(), nil
	}
	if !s.inPart {
		if err := s.startPart(); err != nil {
			return "", err
		}
	}
	s.pcm = toPCM(s.pcm[:0], samples)
	if C.ps_process_raw(s.ps, (*C.int16)(unsafe.Pointer(&s.pcm[0])), C.size_t(len(s.pcm)), 0, 0) < 0 {
		return "", fmt.Errorf("pocketsphinx: process audio: %s", lastError())
	}
	s.samples += int64(len(samples))
	C.ominix_ps_cmn_update(s.ps)
	s.track(samples)
	if s.splitDue() {
		if err := s.finishPart(); err != nil {
			return "", err
		}
	}
	return s.partial(), nil
}

func (s *stream) checkLimits(n int) error {
	if limit := int64(s.r.opts.MaxChunk.Seconds() * InputRate); int64(n) > limit {
		return pipeline.Invalid("audio", "an audio chunk of %d samples exceeds the %d-sample step limit", n, limit)
	}
	if limit := int64(s.r.opts.MaxUtterance.Seconds() * InputRate); s.samples+int64(n) > limit {
		return &pipeline.Error{Kind: pipeline.KindTooLarge, Code: "utterance_too_long",
			Message: fmt.Sprintf("an utterance may hold at most %s of audio; end it and start another", s.r.opts.MaxUtterance)}
	}
	return nil
}

// toPCM converts float samples to 16-bit PCM, clipping and mapping NaN to 0.
func toPCM(dst []int16, src []float32) []int16 {
	for _, f := range src {
		v := float64(f) * 32767
		switch {
		case v != v:
			v = 0
		case v > 32767:
			v = 32767
		case v < -32768:
			v = -32768
		}
		dst = append(dst, int16(math.Round(v)))
	}
	return dst
}

// track updates the part's peak level and the run of quiet audio at the
// end, in 10 ms frames (a chunk's last partial frame counts as a frame).
func (s *stream) track(x []float32) {
	for i := 0; i < len(x); i += frameSamples {
		f := x[i:min(len(x), i+frameSamples)]
		var e float64
		for _, v := range f {
			if v == v { // skip NaN
				e += float64(v) * float64(v)
			}
		}
		e /= float64(len(f))
		s.peak = max(s.peak, e)
		if e < quietFloor || e < s.peak*math.Pow(10, -quietDB/10) {
			s.quiet += int64(len(f))
		} else {
			s.quiet = 0
		}
	}
}

func (s *stream) splitDue() bool {
	split := int64(s.r.opts.SplitAfter.Seconds() * InputRate)
	n := s.samples - s.partStart
	return n >= 2*split || (n >= split && s.quiet >= pauseSamples)
}

// startPart opens a decoder utterance for the next part.
func (s *stream) startPart() error {
	// Word timestamps count frames from the start of the library's
	// stream: restart it so that they count from the start of this part.
	C.ps_start_stream(s.ps)
	if C.ps_start_utt(s.ps) < 0 {
		return fmt.Errorf("pocketsphinx: start utterance: %s", lastError())
	}
	s.inPart, s.partStart, s.peak, s.quiet = true, s.samples, 0, 0
	return nil
}

// finishPart ends the decoder utterance (running its second pass) and keeps
// its result.
func (s *stream) finishPart() error {
	s.inPart = false
	if C.ps_end_utt(s.ps) < 0 {
		return fmt.Errorf("pocketsphinx: end utterance: %s", lastError())
	}
	p := partRes{text: s.hyp(), words: s.segments(float64(s.partStart) / InputRate)}
	if len(p.words) > 0 {
		p.logprob = float64(C.ominix_ps_logprob(s.ps))
		if math.IsInf(p.logprob, 0) || math.IsNaN(p.logprob) {
			p.logprob = 0
		}
	}
	s.done = append(s.done, p)
	return nil
}

func (s *stream) hyp() string {
	h := C.ps_get_hyp(s.ps, nil)
	if h == nil {
		return ""
	}
	return cleanHyp(C.GoString(h))
}

// partial is the text of the finished parts and the open part's hypothesis.
func (s *stream) partial() string {
	texts := make([]string, 0, len(s.done)+1)
	for _, p := range s.done {
		if p.text != "" {
			texts = append(texts, p.text)
		}
	}
	if s.inPart {
		if h := s.hyp(); h != "" {
			texts = append(texts, h)
		}
	}
	return strings.Join(texts, " ")
}

// segments walks the best path's word segments, skipping fillers, with
// times shifted by offset seconds.
func (s *stream) segments(offset float64) []pipeline.Word {
	var out []pipeline.Word
	fr := float64(s.r.frate)
	for seg := C.ps_seg_iter(s.ps); seg != nil; seg = C.ps_seg_next(seg) {
		w := cleanWord(C.GoString(C.ps_seg_word(seg)))
		if w == "" {
			continue
		}
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		out = append(out, pipeline.Word{Word: w, Start: offset + float64(sf)/fr, End: offset + float64(ef+1)/fr})
	}
	return out
}

// EndUtterance finishes the open utterance (the decoder's second pass runs
// here, over the part not yet finished) and returns its transcript: text,
// duration, one segment per decoded part with avg_logprob set to the part's
// log posterior divided by its word count, and, when the stream was opened
// with Words, word timings. Fillers and silences are left out and
// alternative pronunciations are reported as the plain word. With no audio
// since the last EndUtterance it returns an empty transcript.
func (s *stream) EndUtterance() (pipeline.Transcript, error) {
	if s.ps == nil {
		return pipeline.Transcript{}, errClosedStream()
	}
	tr := pipeline.Transcript{Language: "en", Duration: float64(s.samples) / InputRate}
	var err error
	if s.inPart {
		err = s.finishPart()
	}
	var texts []string
	for _, p := range s.done {
		if len(p.words) == 0 {
			continue
		}
		texts = append(texts, p.text)
		tr.Segments = append(tr.Segments, pipeline.Segment{
			Start: p.words[0].Start, End: p.words[len(p.words)-1].End,
			Text: p.text, Logprob: p.logprob / float64(len(p.words)),
		})
		if s.words {
			tr.Words = append(tr.Words, p.words...)
		}
	}
	tr.Text = strings.Join(texts, " ")
	s.samples, s.done = 0, nil
	return tr, err
}

// Close ends any open utterance, discarding it, and returns the decoder to
// the pool. It may be called more than once.
func (s *stream) Close() {
	if s.ps == nil {
		return
	}
	if s.inPart {
		C.ps_end_utt(s.ps)
		s.inPart = false
	}
	d := s.d
	s.d, s.ps, s.samples, s.done = nil, nil, 0, nil
	s.r.release(d)
}
