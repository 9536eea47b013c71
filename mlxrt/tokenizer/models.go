package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// wordPiece is the WordPiece model: greedy longest-match-first.
type wordPiece struct {
	v        *vocab
	unk      int32
	prefix   string
	maxChars int
}

func parseWordPiece(raw json.RawMessage, o *Options) (*wordPiece, error) {
	var c struct {
		Vocab    map[string]int32 `json:"vocab"`
		Unk      string           `json:"unk_token"`
		Prefix   *string          `json:"continuing_subword_prefix"`
		MaxChars *int             `json:"max_input_chars_per_word"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("WordPiece model: %w", err)
	}
	if len(c.Vocab) > o.maxVocab() {
		return nil, fmt.Errorf("WordPiece vocab of %d tokens exceeds %d", len(c.Vocab), o.maxVocab())
	}
	v, err := newVocab(c.Vocab, o.maxVocab())
	if err != nil {
		return nil, fmt.Errorf("WordPiece vocab: %w", err)
	}
	unk, ok := v.ids[c.Unk]
	if !ok {
		return nil, fmt.Errorf("WordPiece unk_token %q is not in the vocab", c.Unk)
	}
	m := &wordPiece{v: v, unk: unk, prefix: "##", maxChars: 100}
	if c.Prefix != nil {
		m.prefix = *c.Prefix
	}
	if c.MaxChars != nil {
		m.maxChars = *c.MaxChars
	}
	return m, nil
}

func (m *wordPiece) tokenize(dst []int32, s string) []int32 {
	if s == "" {
		return dst
	}
	if utf8.RuneCountInString(s) > m.maxChars {
		return append(dst, m.unk)
	}
	start0 := len(dst)
	for start := 0; start < len(s); {
		end := len(s)
		found := int32(-1)
		for start < end {
			sub := s[start:end]
			if start > 0 {
				sub = m.prefix + sub
			}
			if id, ok := m.v.ids[sub]; ok {
				found = id
				break
			}
			_, n := utf8.DecodeLastRuneInString(s[start:end])
			end -= n
		}
		if found < 0 {
			return append(dst[:start0], m.unk)
		}
		dst = append(dst, found)
		start = end
	}
	return dst
}

// wordLevel maps whole pieces to ids.
type wordLevel struct {
	v   *vocab
	unk int32
}

func parseWordLevel(raw json.RawMessage, o *Options) (*wordLevel, error) {
	var c struct {
		Vocab map[string]int32 `json:"vocab"`
		Unk   string           `json:"unk_token"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("WordLevel model: %w", err)
	}
	if len(c.Vocab) > o.maxVocab() {
		return nil, fmt.Errorf("WordLevel vocab of %d tokens exceeds %d", len(c.Vocab), o.maxVocab())
	}
	v, err := newVocab(c.Vocab, o.maxVocab())
	if err != nil {
		return nil, fmt.Errorf("WordLevel vocab: %w", err)
	}
	unk, ok := v.ids[c.Unk]
	if !ok {
		return nil, fmt.Errorf("WordLevel unk_token %q is not in the vocab", c.Unk)
	}
	return &wordLevel{v: v, unk: unk}, nil
}

func (m *wordLevel) tokenize(dst []int32, s string) []int32 {
	if id, ok := m.v.ids[s]; ok {
		return append(dst, id)
	}
	return append(dst, m.unk)
}

// unigram is the Unigram (SentencePiece) model, decoded with Viterbi as HF's
// encode_optimized.
type unigram struct {
	v            *vocab
	scores       []float64
	sorted       []string // vocabulary, sorted, for prefix search
	maxLen       int
	unk          int32 // -1 without unk_id
	minScore     float64
	byteFallback bool
	fuseUnk      bool
	byteIDs      [256]int32
}

// unkPenalty is HF's K_UNK_PENALTY.
const unkPenalty = 10.0

func parseUnigram(raw json.RawMessage, o *Options) (*unigram, error) {
	var c struct {
		Vocab        [][2]json.RawMessage `json:"vocab"`
		UnkID        *int                 `json:"unk_id"`
		ByteFallback bool                 `json:"byte_fallback"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("Unigram model: %w", err)
	}
	if len(c.Vocab) > o.maxVocab() {
		return nil, fmt.Errorf("Unigram vocab of %d tokens exceeds %d", len(c.Vocab), o.maxVocab())
	}
	ids := make(map[string]int32, len(c.Vocab))
	m := &unigram{scores: make([]float64, len(c.Vocab)), unk: -1, byteFallback: c.ByteFallback,
		fuseUnk: true, minScore: math.Inf(1)}
	for i, e := range c.Vocab {
		var tok string
		if err := json.Unmarshal(e[0], &tok); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
		}
		if err := json.Unmarshal(e[1], &m.scores[i]); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d score: %w", i, err)
		}
		if _, dup := ids[tok]; !dup {
			ids[tok] = int32(i)
		}
		m.minScore = min(m.minScore, m.scores[i])
		m.maxLen = max(m.maxLen, len(tok))
	}
	v, err := newVocab(ids, o.maxVocab())
	if err != nil {
		return nil, fmt.Errorf("Unigram vocab: %w", err)
	}
	m.v = v
	if c.UnkID != nil {
		if *c.UnkID < 0 || *c.UnkID >= len(c.Vocab) {
			return nil, fmt.Errorf("Unigram unk_id %d is out of range", *c.UnkID)
		}
		m.unk = int32(*c.UnkID)
	}
	m.sorted = make([]string, 0, len(ids))
	for tok := range ids {
		if tok != "" {
			m.sorted = append(m.sorted, tok)
		}
	}
	slices.Sort(m.sorted)
	for b := range 256 {
		m.byteIDs[b] = -1
		if id, ok := ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	return m, nil
}

// hasPrefix reports whether some vocabulary token starts with p.
func (m *unigram) hasPrefix(p string) bool {
	i := sort.SearchStrings(m.sorted, p)
	return i < len(m.sorted) && strings.HasPrefix(m.sorted[i], p)
}

type uniNode struct {
	score float64
	start int // -1 when unreached
	id    int32
}

func (m *unigram) tokenize(dst []int32, s string) []int32 {
	if s == "" {
		return dst
	}
	unkScore := m.minScore - unkPenalty
	best := make([]uniNode, len(s)+1)
	for i := range best {
		best[i].start = -1
	}
	for start := 0; start < len(s); {
		_, mblen := utf8.DecodeRuneInString(s[start:])
		base := best[start].score
		single := false
		for end := start + 1; end <= len(s) && end-start <= m.maxLen; end++ {
			sub := s[start:end]
			if id, ok := m.v.ids[sub]; ok {
				cand := m.scores[id] + base
				if n := &best[end]; n.start < 0 || cand > n.score {
					*n = uniNode{score: cand, start: start, id: id}
				}
				if end-start == mblen {
					single = true
				}
			}
			if !m.hasPrefix(sub) {
				break
			}
		}
		if !single {
			if n := &best[start+mblen]; n.start < 0 || unkScore+base > n.score {
				*n = uniNode{score: unkScore + base, start: start, id: m.unk}
			}
		}
		start += mblen
	}
	// Walk back, fusing consecutive unknown pieces.
	var pieces []string
	var unkRun []string
	for end := len(s); end > 0; {
		n := best[end]
		if m.fuseUnk && m.unk >= 0 && n.id == m.unk {
			unkRun = append(unkRun, s[n.start:end])
		} else {
			if len(unkRun) > 0 {
				pieces = append(pieces, joinReversed(unkRun))
				unkRun = unkRun[:0]
			}
			pieces = append(pieces, s[n.start:end])
		}
		end = n.start
	}
	if len(unkRun) > 0 {
		pieces = append(pieces, joinReversed(unkRun))
	}
	for i := len(pieces) - 1; i >= 0; i-- {
		p := pieces[i]
		if id, ok := m.v.ids[p]; ok {
			dst = append(dst, id)
			continue
		}
		if m.byteFallback && m.allBytes(p) {
			for j := 0; j < len(p); j++ {
				dst = append(dst, m.byteIDs[p[j]])
			}
			continue
		}
		if m.unk >= 0 {
			dst = append(dst, m.unk)
		}
	}
	return dst
}

func (m *unigram) allBytes(p string) bool {
	for j := 0; j < len(p); j++ {
		if m.byteIDs[p[j]] < 0 {
			return false
		}
	}
	return true
}

func joinReversed(parts []string) string {
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}
