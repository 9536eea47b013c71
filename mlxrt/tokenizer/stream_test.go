package tokenizer_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// cleanupTokenizer is the Qwen-like test tokenizer with transformers'
// clean_up_tokenization_spaces on.
func cleanupTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	pre := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}
	tj := byteLevelJSON(t, testMerges(), pre, nil, nil)
	tok, err := tokenizer.New(tj, []byte(`{"clean_up_tokenization_spaces": true,
		"clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output": true}`), nil)
	require.NoError(t, err)
	return tok
}

func TestCleanupSpaces(t *testing.T) {
	tok := cleanupTokenizer(t)
	ids := tok.Encode("Hello , world . I do n't know ' s ! ok ?", false)
	assert.Equal(t, "Hello, world. I don't know's! ok?", tok.Decode(ids, false))
}

// TestCleanupStreamEqualsDecode streams random token sequences built from
// punctuation-heavy text through the cleanup filter.
func TestCleanupStreamEqualsDecode(t *testing.T) {
	tok := cleanupTokenizer(t)
	words := []string{" ", "  ", ".", " .", ",", " ,", "'", " '", " n't", "n", "'s", " 's", " 've", " 're", "'m",
		" ' ", "?", " ?", "!", " !", "x", " y", "Hello", " world", "\n", "中", " 中"}
	rng := rand.New(rand.NewSource(7))
	for range 2000 {
		var sb strings.Builder
		for range 1 + rng.Intn(12) {
			sb.WriteString(words[rng.Intn(len(words))])
		}
		ids := tok.Encode(sb.String(), false)
		d := tok.NewStreamDecoder(false, nil)
		var got strings.Builder
		for _, id := range ids {
			got.WriteString(d.Add(id))
		}
		got.WriteString(d.Flush())
		require.Equal(t, tok.Decode(ids, false), got.String(), "text %q", sb.String())
	}
}

func TestStreamDecoderContext(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	prompt := tok.Encode("<|im_start|>assistant\n", false)
	gen := tok.Encode("Hello world 中文", false)
	d := tok.NewStreamDecoder(false, prompt)
	var b strings.Builder
	for _, id := range gen {
		b.WriteString(d.Add(id))
	}
	b.WriteString(d.Flush())
	assert.Equal(t, "Hello world 中文", b.String())
}

// TestStreamDecoderByteRunsAsWhole: a run of byte-fallback tokens whose
// later byte is invalid turns its valid start into U+FFFD too (HF's
// ByteFallback decoder); the stream must not show the valid start early,
// and must keep going after the run.
func TestStreamDecoderByteRunsAsWhole(t *testing.T) {
	for _, dir := range []string{"../testdata/tokenizers/spm", "../testdata/tokenizers/metaspace"} {
		tok, err := tokenizer.Load(dir, nil)
		require.NoError(t, err)
		id := func(s string) int32 {
			v, ok := tok.TokenID(s)
			require.True(t, ok, s)
			return v
		}
		word := tok.Encode("hello", false)
		for _, seq := range [][]int32{
			append([]int32{id("<0x2A>"), id("<0x7C>"), id("<0x84>")}, word...),
			append(append([]int32{}, word...), id("<0xE2>"), id("<0x80>"), id("<0x8D>")),
			append([]int32{id("<0x43>"), id("<0xF2>")}, word...),
			{id("<0x41>")},
		} {
			d := tok.NewStreamDecoder(false, nil)
			got := ""
			for _, x := range seq {
				got += d.Add(x)
			}
			got += d.Flush()
			assert.Equal(t, tok.Decode(seq, false), got, "%s %v", dir, seq)
		}
	}
}
