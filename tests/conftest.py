"""Shared by every test: the data folder (as the app: $MNIST_DEMO_DATA, else ./data) and no analytics.
Browser fixtures live in tests/browser/conftest.py; helpers in tests/harness.py."""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.harness import ROOT

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Absolute, so the CLI tests' subprocesses and any working directory see the same folder as the app would
# from the repository root; missing files are downloaded there through torchvision where the internet is reachable.
os.environ.setdefault("MNIST_DEMO_DATA", str(ROOT / "data"))
# Any late call of the app (a class dashboard tick in flight after a test) lands in a temporary state folder,
# never ./state.
os.environ.setdefault("MNIST_DEMO_STATE", tempfile.mkdtemp(prefix="mnist-demo-state-"))


@pytest.fixture
def class_db(tmp_path, monkeypatch):
    """A fresh class store in use by the Class tab's handlers, with fresh rate limits and class models."""
    from mnist_demo.classroom import security, store, tuning
    from mnist_demo.ui import class_tab

    s = store.ClassStore(tmp_path / "state")
    store.use_store(s)
    monkeypatch.setattr(class_tab, "GUARD", security.Guard())
    monkeypatch.setattr(tuning, "MODELS", tuning.ClassModels())
    yield s
    store.use_store(None)
    s.close()
