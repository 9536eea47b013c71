package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// maxStreamWindow bounds the ids a StreamDecoder re-decodes per step. A
// sequence that produces nothing printable for this many ids (only invalid
// bytes) is emitted as it stands.
const maxStreamWindow = 256

// StreamDecoder turns a sequence of ids into text incrementally, with the
// algorithm of HF's DecodeStream (decode a small window of ids and emit what
// follows the previous window's text, holding back an incomplete UTF-8
// character) and three refinements: text before a trailing run of U+FFFD is
// emitted at once, transformers' clean_up_tokenization_spaces is applied as
// a stream, and Flush reconciles with a decode of the whole sequence.
//
// The concatenation of everything Add and Flush return equals Decode of the
// whole sequence (with a context: Decode(context+ids) minus
// Decode(context)). A run of byte-fallback tokens decodes as a whole — as
// text when its bytes are valid UTF-8, else as one U+FFFD per byte, even its
// valid start — so with a ByteFallback decoder such a run is held until the
// token after it (or Flush) decides which. Not safe for concurrent use.
type StreamDecoder struct {
	t    *Tokenizer
	skip bool

	ctx    []int32 // context ids given to NewStreamDecoder
	all    []int32 // every id added, for Flush
	window []int32
	// prefixIdx is where the ids not yet part of the previous emission
	// start in window; prefix is the text of window[:prefixIdx].
	prefixIdx int
	prefix    string
	sent      int // bytes of window text past prefix already emitted
	emitted   strings.Builder
	clean     cleaner
	// holdBytes is set when the decoder chain has ByteFallback: a run of
	// "<0xNN>" tokens decodes as a whole (valid UTF-8, or one U+FFFD per
	// byte), so the run is held until a token that is not a byte ends it.
	holdBytes bool
	inRun     bool
}

// NewStreamDecoder returns a decoder for one generated sequence. Pass the
// last prompt ids in context when the generated text continues a prompt (so
// SentencePiece's leading-space rule sees it, as decoding prompt and answer
// together would); they are not emitted. Nil context decodes the sequence on
// its own, as HF's DecodeStream does.
func (t *Tokenizer) NewStreamDecoder(skipSpecial bool, context []int32) *StreamDecoder {
	d := &StreamDecoder{t: t, skip: skipSpecial, clean: cleaner{on: t.cleanup}, holdBytes: hasByteFallback(t.dec)}
	// Keep the shortest tail of the context whose text is complete.
	for n := min(len(context), 4); n > 0; n-- {
		tail := context[len(context)-n:]
		text := t.rawDecode(t.tokens(tail, skipSpecial))
		if text != "" && !strings.HasSuffix(text, "\uFFFD") {
			d.ctx = append([]int32(nil), tail...)
			d.window = append(d.window, tail...)
			d.prefixIdx = len(tail)
			d.prefix = text
			break
		}
	}
	return d
}

func (d *StreamDecoder) decode(ids []int32) string {
	return d.t.rawDecode(d.t.tokens(ids, d.skip))
}

// Add appends id and returns the text completed by it, possibly empty (for
// example while a multi-byte character is incomplete).
func (d *StreamDecoder) Add(id int32) string {
	d.all = append(d.all, id)
	d.window = append(d.window, id)
	if d.holdBytes {
		byteTok := d.isByteToken(id)
		if byteTok && len(d.window) < maxStreamWindow {
			// Whether this run is text or U+FFFDs is known only when it ends.
			d.inRun = true
			return ""
		}
		d.inRun = false
	}
	s := d.decode(d.window)
	if !strings.HasPrefix(s, d.prefix) {
		if len(d.window) < maxStreamWindow {
			return ""
		}
		// Give up on the window: emit what is there and restart.
		return d.emit(d.restart(s))
	}
	end := len(s)
	if len(d.window) < maxStreamWindow {
		end = len(strings.TrimRight(s, "\uFFFD"))
	}
	if end <= len(d.prefix)+d.sent {
		return ""
	}
	out := s[len(d.prefix)+d.sent : end]
	if end < len(s) {
		// Text before a trailing U+FFFD run is final; keep the window.
		d.sent += len(out)
		return d.emit(out)
	}
	// Everything is out: the new ids become the context of the next step.
	d.window = append(d.window[:0], d.window[d.prefixIdx:]...)
	d.prefixIdx = len(d.window)
	d.prefix = d.decode(d.window)
	d.sent = 0
	return d.emit(out)
}

// restart emits the unsent text of s (which does not extend the prefix) and
// makes the last id the only context.
func (d *StreamDecoder) restart(s string) string {
	out := ""
	if len(s) > len(d.prefix)+d.sent {
		out = s[len(d.prefix)+d.sent:]
	}
	d.window = append(d.window[:0], d.window[len(d.window)-1])
	d.prefixIdx = 1
	d.prefix = d.decode(d.window)
	d.sent = 0
	return out
}

// isByteToken reports whether id is a "<0xNN>" byte-fallback token of the
// model's vocabulary.
func (d *StreamDecoder) isByteToken(id int32) bool {
	if _, added := d.t.added.byID[id]; added {
		return false
	}
	tok, ok := d.t.vocab.token(id)
	if !ok {
		return false
	}
	_, ok = parseByteToken(tok)
	return ok
}

// hasByteFallback reports whether a decoder chain contains ByteFallback.
func hasByteFallback(dec decoder) bool {
	switch d := dec.(type) {
	case byteFallbackDec:
		return true
	case decSequence:
		for _, sub := range d {
			if hasByteFallback(sub) {
				return true
			}
		}
	}
	return false
}

func (d *StreamDecoder) emit(raw string) string {
	d.emitted.WriteString(raw)
	return d.clean.push(raw)
}

// Flush returns the text still held back and resets the decoder for a new
// sequence with the same context. It reconciles with a decode of the whole
// sequence, so an incomplete UTF-8 sequence at the end comes out as U+FFFD,
// as Decode gives it.
func (d *StreamDecoder) Flush() string {
	full := d.decode(append(append([]int32(nil), d.ctx...), d.all...))
	base := ""
	if len(d.ctx) > 0 {
		base = d.decode(d.ctx)
	}
	rest := ""
	if done := base + d.emitted.String(); strings.HasPrefix(full, done) {
		rest = full[len(done):]
	}
	out := d.clean.push(rest) + d.clean.flush()
	ctx := d.ctx
	*d = *d.t.NewStreamDecoder(d.skip, ctx)
	return out
}

// cleaner applies transformers' clean_up_tokenization_spaces to a stream,
// holding back a tail that could still become part of a replaced pattern.
type cleaner struct {
	on      bool
	pending string
}

func (c *cleaner) push(s string) string {
	if !c.on {
		return s
	}
	c.pending += s
	k := safeCut(c.pending)
	out := cleanupSpaces(c.pending[:k])
	c.pending = c.pending[k:]
	return out
}

func (c *cleaner) flush() string {
	out := cleanupSpaces(c.pending)
	c.pending = ""
	return out
}

// safeCut returns the longest prefix of s whose cleanup cannot change when
// more text follows: the cut is at a character boundary and inside no
// occurrence, complete or still possible, of a cleanup pattern.
func safeCut(s string) int {
	for k := len(s); k > 0; k-- {
		if cutSafe(s, k) {
			return k
		}
	}
	return 0
}

func cutSafe(s string, k int) bool {
	if k < len(s) && !utf8.RuneStart(s[k]) {
		return false
	}
	for p := max(0, k-4); p < k; p++ {
		if s[p] != ' ' {
			continue
		}
		rest := s[p:]
		for i := 0; i < len(cleanupPairs); i += 2 {
			pat := cleanupPairs[i]
			switch {
			case len(rest) < len(pat):
				if strings.HasPrefix(pat, rest) {
					return false
				}
			case strings.HasPrefix(rest, pat) && p+len(pat) > k:
				return false
			}
		}
	}
	return true
}
