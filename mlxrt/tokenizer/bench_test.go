package tokenizer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// benchText is a long mixed text (English prose, code, numbers, CJK,
// emoji) built from the golden cases, about 1 MiB.
func benchText(b *testing.B) string {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "bytelevel", "cases.json"))
	if err != nil {
		b.Skip("golden tokenizers not generated")
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		for _, c := range g.Cases {
			if !strings.Contains(c.Text, "<|") && !strings.Contains(c.Text, "[INST") && !strings.Contains(c.Text, "<s>") {
				sb.WriteString(c.Text)
				sb.WriteString(" ")
			}
		}
	}
	return sb.String()
}

func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	for _, name := range []string{"bytelevel", "bytelevel-llama3", "spm", "metaspace"} {
		b.Run(name, func(b *testing.B) {
			tok, err := tokenizer.Load(filepath.Join(goldenDir, name), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				tok.Encode(text, false)
			}
		})
	}
}

func BenchmarkDecodeStream(b *testing.B) {
	text := benchText(b)
	tok, err := tokenizer.Load(filepath.Join(goldenDir, "bytelevel"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ids := tok.Encode(text, false)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		d := tok.NewStreamDecoder(false, nil)
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
	}
}
