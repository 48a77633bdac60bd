"""Shared by every test: the data folder (as the app: $MNIST_DEMO_DATA, else ./data) and no analytics.
Browser fixtures live in tests/browser/conftest.py; helpers in tests/harness.py."""

from __future__ import annotations

import os

from tests.harness import ROOT

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Absolute, so the CLI tests' subprocesses and any working directory see the same folder as the app would
# from the repository root; missing files are downloaded there through torchvision where the internet is reachable.
os.environ.setdefault("MNIST_DEMO_DATA", str(ROOT / "data"))
