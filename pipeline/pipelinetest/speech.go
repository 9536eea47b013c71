package pipelinetest

import (
	"math"
	"strings"
	"sync/atomic"

	"github.com/ominix/ominix-api/pipeline"
)

// Transcriber "recognizes" audio by counting loud chunks: every 100 ms of
// audio whose peak exceeds 0.1 becomes the next word of Words (cycling), so
// tests can predict transcripts from synthetic tones.
type Transcriber struct {
	Words []string
	// Langs are the languages the recognizer claims (see
	// pipeline.LanguageLister); nil accepts any language.
	Langs   []string
	streams atomic.Int64
}

var (
	_ pipeline.Transcriber    = (*Transcriber)(nil)
	_ pipeline.LanguageLister = (*Transcriber)(nil)
)

// Languages returns Langs.
func (t *Transcriber) Languages() []string { return t.Langs }

// Info describes the recognizer.
func (t *Transcriber) Info() pipeline.ModelInfo {
	return pipeline.ModelInfo{ID: "scripted-asr", Category: pipeline.ASRSlot, Family: "scripted"}
}

// Close does nothing.
func (t *Transcriber) Close() error { return nil }

// InputRate is 16 kHz.
func (t *Transcriber) InputRate() int { return 16000 }

// Open is the number of streams not yet closed.
func (t *Transcriber) Open() int64 { return t.streams.Load() }

// NewStream starts a stream.
func (t *Transcriber) NewStream(pipeline.TranscribeOptions) (pipeline.TranscribeStream, error) {
	t.streams.Add(1)
	return &tstream{t: t}, nil
}

type tstream struct {
	t      *Transcriber
	carry  []float32
	words  []string
	n      int
	closed bool
}

func (s *tstream) Accept(samples []float32) (string, error) {
	s.carry = append(s.carry, samples...)
	for len(s.carry) >= 1600 {
		peak := 0.0
		for _, v := range s.carry[:1600] {
			peak = math.Max(peak, math.Abs(float64(v)))
		}
		if peak > 0.1 && len(s.t.Words) > 0 {
			s.words = append(s.words, s.t.Words[s.n%len(s.t.Words)])
			s.n++
		}
		s.carry = s.carry[1600:]
	}
	return strings.Join(s.words, " "), nil
}

func (s *tstream) EndUtterance() (pipeline.Transcript, error) {
	tr := pipeline.Transcript{Text: strings.Join(s.words, " "), Language: "en"}
	s.words, s.carry = nil, nil
	return tr, nil
}

func (s *tstream) Close() {
	if !s.closed {
		s.closed = true
		s.t.streams.Add(-1)
	}
}

// Synthesizer "speaks" each character as 10 ms of a 440 Hz tone at 16 kHz.
type Synthesizer struct{}

var _ pipeline.Synthesizer = (*Synthesizer)(nil)

// Info describes the synthesizer.
func (Synthesizer) Info() pipeline.ModelInfo {
	return pipeline.ModelInfo{ID: "scripted-tts", Category: pipeline.TTSSlot, Family: "scripted"}
}

// Close does nothing.
func (Synthesizer) Close() error { return nil }

// Voices lists the accepted voices.
func (Synthesizer) Voices() []string { return []string{"alloy", "tone"} }

// Synthesize makes 10 ms of tone per character.
func (Synthesizer) Synthesize(text string, opts pipeline.SpeechOptions) (pipeline.Audio, error) {
	if opts.Voice != "" && opts.Voice != "alloy" && opts.Voice != "tone" {
		return pipeline.Audio{}, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "voice", Message: "unknown voice " + opts.Voice}
	}
	n := 160 * len([]rune(text))
	a := pipeline.Audio{Rate: 16000, Samples: make([]float32, n)}
	for i := range a.Samples {
		a.Samples[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/16000))
	}
	return a, nil
}
