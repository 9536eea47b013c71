package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of the added vocabulary.
type addedToken struct {
	id                         int32
	content                    string
	singleWord, lstrip, rstrip bool
	normalized, special        bool
	// display is what decoding shows: the normalized content for
	// normalized tokens (as tokenizers' normalized_cache), else content.
	display string
}

// trieNode is a node of a byte trie of added-token contents.
type trieNode struct {
	next map[byte]*trieNode
	tok  int // index into addedVocab.tokens, or -1
}

// addedMatcher finds added tokens leftmost-longest, as the aho-corasick
// automaton (MatchKind::LeftmostLongest) HF builds.
type addedMatcher struct {
	root  trieNode
	first [256]bool
	empty bool
}

func newAddedMatcher() *addedMatcher {
	return &addedMatcher{root: trieNode{tok: -1}, empty: true}
}

func (m *addedMatcher) add(content string, idx int) {
	if content == "" {
		return
	}
	n := &m.root
	for i := 0; i < len(content); i++ {
		if n.next == nil {
			n.next = map[byte]*trieNode{}
		}
		c := content[i]
		child, ok := n.next[c]
		if !ok {
			child = &trieNode{tok: -1}
			n.next[c] = child
		}
		n = child
	}
	if n.tok < 0 {
		n.tok = idx
	}
	m.first[content[0]] = true
	m.empty = false
}

// longestAt returns the index of the longest token starting at s[i] and its
// end, or -1.
func (m *addedMatcher) longestAt(s string, i int) (int, int) {
	n := &m.root
	best, end := -1, 0
	for j := i; j < len(s); j++ {
		child, ok := n.next[s[j]]
		if !ok {
			break
		}
		n = child
		if n.tok >= 0 {
			best, end = n.tok, j+1
		}
	}
	return best, end
}

// addedVocab is the added vocabulary: tokens matched in the text before the
// model runs.
type addedVocab struct {
	tokens []addedToken
	byID   map[int32]int
	byText map[string]int
	// special holds the contents of special tokens.
	special map[string]bool
	raw     *addedMatcher // tokens with normalized=false, matched on the input
	norm    *addedMatcher // tokens with normalized=true, matched on normalized text
}

func newAddedVocab(tokens []addedToken, n normalizer) *addedVocab {
	v := &addedVocab{
		tokens:  tokens,
		byID:    make(map[int32]int, len(tokens)),
		byText:  make(map[string]int, len(tokens)),
		special: map[string]bool{},
		raw:     newAddedMatcher(),
		norm:    newAddedMatcher(),
	}
	for i := range tokens {
		t := &tokens[i]
		v.byID[t.id] = i
		v.byText[t.content] = i
		if t.special {
			v.special[t.content] = true
		}
		t.display = t.content
		if t.normalized {
			if n != nil {
				t.display, _ = n.normalize(t.content, 0)
			}
			v.norm.add(t.display, i)
		} else {
			v.raw.add(t.content, i)
		}
	}
	return v
}

// split cuts p at the added tokens m finds, applying single_word, lstrip and
// rstrip like HF's AddedVocabulary::find_matches; token pieces get their id.
func (v *addedVocab) split(out []piece, p piece, m *addedMatcher) []piece {
	s := p.text
	if m.empty || s == "" {
		if s != "" {
			out = append(out, p)
		}
		return out
	}
	startOff := 0
	emit := func(start, end int, id int32) {
		if end <= start {
			return
		}
		q := subPiece(p, start, end)
		q.id = id
		out = append(out, q)
	}
	for i := 0; i < len(s); {
		if !m.first[s[i]] {
			i++
			continue
		}
		idx, stop := m.longestAt(s, i)
		if idx < 0 {
			i++
			continue
		}
		start := i
		t := &v.tokens[idx]
		if t.singleWord {
			startOK := start == 0 || !endsWithWord(s[:start])
			stopOK := stop == len(s) || !startsWithWord(s[stop:])
			if !startOK || !stopOK {
				i = stop
				continue
			}
		}
		if t.lstrip {
			start = max(leftmostSpaceAtEnd(s[:start]), startOff)
		}
		if t.rstrip {
			stop += rightmostSpaceAtStart(s[stop:])
		}
		emit(startOff, start, -1)
		emit(start, stop, t.id)
		startOff = stop
		i = stop
	}
	emit(startOff, len(s), -1)
	return out
}

func isWordChar(r rune) bool {
	return isWordRune(r)
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}

// leftmostSpaceAtEnd returns where the trailing whitespace of s begins.
func leftmostSpaceAtEnd(s string) int {
	return len(strings.TrimRightFunc(s, unicode.IsSpace))
}

// rightmostSpaceAtStart returns the length of the leading whitespace of s.
func rightmostSpaceAtStart(s string) int {
	return len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
}
