package tokenizer

import (
	"unicode/utf8"
)

// piece is a part of the input on its way through the pipeline.
type piece struct {
	text string
	// id is the token of an added-token piece, or -1 while the piece still
	// goes through pre-tokenization and the model.
	id int32
	// zero counts the leading bytes of text whose position in the original
	// input is offset 0 (the first original character and anything a
	// normalizer prepended to it). Zero means the piece does not begin the
	// input. Metaspace's prepend_scheme "first" needs it: HF prepends only to
	// the split whose original offset is 0.
	zero int
}

// span is a byte range of a piece with whether a pattern matched it.
type span struct {
	start, end int
	match      bool
}

// behavior is SplitDelimiterBehavior.
type behavior uint8

const (
	behRemoved behavior = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

func parseBehavior(s string) (behavior, bool) {
	switch s {
	case "Removed":
		return behRemoved, true
	case "Isolated":
		return behIsolated, true
	case "MergedWithPrevious":
		return behMergedWithPrevious, true
	case "MergedWithNext":
		return behMergedWithNext, true
	case "Contiguous":
		return behContiguous, true
	}
	return 0, false
}

// runeMatches returns the spans of a piece where every rune for which pred
// holds is its own match and the runs between are non-matches, like HF's
// Pattern for char predicates.
func runeMatches(s string, pred func(rune) bool, buf []span) []span {
	buf = buf[:0]
	if s == "" {
		return append(buf, span{0, 0, false})
	}
	last := 0
	for i, r := range s {
		if !pred(r) {
			continue
		}
		if last < i {
			buf = append(buf, span{last, i, false})
		}
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			n = runeLenAt(s, i)
		}
		buf = append(buf, span{i, i + n, true})
		last = i + n
	}
	if last < len(s) {
		buf = append(buf, span{last, len(s), false})
	}
	return buf
}

// runeLenAt returns the byte length of the rune starting at s[i].
func runeLenAt(s string, i int) int {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// splitPiece applies a delimiter behavior to the match spans of p and appends
// the non-empty resulting pieces to out, exactly as HF's
// NormalizedString::split.
func splitPiece(out []piece, p piece, spans []span, b behavior) []piece {
	type cut struct {
		start, end int
		remove     bool
	}
	var cuts []cut
	switch b {
	case behIsolated:
		cuts = make([]cut, len(spans))
		for i, s := range spans {
			cuts[i] = cut{s.start, s.end, false}
		}
	case behRemoved:
		cuts = make([]cut, len(spans))
		for i, s := range spans {
			cuts[i] = cut{s.start, s.end, s.match}
		}
	case behContiguous:
		prev := false
		for _, s := range spans {
			if s.match == prev && len(cuts) > 0 {
				cuts[len(cuts)-1].end = s.end
			} else {
				cuts = append(cuts, cut{s.start, s.end, false})
			}
			prev = s.match
		}
	case behMergedWithPrevious:
		prev := false
		for _, s := range spans {
			if s.match && !prev && len(cuts) > 0 {
				cuts[len(cuts)-1].end = s.end
			} else {
				cuts = append(cuts, cut{s.start, s.end, false})
			}
			prev = s.match
		}
	case behMergedWithNext:
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prev && len(cuts) > 0 {
				cuts[len(cuts)-1].start = s.start
			} else {
				cuts = append(cuts, cut{s.start, s.end, false})
			}
			prev = s.match
		}
		for i, j := 0, len(cuts)-1; i < j; i, j = i+1, j-1 {
			cuts[i], cuts[j] = cuts[j], cuts[i]
		}
	}
	for _, c := range cuts {
		if c.remove || c.end <= c.start {
			continue
		}
		out = append(out, subPiece(p, c.start, c.end))
	}
	return out
}

// subPiece returns p.text[start:end] as a piece, carrying the zero prefix.
func subPiece(p piece, start, end int) piece {
	z := 0
	if start < p.zero {
		z = min(p.zero-start, end-start)
	}
	return piece{text: p.text[start:end], id: -1, zero: z}
}
