#!/usr/bin/env python3
"""Generates golden cases for tokenizer components beyond the four model
tokenizers of mlxrt/testdata: WordPiece, Unigram, BPE with subword
prefix/suffix, every Split behavior, Digits, Punctuation, Whitespace,
CharDelimiterSplit, Metaspace schemes, GPT-2 ByteLevel with prefix space,
normalizer chains, added-token flags (lstrip, rstrip, single_word,
normalized), Bert/Roberta/Template post-processors and transformers'
clean_up_tokenization_spaces.

Each tokenizer goes to components/<name>/ with tokenizer.json,
tokenizer_config.json and cases.json (ids, tokens, ids_with_special,
decoded, decoded_skip from the Rust tokenizers library; decoded_clean from
transformers' decode with clean_up_tokenization_spaces=True).

Run where tokenizers and transformers are installed (offline):
    python3 mlxrt/tokenizer/testdata/gen_components.py --out mlxrt/tokenizer/testdata
"""
import argparse
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's 12:45, isn't it?",
    "Hello, World! HELLO world... hello-world; hello_world (hello) [world] {x}",
    "Numbers: 0 7 42 1234 3.14159 1,000,000 2024-02-29 +33 6 12 34 56 78",
    "Café naïve résumé coöperate Ångström façade ÉCOLE über straße",
    "中文分词测试，这是一个句子。日本語のテキストです。한국어 문장입니다.",
    "emoji 😀 👍🏽 🇫🇷 👨‍👩‍👧 ✨ — “quotes” ‘single’ «guillemets»",
    "def f(x):\n    return x ** 2  # square\n\tif x >= 10: print('big')\n",
    "    leading and trailing spaces    ", "tabs\tand\nnew\r\nlines  \n\n  end",
    "I'm you're he's we've they'll she'd can't won't don't Y'ALL",
    "wordpiece tokenization splits unaffable into un ##aff ##able",
    "ﬁne ｆｕｌｌｗｉｄｔｈ ①②③ ² ½ Ⅻ",
] * 4

TEXTS = [
    "", " ", "  ", "a", "Hello world", "Hello  world", " Hello world ", "hello-world-wide", "x,y.z;w",
    "The quick brown fox.", "It's 12:45, isn't it?", "I'm you're he's we've they'll she'd can't",
    "Numbers 0 42 1234 12345678 3.14", "2024-02-29T10:00:00Z", "Café naïve résumé", "e\u0301cole",
    "中文分词测试", "日本語のテキスト", "한국어 문장", "😀 👍🏽 🇫🇷 👨‍👩‍👧", "tabs\tand\nnew\r\nlines",
    "    indented\n        more", "trailing   ", "UPPER lower MiXeD", "ﬁne ｆｕｌｌｗｉｄｔｈ ①②③ ² ½",
    "unaffable unbelievable supercalifragilistic", "a-b_c.d,e;f:g!h?i", "((nested [brackets] {here}))",
    "say \"hi\" , now . ok ! right ? it ' s", "don 't do n't", "x  ,  y  .", "[CLS] inside text [SEP]",
    "<s> start </s> end <pad>", "<lstrip>   <rstrip>   x", "a   <lstrip>b", "b<rstrip>   c", "word words sword word",
    "[Norm] [norm] [NORM]", "mask [MASK] here", "unknown ☃ char ⚗", "\u00a0nbsp\u2003em\u3000ideo",
    "zero\u200bwidth", "🙂🙃🙂", "x" * 40, "αβγ δεζ", "Ελληνικά Кириллица", "ASCII ~`!@#$%^&*()_+=",
]


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def bytelevel_model(vocab_size=400):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                        special_tokens=["<s>", "</s>", "<pad>"]))
    return json.loads(tok.to_str())["model"]


def from_model(model_json, **parts):
    tok = Tokenizer.from_str(json.dumps({"version": "1.0", "model": model_json}))
    for k, v in parts.items():
        setattr(tok, k, v)
    return tok


def variants():
    out = {}
    bl = bytelevel_model()
    blend = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    bldec = decoders.ByteLevel()

    def bl_with(pre, normalizer=None, post=None):
        tok = from_model(bl, pre_tokenizer=pre_tokenizers.Sequence([pre, blend]) if pre else blend, decoder=bldec)
        if normalizer:
            tok.normalizer = normalizer
        if post:
            tok.post_processor = post
        return tok

    out["split-removed"] = bl_with(pre_tokenizers.Split(Regex(r"\s+"), "removed"))
    out["split-isolated-invert"] = bl_with(pre_tokenizers.Split(Regex(r"\w+"), "isolated", invert=True))
    out["split-merged-previous"] = bl_with(pre_tokenizers.Split(" ", "merged_with_previous"))
    out["split-merged-next"] = bl_with(pre_tokenizers.Split(Regex(r"[,.;]"), "merged_with_next"))
    out["split-contiguous"] = bl_with(pre_tokenizers.Split(Regex(r"[0-9]"), "contiguous"))
    out["digits"] = bl_with(pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(individual_digits=False)]))
    out["digits-individual"] = bl_with(pre_tokenizers.Digits(individual_digits=True))
    out["punctuation"] = bl_with(pre_tokenizers.Punctuation("isolated"))
    out["punctuation-contiguous"] = bl_with(pre_tokenizers.Punctuation("contiguous"))
    out["whitespace"] = bl_with(pre_tokenizers.Whitespace())
    out["char-delimiter"] = bl_with(pre_tokenizers.CharDelimiterSplit("-"))
    out["metaspace-always"] = bl_with(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True))
    out["metaspace-never"] = bl_with(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True))
    out["normalizer-chain"] = bl_with(None, normalizers.Sequence([
        normalizers.NFKD(), normalizers.Lowercase(), normalizers.Replace(Regex(r"[0-9]+"), "#"),
        normalizers.Replace(" ", "  "), normalizers.Strip(left=True, right=True), normalizers.Prepend("^")]))
    out["nfkc-strip-accents"] = bl_with(None, normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.NFKC()]))
    gpt2 = from_model(bl, pre_tokenizer=pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), decoder=bldec)
    gpt2.post_processor = processors.RobertaProcessing(("</s>", gpt2.token_to_id("</s>")), ("<s>", gpt2.token_to_id("<s>")))
    out["gpt2-prefix-roberta"] = gpt2
    added = bl_with(None, normalizers.Lowercase(), processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]))
    added.add_special_tokens([AddedToken("<lstrip>", lstrip=True), AddedToken("<rstrip>", rstrip=True)])
    added.add_tokens([AddedToken("word", single_word=True, normalized=False), AddedToken("[Norm]", normalized=True),
                      AddedToken("[MASK]", normalized=False)])
    out["added-flags"] = added
    clean = bl_with(None)
    out["cleanup"] = clean

    # WordPiece, BERT style.
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=400, show_progress=False,
                                                             special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]))
    wp.post_processor = processors.BertProcessing(("[SEP]", wp.token_to_id("[SEP]")), ("[CLS]", wp.token_to_id("[CLS]")))
    wp.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    out["wordpiece-bert"] = wp

    # BPE with a subword prefix and a word suffix (CLIP / OpenAI GPT style).
    bs = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    bs.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
    bs.pre_tokenizer = pre_tokenizers.Whitespace()
    bs.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=400, show_progress=False, special_tokens=["<unk>"],
                                                       continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    bs.decoder = decoders.BPEDecoder(suffix="</w>")
    out["bpe-prefix-suffix"] = bs

    # Unigram with Metaspace.
    ug = Tokenizer(models.Unigram())
    ug.normalizer = normalizers.NFKC()
    ug.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    ug.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    ug.train_from_iterator(CORPUS, trainers.UnigramTrainer(vocab_size=300, show_progress=False,
                                                           special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>"))
    out["unigram-metaspace"] = ug

    # Unigram with byte fallback and the legacy SentencePiece decoders.
    uj = json.loads(ug.to_str())
    vocab = uj["model"]["vocab"]
    low = min(score for _, score in vocab)
    vocab += [["<0x%02X>" % b, low - 1.0] for b in range(256)]
    ub = Tokenizer(models.Unigram(vocab=[tuple(v) for v in vocab], unk_id=0, byte_fallback=True))
    ub.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    ub.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    ub.add_special_tokens(["<s>", "</s>"])
    ub.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", ub.token_to_id("<s>"))])
    out["unigram-bytefallback"] = ub
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from transformers import PreTrainedTokenizerFast

    for name, tok in sorted(variants().items()):
        d = os.path.join(args.out, "components", name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": name == "cleanup"}
        dump(os.path.join(d, "tokenizer_config.json"), cfg)
        hf = PreTrainedTokenizerFast(tokenizer_object=tok, clean_up_tokenization_spaces=True)
        cases = []
        for text in TEXTS:
            enc = tok.encode(text, add_special_tokens=False)
            cases.append({
                "text": text, "ids": enc.ids, "tokens": enc.tokens,
                "ids_with_special": tok.encode(text, add_special_tokens=True).ids,
                "decoded": tok.decode(enc.ids, skip_special_tokens=False),
                "decoded_skip": tok.decode(enc.ids, skip_special_tokens=True),
                "decoded_clean": hf.decode(enc.ids, skip_special_tokens=False),
            })
        import tokenizers
        import transformers
        dump(os.path.join(d, "cases.json"), {"tokenizer": name, "vocab_size": tok.get_vocab_size(with_added_tokens=True),
                                             "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
                                             "cases": cases})
        print(name, tok.get_vocab_size(), len(cases))


if __name__ == "__main__":
    main()
