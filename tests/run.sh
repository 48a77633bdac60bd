#!/usr/bin/env bash
# The test command (README): installs what the tests need into the current Python environment
# (requirements, dev requirements, Debian's Chromium when missing), then runs ruff and every test:
# unit, slow and browser tests (tests/browser) alike. Extra arguments go to pytest (e.g. -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "--- installing Debian's chromium for the browser tests"
  (apt-get update -q && apt-get install -y -q chromium) >/tmp/mnist-demo-apt.log 2>&1 \
    || { tail -20 /tmp/mnist-demo-apt.log; exit 1; }
fi
python -m pip install -q -r requirements.txt -r requirements-dev.txt

# The data folder, as the app: $MNIST_DEMO_DATA, else ./data (downloaded through torchvision where the
# internet is reachable). .ci/run points it at the shared copy.
export MNIST_DEMO_DATA="${MNIST_DEMO_DATA:-$PWD/data}"
export GRADIO_ANALYTICS_ENABLED=False
python -m ruff check .
python -m pytest -q -p no:cacheprovider "$@"
