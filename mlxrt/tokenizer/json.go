package tokenizer

import (
	"encoding/json"
	"fmt"
)

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	Model         json.RawMessage  `json:"model"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
}

// addedTokenJSON is one entry of added_tokens (and the AddedToken object form
// of tokenizer_config.json's special tokens).
type addedTokenJSON struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

// typed peeks at the "type" field of a component.
type typed struct {
	Type string `json:"type"`
}

// isNull reports whether a raw component is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// componentType returns the "type" of a component object.
func componentType(raw json.RawMessage) (string, error) {
	var t typed
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", err
	}
	if t.Type == "" {
		return "", fmt.Errorf("component without a type")
	}
	return t.Type, nil
}

// patternJSON is the pattern of Split and Replace: {"String": s} or {"Regex": r}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// tokenizerConfigJSON holds the tokenizer_config.json fields the runtime uses.
type tokenizerConfigJSON struct {
	BOS                       json.RawMessage           `json:"bos_token"`
	EOS                       json.RawMessage           `json:"eos_token"`
	Pad                       json.RawMessage           `json:"pad_token"`
	Unk                       json.RawMessage           `json:"unk_token"`
	AddBOS                    *bool                     `json:"add_bos_token"`
	AddEOS                    *bool                     `json:"add_eos_token"`
	CleanUpTokenizationSpaces *bool                     `json:"clean_up_tokenization_spaces"`
	CleanUpForBPE             *bool                     `json:"clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output"`
	AddedTokensDecoder        map[string]addedTokenJSON `json:"added_tokens_decoder"`
	AdditionalSpecialTokens   []json.RawMessage         `json:"additional_special_tokens"`
}

// tokenString reads a special token that is either a string or an AddedToken
// object ({"content": ...}); null or absent gives "".
func tokenString(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj addedTokenJSON
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("special token is neither a string nor an AddedToken: %w", err)
	}
	return obj.Content, nil
}
