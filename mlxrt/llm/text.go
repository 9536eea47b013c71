package llm

import (
	"strings"

	"github.com/ominix/ominix-api/mlxrt/llm/config"

	"github.com/ominix/ominix-api/mlxrt/tokenizer"
	"github.com/ominix/ominix-api/pipeline"
)

// Tokenizer is what the engine needs of a tokenizer. TokenizerFrom adapts
// *tokenizer.Tokenizer; implementations must be safe for concurrent use.
type Tokenizer interface {
	// Encode returns the ids of text with special tokens written in it
	// recognized and nothing added (chat templates write BOS themselves).
	Encode(text string) []int32
	// TokenBytes returns the raw bytes of a token (nil for unknown ids).
	TokenBytes(id int32) []byte
	// TokenID looks up a vocabulary or added token string.
	TokenID(token string) (int32, bool)
	// IsSpecial reports added tokens marked special (control tokens).
	IsSpecial(id int32) bool
	// EOS is the tokenizer's end-of-sequence token, if any.
	EOS() (int32, bool)
	// VocabSize is one more than the largest token id.
	VocabSize() int
	// NewDecoder starts incremental detokenization of generated ids that
	// follow prefix (the end of the prompt). It keeps special tokens: the
	// engine decides which ones reach it.
	NewDecoder(prefix []int32) Decoder
}

// Decoder turns generated ids into text without splitting UTF-8
// characters; *tokenizer.StreamDecoder implements it.
type Decoder interface {
	Add(id int32) string
	Flush() string
}

// Template renders chat prompts; *chattmpl.Template implements it.
type Template interface {
	Render(messages []pipeline.Message, tools []pipeline.Tool, addGenerationPrompt bool, kwargs map[string]any) (string, error)
}

// TokenizerFrom adapts a tokenizer of package tokenizer.
func TokenizerFrom(t *tokenizer.Tokenizer) Tokenizer { return hfTokenizer{t} }

type hfTokenizer struct{ t *tokenizer.Tokenizer }

func (h hfTokenizer) Encode(text string) []int32         { return h.t.Encode(text, false) }
func (h hfTokenizer) TokenBytes(id int32) []byte         { return h.t.TokenBytes(id) }
func (h hfTokenizer) TokenID(token string) (int32, bool) { return h.t.TokenID(token) }
func (h hfTokenizer) IsSpecial(id int32) bool            { return h.t.IsSpecial(id) }
func (h hfTokenizer) EOS() (int32, bool)                 { return h.t.EOS() }
func (h hfTokenizer) VocabSize() int                     { return h.t.VocabSize() }
func (h hfTokenizer) NewDecoder(prefix []int32) Decoder {
	return h.t.NewStreamDecoder(false, prefix)
}

// endOfTurn names the control tokens that end an assistant turn in the
// supported families' chat formats. They stop generation when the
// tokenizer has them as special tokens.
var endOfTurn = []string{
	"<|im_end|>", "<|endoftext|>", // Qwen (ChatML)
	"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", // Llama 3
	"</s>", // Llama 2, Mistral
}

// textRules are a model's stop tokens and the special tokens whose text is
// part of the output (tool-call and reasoning syntax).
type textRules struct {
	stop       map[int32]bool
	keep       map[int32]bool
	toolFormat pipeline.ToolFormat
	thinkOpen  string
	thinkClose string
}

func (e *Engine) buildTextRules(eos ...[]int) {
	r := textRules{stop: map[int32]bool{}, keep: map[int32]bool{}}
	for _, ids := range eos {
		for _, id := range ids {
			r.stop[int32(id)] = true
		}
	}
	if id, ok := e.tok.EOS(); ok {
		r.stop[id] = true
	}
	names := endOfTurn
	if e.cfg.Family == config.GLM4 {
		// GLM-4 ends a turn by starting the next one.
		names = append(names[:len(names):len(names)], "<|user|>", "<|observation|>")
	}
	for _, name := range names {
		if id, ok := e.tok.TokenID(name); ok && e.tok.IsSpecial(id) {
			r.stop[id] = true
		}
	}
	keep := func(names ...string) bool {
		all := true
		for _, n := range names {
			id, ok := e.tok.TokenID(n)
			if ok {
				r.keep[id] = true
			}
			all = all && ok
		}
		return all
	}
	if keep("<think>", "</think>") {
		r.thinkOpen, r.thinkClose = "<think>", "</think>"
	}
	switch e.cfg.Family {
	case "qwen2", "qwen3":
		keep("<tool_call>", "</tool_call>")
		r.toolFormat = pipeline.ToolsHermes
	case "mistral":
		if keep("[TOOL_CALLS]") {
			r.toolFormat = pipeline.ToolsMistral
		}
	case "llama":
		// Llama 3.1 and later (the first with tool calling) have
		// <|python_tag|>; their custom tool calls are bare JSON.
		if _, ok := e.tok.TokenID("<|python_tag|>"); ok {
			r.toolFormat = pipeline.ToolsLlama3
		}
	}
	e.text = r
}

// inReasoning reports whether prompt leaves a think block open: its last
// open tag comes after its last close tag.
func inReasoning(prompt, open, close string) bool {
	if open == "" {
		return false
	}
	o := strings.LastIndex(prompt, open)
	return o >= 0 && strings.LastIndex(prompt, close) < o
}
