package audioapi

import "strings"

// Deltas turns the whole hypotheses a streaming recognizer reports for one
// utterance, which may revise earlier words, into the append-only text
// deltas of OpenAI's streaming events (transcript.text.delta,
// conversation.item.input_audio_transcription.delta).
//
// The rule: a word is stable once two consecutive hypotheses agree on it
// and on every word before it (the common word prefix of the last two
// hypotheses); Hypothesis returns the stable words beyond the number of
// words already sent, and Final the final transcript's words beyond it.
// Words are compared whole (so "to" growing into "today" is a change, not
// an extension) and joined by single spaces. While the recognizer does not
// revise a word after it was sent, the concatenated deltas are a prefix of
// the current hypothesis and, after Final, equal the final transcript
// (whitespace normalized). When it does revise one, the text already sent
// cannot be taken back: later deltas carry on from the same word position
// (so live captions keep flowing), and the final event, which always
// carries the whole transcript, is the authoritative text.
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

// Final returns the text to append for the final transcript t: its words
// beyond those already sent.
func (d *Deltas) Final(t string) string {
	d.last = nil
	return d.extend(strings.Fields(t))
}

// Sent returns the text sent so far, without the leading Space.
func (d *Deltas) Sent() string { return strings.Join(d.sent, " ") }

// Consistent reports whether the text sent so far is a word prefix of t,
// that is whether the deltas spell t once Final(t) is sent.
func (d *Deltas) Consistent(t string) bool {
	w := strings.Fields(t)
	return len(w) >= len(d.sent) && commonPrefix(d.sent, w) == len(d.sent)
}

func (d *Deltas) extend(words []string) string {
	if len(words) <= len(d.sent) {
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
