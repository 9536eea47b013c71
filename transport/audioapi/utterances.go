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
	// into contiguous pieces, each ending at the quietest 20 ms of its
	// last third (recognizers such as pocketsphinx degrade on long
	// utterances). Zero means 30 seconds.
	MaxUtterance float64
}

// Utterance is one piece of a longer recording: samples [Start, End) of
// the input, of which [SpeechStart, SpeechEnd) is the speech the detector
// found (the whole piece when it found none).
type Utterance struct {
	Start, End             int
	SpeechStart, SpeechEnd int
	Audio                  []float32
}

// Seconds returns the utterance's speech start and end in seconds at rate.
func (u Utterance) Seconds(rate int) (start, end float64) {
	return float64(u.SpeechStart) / float64(rate), float64(u.SpeechEnd) / float64(rate)
}

// SplitUtterances cuts a whole recording into pieces a streaming
// recognizer handles well, so a long file is not decoded as one
// utterance. The server_vad detector finds the speech turns; the recording
// is cut in the middle of the silence between consecutive turns, and a
// piece longer than MaxUtterance is cut again at the quietest 20 ms of its
// last third. Nothing is dropped: the pieces are contiguous and cover the
// whole recording, so speech the detector misses (stationary sound can
// hide a turn's continuation from it) is still recognized.
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
	o.VAD.MaxSpeechMs = 3600_000 // long turns are cut here, at quiet points
	turns, err := findTurns(a, o.VAD)
	if err != nil {
		return nil, err
	}
	piece := max(int(o.MaxUtterance*float64(a.Rate)), 1)
	var out []Utterance
	from := 0
	for i, t := range turns {
		to := len(a.Samples)
		if i+1 < len(turns) {
			to = (t[1] + turns[i+1][0]) / 2
		}
		out = cut(out, Utterance{Start: from, End: to, SpeechStart: t[0], SpeechEnd: t[1], Audio: a.Samples[from:to]}, piece, a.Rate)
		from = to
	}
	if len(turns) == 0 && len(a.Samples) > 0 {
		n := len(a.Samples)
		out = cut(out, Utterance{End: n, SpeechEnd: n, Audio: a.Samples}, piece, a.Rate)
	}
	return out, nil
}

// findTurns returns the [start, end) samples of the speech turns in a.
func findTurns(a pipeline.Audio, opts dsp.VADOptions) ([][2]int, error) {
	vad, err := dsp.NewVAD(a.Rate, &opts)
	if err != nil {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Message: fmt.Sprintf("split audio into utterances: %v", err), Err: err}
	}
	var turns [][2]int
	add := func(ev dsp.VADEvent) {
		if ev.Type == dsp.SpeechStopped && ev.EndSample > ev.StartSample {
			turns = append(turns, [2]int{int(ev.StartSample), min(int(ev.EndSample), len(a.Samples))})
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
	return turns, nil
}

// cut appends u to out in pieces of at most limit samples, each ending at
// the quietest 20 ms frame of its last third; each piece's speech bounds
// are u's clipped to it.
func cut(out []Utterance, u Utterance, limit, rate int) []Utterance {
	frame := rate / 50
	for len(u.Audio) > limit {
		end := limit
		if frame > 0 {
			end = quietest(u.Audio, limit-limit/3, limit, frame)
		}
		out = append(out, clipSpeech(Utterance{Start: u.Start, End: u.Start + end,
			SpeechStart: u.SpeechStart, SpeechEnd: u.SpeechEnd, Audio: u.Audio[:end]}))
		u = Utterance{Start: u.Start + end, End: u.End, SpeechStart: u.SpeechStart, SpeechEnd: u.SpeechEnd, Audio: u.Audio[end:]}
	}
	if len(u.Audio) > 0 {
		out = append(out, clipSpeech(u))
	}
	return out
}

// clipSpeech limits u's speech bounds to the piece.
func clipSpeech(u Utterance) Utterance {
	u.SpeechStart = min(max(u.SpeechStart, u.Start), u.End)
	u.SpeechEnd = min(max(u.SpeechEnd, u.SpeechStart), u.End)
	return u
}

// quietest returns the end of the lowest-energy frame of s whose end lies
// in (from, to].
func quietest(s []float32, from, to, frame int) int {
	best, bestE := to, -1.0
	for end := to; end-frame >= 0 && end > from; end -= frame {
		e := 0.0
		for _, v := range s[end-frame : end] {
			e += float64(v) * float64(v)
		}
		if bestE < 0 || e < bestE {
			best, bestE = end, e
		}
	}
	return best
}

// Merge joins the transcripts of a recording's utterances (done[i] belongs
// to utts[i]) into one transcript of the whole recording: texts joined by
// spaces, segments and word times moved to the recording's clock (an
// utterance whose engine gave no segments becomes one segment spanning its
// speech), Duration the recording's length. Utterances with empty text add
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
		if len(t.Segments) == 0 {
			start, end := utts[i].Seconds(rate)
			out.Segments = append(out.Segments, pipeline.Segment{Start: start, End: end, Text: text})
		}
		// Engine times count from the start of the piece's audio.
		offset := float64(utts[i].Start) / float64(rate)
		for _, s := range t.Segments {
			s.Start += offset
			s.End += offset
			out.Segments = append(out.Segments, s)
		}
		for _, w := range t.Words {
			w.Start += offset
			w.End += offset
			out.Words = append(out.Words, w)
		}
	}
	out.Text = strings.Join(texts, " ")
	return out
}
