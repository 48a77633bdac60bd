"""The models the app can use, and the one resolver of model keys.

A key is a shipped model's name ("digitnet": every weights/*.safetensors file, loaded once and
shared read-only), a browser session's model ("session:3-fastnet"), or a registered
architecture with its seed-0 random weights ("untrained:s5-lenet"). The app never trains at
start-up; it shows what `python -m mnist_demo.train` wrote in weights/.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from . import weights
from .models import MODELS, build_model

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_MODEL = "digitnet"  # what the Draw tab and the /predict API use unless told otherwise
SESSION_PREFIX = "session:"
UNTRAINED_PREFIX = "untrained:"


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


@functools.cache
def untrained(name: str) -> Entry:
    """A registered architecture with its seed-0 random weights: compare with the trained one."""
    model = build_model(name, seed=0).eval()
    return Entry(UNTRAINED_PREFIX + name, model,
                 {"model": name, "dataset": MODELS[name].dataset, "title": MODELS[name].title})


def resolve(key: object, trained: Mapping[str, Entry] | None = None) -> Entry | None:
    """The entry for any model key (`trained`: this session's models), else the default model.

    Keys come from clients, so anything unknown (or not a string) falls back to the default;
    None only when no weights are shipped at all.
    """
    if isinstance(key, str):
        if trained is not None and key in trained:
            return trained[key]
        if key.startswith(UNTRAINED_PREFIX) and key[len(UNTRAINED_PREFIX):] in MODELS:
            return untrained(key[len(UNTRAINED_PREFIX):])
        if key in shipped():
            return shipped()[key]
    models = shipped()
    return models.get(DEFAULT_MODEL) or next(iter(models.values()), None)
