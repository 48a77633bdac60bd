#!/usr/bin/env bash
# The test command (README): installs what the tests need into the current Python environment
# (requirements, dev requirements, Debian's Chromium and a CJK font when missing), then runs ruff and every test:
# unit, slow and browser tests (tests/browser) alike. Extra arguments go to pytest (e.g. -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "--- installing Debian's chromium for the browser tests"
  (apt-get update -q && apt-get install -y -q chromium) >/tmp/mnist-demo-apt.log 2>&1 \
    || { tail -20 /tmp/mnist-demo-apt.log; exit 1; }
fi
# The class store's PostgreSQL tests start a throwaway server of Debian's package (tests/conftest.py); without
# it they skip, saying so (CI sets MNIST_DEMO_REQUIRE_POSTGRES: there they fail instead).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "--- installing Debian's postgresql for the class store's tests"
  (apt-get update -q && apt-get install -y -q postgresql) >/tmp/mnist-demo-apt-pg.log 2>&1 \
    || { tail -5 /tmp/mnist-demo-apt-pg.log; echo "--- no PostgreSQL: its tests will skip"; }
fi
# nginx, for the two-server test that runs docs/nginx.conf as written (sticky sessions); without it that test skips
# (CI: fails). Debian's package starts no service where policy-rc.d forbids it; the test runs its own nginx.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "--- installing Debian's nginx for the two-server test of docs/nginx.conf"
  (apt-get update -q && apt-get install -y -q nginx) >/tmp/mnist-demo-apt-nginx.log 2>&1 \
    || { tail -5 /tmp/mnist-demo-apt-nginx.log; echo "--- no nginx: the test of docs/nginx.conf will skip"; }
fi
# A CJK font, so the Chinese pages' screenshot and layout checks measure real glyphs (WenQuanYi Micro Hei: 1.6 MB).
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  echo "--- installing a CJK font for the Chinese browser tests"
  (apt-get update -q && apt-get install -y -q fonts-wqy-microhei) >/tmp/mnist-demo-apt-fonts.log 2>&1 \
    || { tail -20 /tmp/mnist-demo-apt-fonts.log; exit 1; }
fi
python -m pip install -q -r requirements.txt -r requirements-dev.txt

# The data folder, as the app: $MNIST_DEMO_DATA, else ./data (downloaded through torchvision where the
# internet is reachable). .ci/run points it at the shared copy.
export MNIST_DEMO_DATA="${MNIST_DEMO_DATA:-$PWD/data}"
export GRADIO_ANALYTICS_ENABLED=False
python -m ruff check .
python -m pytest -q -p no:cacheprovider "$@"
