// Package tokenizer encodes text to token ids and decodes ids back to text
// exactly as the Hugging Face `tokenizers` library does for a tokenizer.json,
// with the tokenizer_config.json settings transformers 5 applies on top
// (add_bos_token/add_eos_token, added_tokens_decoder, special token names,
// clean_up_tokenization_spaces, which transformers 5 skips for BPE models).
//
// Use [Load] to read a model directory (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json) or [New] to build one from the files' bytes; use
// [Tokenizer.Encode] and [Tokenizer.Decode] for whole strings,
// [Tokenizer.NewStreamDecoder] to turn generated ids into text one id at a
// time without ever splitting a UTF-8 character, and [Tokenizer.TokenBytes]
// for the raw bytes a token stands for (OpenAI logprobs `bytes`).
//
// Supported: the BPE model (merges as "a b" strings or [a, b] pairs,
// byte_fallback, ignore_merges, unk with fuse_unk, continuing_subword_prefix,
// end_of_word_suffix), WordPiece, WordLevel and Unigram (Viterbi, fused
// unknowns, byte_fallback); the normalizers NFC, NFD, NFKC, NFKD, Lowercase,
// Strip, StripAccents, Prepend, Append, Replace (string and regex),
// BertNormalizer, ByteLevel, Sequence; the pre-tokenizers ByteLevel (with
// add_prefix_space and use_regex), Split (string or regex, every behavior,
// invert), Metaspace (prepend_scheme always/first/never, split),
// Digits, Whitespace, WhitespaceSplit, Punctuation, CharDelimiterSplit,
// BertPreTokenizer, Sequence; the post-processors TemplateProcessing,
// ByteLevel, RobertaProcessing, BertProcessing, Sequence; the decoders
// ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, WordPiece,
// BPEDecoder, Sequence; added tokens with their lstrip, rstrip, single_word,
// normalized and special flags, matched leftmost-longest before the model.
// Anything else (for example the Precompiled normalizer or BPE dropout)
// makes Load fail with an error naming it rather than mis-tokenize.
//
// Split regexes are Oniguruma patterns in HF; they run on regexp2 (which has
// the lookarounds and Unicode classes Go's regexp lacks), with \w translated
// to Oniguruma's meaning, and on hand-written scanners for the GPT-2,
// Llama 3 and Qwen 2 patterns (tested equal to regexp2 on the golden corpus
// and by fuzzing). A regex match attempt is capped at 250ms, so a hostile
// pattern cannot hang Encode; the rest of that piece is then left unsplit.
//
// Invalid UTF-8 given to Encode is read as U+FFFD, since Python strings
// cannot hold it.
//
// A Tokenizer is immutable after loading and safe for concurrent use; a
// StreamDecoder belongs to one sequence and is not safe for concurrent use.
package tokenizer
