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
  # digitnet first learns MNIST alone (weights/base/digitnet-mnist), then the fine-tune below reads writers
  # MNIST lacks; every other model is trained once with its own recipe.
  target="$out/$m"; [ "$m" = digitnet ] && target="$out/base/digitnet-mnist"
  python3 -m mnist_demo.train --model "$m" --recipe seed --seed 0 --threads "${THREADS:-2}" \
    --out "$target" > "$out/logs/$m.log" 2>&1 &
done
wait
if printf '%s\n' "${models[@]}" | grep -qx digitnet; then  # needs unipen-dev in the data folder
  python3 -m mnist_demo.train --model digitnet --recipe handwriting --init "$out/base/digitnet-mnist.safetensors" \
    --handwriting all --handwriting-variants 3 --seed 0 \
    --threads "${THREADS:-2}" --out "$out/digitnet" > "$out/logs/digitnet-handwriting.log" 2>&1
fi
grep -h "test accuracy" "$out"/logs/*.log | grep -v "^epoch" || true
