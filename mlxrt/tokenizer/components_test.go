package tokenizer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// TestComponents checks the tokenizers of testdata/components (made by
// testdata/gen_components.py with the tokenizers and transformers
// libraries): WordPiece, Unigram, BPE with subword prefix and suffix, every
// Split behavior, Digits, Punctuation, Whitespace, CharDelimiterSplit,
// Metaspace schemes, GPT-2 ByteLevel, normalizer chains, added-token flags,
// Bert/Roberta/Template processors and transformers 5's cleanup rules.
func TestComponents(t *testing.T) {
	dirs, err := filepath.Glob("testdata/components/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tok, err := tokenizer.Load(dir, nil)
			require.NoError(t, err)
			raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
			require.NoError(t, err)
			var g struct {
				VocabSize int `json:"vocab_size"`
				Cases     []struct {
					goldenCase
					DecodedClean string `json:"decoded_clean"`
				} `json:"cases"`
			}
			require.NoError(t, json.Unmarshal(raw, &g))
			var cfg struct {
				Clean bool `json:"clean_up_tokenization_spaces"`
			}
			cfgRaw, _ := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
			_ = json.Unmarshal(cfgRaw, &cfg)
			for _, c := range g.Cases {
				ids := tok.Encode(c.Text, false)
				if !assert.Equal(t, c.IDs, nonNil(ids), "ids of %q", c.Text) {
					continue
				}
				toks := make([]string, len(ids))
				for i, id := range ids {
					toks[i], _ = tok.Token(id)
				}
				// HF's Encoding.tokens shows the matched text for added
				// tokens (with what lstrip/rstrip took) and for Unigram's
				// fused unknown pieces; ours are vocabulary strings.
				require.Len(t, toks, len(c.Tokens))
				for i, got := range toks {
					if want := c.Tokens[i]; got != want && strings.TrimSpace(want) != got && got != "<unk>" {
						assert.Equal(t, want, got, "token %d of %q", i, c.Text)
					}
				}
				assert.Equal(t, c.IDsWithSpecial, nonNil(tok.Encode(c.Text, true)), "ids with special of %q", c.Text)
				want := c.Decoded
				if cfg.Clean {
					// transformers' decode (which skips the cleanup for BPE).
					want = c.DecodedClean
				}
				assert.Equal(t, want, tok.Decode(c.IDs, false), "decode of %q", c.Text)
				if !cfg.Clean {
					assert.Equal(t, c.DecodedSkip, tok.Decode(c.IDs, true), "decode (skip) of %q", c.Text)
				}
				if !strings.ContainsRune(want, '\uFFFD') {
					streamEqualsDecode(t, tok, c.IDs, false)
				}
			}
		})
	}
}
