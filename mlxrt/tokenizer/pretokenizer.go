package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer splits (and may rewrite) pieces; it appends its output for p
// to out.
type preTokenizer interface {
	preTokenize(out []piece, p piece) []piece
}

func parsePreTokenizer(raw json.RawMessage, depth int) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("pre-tokenizer nesting deeper than %d", maxDepth)
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("pre-tokenizer: %w", err)
	}
	switch typ {
	case "ByteLevel":
		var c struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("ByteLevel pre-tokenizer: %w", err)
		}
		b := &byteLevelPre{addPrefixSpace: c.AddPrefixSpace == nil || *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			m, err := newRegexMatcher(gpt2Pattern)
			if err != nil {
				return nil, err
			}
			b.re = m
		}
		return b, nil
	case "Split":
		var c struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		m, err := patternMatcher(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		b, ok := parseBehavior(c.Behavior)
		if !ok {
			return nil, fmt.Errorf("Split pre-tokenizer: unknown behavior %q", c.Behavior)
		}
		if c.Invert {
			m = invertMatcher{m}
		}
		return &splitPre{m: m, b: b}, nil
	case "Metaspace":
		return parseMetaspace(raw)
	case "Whitespace":
		return whitespacePre{}, nil
	case "WhitespaceSplit":
		return predSplit{pred: unicode.IsSpace, b: behRemoved}, nil
	case "Punctuation":
		var c struct {
			Behavior *string `json:"behavior"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Punctuation pre-tokenizer: %w", err)
		}
		b := behIsolated
		if c.Behavior != nil {
			var ok bool
			if b, ok = parseBehavior(*c.Behavior); !ok {
				return nil, fmt.Errorf("Punctuation pre-tokenizer: unknown behavior %q", *c.Behavior)
			}
		}
		return predSplit{pred: isPunctuation, b: b}, nil
	case "Digits":
		var c struct {
			Individual bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Digits pre-tokenizer: %w", err)
		}
		if c.Individual {
			return predSplit{pred: unicode.IsNumber, b: behIsolated}, nil
		}
		return predSplit{pred: unicode.IsNumber, b: behContiguous}, nil
	case "CharDelimiterSplit":
		var c struct {
			Delimiter string `json:"delimiter"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("CharDelimiterSplit pre-tokenizer: %w", err)
		}
		d, n := utf8.DecodeRuneInString(c.Delimiter)
		if n == 0 || n != len(c.Delimiter) {
			return nil, fmt.Errorf("CharDelimiterSplit: delimiter %q is not one character", c.Delimiter)
		}
		return predSplit{pred: func(r rune) bool { return r == d }, b: behRemoved}, nil
	case "BertPreTokenizer":
		return preSequence{
			predSplit{pred: unicode.IsSpace, b: behRemoved},
			predSplit{pred: isPunctuation, b: behIsolated},
		}, nil
	case "Sequence":
		var c struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Sequence pre-tokenizer: %w", err)
		}
		var seq preSequence
		for _, sub := range c.PreTokenizers {
			p, err := parsePreTokenizer(sub, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	}
	return nil, fmt.Errorf("unsupported pre-tokenizer %q", typ)
}

type preSequence []preTokenizer

func (seq preSequence) preTokenize(out []piece, p piece) []piece {
	cur := []piece{p}
	var next []piece
	for _, pt := range seq {
		next = next[:0]
		for _, q := range cur {
			next = pt.preTokenize(next, q)
		}
		cur, next = next, cur
	}
	return append(out, cur...)
}

// splitPre is the Split pre-tokenizer.
type splitPre struct {
	m matcher
	b behavior
}

func (s *splitPre) preTokenize(out []piece, p piece) []piece {
	var buf [32]span
	return splitPiece(out, p, s.m.spans(p.text, buf[:0]), s.b)
}

// predSplit splits on every rune for which pred holds.
type predSplit struct {
	pred func(rune) bool
	b    behavior
}

func (s predSplit) preTokenize(out []piece, p piece) []piece {
	var buf [32]span
	return splitPiece(out, p, runeMatches(p.text, s.pred, buf[:0]), s.b)
}

// isPunctuation is Rust's char::is_ascii_punctuation || is_punctuation.
func isPunctuation(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

// whitespacePre is the Whitespace pre-tokenizer: the pieces are the matches
// of \w+|[^\w\s]+ (Rust regex Unicode classes).
type whitespacePre struct{}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) ||
		unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nl, r) ||
		unicode.Is(unicode.Other_Alphabetic, r) || r == 0x200C || r == 0x200D
}

func (whitespacePre) preTokenize(out []piece, p piece) []piece {
	s := p.text
	const (
		none = iota
		word
		other
	)
	kind := func(r rune) int {
		if isWordRune(r) {
			return word
		}
		if unicode.IsSpace(r) {
			return none
		}
		return other
	}
	start, cur := 0, none
	for i, r := range s {
		k := kind(r)
		if k == cur {
			continue
		}
		if cur != none && i > start {
			out = append(out, subPiece(p, start, i))
		}
		start, cur = i, k
	}
	if cur != none && len(s) > start {
		out = append(out, subPiece(p, start, len(s)))
	}
	return out
}

// metaspace is the Metaspace pre-tokenizer (and its decoder settings).
type metaspace struct {
	replacement string
	repl        rune
	prepend     prependScheme
	split       bool
}

type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

func parseMetaspace(raw json.RawMessage) (*metaspace, error) {
	var c struct {
		Replacement    string  `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("Metaspace: %w", err)
	}
	r, n := utf8.DecodeRuneInString(c.Replacement)
	if n == 0 || n != len(c.Replacement) {
		return nil, fmt.Errorf("Metaspace: replacement %q is not one character", c.Replacement)
	}
	m := &metaspace{replacement: c.Replacement, repl: r, split: c.Split == nil || *c.Split}
	switch {
	case c.PrependScheme != nil:
		switch *c.PrependScheme {
		case "always":
			m.prepend = prependAlways
		case "first":
			m.prepend = prependFirst
		case "never":
			m.prepend = prependNever
		default:
			return nil, fmt.Errorf("Metaspace: unknown prepend_scheme %q", *c.PrependScheme)
		}
	case c.AddPrefixSpace != nil && !*c.AddPrefixSpace:
		m.prepend = prependNever
	}
	return m, nil
}

func (m *metaspace) preTokenize(out []piece, p piece) []piece {
	s := p.text
	zero := p.zero
	if strings.IndexByte(s, ' ') >= 0 {
		if zero > 0 {
			zero = len(strings.ReplaceAll(s[:zero], " ", m.replacement))
		}
		s = strings.ReplaceAll(s, " ", m.replacement)
	}
	add := false
	switch m.prepend {
	case prependAlways:
		add = !strings.HasPrefix(s, m.replacement)
	case prependFirst:
		add = !strings.HasPrefix(s, m.replacement) && p.zero > 0
	}
	if add {
		s = m.replacement + s
		if zero > 0 {
			zero += len(m.replacement)
		}
	}
	q := piece{text: s, id: -1, zero: zero}
	if !m.split {
		if s == "" {
			return out
		}
		return append(out, q)
	}
	var buf [32]span
	return splitPiece(out, q, runeMatches(s, func(r rune) bool { return r == m.repl }, buf[:0]), behMergedWithNext)
}

// byteLevelPre is the ByteLevel pre-tokenizer: optional prefix space, the
// GPT-2 split regex, then every byte mapped to its printable character.
type byteLevelPre struct {
	addPrefixSpace bool
	re             matcher
}

func (b *byteLevelPre) preTokenize(out []piece, p piece) []piece {
	if b.addPrefixSpace && !strings.HasPrefix(p.text, " ") {
		p.text = " " + p.text
		if p.zero > 0 {
			p.zero++
		}
	}
	first := len(out)
	if b.re != nil {
		var buf [32]span
		out = splitPiece(out, p, b.re.spans(p.text, buf[:0]), behIsolated)
	} else if p.text != "" {
		out = append(out, p)
	}
	for i := first; i < len(out); i++ {
		q := &out[i]
		if q.zero > 0 {
			q.zero = len(byteLevelEncode(q.text[:q.zero]))
		}
		q.text = byteLevelEncode(q.text)
	}
	return out
}
