package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var fastPatterns = []string{gpt2Pattern, llamaPattern, qwenPattern}

func corpus(t testing.TB) []string {
	texts := []string{
		"", " ", "  ", "\n", " \n ", "a", "Hello world", "Hello  world", "it's I'M we'Re they'VE", "'s'S",
		"x\r\n\r\ny", "  \t\n  z", "12345678", "a1b22c333", "١٢٣٤ ٥", "café naïve", "e\u0301clair", "中文字符 テスト",
		"👍🏽 ok 👨‍👩‍👧", "foo()=>{bar;}\n\n", "  ... !!! ??", "\u00a0\u2003x\u3000y", "ſ 'ſ K", "tab\tsep\vv\f",
		"end with spaces   ", "\n\n\n", " ' ", "'", "''", "'ll've're", "x  \n  y", "$100.00 + 50%",
	}
	dirs, _ := filepath.Glob("../testdata/tokenizers/*/cases.json")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var g struct {
			Cases []struct {
				Text string `json:"text"`
			} `json:"cases"`
		}
		require.NoError(t, json.Unmarshal(b, &g))
		for _, c := range g.Cases {
			texts = append(texts, c.Text)
		}
	}
	return texts
}

func checkSame(t testing.TB, pattern, s string) {
	fast := fastMatcher(pattern)
	slow, err := compileRegex(pattern)
	require.NoError(t, err)
	want := slow.spans(s, nil)
	got := fast.spans(s, nil)
	require.Equal(t, want, got, "pattern %q on %q", pattern, s)
}

func TestFastRegexMatchesRegexp2(t *testing.T) {
	for _, p := range fastPatterns {
		for _, s := range corpus(t) {
			checkSame(t, p, s)
		}
	}
}

func FuzzFastRegex(f *testing.F) {
	for _, s := range corpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, p := range fastPatterns {
			checkSame(t, p, s)
		}
	})
}

func BenchmarkSplitRegex(b *testing.B) {
	var text []byte
	for len(text) < 1<<20 {
		for _, s := range corpus(b) {
			text = append(text, s...)
			text = append(text, ' ')
		}
	}
	s := string(text)
	slow, err := compileRegex(llamaPattern)
	require.NoError(b, err)
	for name, m := range map[string]matcher{"fast": fastMatcher(llamaPattern), "regexp2": slow} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			var buf []span
			for b.Loop() {
				buf = m.spans(s, buf)
			}
		})
	}
}
