package pipeline

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ClauseSplitter cuts streaming text into units a synthesizer can speak one
// at a time: sentences, and clauses of long sentences, so that the first
// audio comes after the first clause rather than after the whole answer.
// Push text as it arrives (LLM deltas); Flush at the end. Not safe for
// concurrent use.
type ClauseSplitter struct {
	// MinClause is the length in runes under which a comma, colon or
	// semicolon does not end a clause. Zero means 24.
	MinClause int
	// MaxClause is the length in runes after which a clause is cut at the
	// last space even without punctuation. Zero means 240.
	MaxClause int

	buf     strings.Builder
	emitted int
}

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true,
	"st": true, "vs": true, "etc": true, "e.g": true, "i.e": true, "no": true, "fig": true,
	"approx": true, "inc": true, "ltd": true, "co": true, "jan": true, "feb": true, "mar": true,
	"apr": true, "jun": true, "jul": true, "aug": true, "sep": true, "sept": true, "oct": true,
	"nov": true, "dec": true,
}

// Push adds text and returns the clauses it completed, trimmed, in order.
func (c *ClauseSplitter) Push(text string) []string {
	c.buf.WriteString(text)
	var out []string
	for {
		s := c.buf.String()
		cut := c.boundary(s, false)
		if cut <= 0 {
			return out
		}
		if clause := strings.TrimSpace(s[:cut]); clause != "" {
			out = append(out, clause)
			c.emitted++
		}
		rest := s[cut:]
		c.buf.Reset()
		c.buf.WriteString(rest)
	}
}

// Flush returns whatever text remains as final clauses.
func (c *ClauseSplitter) Flush() []string {
	s := c.buf.String()
	c.buf.Reset()
	var out []string
	for s != "" {
		cut := c.boundary(s, true)
		if cut <= 0 {
			cut = len(s)
		}
		if clause := strings.TrimSpace(s[:cut]); clause != "" {
			out = append(out, clause)
		}
		s = s[cut:]
	}
	return out
}

// boundary returns the byte offset just after the first clause end in s, or
// 0 when s does not yet hold a complete clause. A punctuation mark ends a
// clause only once the next character is known (it must be a space), unless
// final.
func (c *ClauseSplitter) boundary(s string, final bool) int {
	minClause, maxClause := c.MinClause, c.MaxClause
	if minClause <= 0 {
		minClause = 24
	}
	if maxClause <= 0 {
		maxClause = 240
	}
	runes, lastSpace := 0, -1
	for i, r := range s {
		runes++
		_, w := utf8.DecodeRuneInString(s[i:])
		next, size := utf8.DecodeRuneInString(s[i+w:])
		atEnd := size == 0
		followedBySpace := !atEnd && unicode.IsSpace(next)
		switch {
		case r == '\n':
			return i + 1
		case strings.ContainsRune("。！？", r):
			return i + w
		case strings.ContainsRune("，；：、", r) && runes >= minClause:
			return i + w
		case r == '.' || r == '!' || r == '?' || r == '…':
			if atEnd && !final {
				return 0 // the next character decides (a decimal point, "...")
			}
			if (followedBySpace || atEnd) && !(r == '.' && isAbbreviation(s[:i])) {
				return i + w
			}
		case r == ',' || r == ';' || r == ':' || r == '—':
			if runes >= minClause && (followedBySpace || (atEnd && final)) {
				return i + w
			}
		}
		if unicode.IsSpace(r) {
			lastSpace = i
		}
		if runes >= maxClause && lastSpace > 0 {
			return lastSpace + 1
		}
	}
	return 0
}

// isAbbreviation reports whether the word before a period is a common
// abbreviation or a single letter (an initial), so the period ends no sentence.
func isAbbreviation(before string) bool {
	i := strings.LastIndexFunc(before, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == '"' })
	word := strings.ToLower(before[i+1:])
	if utf8.RuneCountInString(word) == 1 && unicode.IsLetter([]rune(word)[0]) {
		return true
	}
	return abbreviations[word]
}
