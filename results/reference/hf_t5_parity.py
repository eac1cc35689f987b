#!/usr/bin/env python3
"""The Hugging Face side of elmbench's T5 parity check (models/hf_parity.ts).

Builds a T5ForConditionalGeneration with t5-small's config (or a smaller
one: --size tiny keeps its vocabulary, --size micro makes the committed test
fixture tests/fixtures/hf_t5_micro) and seeded random weights, saves it with
save_pretrained beside a Unigram tokenizer.json that models/hf_tokenizer.ts
reads, reloads it with from_pretrained, and runs it in eval mode in float32 on fixed
encoder ids and decoder labels. Writes DIR/reference.json (ids, masks,
labels, the decoder ids HF derives from the labels, the loss, checks and
versions) and the float outputs as raw little-endian float32 files beside
it: reference.encoder_hidden.f32, reference.decoder_hidden.f32,
reference.logits.f32.

No network is used: the weights are drawn here (torch.Generator on the CPU,
so --device cpu and --device cuda save the same checkpoint) and the
tokenizer is built from a made-up vocabulary.

How HF computes what is compared (transformers 5.x, T5ForConditionalGeneration):
  - decoder_input_ids = labels shifted right by one, decoder_start_token_id
    (0) in front, -100 replaced by pad (0); this script passes them
    explicitly and checks that HF's own shift from labels gives the same
    logits.
  - logits = lm_head(decoder_output * d_model**-0.5) when
    config.scale_decoder_outputs (True for t5-small: tied embeddings);
    lm_head.weight is shared.weight.
  - loss = CrossEntropyLoss(ignore_index=-100) over the flattened logits:
    the mean over labels that are not -100.

Usage:
  python3 hf_t5_parity.py DIR [--seed 0] [--device cpu|cuda] [--size small|tiny|micro] [--threads N]
Then: deno run -A models/hf_parity.ts --dir DIR [--device cpu|cuda]
"""
import argparse
import copy
import json
import os
import platform
import random
import string
import time

# Nothing may be fetched: the machines this runs on have no network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from transformers import T5Config, T5ForConditionalGeneration

START = time.time()


def log(msg):
    print(f"[hf_t5_parity {time.time() - START:6.1f}s] {msg}", flush=True)


# t5-small (https://huggingface.co/t5-small/blob/main/config.json): 32128 rows
# of shared.weight for 32100 tokens (32000 pieces and 100 <extra_id_N>). `tiny`
# keeps its vocabulary for quick runs; `micro` is small enough to commit as a
# test fixture (tests/fixtures/hf_t5_micro).
SMALL_VOCAB = dict(vocab_size=32128, tokens=32100, extra_ids=100)
SIZES = {
    "small": dict(SMALL_VOCAB, model=dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6,
                                          num_decoder_layers=6, num_heads=8)),
    "tiny": dict(SMALL_VOCAB, model=dict(d_model=64, d_kv=16, d_ff=128, num_layers=2,
                                         num_decoder_layers=2, num_heads=4)),
    "micro": dict(vocab_size=256, tokens=240, extra_ids=8,
                  model=dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                             num_heads=4)),
}
# Encoder lengths reach past max_distance (128), so the log-spaced and the
# clamped buckets are used; decoder lengths reach past 16, where the causal
# buckets turn log-spaced. The second row of each is padded.
ENC_LENGTHS = (140, 57)
LABEL_LENGTHS = (24, 11)
TOKENIZER_TEXTS = [
    "Which item of the following to recommend for user_1234 ? item_56 , item_789 , item_10203",
    "Given the purchase history of user_23 : item_4 , item_5 , item_678 predict next item",
    "user_12252 item_007 supercalifragilistic CamelCase",
]
WORDS = ["user", "item", "Which", "of", "the", "following", "to", "recommend", "for", "Given",
         "purchase", "history", "predict", "next", "possible", "be", "bought", "by"]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="output directory (created; files in it are replaced)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--size", default="small", choices=sorted(SIZES))
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--no-fp64", action="store_true", help="skip the float64 rerun on the CPU")
    return ap.parse_args()


def strict_fp32():
    """No TF32 anywhere: the reference must be plain float32 arithmetic."""
    for what, fn in [
        ("torch.backends.cuda.matmul.allow_tf32 = False",
         lambda: setattr(torch.backends.cuda.matmul, "allow_tf32", False)),
        ("torch.backends.cudnn.allow_tf32 = False",
         lambda: setattr(torch.backends.cudnn, "allow_tf32", False)),
        ("torch.set_float32_matmul_precision('highest')",
         lambda: torch.set_float32_matmul_precision("highest")),
    ]:
        try:
            fn()
        except Exception as e:  # a newer torch may refuse one spelling; the others still apply
            log(f"warning: {what} failed: {type(e).__name__}: {e}")
    state = {}
    for name, get in [
        ("cuda_matmul_allow_tf32", lambda: torch.backends.cuda.matmul.allow_tf32),
        ("cudnn_allow_tf32", lambda: torch.backends.cudnn.allow_tf32),
        ("float32_matmul_precision", lambda: torch.get_float32_matmul_precision()),
    ]:
        try:
            state[name] = get()
        except Exception as e:
            state[name] = f"unreadable: {type(e).__name__}: {e}"
    return state


def make_config(size):
    return T5Config(
        vocab_size=SIZES[size]["vocab_size"],
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="relu",
        dropout_rate=0.1,
        layer_norm_epsilon=1e-6,
        initializer_factor=1.0,
        tie_word_embeddings=True,
        is_encoder_decoder=True,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        **SIZES[size]["model"],
    )


def std_for(name, cfg):
    """(mean, std) of a param: T5's own init scheme, except the position bias
    and the norms, which are widened so that they matter in the outputs."""
    d, dkv, h, dff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    if name.endswith("relative_attention_bias.weight"):
        return 0.0, 0.5  # HF: d_model**-0.5 (0.044), too small to test the buckets
    if "layer_norm" in name:
        return 1.0, 0.2  # HF: ones, which would hide a mixed-up norm weight
    if name.endswith(("shared.weight", "embed_tokens.weight", "lm_head.weight")):
        return 0.0, 1.0
    if name.endswith(".q.weight"):
        return 0.0, (d * dkv) ** -0.5
    if name.endswith((".k.weight", ".v.weight")):
        return 0.0, d ** -0.5
    if name.endswith(".o.weight"):
        return 0.0, (h * dkv) ** -0.5
    if name.endswith(".wi.weight"):
        return 0.0, d ** -0.5
    if name.endswith(".wo.weight"):
        return 0.0, dff ** -0.5
    raise SystemExit(f"error: no init rule for parameter {name!r}; the script needs updating")


def init_weights(model, seed):
    """Draws every parameter from a CPU generator in name order, so the
    weights do not depend on the device or on HF's own init code."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())  # tied params appear once
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            mean, std = std_for(name, model.config)
            p.copy_(torch.randn(tuple(p.shape), generator=gen, dtype=torch.float32) * std + mean)
    return sorted(params)


def tie_state(model):
    shared = model.shared.weight
    same = lambda m: m is not None and m.weight.data_ptr() == shared.data_ptr()
    return {
        "encoder.embed_tokens": same(model.encoder.embed_tokens),
        "decoder.embed_tokens": same(model.decoder.embed_tokens),
        "lm_head": same(model.get_output_embeddings()),
    }


def build_vocab(seed, tokens, extra_ids):
    """Made-up pieces with seeded log-probability scores (every character of
    TOKENIZER_TEXTS first), then the <extra_id_N> sentinels: `tokens` in all."""
    rnd = random.Random(seed)
    pieces = ["<pad>", "</s>", "<unk>"]
    seen = set(pieces)

    def add(p):
        if p not in seen and len(pieces) < tokens - extra_ids:
            seen.add(p)
            pieces.append(p)

    add("\u2581")
    for c in string.ascii_letters + string.digits + "_,.:?!-()'/":
        add(c)
        add("\u2581" + c)
    for w in WORDS:
        add("\u2581" + w)
        add(w)
    for k in range(1000):
        add(str(k))
        add("\u2581" + str(k))
    low = string.ascii_lowercase
    for a in low:
        for b in low:
            add(a + b)
            add("\u2581" + a + b)
    for a in low:
        for b in low:
            for c in low:
                add(a + b + c)
                add("\u2581" + a + b + c)
    if len(pieces) != tokens - extra_ids:
        raise SystemExit(f"error: built {len(pieces)} pieces, expected {tokens - extra_ids}")
    # Distinct random scores: no two segmentations tie, so HF's and ours agree.
    vocab = [(p, 0.0) for p in pieces[:3]] + [(p, -rnd.uniform(2.0, 14.0)) for p in pieces[3:]]
    # t5-small numbers its sentinels down from the end: <extra_id_0> is 32099.
    vocab += [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
    return vocab


def special_tokens(vocab):
    return [(i, p) for i, (p, _) in enumerate(vocab) if i < 3 or p.startswith("<extra_id_")]


def tokenizer_json_by_hand(vocab):
    """The same tokenizer as the library builds, written out directly."""
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, p in special_tokens(vocab)
        ],
        "normalizer": None,
        "pre_tokenizer": meta,
        "post_processor": None,
        "decoder": meta,
        "model": {"type": "Unigram", "unk_id": 2, "vocab": [[p, s] for p, s in vocab],
                  "byte_fallback": False},
    }


def write_tokenizer(path, vocab):
    """Builds tokenizer.json with the tokenizers library (by hand if that
    fails), then encodes TOKENIZER_TEXTS with it for the TS side to match."""
    how = "tokenizers library"
    try:
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
        tok = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always",
                                                     split=True)
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
        tok.add_special_tokens([AddedToken(p, special=True, normalized=False)
                                for _, p in special_tokens(vocab)])
        tok.save(path)
    except Exception as e:
        how = f"by hand (the library failed: {type(e).__name__}: {e})"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(tokenizer_json_by_hand(vocab), f, ensure_ascii=False)
    log(f"wrote {path} ({len(vocab)} tokens, {how})")
    checks = []
    try:
        from tokenizers import Tokenizer
        loaded = Tokenizer.from_file(path)
        if loaded.get_vocab_size() != len(vocab):
            log(f"warning: tokenizer.json reloads with {loaded.get_vocab_size()} tokens, "
                f"expected {len(vocab)}")
        for text in TOKENIZER_TEXTS:
            ids = loaded.encode(text, add_special_tokens=False).ids
            checks.append({"text": text, "ids": ids})
            log(f"  tokenizer: {text[:40]!r}... -> {len(ids)} ids")
    except Exception as e:
        log(f"warning: could not reload {path} with the tokenizers library "
            f"({type(e).__name__}: {e}); no tokenizer checks recorded")
    return how, checks


def make_inputs(seed, vocab_size):
    """input_ids and attention_mask [2, 140], labels [2, 24] padded with -100,
    and the decoder ids HF derives from them. Ids avoid 0 (pad) and 1 (eos)
    except as pad and as the last token, as real inputs do."""
    gen = torch.Generator().manual_seed(seed + 1)
    b, te, td = len(ENC_LENGTHS), max(ENC_LENGTHS), max(LABEL_LENGTHS)
    ids = torch.zeros(b, te, dtype=torch.long)
    labels = torch.full((b, td), -100, dtype=torch.long)
    for r, (n, m) in enumerate(zip(ENC_LENGTHS, LABEL_LENGTHS)):
        ids[r, : n - 1] = torch.randint(2, vocab_size, (n - 1,), generator=gen)
        ids[r, n - 1] = 1
        labels[r, : m - 1] = torch.randint(2, vocab_size, (m - 1,), generator=gen)
        labels[r, m - 1] = 1
    mask = (ids != 0).long()
    # T5ForConditionalGeneration._shift_right, written out.
    dec = torch.zeros_like(labels)
    dec[:, 1:] = labels[:, :-1]
    dec[:, 0] = 0  # decoder_start_token_id
    dec = dec.masked_fill(dec == -100, 0)  # pad_token_id
    return ids, mask, labels, dec


def run(model, ids, mask, labels, dec, device, with_labels_only=False):
    """One teacher-forced pass; the final-norm outputs are taken by hooks
    (HF's hidden-state tuples have changed shape across versions)."""
    grabbed = {}
    hooks = [
        model.encoder.final_layer_norm.register_forward_hook(
            lambda m, i, o: grabbed.__setitem__("encoder", o)),
        model.decoder.final_layer_norm.register_forward_hook(
            lambda m, i, o: grabbed.__setitem__("decoder", o)),
    ]
    kwargs = dict(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device),
                  use_cache=False)
    if not with_labels_only:
        kwargs["decoder_input_ids"] = dec.to(device)
    try:
        with torch.no_grad():
            out = model(**kwargs)
    finally:
        for h in hooks:
            h.remove()
    if device == "cuda":
        torch.cuda.synchronize()
    return {
        "encoder_hidden": grabbed["encoder"].detach(),
        "encoder_last_hidden_state": out.encoder_last_hidden_state.detach(),
        "decoder_hidden": grabbed["decoder"].detach(),
        "logits": out.logits.detach(),
        "loss": out.loss.detach(),
    }


def rel(a, b):
    a, b = a.double().cpu(), b.double().cpu()
    d = (a - b)
    return {"rel_max": (d.abs().max() / b.abs().max().clamp_min(1e-300)).item(),
            "rel_l2": (d.norm() / b.norm().clamp_min(1e-300)).item()}


def write_f32(path, t):
    arr = np.ascontiguousarray(t.detach().float().cpu().numpy()).astype("<f4", copy=False)
    arr.tofile(path)
    return {"file": os.path.basename(path), "shape": list(arr.shape), "dtype": "float32",
            "abs_max": float(np.abs(arr).max()), "mean": float(arr.astype(np.float64).mean())}


def check_safetensors(path, model):
    """Lists the saved tensors and checks each against the model."""
    from safetensors import safe_open
    state = model.state_dict()
    keys, bad = [], []
    with safe_open(path, framework="pt") as f:
        for k in f.keys():
            t = f.get_tensor(k)
            keys.append(k)
            if t.dtype != torch.float32:
                bad.append(f"{k}: dtype {t.dtype}")
            elif k not in state:
                bad.append(f"{k}: not a parameter of the model")
            elif not torch.equal(t, state[k].detach().cpu()):
                bad.append(f"{k}: differs from the model")
    return sorted(keys), bad


def json_safe(x):
    """NaN and infinities as strings: JSON.parse on the TS side refuses them."""
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return repr(x)
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


def versions():
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "transformers": transformers.__version__, "numpy": np.__version__,
           "torch_cuda": torch.version.cuda}
    for mod in ("tokenizers", "safetensors", "sentencepiece"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:
            out[mod] = f"unavailable: {type(e).__name__}"
    return out


def main():
    args = parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but torch.cuda.is_available() is False")
    if args.threads:
        torch.set_num_threads(args.threads)
    tf32 = strict_fp32()
    torch.manual_seed(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, device {args.device}, "
        f"size {args.size}, seed {args.seed}, out {args.dir}")

    cfg = make_config(args.size)
    model = T5ForConditionalGeneration(cfg).float().eval()
    names = init_weights(model, args.seed)
    ties = tie_state(model)
    log(f"model: {sum(p.numel() for p in model.parameters()):,} params in {len(names)} tensors; "
        f"tied to shared.weight: {ties}; scale_decoder_outputs="
        f"{getattr(model.config, 'scale_decoder_outputs', 'absent')}")

    model.save_pretrained(args.dir)  # safetensors is the default (and only format in 5.x)
    st_path = os.path.join(args.dir, "model.safetensors")
    if not os.path.exists(st_path):
        raise SystemExit(f"error: save_pretrained wrote no {st_path}: {sorted(os.listdir(args.dir))}")
    saved, bad = check_safetensors(st_path, model)
    log(f"saved {st_path}: {len(saved)} tensors ({os.path.getsize(st_path) / 1e6:.1f} MB); "
        f"embedding-like: {[k for k in saved if 'embed' in k or 'shared' in k or 'lm_head' in k]}")
    if bad:
        raise SystemExit("error: the saved checkpoint does not hold the model: " + "; ".join(bad[:10]))
    if "shared.weight" not in saved:
        log("warning: no shared.weight in model.safetensors; models/checkpoint.ts needs it")
    with open(os.path.join(args.dir, "config.json")) as f:
        saved_cfg = json.load(f)

    size = SIZES[args.size]
    vocab = build_vocab(args.seed, size["tokens"], size["extra_ids"])
    tok_how, tok_checks = write_tokenizer(os.path.join(args.dir, "tokenizer.json"), vocab)

    # The reference is what HF computes from the files in DIR, so reload them.
    reloaded = "from_pretrained"
    try:
        try:
            ref_model = T5ForConditionalGeneration.from_pretrained(args.dir, dtype=torch.float32)
        except TypeError:  # transformers 4.x spells it torch_dtype
            ref_model = T5ForConditionalGeneration.from_pretrained(args.dir, torch_dtype=torch.float32)
        ref_model = ref_model.float().eval()
    except Exception as e:
        reloaded = f"in-memory model (from_pretrained failed: {type(e).__name__}: {e})"
        log(f"warning: {reloaded}")
        ref_model = model
    ref_model.to(args.device)
    model.to(args.device)

    ids, mask, labels, dec = make_inputs(args.seed, size["vocab_size"])
    log(f"inputs: input_ids {list(ids.shape)} (lengths {list(ENC_LENGTHS)}), labels {list(labels.shape)} "
        f"(lengths {list(LABEL_LENGTHS)}, -100 padded)")
    out = run(ref_model, ids, mask, labels, dec, args.device)
    mem = run(model, ids, mask, labels, dec, args.device)

    checks = {"reloaded_with": reloaded, "ties": ties}
    checks["scale_decoder_outputs"] = getattr(ref_model.config, "scale_decoder_outputs", None)
    checks["reload_vs_in_memory"] = {k: rel(out[k], mem[k]) for k in ("encoder_hidden", "logits")}
    checks["encoder_hook_vs_last_hidden_state"] = rel(out["encoder_hidden"],
                                                      out["encoder_last_hidden_state"])
    try:  # HF shifting the labels itself must give the logits of our explicit decoder ids
        by_labels = run(ref_model, ids, mask, labels, dec, args.device, with_labels_only=True)
        checks["labels_only_vs_explicit_decoder_ids"] = rel(by_labels["logits"], out["logits"])
    except Exception as e:
        checks["labels_only_vs_explicit_decoder_ids"] = f"not run: {type(e).__name__}: {e}"
    try:
        hf_shift = ref_model._shift_right(labels.to(args.device)).cpu()
        checks["hf_shift_right_equals_ours"] = bool(torch.equal(hf_shift, dec))
    except Exception as e:
        checks["hf_shift_right_equals_ours"] = f"not run: {type(e).__name__}: {e}"
    shared = ref_model.shared.weight.detach()
    h = out["decoder_hidden"]
    scaled = (h * (cfg.d_model ** -0.5)) @ shared.t()
    checks["logits_vs_scaled_tied_head"] = rel(scaled, out["logits"])
    checks["logits_vs_unscaled_tied_head"] = rel(h @ shared.t(), out["logits"])
    flat = out["logits"].reshape(-1, out["logits"].shape[-1]).float()
    manual = F.cross_entropy(flat, labels.reshape(-1).to(args.device), ignore_index=-100)
    checks["loss_vs_mean_cross_entropy_ignoring_-100"] = rel(out["loss"].reshape(1), manual.reshape(1))
    if not args.no_fp64:
        m64 = copy.deepcopy(ref_model).to("cpu").double().eval()
        o64 = run(m64, ids, mask, labels, dec, "cpu")
        checks["hf_fp32_vs_hf_fp64"] = {k: rel(out[k], o64[k])
                                        for k in ("encoder_hidden", "decoder_hidden", "logits", "loss")}
        del m64
    for k, v in checks.items():
        log(f"check {k}: {v}")
    if checks["logits_vs_scaled_tied_head"]["rel_max"] > 1e-5:
        log("warning: HF's logits are not (decoder output * d_model**-0.5) @ shared.weight^T; "
            "elmbench's tied head computes exactly that")

    outputs = {}
    for name in ("encoder_hidden", "decoder_hidden", "logits"):
        outputs[name] = write_f32(os.path.join(args.dir, f"reference.{name}.f32"), out[name])
    ref = {
        "format": "elmbench-hf-t5-parity/1",
        "what": "Hugging Face T5ForConditionalGeneration outputs on fixed inputs, eval mode, float32",
        "device": args.device,
        "device_name": (torch.cuda.get_device_name(0) if args.device == "cuda"
                        else platform.processor() or platform.machine()),
        "dtype": "float32",
        "tf32": tf32,
        "seed": args.seed,
        "size": args.size,
        "versions": versions(),
        "config": {k: saved_cfg.get(k) for k in sorted(saved_cfg) if not k.startswith("_")},
        "checkpoint_tensors": saved,
        "tokenizer": {"built": tok_how, "tokens": len(vocab), "checks": tok_checks},
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "labels": labels.tolist(),
        "decoder_input_ids": dec.tolist(),
        "outputs": outputs,
        "loss": float(out["loss"].item()),
        "loss_tokens": int((labels != -100).sum().item()),
        "checks": checks,
        "seconds": round(time.time() - START, 1),
    }
    path = os.path.join(args.dir, "reference.json")
    with open(path, "w") as f:
        json.dump(json_safe(ref), f, indent=1, allow_nan=False)
    log(f"loss {ref['loss']:.6f} over {ref['loss_tokens']} labels; wrote {path}")
    log("done")


if __name__ == "__main__":
    main()
