#!/usr/bin/env bash
# Refresh the vendored ONNX Runtime Web files from npm: bash mnist_demo/ui/static/ort/refresh.sh [VERSION]
# Keeps the single-threaded WebAssembly build the page uses: the runtime (ort.wasm.min.js), its loader
# (ort-wasm-simd-threaded.mjs) and the SIMD WebAssembly file, stored compressed and sent as stored: brotli
# (2.3 MB, for browsers that accept it: every one over HTTPS) and gzip (3.7 MB, for the others).
# Needs npm, gzip and Python's brotli package (pip install brotli; only here, not to run the app).
set -euo pipefail
VERSION="${1:-1.30.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
DIST="$WORK/package/dist"
cp "$DIST/ort.wasm.min.js" "$DIST/ort-wasm-simd-threaded.mjs" "$HERE/"
gzip -9 -n -c "$DIST/ort-wasm-simd-threaded.wasm" > "$HERE/ort-wasm-simd-threaded.wasm.gz"
python3 -c "import brotli, sys; open(sys.argv[2], 'wb').write(brotli.compress(open(sys.argv[1], 'rb').read(), quality=11, lgwin=24))" \
  "$DIST/ort-wasm-simd-threaded.wasm" "$HERE/ort-wasm-simd-threaded.wasm.br"
echo "$VERSION" > "$HERE/VERSION"
echo "onnxruntime-web $VERSION vendored in $HERE"
