package tokenizer

import "errors"

// Options bounds what Load and New accept. A nil *Options means all defaults.
type Options struct {
	// MaxFileBytes caps the size of tokenizer.json. Zero means 64 MiB.
	MaxFileBytes int64
	// MaxVocab caps the number of vocabulary entries plus added tokens.
	// Zero means 1<<20.
	MaxVocab int
	// MaxMerges caps the number of BPE merges. Zero means 1<<21.
	MaxMerges int
}

// ErrMalformed is wrapped by every error about a tokenizer file that cannot be
// parsed or that declares an unsupported component or exceeds a bound.
var ErrMalformed = errors.New("malformed tokenizer")

// SpecialTokens are the special token strings tokenizer_config.json names;
// empty when not set. Chat templates receive them as bos_token, eos_token,
// pad_token and unk_token.
type SpecialTokens struct {
	BOS, EOS, Pad, Unk string
}
