"""The core never imports gradio: every module of mnist_demo outside mnist_demo.ui imports without it."""

from __future__ import annotations

import subprocess
import sys

from tests.harness import ROOT

PACKAGE = ROOT / "mnist_demo"


def core_modules() -> list[str]:
    """Every module of the package found on disk, except the UI (found by walking files: nothing is imported)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[:2] != ("mnist_demo", "ui"):
            names.append(".".join(parts))
    return names


def test_the_walk_finds_the_core():
    modules = core_modules()
    for name in ("mnist_demo", "mnist_demo.reading.predict", "mnist_demo.training.job", "mnist_demo.inspection",
                 "mnist_demo.train", "mnist_demo.evaluate", "mnist_demo.data"):
        assert name in modules
    assert not any(name.startswith("mnist_demo.ui") for name in modules)


def test_importing_the_core_does_not_import_gradio():
    modules = core_modules()
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "leaked = sorted(m for m in sys.modules if m == 'gradio' or m.startswith('gradio.'))\n"
    code += "assert not leaked, leaked[:5]\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
