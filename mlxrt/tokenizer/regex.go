package tokenizer

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// matcher finds the spans of a pattern in a string, covering the whole string
// with alternating match and non-match spans as HF's Pattern::find_matches.
type matcher interface {
	spans(s string, buf []span) []span
}

// regexMatcher runs an Oniguruma-style pattern through regexp2, which has the
// lookaround and Unicode classes HF patterns use (Go's regexp has neither).
type regexMatcher struct {
	re *regexp2.Regexp
}

// maxPatternLen bounds patterns read from tokenizer files.
const maxPatternLen = 4096

// matchTimeout bounds one regexp2 match attempt.
const matchTimeout = 250 * time.Millisecond

func compileRegex(pattern string) (*regexMatcher, error) {
	if len(pattern) > maxPatternLen {
		return nil, fmt.Errorf("regex of %d bytes exceeds %d", len(pattern), maxPatternLen)
	}
	re, err := regexp2.Compile(onigToNet(pattern), regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	// A pattern from a hostile file can backtrack exponentially; one match
	// attempt gets this long, after which the rest of the piece is left
	// unsplit.
	re.MatchTimeout = matchTimeout
	return &regexMatcher{re: re}, nil
}

// literalMatcher returns a matcher for a fixed string, like HF's String
// pattern (a regex of the escaped string).
func literalMatcher(lit string) matcher {
	if lit == "" {
		return emptyMatcher{}
	}
	return stringMatcher(lit)
}

type emptyMatcher struct{}

func (emptyMatcher) spans(s string, buf []span) []span {
	return append(buf[:0], span{0, len(s), false})
}

type stringMatcher string

func (m stringMatcher) spans(s string, buf []span) []span {
	buf = buf[:0]
	if s == "" {
		return append(buf, span{0, 0, false})
	}
	lit := string(m)
	prev := 0
	for i := 0; i <= len(s); {
		j := strings.Index(s[i:], lit)
		if j < 0 {
			break
		}
		start := i + j
		if prev != start {
			buf = append(buf, span{prev, start, false})
		}
		buf = append(buf, span{start, start + len(lit), true})
		prev = start + len(lit)
		i = prev
	}
	if prev != len(s) {
		buf = append(buf, span{prev, len(s), false})
	}
	return buf
}

func (m *regexMatcher) spans(s string, buf []span) []span {
	buf = buf[:0]
	if s == "" {
		return append(buf, span{0, 0, false})
	}
	runes, offs := runesOf(s)
	prev, pos := 0, 0
	lastEnd := -1
	for pos <= len(runes) {
		match, err := m.re.FindRunesMatchStartingAt(runes, pos)
		if err != nil || match == nil {
			break
		}
		rs, re := match.Index, match.Index+match.Length
		if rs == re && lastEnd == re {
			// Like onig's find_iter: no empty match right after the last
			// match; step one character and search again.
			pos++
			continue
		}
		bs, be := offs[rs], offs[re]
		if prev != bs {
			buf = append(buf, span{prev, bs, false})
		}
		buf = append(buf, span{bs, be, true})
		prev = be
		pos, lastEnd = re, re
		if rs == re {
			// regexp2 would return the same empty match again.
			pos++
		}
	}
	if prev != len(s) {
		buf = append(buf, span{prev, len(s), false})
	}
	return buf
}

// runesOf decodes s and returns the byte offset of every rune index (with
// len(s) at index len(runes)).
func runesOf(s string) ([]rune, []int) {
	n := utf8.RuneCountInString(s)
	runes := make([]rune, 0, n)
	offs := make([]int, 0, n+1)
	for i, r := range s {
		runes = append(runes, r)
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	return runes, offs
}

// invertMatcher flips match and non-match spans (Split's invert flag).
type invertMatcher struct{ m matcher }

func (m invertMatcher) spans(s string, buf []span) []span {
	buf = m.m.spans(s, buf)
	for i := range buf {
		buf[i].match = !buf[i].match
	}
	return buf
}

// newRegexMatcher returns a matcher for an HF regex pattern: a hand-written
// scanner for the common GPT-2 / Llama 3 / Qwen 2 patterns (verified equal to
// regexp2 by tests and fuzzing), else regexp2.
func newRegexMatcher(pattern string) (matcher, error) {
	if m := fastMatcher(pattern); m != nil {
		return m, nil
	}
	return compileRegex(pattern)
}

// onigWord is Oniguruma's Unicode \w, General_Category Letter, Mark,
// Number or Connector_Punctuation; regexp2's (.NET) differs (no Mc, Me, Nl,
// No; but joiners).
const onigWord = `\p{L}\p{M}\p{N}\p{Pc}`

// onigToNet rewrites the Oniguruma escapes whose meaning differs in regexp2
// (.NET syntax): \w and \W, outside and inside character classes.
func onigToNet(p string) string {
	if !strings.Contains(p, `\w`) && !strings.Contains(p, `\W`) {
		return p
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			next := p[i+1]
			switch {
			case next == 'w' && inClass:
				b.WriteString(onigWord)
			case next == 'w':
				b.WriteString("[" + onigWord + "]")
			case next == 'W' && !inClass:
				b.WriteString("[^" + onigWord + "]")
			default:
				b.WriteByte(c)
				b.WriteByte(next)
			}
			i++
			continue
		case c == '[' && !inClass:
			inClass = true
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
