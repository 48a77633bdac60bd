#!/usr/bin/env bash
# Train every shipped model with the project's CLI: the exact commands behind weights/*.
# Usage: bash bench/train_weights.sh OUT_DIR [MODEL...]   (default: all; runs them in parallel)
# Each model's card records the device, the seed, the data checksum and the command.
set -u
out=${1:-weights}; shift || true
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(digitnet fashionnet s1-bn-cnn s3-mlp-as-written s3-mlp s4-two-conv \
  s5-lenet-as-written s5-lenet s5-lenet-fashion)
mkdir -p "$out/logs"
for m in "${models[@]}"; do
  python3 -m mnist_demo.train --model "$m" --recipe seed --seed 0 --threads "${THREADS:-2}" \
    --out "$out/$m" > "$out/logs/$m.log" 2>&1 &
done
wait
grep -h "test accuracy" "$out"/logs/*.log | grep -v "^epoch" || true
