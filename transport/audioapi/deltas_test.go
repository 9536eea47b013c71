package audioapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/transport/audioapi"
)

// feed sends each hypothesis in turn and returns the deltas.
func feed(d *audioapi.Deltas, hyps ...string) []string {
	out := make([]string, len(hyps))
	for i, h := range hyps {
		out[i] = d.Hypothesis(h)
	}
	return out
}

func TestDeltasWaitForThreeHypothesesAndHoldBackThreeWords(t *testing.T) {
	var d audioapi.Deltas
	got := feed(&d, "the", "the cat", "the cat sat", "the cat sat on", "the cat sat on the", "the cat sat on the mat")
	assert.Equal(t, []string{"", "", "", "the", " cat", " sat"}, got)
	assert.Equal(t, "the cat sat", d.Sent())
	assert.True(t, d.Consistent("the cat sat on the mat"))
	assert.Equal(t, " on the mat", d.Final("the cat sat on the mat"))
	assert.Equal(t, "the cat sat on the mat", d.Sent())
}

// TestDeltasOutwaitAPassingMisrecognition replays the shape of a real
// pocketsphinx revision: "town" stands for two hypotheses before the
// recognizer settles on "how". The two-hypothesis rule sent "town"; this
// one waits, and the deltas spell the final transcript.
func TestDeltasOutwaitAPassingMisrecognition(t *testing.T) {
	var d audioapi.Deltas
	got := feed(&d, "hello", "hello there", "hello there town", "hello there town are",
		"hello there how are you", "hello there how are you doing")
	assert.Equal(t, []string{"", "", "", "hello", " there", ""}, got)
	final := "hello there how are you doing today"
	assert.True(t, d.Consistent(final))
	assert.Equal(t, " how are you doing today", d.Final(final))
}

func TestDeltasWordsAreComparedWhole(t *testing.T) {
	var d audioapi.Deltas
	// Two hypotheses agreed on "to", which the old two-hypothesis rule
	// sent; growing into "today" restarts the count for that word and
	// every word after it.
	got := feed(&d, "we met to see them all", "we met to see them all now", "we met today to see them all now",
		"we met today to see them all now", "we met today to see them all now")
	assert.Equal(t, []string{"", "", "we met", "", " today to see"}, got)
}

func TestDeltasRepeatedHypothesisAgrees(t *testing.T) {
	var d audioapi.Deltas
	got := feed(&d, "one two three four", "one two three four", "one two three four")
	assert.Equal(t, []string{"", "", "one"}, got)
}

func TestDeltasShortUtteranceComesWithTheFinal(t *testing.T) {
	var d audioapi.Deltas
	got := feed(&d, "front", "front center", "front center", "front center", "front center")
	assert.Equal(t, []string{"", "", "", "", ""}, got, "the last three words are held back")
	assert.Equal(t, "front center", d.Final("  front   center "))
}

// TestDeltasAfterARevision: a word already sent cannot be taken back; the
// deltas carry on from the same word position and the final event carries
// the truth.
func TestDeltasAfterARevision(t *testing.T) {
	var d audioapi.Deltas
	feed(&d, "the cat", "the cat sat on", "the cat sat on the")
	assert.Equal(t, "the cat", d.Sent())
	got := feed(&d, "the cap sat on the mat", "the cap sat on the mat today", "the cap sat on the mat today again")
	assert.Equal(t, []string{"", "", " sat on the"}, got, "the revised word holds back what follows it for three hypotheses")
	final := "the cap sat on the mat today again"
	assert.False(t, d.Consistent(final))
	assert.Equal(t, " mat today again", d.Final(final))
	assert.Equal(t, "the cat sat on the mat today again", d.Sent())
}

func TestDeltasSpace(t *testing.T) {
	d := audioapi.Deltas{Space: true}
	got := feed(&d, "a b c d", "a b c d e", "a b c d e f")
	assert.Equal(t, []string{"", "", " a b c"}, got)
	assert.Equal(t, " d e f", d.Final("a b c d e f"))
	assert.Equal(t, "a b c d e f", d.Sent())
}
