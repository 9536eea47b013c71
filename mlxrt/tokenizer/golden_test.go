package tokenizer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// goldenCase is one entry of mlxrt/testdata/tokenizers/*/cases.json, made
// by the Python tokenizers and transformers libraries.
type goldenCase struct {
	Text           string   `json:"text"`
	IDs            []int32  `json:"ids"`
	Tokens         []string `json:"tokens"`
	IDsWithSpecial []int32  `json:"ids_with_special"`
	Decoded        string   `json:"decoded"`
	DecodedSkip    string   `json:"decoded_skip"`
}

type goldenFile struct {
	Tokenizer string       `json:"tokenizer"`
	VocabSize int          `json:"vocab_size"`
	Cases     []goldenCase `json:"cases"`
}

const goldenDir = "../testdata/tokenizers"

func goldenTokenizers(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "cases.json"))
	require.NoError(t, err)
	if len(dirs) == 0 {
		t.Skip("golden tokenizers not generated")
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func loadGolden(t *testing.T, dir string) (*tokenizer.Tokenizer, goldenFile) {
	t.Helper()
	tok, err := tokenizer.Load(dir, nil)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	require.NoError(t, err)
	var g goldenFile
	require.NoError(t, json.Unmarshal(b, &g))
	require.GreaterOrEqual(t, len(g.Cases), 200)
	return tok, g
}

func TestGoldenTokenizers(t *testing.T) {
	for _, dir := range goldenTokenizers(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tok, g := loadGolden(t, dir)
			assert.Equal(t, g.VocabSize, tok.VocabSize())
			for _, c := range g.Cases {
				ids := tok.Encode(c.Text, false)
				if !assert.Equal(t, c.IDs, nonNil(ids), "ids of %q", c.Text) {
					continue
				}
				toks := make([]string, len(ids))
				for i, id := range ids {
					toks[i], _ = tok.Token(id)
				}
				assert.Equal(t, c.Tokens, nonNilS(toks), "tokens of %q", c.Text)
				assert.Equal(t, c.IDsWithSpecial, nonNil(tok.Encode(c.Text, true)), "ids with special of %q", c.Text)
				assert.Equal(t, c.Decoded, tok.Decode(c.IDs, false), "decode of %q", c.Text)
				assert.Equal(t, c.DecodedSkip, tok.Decode(c.IDs, true), "decode (skip special) of %q", c.Text)
			}
		})
	}
}

// TestGoldenStreamDecode streams ids one at a time and checks the text
// against the reference: the golden ids must stream to exactly what the
// Python tokenizers library decoded them to, never emitting a broken UTF-8
// character on the way. The golden files hold no decode of the ids with
// special tokens (BOS, …), so those are checked against the full Decode,
// itself checked against the golden decodes by TestGoldenTokenizers.
func TestGoldenStreamDecode(t *testing.T) {
	for _, dir := range goldenTokenizers(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tok, g := loadGolden(t, dir)
			withSpecial := 0
			for _, skip := range []bool{false, true} {
				for _, c := range g.Cases {
					want := c.Decoded
					if skip {
						want = c.DecodedSkip
					}
					assert.Equal(t, want, stream(t, tok, c.IDs, skip, c.Text), "stream of %q (skip=%v)", c.Text, skip)
					if !slices.Equal(c.IDsWithSpecial, c.IDs) {
						withSpecial++
						want := tok.Decode(c.IDsWithSpecial, skip)
						assert.Equal(t, want, stream(t, tok, c.IDsWithSpecial, skip, c.Text), "stream with special tokens of %q (skip=%v)", c.Text, skip)
					}
				}
			}
			t.Logf("%d cases, %d with special tokens added", len(g.Cases), withSpecial/2)
		})
	}
}

// stream decodes ids through a StreamDecoder, failing the test when a chunk
// holds a replacement character that the whole decode does not.
func stream(t *testing.T, tok *tokenizer.Tokenizer, ids []int32, skip bool, text string) string {
	t.Helper()
	whole := tok.Decode(ids, skip)
	d := tok.NewStreamDecoder(skip, nil)
	var b strings.Builder
	for _, id := range ids {
		chunk := d.Add(id)
		if strings.ContainsRune(chunk, '\uFFFD') && !strings.ContainsRune(whole, '\uFFFD') {
			t.Errorf("chunk %q of %q has a replacement character", chunk, text)
		}
		b.WriteString(chunk)
	}
	b.WriteString(d.Flush())
	return b.String()
}

func TestGoldenTokenBytes(t *testing.T) {
	for _, dir := range goldenTokenizers(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tok, g := loadGolden(t, dir)
			for _, c := range g.Cases {
				var b []byte
				for _, id := range c.IDs {
					b = append(b, tok.TokenBytes(id)...)
				}
				// SentencePiece-style tokenizers add the leading "▁" that
				// Decode strips; byte-level ones reproduce the text.
				got := string(b)
				if got != c.Decoded {
					assert.Equal(t, " "+c.Decoded, got, "token bytes of %q", c.Text)
				}
			}
		})
	}
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
