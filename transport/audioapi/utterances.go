package audioapi

import (
	"fmt"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// SplitOptions configure SplitUtterances. Zero values give the defaults
// named on each field.
type SplitOptions struct {
	// VAD is the voice activity detector's configuration; the zero value
	// means dsp.DefaultVADOptions (threshold 0.5, 300 ms prefix padding,
	// 500 ms of silence end an utterance).
	VAD dsp.VADOptions
	// MaxUtterance bounds one utterance in seconds; longer speech is cut
	// (recognizers such as pocketsphinx degrade on long utterances). Zero
	// means 30 seconds.
	MaxUtterance float64
}

// Utterance is a stretch of speech in a longer recording: samples
// [Start, End) of the input, prefix padding included.
type Utterance struct {
	Start, End int
	Audio      []float32
}

// Seconds returns the utterance's start and end in seconds at rate.
func (u Utterance) Seconds(rate int) (start, end float64) {
	return float64(u.Start) / float64(rate), float64(u.End) / float64(rate)
}

// SplitUtterances finds the utterances in a whole recording with the
// server_vad detector, so that a long file reaches the recognizer as
// separate utterances instead of one. Silence between utterances is left
// out. When the detector finds no speech at all (a recording that is all
// quiet, or all noise), the whole recording is returned in pieces of at
// most MaxUtterance, so the recognizer still hears everything.
func SplitUtterances(a pipeline.Audio, opts *SplitOptions) ([]Utterance, error) {
	o := SplitOptions{}
	if opts != nil {
		o = *opts
	}
	if o.VAD == (dsp.VADOptions{}) {
		o.VAD = dsp.DefaultVADOptions()
	}
	if o.MaxUtterance <= 0 {
		o.MaxUtterance = 30
	}
	o.VAD.MaxSpeechMs = int(o.MaxUtterance * 1000)
	vad, err := dsp.NewVAD(a.Rate, &o.VAD)
	if err != nil {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Message: fmt.Sprintf("split audio into utterances: %v", err), Err: err}
	}
	var out []Utterance
	add := func(ev dsp.VADEvent) {
		if ev.Type == dsp.SpeechStopped && len(ev.Audio) > 0 {
			out = append(out, Utterance{Start: int(ev.StartSample), End: int(ev.EndSample), Audio: ev.Audio})
		}
	}
	step := max(a.Rate/10, 1)
	for i := 0; i < len(a.Samples); i += step {
		for _, ev := range vad.Feed(a.Samples[i:min(i+step, len(a.Samples))]) {
			add(ev)
		}
	}
	if ev, ok := vad.End(); ok {
		add(ev)
	}
	if len(out) > 0 {
		return out, nil
	}
	piece := int(o.MaxUtterance * float64(a.Rate))
	for i := 0; i < len(a.Samples); i += piece {
		j := min(i+piece, len(a.Samples))
		out = append(out, Utterance{Start: i, End: j, Audio: a.Samples[i:j]})
	}
	return out, nil
}

// Merge joins the transcripts of a recording's utterances (done[i] belongs
// to utts[i]) into one transcript of the whole recording: texts joined by
// spaces, segments and word times moved to the recording's clock (an
// utterance whose engine gave no segments becomes one segment spanning
// it), Duration the recording's length. Utterances with empty text add
// nothing.
func Merge(utts []Utterance, done []pipeline.Transcript, rate int, duration float64) pipeline.Transcript {
	out := pipeline.Transcript{Duration: duration}
	var texts []string
	for i, t := range done {
		if out.Language == "" {
			out.Language = t.Language
		}
		text := strings.TrimSpace(t.Text)
		if text == "" || i >= len(utts) {
			continue
		}
		texts = append(texts, text)
		start, end := utts[i].Seconds(rate)
		if len(t.Segments) == 0 {
			out.Segments = append(out.Segments, pipeline.Segment{Start: start, End: end, Text: text})
		}
		for _, s := range t.Segments {
			s.Start += start
			s.End += start
			out.Segments = append(out.Segments, s)
		}
		for _, w := range t.Words {
			w.Start += start
			w.End += start
			out.Words = append(out.Words, w)
		}
	}
	out.Text = strings.Join(texts, " ")
	return out
}
