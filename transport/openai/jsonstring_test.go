package openai_test

import (
	"testing"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

// slowChunk is the frame the generic encoder (encoding/json) produces for a
// delta; the fast path must match it byte for byte.
func slowChunk(t *testing.T, o openai.ChatStreamOptions, d openai.ChatDelta) string {
	t.Helper()
	c := openai.ChatCompletionChunk{
		ID: o.ID, Object: "chat.completion.chunk", Created: o.Created, Model: o.Model, SystemFingerprint: o.SystemFingerprint,
		Choices: []openai.ChunkChoice{{Delta: d}},
	}
	if o.IncludeUsage {
		c.Usage = openai.Null[openai.CompletionUsage]()
	}
	out, err := openai.AppendFrame(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func checkFastPath(t *testing.T, o openai.ChatStreamOptions, text string) {
	t.Helper()
	s := openai.NewChatStream(o)
	s.Start(nil)
	if got, want := string(s.Encode(nil, pipeline.TextDelta{Content: text})), slowChunk(t, o, openai.ChatDelta{Content: openai.Value(text)}); text != "" && got != want {
		t.Fatalf("content frame differs\n got: %q\nwant: %q", got, want)
	}
	if got, want := string(s.Encode(nil, pipeline.TextDelta{Reasoning: text})), slowChunk(t, o, openai.ChatDelta{ReasoningContent: text}); text != "" && got != want {
		t.Fatalf("reasoning frame differs\n got: %q\nwant: %q", got, want)
	}
}

func TestFastPathMatchesEncodingJSON(t *testing.T) {
	texts := []string{
		"plain", "<think>&amp;</think>", "quote \" backslash \\ slash /", "\b\f\n\r\t\x00\x01\x1f\x7f",
		"\u2028\u2029", "日本語 🎉", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80 surrogate", "\u00e9\u0301",
	}
	opts := []openai.ChatStreamOptions{
		baseOptions(), withUsage(baseOptions()),
		{ID: "id\"<x>\u2028", Created: -5, Model: "m\x00\xff", SystemFingerprint: ""},
	}
	for _, o := range opts {
		for _, text := range texts {
			checkFastPath(t, o, text)
		}
	}
}

func FuzzFastPathMatchesEncodingJSON(f *testing.F) {
	f.Add("hello", "chatcmpl-1", "model", "fp", int64(1), true)
	f.Add("\x00\u2028\xff<>&\"\\", "\xff", "\u2029", "", int64(-1), false)
	f.Fuzz(func(t *testing.T, text, id, model, fp string, created int64, usage bool) {
		checkFastPath(t, openai.ChatStreamOptions{ID: id, Model: model, SystemFingerprint: fp, Created: created, IncludeUsage: usage}, text)
	})
}
