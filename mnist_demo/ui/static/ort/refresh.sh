#!/usr/bin/env bash
# Refresh the vendored ONNX Runtime Web files from npm: bash mnist_demo/ui/static/ort/refresh.sh [VERSION]
# Keeps the single-threaded WebAssembly build the page uses: the runtime (ort.wasm.min.js), its loader
# (ort-wasm-simd-threaded.mjs) and the SIMD WebAssembly file, stored gzipped (served as is, compressed).
set -euo pipefail
VERSION="${1:-1.30.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
DIST="$WORK/package/dist"
cp "$DIST/ort.wasm.min.js" "$DIST/ort-wasm-simd-threaded.mjs" "$HERE/"
gzip -9 -n -c "$DIST/ort-wasm-simd-threaded.wasm" > "$HERE/ort-wasm-simd-threaded.wasm.gz"
echo "$VERSION" > "$HERE/VERSION"
echo "onnxruntime-web $VERSION vendored in $HERE"
