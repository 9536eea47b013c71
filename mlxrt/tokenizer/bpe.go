package tokenizer

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// model turns one pre-tokenized piece into ids.
type model interface {
	tokenize(dst []int32, s string) []int32
}

// vocab maps tokens to ids and back.
type vocab struct {
	ids    map[string]int32
	tokens []string // by id; "" where no token has the id
}

func (v *vocab) token(id int32) (string, bool) {
	if id < 0 || int(id) >= len(v.tokens) {
		return "", false
	}
	t := v.tokens[id]
	if t == "" {
		// A hole in the ids, unless "" itself is a token with this id.
		got, ok := v.ids[""]
		return "", ok && got == id
	}
	return t, true
}

// newVocab inverts a token→id map; ids must be below limit.
func newVocab(m map[string]int32, limit int) (*vocab, error) {
	maxID := int32(-1)
	for tok, id := range m {
		if id < 0 || int(id) >= limit {
			return nil, fmt.Errorf("token %q has id %d outside [0, %d)", tok, id, limit)
		}
		maxID = max(maxID, id)
	}
	v := &vocab{ids: m, tokens: make([]string, maxID+1)}
	for tok, id := range m {
		v.tokens[id] = tok
	}
	return v, nil
}

// bpe is the BPE model.
type bpe struct {
	v            *vocab
	merges       map[uint64]mergeInfo
	unk          int32 // -1 without unk_token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix
	byteIDs      [256]int32

	cache wordCache
}

type mergeInfo struct {
	rank, id int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

type bpeJSON struct {
	Vocab                   map[string]int32  `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Dropout                 *float64          `json:"dropout"`
}

func parseBPE(raw json.RawMessage, o *Options) (*bpe, error) {
	var c bpeJSON
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("BPE model: %w", err)
	}
	if len(c.Vocab) > o.maxVocab() {
		return nil, fmt.Errorf("BPE vocab of %d tokens exceeds %d", len(c.Vocab), o.maxVocab())
	}
	if len(c.Merges) > o.maxMerges() {
		return nil, fmt.Errorf("BPE merges: %d exceed %d", len(c.Merges), o.maxMerges())
	}
	if c.Dropout != nil && *c.Dropout > 0 {
		return nil, fmt.Errorf("BPE dropout %v is not supported (inference is deterministic)", *c.Dropout)
	}
	v, err := newVocab(c.Vocab, o.maxVocab())
	if err != nil {
		return nil, fmt.Errorf("BPE vocab: %w", err)
	}
	m := &bpe{v: v, unk: -1, fuseUnk: c.FuseUnk, byteFallback: c.ByteFallback, ignoreMerges: c.IgnoreMerges}
	if c.ContinuingSubwordPrefix != nil {
		m.prefix = *c.ContinuingSubwordPrefix
	}
	if c.EndOfWordSuffix != nil {
		m.suffix = *c.EndOfWordSuffix
	}
	if c.UnkToken != nil {
		id, ok := v.ids[*c.UnkToken]
		if !ok {
			return nil, fmt.Errorf("BPE unk_token %q is not in the vocab", *c.UnkToken)
		}
		m.unk = id
	}
	for b := range 256 {
		m.byteIDs[b] = -1
		if id, ok := v.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	if err := m.loadMerges(c.Merges); err != nil {
		return nil, fmt.Errorf("BPE merges: %w", err)
	}
	m.cache.init(1 << 16)
	return m, nil
}

func (m *bpe) loadMerges(raw []json.RawMessage) error {
	m.merges = make(map[uint64]mergeInfo, len(raw))
	for rank, r := range raw {
		var a, b string
		if len(r) > 0 && r[0] == '[' {
			var pair []string
			if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 {
				return fmt.Errorf("merge %d is not a pair of strings", rank+1)
			}
			a, b = pair[0], pair[1]
		} else {
			var line string
			if err := json.Unmarshal(r, &line); err != nil {
				return fmt.Errorf("merge %d is neither \"a b\" nor [a, b]", rank+1)
			}
			parts := strings.Split(line, " ")
			if len(parts) != 2 {
				return fmt.Errorf("merge %d %q is not two space-separated tokens", rank+1, line)
			}
			a, b = parts[0], parts[1]
		}
		aID, ok1 := m.v.ids[a]
		bID, ok2 := m.v.ids[b]
		if !ok1 || !ok2 {
			return fmt.Errorf("merge %d (%q, %q) uses a token missing from the vocab", rank+1, a, b)
		}
		if len(b) < len(m.prefix) {
			return fmt.Errorf("merge %d: %q is shorter than the subword prefix", rank+1, b)
		}
		newID, ok := m.v.ids[a+b[len(m.prefix):]]
		if !ok {
			return fmt.Errorf("merge %d: %q is missing from the vocab", rank+1, a+b[len(m.prefix):])
		}
		m.merges[pairKey(aID, bID)] = mergeInfo{rank: int32(rank), id: newID}
	}
	return nil
}

func (m *bpe) tokenize(dst []int32, s string) []int32 {
	if s == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.v.ids[s]; ok {
			return append(dst, id)
		}
	}
	if ids, ok := m.cache.get(s); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = m.mergeWord(dst, s)
	m.cache.put(s, dst[start:])
	return dst
}

// symbol is one node of the word being merged.
type symbol struct {
	id         int32
	prev, next int32
	gone       bool
}

// mergeWord splits s into characters (with prefix/suffix, byte fallback and
// unk) and applies merges lowest rank first, leftmost first on ties, as
// HF's Word::merge_all.
func (m *bpe) mergeWord(dst []int32, s string) []int32 {
	syms := make([]symbol, 0, len(s))
	add := func(id int32) {
		syms = append(syms, symbol{id: id, prev: int32(len(syms)) - 1, next: int32(len(syms)) + 1})
	}
	unk, haveUnk := int32(0), false
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		ch := s[i : i+n]
		if i > 0 && m.prefix != "" {
			ch = m.prefix + ch
		}
		if i+n == len(s) && m.suffix != "" {
			ch += m.suffix
		}
		i += n
		if id, ok := m.v.ids[ch]; ok {
			if haveUnk {
				add(unk)
				haveUnk = false
			}
			add(id)
			continue
		}
		if m.byteFallback && m.allBytes(ch) {
			if haveUnk {
				add(unk)
				haveUnk = false
			}
			for j := 0; j < len(ch); j++ {
				add(m.byteIDs[ch[j]])
			}
			continue
		}
		if m.unk >= 0 {
			if haveUnk && !m.fuseUnk {
				add(unk)
			}
			unk, haveUnk = m.unk, true
		}
	}
	if haveUnk {
		add(unk)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	m.mergeAll(syms)
	for i := range syms {
		if !syms[i].gone {
			dst = append(dst, syms[i].id)
		}
	}
	return dst
}

func (m *bpe) allBytes(ch string) bool {
	for j := 0; j < len(ch); j++ {
		if m.byteIDs[ch[j]] < 0 {
			return false
		}
	}
	return true
}

type mergeItem struct {
	pos, rank, id int32
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (m *bpe) mergeAll(syms []symbol) {
	if len(syms) < 2 {
		return
	}
	h := make(mergeHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if mi, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = append(h, mergeItem{pos: int32(i), rank: mi.rank, id: mi.id})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		top := heap.Pop(&h).(mergeItem)
		cur := &syms[top.pos]
		if cur.gone || cur.next < 0 {
			continue
		}
		right := syms[cur.next]
		if mi, ok := m.merges[pairKey(cur.id, right.id)]; !ok || mi.id != top.id {
			continue // stale entry
		}
		cur.id = top.id
		syms[cur.next].gone = true
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mi, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				heap.Push(&h, mergeItem{pos: cur.prev, rank: mi.rank, id: mi.id})
			}
		}
		if cur.next >= 0 {
			if mi, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				heap.Push(&h, mergeItem{pos: top.pos, rank: mi.rank, id: mi.id})
			}
		}
	}
}

// wordCache memoizes the ids of frequent words. It is bounded: once full,
// new words are not added (as HF's cache).
type wordCache struct {
	mu    sync.RWMutex
	m     map[string][]int32
	limit int
}

// maxCachedWord is the longest word (in bytes) worth caching.
const maxCachedWord = 256

func (c *wordCache) init(limit int) {
	c.m = make(map[string][]int32)
	c.limit = limit
}

func (c *wordCache) get(s string) ([]int32, bool) {
	if len(s) > maxCachedWord {
		return nil, false
	}
	c.mu.RLock()
	ids, ok := c.m[s]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(s string, ids []int32) {
	if len(s) > maxCachedWord {
		return
	}
	c.mu.Lock()
	if len(c.m) < c.limit {
		c.m[strings.Clone(s)] = append([]int32(nil), ids...)
	}
	c.mu.Unlock()
}
