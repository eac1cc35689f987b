#!/usr/bin/env python3
"""An independent reference for elmbench's T5 plugins on the direct task:
a Hugging Face T5 of elmbench's sizes, trained from random init with the
same prompts (P5's four direct templates with the 100 candidates, POD's ids
with 3 prompt vectors, or a prompt that names the user only), one sample per
training interaction per epoch, AdamW, batch 64. Every --eval-every steps it
ranks each user's 100 test candidates by the first decoder token's log
probability and prints HR@10 and NDCG@10 beside `pop` on the same candidates.

It answers one question: does a T5 trained from scratch on this task leave
the popularity plateau, and after how many steps? The same question asked
of elmbench's engine is in docs/llm-models.md ("Is the plateau the engine's or the
task's?").

Data: a P5-layout sequential.txt, e.g. elmbench's embedded synthetic data:
  deno eval 'import { generateSynthetic } from "./harness/synthetic.ts";
    import { writeSequentialTxt } from "./harness/amazon_reader.ts";
    await writeSequentialTxt(await generateSynthetic({}), "syn/sequential.txt");'
Usage: hf_t5_direct.py --data syn/sequential.txt --size cpu --variant p5 \
         --lr 1e-3 --seconds 300 --out run.jsonl
Needs torch and transformers; results/README.md says where the committed runs ran.
Writes one JSON line per evaluation to --out.
"""
import argparse, json, math, random, sys, time

import torch
import torch.nn as nn
from transformers import T5Config, T5ForConditionalGeneration

SIZES = {
    "tiny": dict(d_model=32, d_kv=8, d_ff=64, num_heads=4, num_layers=1, num_decoder_layers=1),
    "cpu": dict(d_model=64, d_kv=16, d_ff=256, num_heads=4, num_layers=2, num_decoder_layers=2),
    "small": dict(d_model=512, d_kv=64, d_ff=2048, num_heads=8, num_layers=6, num_decoder_layers=6),
}
P5_DIRECT = [
    "Which item of the following to recommend for {user} ? {candidates}",
    "Choose the best item from the candidates to recommend for {user} ? {candidates}",
    "Pick the most suitable item from the following list and recommend to {user} : {candidates}",
    "We want to make recommendation for {user} . Select the best item from these candidates : {candidates}",
]
POD_DIRECT = ["{user} {candidates}"]
USER_ONLY = ["Which item to recommend for {user} ?"]

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--size", default="tiny")
ap.add_argument("--variant", default="p5", choices=["p5", "pod", "user"])
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--steps", type=int, default=10**9)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--eval-every", type=int, default=500)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--out", required=True)
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
args = ap.parse_args()
torch.manual_seed(args.seed)
rnd = random.Random(args.seed)

rows = [[int(x) for x in line.split()[1:]] for line in open(args.data) if line.strip()]
n_items = max(max(r) for r in rows)
n_users = len(rows)
train = [r[:-2] for r in rows]
test_target = [r[-1] for r in rows]

# Test candidates: the held-out item and 99 uniform items the user never had.
crng = random.Random(12345)
test_cands = []
for r in rows:
    seen = set(r)
    pool = [i for i in range(1, n_items + 1) if i not in seen]
    c = crng.sample(pool, 99) + [r[-1]]
    crng.shuffle(c)
    test_cands.append(c)

counts = [1] * (n_items + 1)  # add-one, as models/prior_loss.ts
counts[0] = 0
for t in train:
    for i in t:
        counts[i] += 1
total = sum(counts)
prior_loss = -sum(math.log(counts[t] / total) for t in test_target) / n_users
entropy = -sum(c / total * math.log(c / total) for c in counts[1:])


def rank_metrics(score_of):
    hr = nd = 0.0
    for u in range(n_users):
        cands = test_cands[u]
        s = score_of(u, cands)
        tgt = s[cands.index(test_target[u])]
        rank = 1 + sum(1 for x in s if x > tgt)
        if rank <= 10:
            hr += 1
            nd += 1 / math.log2(rank + 1)
    return hr / n_users, nd / n_users


jit = random.Random(7)
tie = [jit.random() * 1e-3 for _ in range(n_items + 1)]
pop_hr, pop_nd = rank_metrics(lambda u, cands: [counts[i] + tie[i] for i in cands])

# Tokenizer: template words whole, `_` a token, ids < 1000 are one digit chunk.
vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
for t in P5_DIRECT + USER_ONLY + ["user item , _"]:
    for w in t.split(" "):
        if not w.startswith("{"):
            vocab.setdefault(w, len(vocab))
for k in range(1000):
    vocab.setdefault(str(k), len(vocab))
V = len(vocab)
templates = {"p5": P5_DIRECT, "pod": POD_DIRECT, "user": USER_ONLY}[args.variant]


def encode(user, cands, tmpl):
    """Token ids and whole-word ids (P5: word index; POD: user 1, items 2, 3, ...)."""
    ids, ww = [], []
    word = 0
    item_k = 1
    for w in tmpl.split(" "):
        if w == "{user}":
            word += 1
            tag = word if args.variant != "pod" else 1
            ids += [vocab["user"], vocab["_"], vocab[str(user + 1)]]
            ww += [tag] * 3
        elif w == "{candidates}":
            for c in cands:
                word += 1
                item_k += 1
                tag = word if args.variant != "pod" else item_k
                ids += [vocab["item"], vocab["_"], vocab[str(c)]]
                ww += [tag] * 3
        else:
            word += 1
            ids.append(vocab[w])
            ww.append(word if args.variant != "pod" else 0)
    ids.append(1)
    ww.append(0)
    return ids, [min(x, 511) for x in ww]


cfg = T5Config(vocab_size=V, relative_attention_num_buckets=32, relative_attention_max_distance=128,
               dropout_rate=0.1, feed_forward_proj="relu", tie_word_embeddings=True,
               pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, **SIZES[args.size])
model = T5ForConditionalGeneration(cfg).to(args.device)
ww_table = nn.Embedding(512, cfg.d_model).to(args.device)
nn.init.normal_(ww_table.weight, std=0.02 if args.size == "small" else 1.0)
prompt_vecs = nn.Parameter(torch.randn(3, cfg.d_model, device=args.device))
params = list(model.parameters()) + list(ww_table.parameters()) + ([prompt_vecs] if args.variant == "pod" else [])
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)


def batch_tensors(samples):
    enc = [encode(u, c, t) for u, c, t in samples]
    L = max(len(e[0]) for e in enc)
    ids = torch.zeros(len(enc), L, dtype=torch.long)
    ww = torch.zeros(len(enc), L, dtype=torch.long)
    mask = torch.zeros(len(enc), L, dtype=torch.long)
    for b, (i, w) in enumerate(enc):
        ids[b, : len(i)] = torch.tensor(i)
        ww[b, : len(w)] = torch.tensor(w)
        mask[b, : len(i)] = 1
    ids, ww, mask = ids.to(args.device), ww.to(args.device), mask.to(args.device)
    emb = model.shared(ids) + ww_table(ww)
    if args.variant == "pod":
        emb = torch.cat([prompt_vecs.expand(len(enc), -1, -1), emb], 1)
        mask = torch.cat([torch.ones(len(enc), 3, dtype=torch.long, device=args.device), mask], 1)
    return emb, mask


def epoch_samples():
    out = []
    for u in range(n_users):
        seen = set(train[u])
        for pos in train[u]:
            if args.variant == "user":
                c = []
            else:
                negs = set()
                while len(negs) < 99:
                    j = rnd.randint(1, n_items)
                    if j not in seen:
                        negs.add(j)
                c = list(negs) + [pos]
                rnd.shuffle(c)
            out.append((u, c, rnd.choice(templates), pos))
    rnd.shuffle(out)
    return out


@torch.no_grad()
def evaluate():
    model.eval()
    scores = {}
    tgt_loss = 0.0
    for s in range(0, n_users, 100):
        us = list(range(s, min(n_users, s + 100)))
        cands = [test_cands[u] if args.variant != "user" else [] for u in us]
        emb, mask = batch_tensors([(u, c, templates[0]) for u, c in zip(us, cands)])
        dec = torch.zeros(len(us), 1, dtype=torch.long, device=args.device)
        logits = model(inputs_embeds=emb, attention_mask=mask, decoder_input_ids=dec).logits[:, 0]
        logp = torch.log_softmax(logits.float(), -1).cpu()
        for k, u in enumerate(us):
            scores[u] = logp[k]
            tgt_loss -= logp[k, vocab[str(test_target[u])]].item()
    model.train()
    hr, nd = rank_metrics(lambda u, cands: [scores[u][vocab[str(i)]].item() for i in cands])
    return hr, nd, tgt_loss / n_users


out = open(args.out, "w")
head = dict(kind="head", size=args.size, variant=args.variant, lr=args.lr, seed=args.seed, pop_hr10=pop_hr,
            pop_ndcg10=pop_nd, prior_item_loss=prior_loss, item_entropy=entropy, vocab=V, device=args.device)
print(json.dumps(head), file=out, flush=True)
print(json.dumps(head), file=sys.stderr, flush=True)
start = time.time()
step, epoch, run_loss, run_n = 0, 0, 0.0, 0
done = False
while not done:
    samples = epoch_samples()
    epoch += 1
    for b in range(0, len(samples) - args.batch + 1, args.batch):
        chunk = samples[b : b + args.batch]
        emb, mask = batch_tensors([(u, c, t) for u, c, t, _ in chunk])
        labels = torch.tensor([[vocab[str(p)], 1] for *_, p in chunk], device=args.device)
        loss = model(inputs_embeds=emb, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run_loss += loss.item() * 2  # per sample: item token + eos
        run_n += 1
        if step % args.eval_every == 0:
            hr, nd, tl = evaluate()
            rec = dict(kind="eval", step=step, epoch=epoch, seconds=round(time.time() - start, 1),
                       train_loss_2tok=run_loss / run_n, test_item_loss=tl, hr10=hr, ndcg10=nd)
            print(json.dumps(rec), file=out, flush=True)
            print(args.variant, args.size, args.lr, json.dumps(rec), file=sys.stderr, flush=True)
            run_loss, run_n = 0.0, 0
        if step >= args.steps or time.time() - start > args.seconds:
            done = True
            break
