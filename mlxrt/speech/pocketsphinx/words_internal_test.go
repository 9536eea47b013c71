package pocketsphinx

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCleanWord(t *testing.T) {
	for in, want := range map[string]string{
		"<s>": "", "</s>": "", "<sil>": "", "[NOISE]": "", "[BREATH]": "", "++UH++": "",
		"read(2)": "read", "the": "the", "(": "(", "x(3": "x(3", " hello ": "hello",
	} {
		assert.Equal(t, want, cleanWord(in), in)
	}
	assert.Equal(t, "hello world", cleanHyp("<s> hello <sil> [NOISE] world(2) </s>"))
	assert.Equal(t, "", cleanHyp(""))
}

func FuzzCleanHyp(f *testing.F) {
	f.Add("<s> go(2) [NOISE] home </s>")
	f.Fuzz(func(t *testing.T, h string) {
		out := cleanHyp(h)
		if strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
			t.Fatalf("untidy spacing in %q", out)
		}
		for _, w := range strings.Fields(out) {
			if w[0] == '<' || w[0] == '[' {
				t.Fatalf("filler %q survived", w)
			}
		}
	})
}
