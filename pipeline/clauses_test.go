package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/pipeline"
)

func clausesOf(text string, chunk int) []string {
	var c pipeline.ClauseSplitter
	var out []string
	for i := 0; i < len(text); i += chunk {
		out = append(out, c.Push(text[i:min(len(text), i+chunk)])...)
	}
	return append(out, c.Flush()...)
}

func TestClauseSplitter(t *testing.T) {
	text := "Hello there. Dr. Smith paid $3.50 for it! Is that right? Well, when the long sentence goes on, it splits at commas; short, ones don't.\nNew line 你好。世界"
	want := []string{
		"Hello there.",
		"Dr. Smith paid $3.50 for it!",
		"Is that right?",
		"Well, when the long sentence goes on,",
		"it splits at commas; short,", // the semicolon came too early to end a clause
		"ones don't.",
		"New line 你好。",
		"世界",
	}
	for _, chunk := range []int{1, 3, 7, len(text)} {
		assert.Equal(t, want, clausesOf(text, chunk), "chunk %d", chunk)
	}
}

func TestClauseSplitterLongRun(t *testing.T) {
	long := ""
	for range 100 {
		long += "word "
	}
	got := clausesOf(long, 5)
	assert.Greater(t, len(got), 1)
	for _, c := range got {
		assert.LessOrEqual(t, len(c), 240)
	}
}
