package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece's text. zero is the piece's zero prefix (see
// piece.zero); implementations return the new text and zero prefix.
type normalizer interface {
	normalize(s string, zero int) (string, int)
}

// maxDepth bounds the nesting of Sequence components.
const maxDepth = 8

func parseNormalizer(raw json.RawMessage, depth int) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("normalizer nesting deeper than %d", maxDepth)
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch typ {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "Strip":
		var c struct {
			Left  *bool `json:"strip_left"`
			Right *bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Strip normalizer: %w", err)
		}
		return strip{left: c.Left == nil || *c.Left, right: c.Right == nil || *c.Right}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Prepend normalizer: %w", err)
		}
		return prepend(c.Prepend), nil
	case "Append":
		var c struct {
			Append string `json:"append"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Append normalizer: %w", err)
		}
		return appendNorm(c.Append), nil
	case "Replace":
		return parseReplace(raw)
	case "Sequence":
		var c struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Sequence normalizer: %w", err)
		}
		var seq normSequence
		for _, sub := range c.Normalizers {
			n, err := parseNormalizer(sub, depth+1)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "BertNormalizer":
		return parseBertNormalizer(raw)
	case "ByteLevel":
		return byteLevelNorm{}, nil
	}
	return nil, fmt.Errorf("unsupported normalizer %q", typ)
}

type unicodeNorm struct{ f norm.Form }

func (n unicodeNorm) normalize(s string, zero int) (string, int) {
	out := n.f.String(s)
	if zero > 0 {
		zero = min(len(out), max(len(n.f.String(s[:zero])), firstRuneLen(out)))
	}
	return out, zero
}

func firstRuneLen(s string) int {
	if s == "" {
		return 0
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// lowercase is Rust's char::to_lowercase: the simple mapping, except U+0130
// whose full mapping is "i̇".
type lowercase struct{}

func lowerRune(r rune, b *strings.Builder) {
	if r == 'İ' {
		b.WriteString("i\u0307")
		return
	}
	b.WriteRune(unicode.ToLower(r))
}

func (lowercase) normalize(s string, zero int) (string, int) {
	var b strings.Builder
	b.Grow(len(s))
	newZero := 0
	for i, r := range s {
		if i == zero && zero > 0 {
			newZero = b.Len()
		}
		lowerRune(r, &b)
	}
	if zero >= len(s) && zero > 0 {
		newZero = b.Len()
	}
	return b.String(), newZero
}

type strip struct{ left, right bool }

func (n strip) normalize(s string, zero int) (string, int) {
	if n.left {
		t := strings.TrimLeftFunc(s, unicode.IsSpace)
		if len(t) != len(s) {
			// The first kept character is not at original offset 0.
			zero = 0
		}
		s = t
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s, min(zero, len(s))
}

// stripAccents removes nonspacing marks (apply after NFD).
type stripAccents struct{}

func (stripAccents) normalize(s string, zero int) (string, int) {
	var b strings.Builder
	for _, r := range s {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	out := b.String()
	return out, min(zero, len(out))
}

type prepend string

func (n prepend) normalize(s string, zero int) (string, int) {
	if s == "" {
		return s, zero
	}
	if zero > 0 {
		zero += len(n)
	}
	return string(n) + s, zero
}

type appendNorm string

func (n appendNorm) normalize(s string, zero int) (string, int) {
	if s == "" {
		return s, zero
	}
	return s + string(n), zero
}

type normSequence []normalizer

func (seq normSequence) normalize(s string, zero int) (string, int) {
	for _, n := range seq {
		s, zero = n.normalize(s, zero)
	}
	return s, zero
}

// replace is the Replace normalizer (and decoder): every match of the pattern
// becomes content.
type replace struct {
	m       matcher
	content string
}

func parseReplace(raw json.RawMessage) (*replace, error) {
	var c struct {
		Pattern patternJSON `json:"pattern"`
		Content string      `json:"content"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("Replace: %w", err)
	}
	m, err := patternMatcher(c.Pattern)
	if err != nil {
		return nil, fmt.Errorf("Replace: %w", err)
	}
	return &replace{m: m, content: c.Content}, nil
}

// patternMatcher builds the matcher of a Split/Replace pattern.
func patternMatcher(p patternJSON) (matcher, error) {
	switch {
	case p.String != nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil:
		return newRegexMatcher(*p.Regex)
	}
	return nil, fmt.Errorf("pattern needs String or Regex")
}

func (n *replace) apply(s string) string {
	if lit, ok := n.m.(stringMatcher); ok {
		return strings.ReplaceAll(s, string(lit), n.content)
	}
	var spans [16]span
	var b strings.Builder
	for _, sp := range n.m.spans(s, spans[:0]) {
		if sp.match {
			b.WriteString(n.content)
		} else {
			b.WriteString(s[sp.start:sp.end])
		}
	}
	return b.String()
}

func (n *replace) normalize(s string, zero int) (string, int) {
	if zero == 0 {
		return n.apply(s), 0
	}
	var buf [16]span
	spans := n.m.spans(s, buf[:0])
	var b strings.Builder
	newZero := 0
	for _, sp := range spans {
		if sp.match {
			b.WriteString(n.content)
		} else {
			b.WriteString(s[sp.start:sp.end])
		}
		if sp.end <= zero {
			newZero = b.Len()
		} else if sp.start < zero && !sp.match {
			newZero = b.Len() - (sp.end - zero)
		}
	}
	return b.String(), newZero
}

// byteLevelNorm maps every byte to its ByteLevel character.
type byteLevelNorm struct{}

func (byteLevelNorm) normalize(s string, zero int) (string, int) {
	out := byteLevelEncode(s)
	return out, len(byteLevelEncode(s[:zero]))
}

// bertNormalizer is BertNormalizer: clean text, pad CJK characters with
// spaces, strip accents and lowercase.
type bertNormalizer struct {
	clean, chinese, stripAccents, lower bool
}

func parseBertNormalizer(raw json.RawMessage) (normalizer, error) {
	var c struct {
		Clean   *bool `json:"clean_text"`
		Chinese *bool `json:"handle_chinese_chars"`
		Strip   *bool `json:"strip_accents"`
		Lower   *bool `json:"lowercase"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("BertNormalizer: %w", err)
	}
	def := func(p *bool, d bool) bool {
		if p == nil {
			return d
		}
		return *p
	}
	lower := def(c.Lower, true)
	// strip_accents null means "same as lowercase".
	return bertNormalizer{
		clean:        def(c.Clean, true),
		chinese:      def(c.Chinese, true),
		stripAccents: def(c.Strip, lower),
		lower:        lower,
	}, nil
}

func (n bertNormalizer) normalize(s string, zero int) (string, int) {
	var b strings.Builder
	for _, r := range s {
		if n.clean {
			if r == 0 || r == 0xfffd || isBertControl(r) {
				continue
			}
			if isBertWhitespace(r) {
				r = ' '
			}
		}
		if n.chinese && isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if n.stripAccents {
		out = norm.NFD.String(out)
		out, _ = stripAccents{}.normalize(out, 0)
	}
	if n.lower {
		out, _ = lowercase{}.normalize(out, 0)
	}
	if zero > 0 {
		zero = firstRuneLen(out)
	}
	return out, zero
}

func isBertWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\r', ' ':
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

func isBertControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}
