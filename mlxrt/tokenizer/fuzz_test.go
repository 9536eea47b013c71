package tokenizer_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// FuzzLoad feeds arbitrary tokenizer.json bytes to New: it must return a
// tokenizer or an error wrapping ErrMalformed, never panic, and a tokenizer
// it returns must encode and decode without panicking.
func FuzzLoad(f *testing.F) {
	// Small seeds: the fuzzer mutates large inputs slowly.
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"<0x41>": 0, "a": 1, "b": 2, "ab": 3, "<unk>": 4}, "merges": [["a", "b"]],
		"byte_fallback": true, "unk_token": "<unk>", "ignore_merges": true},
		"added_tokens": [{"id": 5, "content": "<s>", "special": true, "lstrip": true, "rstrip": true, "single_word": true}],
		"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Metaspace", "replacement": "_", "prepend_scheme": "first", "split": true},
			{"type": "Digits", "individual_digits": true}, {"type": "Punctuation", "behavior": "Contiguous"}]},
		"decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "_"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "_", "prepend_scheme": "always"}]}}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true}, "decoder": {"type": "ByteLevel"}, "post_processor": {"type": "RobertaProcessing", "sep": ["a", 0], "cls": ["a", 0]}}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
		"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": true},
		"normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Strip"}]},
		"decoder": {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]},
		"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "a"}}, {"Sequence": {"id": "A"}}], "special_tokens": {"a": {"ids": [0]}}}}`))
	f.Add([]byte(`{"model": {"type": "Unigram", "vocab": [["<unk>", 0], ["a", -1.5], ["ab", -2]], "unk_id": 0, "byte_fallback": false}}`))
	f.Add([]byte(`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}, "unk_token": "[UNK]"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := tokenizer.New(data, nil, &tokenizer.Options{MaxFileBytes: 1 << 20, MaxVocab: 1 << 12, MaxMerges: 1 << 12})
		if err != nil {
			if !errors.Is(err, tokenizer.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		ids := tok.Encode("Hello, wörld 123 <s> 中文 👍", true)
		_ = tok.Decode(ids, false)
		d := tok.NewStreamDecoder(true, nil)
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
		for _, id := range ids {
			tok.TokenBytes(id)
		}
	})
}

// FuzzByteLevelRoundTrip checks, on the golden byte-level tokenizers, that
// decoding the encoding gives back the (NFC-normalized) text and that
// streaming gives exactly the full decode.
func FuzzByteLevelRoundTrip(f *testing.F) {
	for _, s := range []string{"Hello  world\n", "中文 👍🏽 x", "a\r\n\tb", "<|im_start|>user\nhi<|im_end|>", "e\u0301", "\xff\xfe bad"} {
		f.Add(s)
	}
	var toks []*tokenizer.Tokenizer
	var nfc []bool
	for _, name := range []string{"bytelevel", "bytelevel-llama3"} {
		tok, err := tokenizer.Load(filepath.Join(goldenDir, name), nil)
		if err != nil {
			f.Skip("golden tokenizers not generated")
		}
		toks = append(toks, tok)
		nfc = append(nfc, name == "bytelevel")
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		valid := strings.ToValidUTF8(s, "\uFFFD")
		for i, tok := range toks {
			ids := tok.Encode(s, false)
			want := valid
			if nfc[i] {
				want = norm.NFC.String(valid)
			}
			got := tok.Decode(ids, false)
			if utf8.ValidString(s) {
				require.Equal(t, want, got)
			}
			streamEqualsDecode(t, tok, ids, false)
			streamEqualsDecode(t, tok, ids, true)
		}
	})
}

// FuzzStreamIDs streams arbitrary id sequences (including ones a model
// could produce that encode no text, like lone byte tokens).
func FuzzStreamIDs(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{200, 10, 255, 3, 4})
	var toks []*tokenizer.Tokenizer
	dirs, _ := filepath.Glob(filepath.Join(goldenDir, "*"))
	for _, d := range dirs {
		tok, err := tokenizer.Load(d, nil)
		if err == nil {
			toks = append(toks, tok)
		}
	}
	if len(toks) == 0 {
		f.Skip("golden tokenizers not generated")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tok := range toks {
			ids := make([]int32, 0, len(data)/2)
			for i := 0; i+1 < len(data) && len(ids) < 300; i += 2 {
				ids = append(ids, int32(int(data[i])<<8|int(data[i+1]))%int32(tok.VocabSize()+2))
			}
			// A run of byte-fallback tokens holding invalid UTF-8 decodes as
			// one U+FFFD per byte, even its valid part; a stream has shown
			// that part already (as HF's DecodeStream does). The property
			// holds for every sequence whose decode is valid text.
			if !strings.ContainsRune(tok.Decode(ids, false), utf8.RuneError) {
				streamEqualsDecode(t, tok, ids, false)
				streamEqualsDecode(t, tok, ids, true)
			}
		}
	})
}

func streamEqualsDecode(t *testing.T, tok *tokenizer.Tokenizer, ids []int32, skip bool) {
	t.Helper()
	d := tok.NewStreamDecoder(skip, nil)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(d.Add(id))
	}
	b.WriteString(d.Flush())
	require.Equal(t, tok.Decode(ids, skip), b.String(), "ids %v skip %v", ids, skip)
}
