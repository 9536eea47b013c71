package audioapi

import "strings"

// The stability rule of Deltas, chosen by measuring pocketsphinx on real
// speech (see deltas_stability_test.go): requiring a word to survive three
// hypotheses filters the recognizer's flip-flops, and holding back the
// last words keeps the tail it is still reinterpreting ("to" becoming
// "today", "p. pale" becoming "people") out of the deltas.
const (
	// stableHypotheses is how many consecutive hypotheses must agree on a
	// word, and on every word before it, before it is sent.
	stableHypotheses = 3
	// heldBack is how many words at the end of a hypothesis are never sent
	// from a partial hypothesis, however long they have held.
	heldBack = 3
)

// Deltas turns the whole hypotheses a streaming recognizer reports for one
// utterance, which may revise earlier words, into the append-only text
// deltas of OpenAI's streaming events (transcript.text.delta,
// conversation.item.input_audio_transcription.delta).
//
// The rule: a word is stable once three consecutive hypotheses agree on it
// and on every word before it, and it is not among the last three words of
// the current hypothesis. Hypothesis returns the stable words beyond the
// number of words already sent, and Final the final transcript's words
// beyond it. Words are compared whole (so "to" growing into "today" is a
// change, not an extension) and joined by single spaces. Hypotheses are
// expected only when they change, as the pipeline reports them; a repeated
// hypothesis counts as another agreeing one.
//
// While the words sent are never revised, the concatenated deltas are a
// prefix of the current hypothesis and, after Final, equal the final
// transcript (whitespace normalized). Text already sent cannot be taken
// back, so when a later hypothesis or the final transcript does revise a
// sent word, later deltas carry on from the same word position (live
// captions keep flowing) and the final event, which always carries the
// whole transcript, is the authoritative text. The rule makes that rare
// for revisions made while the audio streams, but a recognizer that
// rescores the whole utterance when it ends (pocketsphinx's second pass)
// can still change words that every partial hypothesis agreed on.
//
// The zero value is ready for one utterance. Set Space to prefix the first
// delta with a space (the utterance continues earlier text). A Deltas is
// not safe for concurrent use.
type Deltas struct {
	// Space prefixes the first non-empty delta with a single space.
	Space bool

	sent []string // words sent so far
	last []string // the previous hypothesis
	// held[i] is how many consecutive hypotheses, up to last, began with
	// last[:i+1], so it does not increase with i.
	held []int
}

// Hypothesis records the recognizer's current hypothesis h and returns the
// text to append, or "" when nothing new is stable.
func (d *Deltas) Hypothesis(h string) string {
	words := strings.Fields(h)
	c := commonPrefix(d.last, words)
	d.held = d.held[:c]
	for i := range d.held {
		d.held[i]++
	}
	for range words[c:] {
		d.held = append(d.held, 1)
	}
	d.last = words
	n := 0
	for n < len(words)-heldBack && d.held[n] >= stableHypotheses {
		n++
	}
	return d.extend(words[:n])
}

// Final returns the text to append for the final transcript t: its words
// beyond those already sent.
func (d *Deltas) Final(t string) string {
	d.last, d.held = nil, d.held[:0]
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
