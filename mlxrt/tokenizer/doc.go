// Package tokenizer encodes text to token ids and decodes ids back to text
// exactly as the Hugging Face `tokenizers` library does for a tokenizer.json
// (plus the tokenizer_config.json settings transformers applies on top).
//
// Use [Load] to read a model directory (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json) or [New] to build one from the files' bytes; use
// [Tokenizer.Encode] and [Tokenizer.Decode] for whole strings,
// [Tokenizer.NewStreamDecoder] to turn generated ids into text one id at a
// time without ever splitting a UTF-8 character, and [Tokenizer.TokenBytes]
// for the raw bytes a token stands for (OpenAI logprobs `bytes`).
//
// Supported: the BPE model (merges as "a b" strings or [a, b] pairs,
// byte_fallback, ignore_merges, unk, continuing_subword_prefix,
// end_of_word_suffix), WordPiece and Unigram models; the normalizers NFC,
// NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence; the
// pre-tokenizers ByteLevel, Split, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, Sequence; the post-processors
// TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence;
// the decoders ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip,
// WordPiece, Sequence; added tokens with their lstrip, rstrip, single_word
// and normalized flags. Unsupported components make Load fail with an error
// naming them, never silently mis-tokenize.
//
// A Tokenizer is immutable after loading and safe for concurrent use; a
// StreamDecoder belongs to one sequence and is not safe for concurrent use.
package tokenizer
