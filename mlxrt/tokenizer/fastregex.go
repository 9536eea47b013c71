package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written scanners for the split regexes most tokenizers use. They
// return exactly what regexp2 returns for the same pattern (tests compare
// both on the golden corpus and under fuzzing) and avoid its per-match
// allocations. Every position of the input starts a match of these
// patterns, so the spans are all matches.

const (
	// llamaPattern is Llama 3's split regex (digits in runs of up to 3).
	llamaPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// qwenPattern is Qwen 2's (single digits).
	qwenPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// fastMatcher returns a hand-written matcher for a known pattern, or nil.
func fastMatcher(pattern string) matcher {
	switch pattern {
	case gpt2Pattern:
		return scanMatcher{scanGPT2}
	case llamaPattern:
		return scanMatcher{func(s string, i int) int { return scanLlama(s, i, 3) }}
	case qwenPattern:
		return scanMatcher{func(s string, i int) int { return scanLlama(s, i, 1) }}
	}
	return nil
}

// scanMatcher turns a "match length at i" function into spans.
type scanMatcher struct {
	next func(s string, i int) int
}

func (m scanMatcher) spans(s string, buf []span) []span {
	buf = buf[:0]
	if s == "" {
		return append(buf, span{0, 0, false})
	}
	for i := 0; i < len(s); {
		n := m.next(s, i)
		if n <= 0 {
			// Not reached for the supported patterns; keep progress.
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		buf = append(buf, span{i, i + n, true})
		i += n
	}
	return buf
}

func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isL(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

func isN(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isS(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return r >= 0 && !isS(r) && !isL(r) && !isN(r) }

// run returns the end of the run of runes satisfying pred from i.
func run(s string, i int, pred func(rune) bool) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !pred(r) {
			break
		}
		i += n
	}
	return i
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at i (ASCII case-insensitive
// when fold), returning its length.
func contraction(s string, i int, fold bool) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return 0
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	c1 := lower(s[i+1])
	switch c1 {
	case 's', 't', 'm', 'd':
		return 2
	}
	if i+2 < len(s) {
		c2 := lower(s[i+2])
		switch {
		case c1 == 'r' && c2 == 'e', c1 == 'v' && c2 == 'e', c1 == 'l' && c2 == 'l':
			return 3
		}
	}
	return 0
}

// wsTail handles \s+(?!\S)|\s+ for a whitespace run [i, end): the run
// without its last character when something follows and the run has more
// than one character, else the whole run.
func wsTail(s string, i, end int) int {
	if end == len(s) {
		return end - i
	}
	_, last := utf8.DecodeLastRuneInString(s[i:end])
	if end-last > i {
		return end - last - i
	}
	return end - i
}

// scanGPT2 returns the length of the match of gpt2Pattern at i.
func scanGPT2(s string, i int) int {
	if n := contraction(s, i, false); n > 0 {
		return n
	}
	r, n := runeAt(s, i)
	start := i
	if r == ' ' {
		r2, n2 := runeAt(s, i+n)
		switch {
		case isL(r2):
			return run(s, i+n+n2, isL) - start
		case isN(r2):
			return run(s, i+n+n2, isN) - start
		case isOther(r2):
			return run(s, i+n+n2, isOther) - start
		}
	}
	switch {
	case isL(r):
		return run(s, i+n, isL) - start
	case isN(r):
		return run(s, i+n, isN) - start
	case isOther(r):
		return run(s, i+n, isOther) - start
	}
	return wsTail(s, i, run(s, i, isS))
}

// scanLlama returns the length of the match of the Llama 3 / Qwen 2 pattern
// at i, with digit runs of at most maxDigits.
func scanLlama(s string, i, maxDigits int) int {
	if n := contraction(s, i, true); n > 0 {
		return n
	}
	r, n := runeAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isL(r) {
		return run(s, i+n, isL) - i
	}
	if r != '\r' && r != '\n' && !isN(r) {
		if r2, n2 := runeAt(s, i+n); isL(r2) {
			return run(s, i+n+n2, isL) - i
		}
	}
	// \p{N}{1,maxDigits}
	if isN(r) {
		j := i + n
		for k := 1; k < maxDigits; k++ {
			r2, n2 := runeAt(s, j)
			if !isN(r2) {
				break
			}
			j += n2
		}
		return j - i
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	j := i
	if r == ' ' {
		if r2, _ := runeAt(s, i+n); isOther(r2) {
			j = i + n
		}
	}
	if r2, n2 := runeAt(s, j); isOther(r2) {
		j = run(s, j+n2, isOther)
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j - i
	}
	// \s*[\r\n]+ : up to the last \r or \n of the whitespace run.
	end := run(s, i, isS)
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1 - i
		}
	}
	return wsTail(s, i, end)
}
