"""The shipped models: every weights/*.safetensors file, loaded once and shared read-only.

The app never trains at start-up; it shows what `python -m mnist_demo.train` wrote here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from . import weights
from .models import MODELS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_MODEL = "digitnet"


@dataclass
class Entry:
    """A trained model ready to predict, with its card."""

    key: str  # "digitnet" for shipped models, "session:..." for ones trained in a browser session
    model: nn.Module
    card: dict

    @property
    def dataset(self) -> str:
        return self.card.get("dataset", "mnist")

    @property
    def label(self) -> str:
        """Name with its measured test accuracy, for pickers: "DigitNet (default) · 99.65%"."""
        title = self.card.get("title") or MODELS[self.card["model"]].title
        acc = self.card.get("test_accuracy")
        return f"{title} · {acc:.2%}" if isinstance(acc, (int, float)) else title


def _order(name: str) -> int:
    names = list(MODELS)
    return names.index(name) if name in names else len(names)


@functools.lru_cache(maxsize=1)
def shipped(weights_dir: str = str(WEIGHTS_DIR)) -> dict[str, Entry]:
    """name -> Entry for every loadable weights file, in registry order (the default first)."""
    entries = {}
    for path in sorted(Path(weights_dir).glob("*.safetensors"), key=lambda p: _order(p.stem)):
        model, card = weights.load(path)
        entries[path.stem] = Entry(path.stem, model, card)
    return entries
