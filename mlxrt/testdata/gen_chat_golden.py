"""Chat-level golden outputs: what transformers answers to a chat request.

For every model under models/, render a fixed conversation with the model's
own chat template (apply_chat_template, add_generation_prompt=True), run
greedy generation for 12 tokens with the end-of-sequence stop disabled, and
write models/<name>/chat_golden.json with the prompt ids, the 12 generated
ids, and the text of every prefix of them (decoded with
skip_special_tokens=True). The Go test sends the same conversation to
/v1/chat/completions with temperature 0 and checks the answer equals the
prefix the server stopped at.

Quantized (MLX affine) models are run from their dequantized float32
weights, as gen_golden.py does. Run on the device machine like gen_golden.py:

  python3 mlxrt/testdata/gen_chat_golden.py --models mlxrt/testdata/models --out DIR

writes DIR/<name>/chat_golden.json. Deterministic (greedy, float32, CPU).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import mlx_dequantize  # noqa: E402

CONVERSATION = [
    {"role": "system", "content": "You answer in one short sentence."},
    {"role": "user", "content": "Which river flows through Paris?"},
]
NEW_TOKENS = 12


def dequantized_state(model_dir, bits, group):
    files = sorted(f for f in os.listdir(model_dir) if f.endswith(".safetensors"))
    raw = {}
    for f in files:
        for k, v in load_file(os.path.join(model_dir, f)).items():
            if v.dtype == torch.uint32:
                raw[k] = v.view(torch.int32).numpy().view(np.uint32)
            else:
                raw[k] = v.float().numpy()
    out = {}
    for k, v in raw.items():
        if k.endswith(".scales") or k.endswith(".biases"):
            continue
        base = k[: -len(".weight")] if k.endswith(".weight") else None
        if base is not None and base + ".scales" in raw:
            w = mlx_dequantize(v, raw[base + ".scales"], raw[base + ".biases"], bits, group)
            out[k] = torch.from_numpy(w)
        else:
            out[k] = torch.from_numpy(np.asarray(v, dtype=np.float32))
    return out


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        raw_cfg = json.load(f)
    quant = raw_cfg.get("quantization") or raw_cfg.get("quantization_config")
    if not quant:
        return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    cfg = AutoConfig.from_pretrained(model_dir)
    for attr in ("quantization", "quantization_config"):
        if hasattr(cfg, attr):
            delattr(cfg, attr)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="eager")
    state = dequantized_state(model_dir, quant["bits"], quant["group_size"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(f"{model_dir}: missing {missing} unexpected {unexpected}")
    if cfg.tie_word_embeddings:
        model.tie_weights()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    for name in sorted(os.listdir(args.models)):
        d = os.path.join(args.models, name)
        if not os.path.isfile(os.path.join(d, "config.json")):
            continue
        tok = AutoTokenizer.from_pretrained(d)
        model = load_model(d).eval()
        ids = tok.apply_chat_template(CONVERSATION, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        ids = list(ids)
        with torch.no_grad():
            cur = torch.tensor([ids])
            past = None
            gen = []
            out = model(cur, use_cache=True)
            for _ in range(NEW_TOKENS):
                nxt = int(out.logits[0, -1].argmax())
                gen.append(nxt)
                out = model(torch.tensor([[nxt]]), past_key_values=out.past_key_values, use_cache=True)
        rec = {
            "model": name,
            "messages": CONVERSATION,
            "prompt_ids": ids,
            "generated_ids": gen,
            "prefix_texts": [tok.decode(gen[: i + 1], skip_special_tokens=True) for i in range(len(gen))],
            "generated_tokens": tok.convert_ids_to_tokens(gen),
        }
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
        with open(os.path.join(args.out, name, "chat_golden.json"), "w") as f:
            json.dump(rec, f, ensure_ascii=False, indent=1)
        print(name, len(ids), gen, repr(rec["prefix_texts"][-1]), flush=True)


if __name__ == "__main__":
    main()
