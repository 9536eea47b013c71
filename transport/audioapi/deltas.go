package audioapi

import "strings"

// Deltas turns the whole hypotheses a streaming recognizer reports for one
// utterance, which may revise earlier words, into the append-only text
// deltas of OpenAI's streaming events (transcript.text.delta,
// conversation.item.input_audio_transcription.delta).
//
// The rule: a word is stable once two consecutive hypotheses agree on it
// and on every word before it (the common word prefix of the last two
// hypotheses). Hypothesis returns the stable words not yet sent; Final
// returns what the final transcript adds to the text sent. Words are
// compared whole (so "to" growing into "today" is a change, not an
// extension) and joined by single spaces, so the concatenated deltas are
// always a prefix of the hypothesis they came from, and equal the final
// transcript (whitespace normalized) unless the recognizer revised a word
// after it was sent. In that case no further deltas are sent for the
// utterance, and the final event, which always carries the whole
// transcript, is the authoritative text.
//
// The zero value is ready for one utterance. Set Space to prefix the first
// delta with a space (the utterance continues earlier text). A Deltas is
// not safe for concurrent use.
type Deltas struct {
	// Space prefixes the first non-empty delta with a single space.
	Space bool

	sent []string // words sent so far
	last []string // the previous hypothesis
}

// Hypothesis records the recognizer's current hypothesis h and returns the
// text to append, or "" when nothing new is stable.
func (d *Deltas) Hypothesis(h string) string {
	words := strings.Fields(h)
	stable := words[:commonPrefix(d.last, words)]
	d.last = words
	return d.extend(stable)
}

// Final returns the text to append so that the deltas spell the final
// transcript t, or "" when they already do or when t revised words already
// sent.
func (d *Deltas) Final(t string) string {
	d.last = nil
	return d.extend(strings.Fields(t))
}

// Sent returns the text sent so far, without the leading Space.
func (d *Deltas) Sent() string { return strings.Join(d.sent, " ") }

// Consistent reports whether the text sent so far is a word prefix of t,
// i.e. whether the deltas can still spell t.
func (d *Deltas) Consistent(t string) bool {
	w := strings.Fields(t)
	return len(w) >= len(d.sent) && commonPrefix(d.sent, w) == len(d.sent)
}

func (d *Deltas) extend(words []string) string {
	if len(words) <= len(d.sent) || commonPrefix(d.sent, words) < len(d.sent) {
		return ""
	}
	var b strings.Builder
	for i, w := range words[len(d.sent):] {
		if i > 0 || len(d.sent) > 0 || d.Space {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	d.sent = append(d.sent, words[len(d.sent):]...)
	return b.String()
}

// commonPrefix returns the number of leading words a and b share.
func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
