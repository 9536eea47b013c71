package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ominix/ominix-api/mlxrt/internal/smallfile"
)

// Tokenizer encodes and decodes text for one model. It is immutable after
// Load/New and safe for concurrent use.
type Tokenizer struct {
	norm  normalizer
	pre   preTokenizer
	model model
	vocab *vocab
	post  postProcessor
	dec   decoder
	added *addedVocab

	bos, eos, pad int32 // -1 when not configured
	specials      SpecialTokens
	cleanup       bool // transformers' clean_up_tokenization_spaces
	byteLevelDec  bool // the decoder maps ByteLevel characters to bytes
	size          int
}

func (o *Options) maxFileBytes() int64 {
	if o == nil || o.MaxFileBytes <= 0 {
		return 64 << 20
	}
	return o.MaxFileBytes
}

func (o *Options) maxVocab() int {
	if o == nil || o.MaxVocab <= 0 {
		return 1 << 20
	}
	return o.MaxVocab
}

func (o *Options) maxMerges() int {
	if o == nil || o.MaxMerges <= 0 {
		return 1 << 21
	}
	return o.MaxMerges
}

// maxConfigBytes caps tokenizer_config.json and special_tokens_map.json
// (chat templates inside make the former large).
const maxConfigBytes = 16 << 20

// Load reads tokenizer.json (required), tokenizer_config.json and
// special_tokens_map.json (optional) from dir. Errors wrap ErrMalformed when
// a file is invalid, unsupported or exceeds a bound of opts.
func Load(dir string, opts *Options) (*Tokenizer, error) {
	tj, err := smallfile.Read(filepath.Join(dir, "tokenizer.json"), opts.maxFileBytes(), ErrMalformed)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	cfg, err := smallfile.Read(filepath.Join(dir, "tokenizer_config.json"), maxConfigBytes, ErrMalformed)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	stm, err := smallfile.Read(filepath.Join(dir, "special_tokens_map.json"), maxConfigBytes, ErrMalformed)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := build(tj, cfg, stm, opts)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", dir, err)
	}
	return t, nil
}

// New builds a Tokenizer from the bytes of tokenizer.json and, optionally
// (nil), tokenizer_config.json.
func New(tokenizerJSON, configJSON []byte, opts *Options) (*Tokenizer, error) {
	if int64(len(tokenizerJSON)) > opts.maxFileBytes() {
		return nil, fmt.Errorf("%w: tokenizer.json of %d bytes exceeds %d", ErrMalformed, len(tokenizerJSON), opts.maxFileBytes())
	}
	if len(configJSON) > maxConfigBytes {
		return nil, fmt.Errorf("%w: tokenizer_config.json of %d bytes exceeds %d", ErrMalformed, len(configJSON), maxConfigBytes)
	}
	return build(tokenizerJSON, configJSON, nil, opts)
}

func build(tj, cfgJSON, stmJSON []byte, opts *Options) (*Tokenizer, error) {
	t, err := buildTokenizer(tj, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %w", ErrMalformed, err)
	}
	if err := t.applyConfig(cfgJSON, stmJSON); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return t, nil
}

func buildTokenizer(tj []byte, opts *Options) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(tj, &f); err != nil {
		return nil, err
	}
	if len(f.AddedTokens) > opts.maxVocab() {
		return nil, fmt.Errorf("%d added tokens exceed %d", len(f.AddedTokens), opts.maxVocab())
	}
	t := &Tokenizer{bos: -1, eos: -1, pad: -1}
	var err error
	if t.norm, err = parseNormalizer(f.Normalizer, 0); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, 0); err != nil {
		return nil, err
	}
	if t.model, t.vocab, err = parseModel(f.Model, opts); err != nil {
		return nil, err
	}
	if t.post, err = parsePostProcessor(f.PostProcessor, 0); err != nil {
		return nil, err
	}
	if t.dec, err = parseDecoder(f.Decoder, 0); err != nil {
		return nil, err
	}
	t.byteLevelDec = hasByteLevel(t.dec)
	tokens := make([]addedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		if a.ID == nil || *a.ID < 0 || *a.ID >= int64(opts.maxVocab()) {
			return nil, fmt.Errorf("added token %q has a missing or out-of-range id", a.Content)
		}
		tokens = append(tokens, addedFromJSON(a, int32(*a.ID)))
	}
	t.setAdded(tokens)
	return t, nil
}

func addedFromJSON(a addedTokenJSON, id int32) addedToken {
	normalized := !a.Special
	if a.Normalized != nil {
		normalized = *a.Normalized
	}
	return addedToken{id: id, content: a.Content, singleWord: a.SingleWord, lstrip: a.LStrip,
		rstrip: a.RStrip, normalized: normalized, special: a.Special}
}

func (t *Tokenizer) setAdded(tokens []addedToken) {
	t.added = newAddedVocab(tokens, t.norm)
	t.size = len(t.vocab.tokens)
	for _, a := range tokens {
		t.size = max(t.size, int(a.id)+1)
	}
}

func hasByteLevel(d decoder) bool {
	switch d := d.(type) {
	case byteLevelDec:
		return true
	case decSequence:
		return slices.ContainsFunc(d, hasByteLevel)
	}
	return false
}

func parseModel(raw json.RawMessage, opts *Options) (model, *vocab, error) {
	if isNull(raw) {
		return nil, nil, fmt.Errorf("no model")
	}
	var c struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	switch c.Type {
	case "BPE", "":
		m, err := parseBPE(raw, opts)
		if err != nil {
			return nil, nil, err
		}
		return m, m.v, nil
	case "WordPiece":
		m, err := parseWordPiece(raw, opts)
		if err != nil {
			return nil, nil, err
		}
		return m, m.v, nil
	case "WordLevel":
		m, err := parseWordLevel(raw, opts)
		if err != nil {
			return nil, nil, err
		}
		return m, m.v, nil
	case "Unigram":
		m, err := parseUnigram(raw, opts)
		if err != nil {
			return nil, nil, err
		}
		return m, m.v, nil
	}
	return nil, nil, fmt.Errorf("unsupported model %q", c.Type)
}

// applyConfig reads tokenizer_config.json (and special_tokens_map.json as a
// fallback for the special token names) as transformers does.
func (t *Tokenizer) applyConfig(cfgJSON, stmJSON []byte) error {
	var cfg, stm tokenizerConfigJSON
	if len(cfgJSON) > 0 {
		if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
			return fmt.Errorf("tokenizer_config.json: %w", err)
		}
	}
	if len(stmJSON) > 0 {
		if err := json.Unmarshal(stmJSON, &stm); err != nil {
			return fmt.Errorf("special_tokens_map.json: %w", err)
		}
	}
	if err := t.addConfigTokens(&cfg); err != nil {
		return err
	}
	pick := func(a, b json.RawMessage) (string, error) {
		if !isNull(a) {
			return tokenString(a)
		}
		return tokenString(b)
	}
	var err error
	if t.specials.BOS, err = pick(cfg.BOS, stm.BOS); err != nil {
		return fmt.Errorf("bos_token: %w", err)
	}
	if t.specials.EOS, err = pick(cfg.EOS, stm.EOS); err != nil {
		return fmt.Errorf("eos_token: %w", err)
	}
	if t.specials.Pad, err = pick(cfg.Pad, stm.Pad); err != nil {
		return fmt.Errorf("pad_token: %w", err)
	}
	if t.specials.Unk, err = pick(cfg.Unk, stm.Unk); err != nil {
		return fmt.Errorf("unk_token: %w", err)
	}
	t.bos = t.idOf(t.specials.BOS)
	t.eos = t.idOf(t.specials.EOS)
	t.pad = t.idOf(t.specials.Pad)
	// transformers 5 skips the cleanup for BPE models unless forced.
	_, isBPE := t.model.(*bpe)
	t.cleanup = cfg.CleanUpTokenizationSpaces != nil && *cfg.CleanUpTokenizationSpaces &&
		(!isBPE || cfg.CleanUpForBPE != nil && *cfg.CleanUpForBPE)
	// transformers 5 rebuilds the post-processor from add_bos_token /
	// add_eos_token when either is set, or when tokenizer.json has none.
	if cfg.AddBOS != nil || cfg.AddEOS != nil || t.post == nil {
		addBOS := cfg.AddBOS != nil && *cfg.AddBOS
		addEOS := cfg.AddEOS != nil && *cfg.AddEOS
		t.post = bosEOSTemplate(t.bos, t.eos, addBOS, addEOS)
	}
	return nil
}

func (t *Tokenizer) idOf(tok string) int32 {
	if tok == "" {
		return -1
	}
	if id, ok := t.TokenID(tok); ok {
		return id
	}
	return -1
}

// addConfigTokens adds tokenizer_config.json's added_tokens_decoder entries
// and named special tokens that tokenizer.json lacks, as transformers does.
func (t *Tokenizer) addConfigTokens(cfg *tokenizerConfigJSON) error {
	tokens := slices.Clone(t.added.tokens)
	changed := false
	have := func(content string) bool {
		_, ok := t.added.byText[content]
		for _, a := range tokens {
			ok = ok || a.content == content
		}
		return ok
	}
	ids := make([]string, 0, len(cfg.AddedTokensDecoder))
	for k := range cfg.AddedTokensDecoder {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	for _, k := range ids {
		a := cfg.AddedTokensDecoder[k]
		id, err := strconv.ParseInt(k, 10, 32)
		if err != nil || id < 0 || int(id) >= 1<<24 {
			return fmt.Errorf("tokenizer_config.json: added_tokens_decoder key %q is not a token id", k)
		}
		if _, ok := t.added.byID[int32(id)]; ok || have(a.Content) {
			continue
		}
		tokens = append(tokens, addedFromJSON(a, int32(id)))
		changed = true
	}
	named := []json.RawMessage{cfg.BOS, cfg.EOS, cfg.Unk, cfg.Pad}
	named = append(named, cfg.AdditionalSpecialTokens...)
	for _, raw := range named {
		s, err := tokenString(raw)
		if err != nil || s == "" || have(s) {
			continue
		}
		if id, ok := t.vocab.ids[s]; ok {
			tokens = append(tokens, addedToken{id: id, content: s, special: true})
			changed = true
		}
	}
	if changed {
		t.setAdded(tokens)
	}
	return nil
}

// Encode returns the ids of text as HF's tokenizer(text,
// add_special_tokens=addSpecial) does: added and special tokens written in the
// text are recognised, and with addSpecial the post-processor adds BOS/EOS as
// configured (including tokenizer_config.json's add_bos_token/add_eos_token,
// as transformers 5 applies them). Invalid UTF-8 in text is read as U+FFFD.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	text = lossyUTF8String(text)
	ids := make([]int32, 0, len(text)/3+4)
	if text != "" {
		first := piece{text: text, id: -1, zero: firstRuneLen(text)}
		raw := t.added.split(nil, first, t.added.raw)
		var normed, pre []piece
		for _, p := range raw {
			if p.id >= 0 {
				normed = append(normed, p)
				continue
			}
			if t.norm != nil {
				p.text, p.zero = t.norm.normalize(p.text, p.zero)
			}
			normed = t.added.split(normed, p, t.added.norm)
		}
		for _, p := range normed {
			if p.id >= 0 {
				ids = append(ids, p.id)
				continue
			}
			pre = pre[:0]
			if t.pre != nil {
				pre = t.pre.preTokenize(pre, p)
			} else {
				pre = append(pre, p)
			}
			for _, q := range pre {
				ids = t.model.tokenize(ids, q.text)
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids
}

func lossyUTF8String(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return lossyUTF8([]byte(s))
		}
	}
	return s
}

// tokens returns the token strings Decode feeds the decoder: added tokens
// first (their normalized form when they are normalized), then the model's
// vocabulary; with skipSpecial, strings that are special tokens go, as
// HF's decode does.
func (t *Tokenizer) tokens(ids []int32, skipSpecial bool) []string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		tok, ok := t.Token(id)
		if !ok || skipSpecial && t.added.special[tok] {
			continue
		}
		toks = append(toks, tok)
	}
	return toks
}

// Decode returns the text of ids as HF's decode(ids,
// skip_special_tokens=skipSpecial) does (with transformers'
// clean_up_tokenization_spaces when tokenizer_config.json enables it). Ids
// outside the vocabulary are skipped.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	return t.decodeTokens(t.tokens(ids, skipSpecial))
}

func (t *Tokenizer) decodeTokens(toks []string) string {
	s := t.rawDecode(toks)
	if t.cleanup {
		s = cleanupSpaces(s)
	}
	return s
}

// rawDecode runs the decoder without transformers' cleanup.
func (t *Tokenizer) rawDecode(toks []string) string {
	if t.dec != nil {
		return strings.Join(t.dec.decodeChain(toks), "")
	}
	return strings.Join(toks, " ")
}

// TokenBytes returns the raw bytes token id stands for (byte-level tokens
// mapped back to bytes, <0xNN> byte-fallback tokens to their byte, the
// Metaspace "▁" and other Replace decoders applied, WordPiece "##" dropped),
// or nil for an unknown id. It ignores position-dependent rules (such as
// stripping the first token's leading space). The result is a new slice.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	tok, ok := t.Token(id)
	if !ok {
		return nil
	}
	if i, added := t.added.byID[id]; added {
		return []byte(t.added.tokens[i].content)
	}
	if b, ok := parseByteToken(tok); ok && t.hasByteFallback() {
		return []byte{b}
	}
	if t.byteLevelDec {
		if b, ok := byteLevelDecode(nil, tok); ok {
			return b
		}
		return []byte(tok)
	}
	return []byte(tokenText(t.dec, tok))
}

func (t *Tokenizer) hasByteFallback() bool {
	if m, ok := t.model.(*bpe); ok && m.byteFallback {
		return true
	}
	if m, ok := t.model.(*unigram); ok && m.byteFallback {
		return true
	}
	return false
}

// tokenText applies the position-independent text rewrites of a decoder to
// one token.
func tokenText(d decoder, tok string) string {
	switch d := d.(type) {
	case decSequence:
		for _, sub := range d {
			tok = tokenText(sub, tok)
		}
	case metaspaceDec:
		tok = strings.ReplaceAll(tok, d.m.replacement, " ")
	case replaceDec:
		tok = d.r.apply(tok)
	case wordPieceDec:
		tok = strings.TrimPrefix(tok, d.prefix)
	case bpeDec:
		tok = strings.ReplaceAll(tok, d.suffix, " ")
	}
	return tok
}

// Token returns the vocabulary string of id: an added token's content (its
// normalized form for tokens matched after normalization, as HF's
// id_to_token), else the model's token.
func (t *Tokenizer) Token(id int32) (string, bool) {
	if i, ok := t.added.byID[id]; ok {
		return t.added.tokens[i].display, true
	}
	return t.vocab.token(id)
}

// TokenID returns the id of a vocabulary or added token string.
func (t *Tokenizer) TokenID(token string) (int32, bool) {
	if i, ok := t.added.byText[token]; ok {
		return t.added.tokens[i].id, true
	}
	id, ok := t.vocab.ids[token]
	return id, ok
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int32) bool {
	i, ok := t.added.byID[id]
	return ok && t.added.tokens[i].special
}

// VocabSize returns one more than the largest token id of the vocabulary and
// the added tokens.
func (t *Tokenizer) VocabSize() int { return t.size }

// BOS returns the beginning-of-sequence id named by tokenizer_config.json
// (or special_tokens_map.json).
func (t *Tokenizer) BOS() (int32, bool) { return t.bos, t.bos >= 0 }

// EOS returns the end-of-sequence id named by tokenizer_config.json (or
// special_tokens_map.json).
func (t *Tokenizer) EOS() (int32, bool) { return t.eos, t.eos >= 0 }

// Pad returns the padding id named by tokenizer_config.json (or
// special_tokens_map.json).
func (t *Tokenizer) Pad() (int32, bool) { return t.pad, t.pad >= 0 }

// Specials returns the special token strings of tokenizer_config.json.
func (t *Tokenizer) Specials() SpecialTokens { return t.specials }

// SpecialIDs returns the ids of all added tokens marked special, ascending.
func (t *Tokenizer) SpecialIDs() []int32 {
	var ids []int32
	for _, a := range t.added.tokens {
		if a.special {
			ids = append(ids, a.id)
		}
	}
	slices.Sort(ids)
	return ids
}
