package tokenizer_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// byteChars lists GPT-2's byte-level alphabet in byte order.
func byteChars() []string {
	var out []string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out = append(out, string(rune(b)))
		} else {
			out = append(out, string(rune(256+n)))
			n++
		}
	}
	return out
}

// byteLevelJSON builds a small byte-level BPE tokenizer.json with the given
// merges (as pairs of byte-level strings) and pre-tokenizer.
func byteLevelJSON(t testing.TB, merges [][2]string, pre any, post any, added []map[string]any) []byte {
	t.Helper()
	vocab := map[string]int{}
	for i, c := range byteChars() {
		vocab[c] = i
	}
	var mergeList []any
	for i, m := range merges {
		if _, ok := vocab[m[0]+m[1]]; !ok {
			vocab[m[0]+m[1]] = len(vocab)
		}
		if i%2 == 0 {
			mergeList = append(mergeList, m[0]+" "+m[1])
		} else {
			mergeList = append(mergeList, []string{m[0], m[1]})
		}
	}
	for _, a := range added {
		a["id"] = len(vocab)
		vocab[fmt.Sprint(a["content"])+"\x00unused"] = len(vocab)
	}
	doc := map[string]any{
		"version":        "1.0",
		"added_tokens":   added,
		"normalizer":     map[string]any{"type": "NFC"},
		"pre_tokenizer":  pre,
		"post_processor": post,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		"model": map[string]any{
			"type": "BPE", "vocab": vocab, "merges": mergeList, "ignore_merges": false,
			"dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil,
			"fuse_unk": false, "byte_fallback": false,
		},
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

func testMerges() [][2]string {
	return [][2]string{
		{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"},
		{"l", "d"}, {"Ġwor", "ld"}, {"H", "e"}, {"l", "l"}, {"He", "ll"}, {"Hell", "o"},
		{"Ġ", "Ġ"}, {"ĠĠ", "ĠĠ"}, {"Ċ", "Ċ"}, {"ä", "¸"}, {"ä¸", "Ń"}, {"ð", "Ł"},
	}
}

// qwenLikeTokenizer is a byte-level tokenizer with the Qwen 2 split regex and
// a few added tokens.
func qwenLikeTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	pre := map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwenPattern}, "behavior": "Isolated", "invert": false},
		map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
	}}
	added := []map[string]any{
		{"content": "<|endoftext|>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
		{"content": "<|im_start|>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
		{"content": "<|im_end|>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
		{"content": "<think>", "special": false, "normalized": true, "lstrip": false, "rstrip": false, "single_word": false},
	}
	tj := byteLevelJSON(t, testMerges(), pre, map[string]any{"type": "ByteLevel", "trim_offsets": false}, added)
	cfg := []byte(`{"bos_token": null, "eos_token": "<|im_end|>", "pad_token": {"content": "<|endoftext|>", "special": true}}`)
	tok, err := tokenizer.New(tj, cfg, nil)
	require.NoError(t, err)
	return tok
}

const qwenPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
