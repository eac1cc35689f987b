#!/usr/bin/env bash
# The CUDA check of elmbench on a lent GPU machine with no network (an H200
# with CUDA 13 and PyTorch), in two calls because at most 64 MiB travel per
# call: phase 1 carries Deno and node_modules, phase 2 the CUDA provider
# reduced to sm_90 (`elmbench fatbin`). Run from the repository root:
#
#   results/reference/h200_cuda.sh phase1   # carry .devpack/{deno.xz,nm.tar.xz,beauty.tar.xz}
#   results/reference/h200_cuda.sh phase2   # carry .devpack/provider.tar.xz
#
# Everything measured lands under $OUT (default out/h200); phase 2 ends with
# results/reference/h200_cuda.json assembled from the pieces.
set -uo pipefail
OUT=${OUT:-out/h200}
EB=/root/eb
mkdir -p "$OUT" "$EB"
export PATH=$EB:$PATH DENO_DIR=$EB/deno_dir NO_COLOR=1 PYTHONUNBUFFERED=1
DENO_RUN="deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys --allow-run"
step() { echo "== $(date +%T) $*" >&2; }

phase1() {
  step "unpack Deno and node_modules"
  xz -dc .devpack/deno.xz >"$EB/deno" && chmod +x "$EB/deno"
  tar -xJf .devpack/nm.tar.xz
  mkdir -p "$EB/data" && tar -xJf .devpack/beauty.tar.xz -C "$EB/data"
  deno --version
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/nvidia_smi.csv"
  step "offline start: elmbench plugins"
  timeout 60 $DENO_RUN cli.ts plugins >/dev/null || echo "plugins failed" >&2
  step "PyTorch fp32/bf16 train step (paper size)"
  timeout 120 python3 results/reference/torch_t5_step.py --threads 16 --iters 10 --cpu-iters 0 \
    >"$OUT/torch_t5_step.json" || echo "torch step failed" >&2
  cat "$OUT/torch_t5_step.json"
  step "Hugging Face reference for the parity check"
  timeout 90 python3 results/reference/hf_t5_parity.py "$EB/hf" --device cuda --no-fp64 \
    >"$OUT/hf_reference.log" 2>&1 || echo "hf reference failed" >&2
  tail -5 "$OUT/hf_reference.log"
  step "parity on the CPU"
  timeout 60 $DENO_RUN models/hf_parity.ts --dir "$EB/hf" --device cpu --threads 16 --json \
    >"$OUT/hf_parity_cpu.json" || echo "cpu parity failed" >&2
  cat "$OUT/hf_parity_cpu.json"
  step "LightGCN, one cpu-preset epoch on Beauty, CPU (16 threads)"
  timeout 120 $DENO_RUN cli.ts run --data "$EB/data/beauty" --task direct --models lightgcn \
    --preset cpu --set lightgcn.epochs=1 --threads 16 --eval-users 2000 \
    --results "$OUT/lightgcn_cpu.jsonl" >/dev/null || echo "lightgcn cpu failed" >&2
}

phase2() {
  step "unpack and install the CUDA provider"
  mkdir -p "$EB/provider" && tar -xJf .devpack/provider.tar.xz -C "$EB/provider"
  $DENO_RUN cli.ts setup cuda --from "$EB/provider" 2>&1 | tee "$OUT/setup_cuda.log"
  step "smoke: bound I/O on CUDA (tiny sizes); on failure the rest copies"
  if ! timeout 60 $DENO_RUN models/cuda_bench.ts --size tiny --iters 2 --users 64 --threads 16 \
    --out "$OUT/smoke.json" 2>"$OUT/smoke.log" >/dev/null; then
    tail -20 "$OUT/smoke.log"
    echo "bound I/O failed: ELMBENCH_IO=copy from here on" >&2
    export ELMBENCH_IO=copy
  fi
  tail -12 "$OUT/smoke.log"
  step "device tests"
  timeout 150 deno test --no-check --allow-read --allow-write --allow-env --allow-ffi --allow-sys --allow-run \
    tests/device_test.ts kernels/bound_session_test.ts >"$OUT/device_test.log" 2>&1
  echo "device tests exit $?" >&2
  grep -E "passed|FAILED|cuda " "$OUT/device_test.log" | tail -20
  step "parity on CUDA"
  timeout 60 $DENO_RUN models/hf_parity.ts --dir "$EB/hf" --device cuda --json \
    >"$OUT/hf_parity_cuda.json" || echo "cuda parity failed" >&2
  cat "$OUT/hf_parity_cuda.json"
  step "bench:cuda (paper size)"
  timeout 200 $DENO_RUN models/cuda_bench.ts --size paper --threads 16 --iters 8 --users 128 \
    --profile "$OUT/profile" --out "$OUT/bench_cuda.json" 2>"$OUT/bench_cuda.log" >/dev/null
  echo "bench exit $?" >&2
  tail -30 "$OUT/bench_cuda.log"
  step "LightGCN, one cpu-preset epoch on Beauty, CUDA"
  timeout 90 $DENO_RUN cli.ts run --data "$EB/data/beauty" --task direct --models lightgcn \
    --preset cpu --set lightgcn.epochs=1 --threads 16 --eval-users 2000 --device cuda \
    --results "$OUT/lightgcn_cuda.jsonl" >/dev/null || echo "lightgcn cuda failed" >&2
  rm -rf "$OUT/profile"
}

"$1"
