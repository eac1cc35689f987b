#!/usr/bin/env python3
"""What one train step of the `paper` preset costs in PyTorch (the authors'
stack), for comparison with `deno task bench:device` on the same machine.

Hugging Face's T5ForConditionalGeneration at t5-small's sizes (d_model 512,
6+6 blocks, 8 heads, d_ff 2048, ReLU FFN) over elmbench's Beauty vocabulary
(1,166 tokens), batch 64, the encoder lengths of elmbench's Beauty prompts
(direct 405 tokens, sequential 105), 3 decoder tokens, AdamW. Median of
timed steps after warm-up, float32, on CUDA (also bf16 autocast) when
present, and on the CPU with --threads threads. Prints one JSON object.

Usage: torch_t5_step.py [--threads N] [--iters N] [--cpu-iters N (0: skip the CPU)]
"""
import argparse, json, statistics, time

import torch
from transformers import T5Config, T5ForConditionalGeneration

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=16)
p.add_argument("--iters", type=int, default=10)
p.add_argument("--cpu-iters", type=int, default=2)
args = p.parse_args()
torch.set_num_threads(args.threads)

cfg = T5Config(vocab_size=1166, d_model=512, d_kv=64, d_ff=2048, num_layers=6,
               num_decoder_layers=6, num_heads=8, dropout_rate=0.1,
               feed_forward_proj="relu", decoder_start_token_id=0, pad_token_id=0,
               eos_token_id=1)
BATCH, DEC = 64, 3
LENGTHS = {"direct": 405, "sequential": 105}


def step_ms(device, enc_len, iters, warmup, bf16=False):
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(2, cfg.vocab_size, (BATCH, enc_len), generator=g).to(device)
    labels = torch.randint(2, cfg.vocab_size, (BATCH, DEC), generator=g).to(device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def one():
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(warmup):
        one()
    sync()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        one()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


out = {"torch": torch.__version__, "threads": args.threads}
if torch.cuda.is_available():
    out["gpu"] = torch.cuda.get_device_name(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    for task, n in LENGTHS.items():
        out[f"cuda_fp32_{task}_step_ms"] = step_ms("cuda", n, args.iters, 3)
        out[f"cuda_bf16_{task}_step_ms"] = step_ms("cuda", n, args.iters, 3, bf16=True)
for task, n in LENGTHS.items():
    if args.cpu_iters > 0:  # 0: CUDA only (the CPU figures take minutes)
        out[f"cpu_fp32_{task}_step_ms"] = step_ms("cpu", n, args.cpu_iters, 1)
print(json.dumps(out))
