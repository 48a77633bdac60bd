#!/usr/bin/env bash
# The test command: ruff, then every test (unit, slow and browser ones alike).
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
python -m pytest -q -p no:cacheprovider "$@"
