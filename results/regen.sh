#!/usr/bin/env bash
# Regenerates the tiny-preset regression baselines with the code of this
# checkout (every registered plugin, both tasks). Commit the result with a
# note saying why the numbers moved.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO="${DENO:-deno}"
DATA="${ELMBENCH_DATA:-../shared/data}"
models=$($DENO task -q elmbench plugins --json | $DENO eval 'const p = JSON.parse(await new Response(Deno.stdin.readable).text()); console.log(p.map((x) => x.name).join(","))')
for target in synthetic beauty; do
  out="results/tiny_${target}.jsonl"
  rm -f "$out"
  data=synthetic
  extra=()
  chosen="$models"
  # On real data the tiny preset still trains on all 153,776 training
  # interactions (LightGCN 2 min, SimpleX 3 min, the T5 models longer), so the
  # Beauty check keeps the quick plugins and scores 300 seeded users.
  [ "$target" = beauty ] && data="$DATA/beauty" && extra=(--eval-users 300) && chosen="pop,idleak,bprmf"
  for task in direct sequential; do
    $DENO task -q elmbench run --data "$data" --task "$task" --models "$chosen" --preset tiny \
      --results "$out" "${extra[@]}" >/dev/null
  done
  rm -rf results/per_user
done
echo "wrote results/tiny_synthetic.jsonl results/tiny_beauty.jsonl"
