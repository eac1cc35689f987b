"""The PyTorch side of baselines/sasrec_bench.ts: one SASRec training epoch
over the batches the driver wrote, with the same model as elmbench's
(baselines/sasrec_model.ts, the SASRec paper's code): item embeddings times
sqrt(d) plus learned positions, dropout, blocks of
`q = LN(x); x = q + MHA(q, x, x); x = LN(x); x = x + FFN(x)` with biased
projections, dropout on attention probabilities and inside the ReLU FFN, a
final layer norm, and the loss over all items (cross-entropy) or against one
sampled negative (BCE), weighted over the real positions. Adam with betas
(0.9, 0.98). The packed rows and their attention masks (each slot attends to
its own user's earlier slots) are rebuilt from the file.

    python3 sasrec_torch.py BATCHES.bin [--threads N] [--dim 64] [--blocks 2]
        [--heads 1] [--dropout 0.5] [--lr 1e-3]

Prints one JSON line: seconds for the epoch (after 3 warm-up steps, as the
driver), last loss, peak RSS in MiB, torch version and thread count.
"""
import argparse
import json
import math
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class SASRec(nn.Module):
    def __init__(self, n_items, length, dim, blocks, heads, dropout):
        super().__init__()
        self.dim = dim
        self.item = nn.Embedding(n_items + 1, dim)
        self.pos = nn.Embedding(length, dim)
        self.drop = nn.Dropout(dropout)
        self.attn_ln = nn.ModuleList(nn.LayerNorm(dim, eps=1e-8) for _ in range(blocks))
        self.attn = nn.ModuleList(
            nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
            for _ in range(blocks)
        )
        self.ffn_ln = nn.ModuleList(nn.LayerNorm(dim, eps=1e-8) for _ in range(blocks))
        self.conv1 = nn.ModuleList(nn.Linear(dim, dim) for _ in range(blocks))
        self.conv2 = nn.ModuleList(nn.Linear(dim, dim) for _ in range(blocks))
        self.last_ln = nn.LayerNorm(dim, eps=1e-8)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, items, positions, mask):
        x = self.drop(self.item(items) * math.sqrt(self.dim) + self.pos(positions))
        for b in range(len(self.attn)):
            q = self.attn_ln[b](x)
            a, _ = self.attn[b](q, x, x, attn_mask=mask, need_weights=False)
            x = self.ffn_ln[b](q + a)
            x = x + self.drop(self.conv2[b](self.drop(self.conv1[b](x)).relu()))
        return self.last_ln(x)


def read_batches(path):
    with open(path, "rb") as f:
        header = json.loads(f.readline())
        raw = np.frombuffer(f.read(), dtype=np.int32)
    slots = header["rows"] * header["len"]
    keys = ["items", "positions", "targets", "users"]
    if header["loss"] == "bce":
        keys.append("negatives")
    per = slots * len(keys)
    batches = []
    for b in range(header["batches"]):
        chunk = raw[b * per:(b + 1) * per]
        batches.append({k: chunk[i * slots:(i + 1) * slots] for i, k in enumerate(keys)})
    return header, batches


def attention_mask(users, rows, length, heads):
    """-1e9 where a slot may not look: another user's slot or a later one."""
    u = torch.from_numpy(users.astype(np.int64)).view(rows, length)
    same = (u.unsqueeze(2) == u.unsqueeze(1)) & (u.unsqueeze(2) > 0)
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    allowed = (same & causal) | torch.eye(length, dtype=torch.bool)
    mask = torch.zeros(rows, length, length).masked_fill(~allowed, -1e9)
    return mask.repeat_interleave(heads, dim=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("batches")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    header, raw = read_batches(args.batches)
    rows, length = header["rows"], header["len"]
    model = SASRec(header["n_items"], length, args.dim, args.blocks, args.heads, args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    # Tensors are made before timing, as the driver's feeds are host arrays.
    batches = []
    for b in raw:
        t = {k: torch.from_numpy(v.astype(np.int64)) for k, v in b.items()}
        t["items"] = t["items"].view(rows, length)
        t["positions"] = t["positions"].view(rows, length)
        t["weights"] = (t["targets"] > 0).float()
        t["mask"] = attention_mask(b["users"], rows, length, args.heads)
        batches.append(t)

    def step(t):
        h = model(t["items"], t["positions"], t["mask"]).reshape(rows * length, args.dim)
        w = t["weights"]
        if header["loss"] == "ce":
            per = F.cross_entropy(h @ model.item.weight.t(), t["targets"], reduction="none")
        else:
            pos = (h * model.item(t["targets"])).sum(-1)
            neg = (h * model.item(t["negatives"])).sum(-1)
            per = F.softplus(-pos) + F.softplus(neg)
        loss = (per * w).sum() / w.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for t in batches[:3]:
        step(t)
    start = time.perf_counter()
    loss = 0.0
    for t in batches:
        loss = step(t)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "s": round(seconds, 3),
        "last_loss": round(loss, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
