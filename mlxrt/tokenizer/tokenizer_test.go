package tokenizer_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestByteLevelRoundTrip(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	for _, s := range []string{
		"", "Hello world", "Hello  world\n\n", "the the the", "中文", "emoji 👍🏽 ok",
		"<|im_start|>user\nHi<|im_end|>", "a<think>b</think>", "tabs\t\tand  spaces   ", "12345",
	} {
		ids := tok.Encode(s, true)
		assert.Equal(t, s, tok.Decode(ids, false), "round trip %q", s)
	}
}

func TestByteLevelMerges(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	ids := tok.Encode("Hello the world", false)
	var toks []string
	for _, id := range ids {
		s, ok := tok.Token(id)
		require.True(t, ok)
		toks = append(toks, s)
	}
	assert.Equal(t, []string{"Hello", "Ġthe", "Ġworld"}, toks)
}

func TestSpecialTokens(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	im, ok := tok.TokenID("<|im_start|>")
	require.True(t, ok)
	assert.True(t, tok.IsSpecial(im))
	ids := tok.Encode("<|im_start|>user", false)
	assert.Equal(t, im, ids[0])
	assert.Equal(t, "user", tok.Decode(ids, true))
	eos, ok := tok.EOS()
	require.True(t, ok)
	end, _ := tok.TokenID("<|im_end|>")
	assert.Equal(t, end, eos)
	pad, ok := tok.Pad()
	require.True(t, ok)
	eot, _ := tok.TokenID("<|endoftext|>")
	assert.Equal(t, eot, pad)
	_, ok = tok.BOS()
	assert.False(t, ok)
	think, _ := tok.TokenID("<think>")
	assert.False(t, tok.IsSpecial(think))
	assert.Equal(t, "<think>", tok.Decode([]int32{think}, true))
}

func TestTokenBytes(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	ids := tok.Encode("Hello 中文 👍", false)
	var all []byte
	for _, id := range ids {
		all = append(all, tok.TokenBytes(id)...)
	}
	assert.Equal(t, "Hello 中文 👍", string(all))
	assert.Nil(t, tok.TokenBytes(1<<30))
}

func TestStreamDecoderNeverSplitsUTF8(t *testing.T) {
	tok := qwenLikeTokenizer(t)
	text := "a 中文 and 👍🏽 done"
	ids := tok.Encode(text, false)
	d := tok.NewStreamDecoder(false, nil)
	var b strings.Builder
	for _, id := range ids {
		chunk := d.Add(id)
		assert.NotContains(t, chunk, "\uFFFD")
		b.WriteString(chunk)
	}
	b.WriteString(d.Flush())
	assert.Equal(t, text, b.String())
}
