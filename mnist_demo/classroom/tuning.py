"""A class's own model: the class's drawings split for "Train on our class", and the class models kept in memory.

The teaching itself is `training.teach` (the one engine, a `TeachJob` in a process of its own under the
training cap); this module only says which drawings teach and which measure, and keeps the result.

* Hold-out: within each digit given, in the order the drawings arrived, every HOLD_OUT_EVERY-th (5th)
  drawing is kept apart (`teach.hold_out`) and both models, the picked one and the class-tuned one, are
  measured on those alone. A digit with fewer than 5 drawings is all taught.
* Kept in memory only, keyed by class code, one model per class (training again replaces it), at most
  MAX_MODELS classes at once (the least recently used goes first). A class model is dropped when its class is
  deleted, and every class model is gone after a restart of the server: the drawings stay in SQLite, so
  the teacher trains again. Nothing of a class model is written to disk.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from ..catalog import Entry
from ..data import Split
from ..training import teach as teaching
from .store import Drawing

MIN_DRAWINGS = 10  # fewer than this: nothing worth teaching
MAX_MODELS = 20  # class models held at once (a DigitNet is ~1.3 MB)
KEY_PREFIX = "class:"


@dataclass(frozen=True)
class ClassSplit:
    taught: Split
    held: Split | None
    taught_ids: list[int]
    held_ids: list[int]  # the drawings' numbers (#) held out
    counts: list[int]  # drawings per digit given, all of them


def split_drawings(drawings: list[Drawing]) -> ClassSplit:
    """The class's drawings (oldest first) as the drawings to teach with and the ones held out."""
    ordered = sorted(drawings, key=lambda d: d.id)
    labels = np.array([d.label for d in ordered], np.int64)
    images = torch.from_numpy(np.stack([d.input for d in ordered]).astype(np.uint8)) if ordered else \
        torch.zeros((0, 28, 28), dtype=torch.uint8)
    split = Split(images, torch.from_numpy(labels))
    taught, held = teaching.hold_out(labels)
    return ClassSplit(teaching.subset(split, taught), teaching.subset(split, held) if len(held) else None,
                      [ordered[i].id for i in taught], [ordered[i].id for i in held],
                      np.bincount(labels, minlength=10).tolist())


@dataclass(frozen=True)
class ClassModel:
    code: str
    entry: Entry  # key "class:CODE"
    base_key: str  # the model it was tuned from
    base_title: str
    result: teaching.TeachResult
    held_ids: list[int]
    trained_at: float


def model_key(code: str) -> str:
    return KEY_PREFIX + code


class ClassModels:
    """code -> ClassModel, bounded; safe from any thread."""

    def __init__(self, limit: int = MAX_MODELS) -> None:
        self.limit = limit
        self._models: OrderedDict[str, ClassModel] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._models)

    def put(self, model: ClassModel) -> None:
        with self._lock:
            self._models.pop(model.code, None)
            self._models[model.code] = model
            while len(self._models) > self.limit:
                self._models.popitem(last=False)

    def get(self, code: str | None) -> ClassModel | None:
        with self._lock:
            found = self._models.get(code) if code else None
            if found is not None:
                self._models.move_to_end(code)
            return found

    def drop(self, code: str) -> bool:
        with self._lock:
            return self._models.pop(code, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ClassModels()  # the process's class models: gone on restart


def make_class_model(code: str, base: Entry, result: teaching.TeachResult, split: ClassSplit,
                     class_name: str) -> ClassModel:
    title = base.card.get("title") or base.card.get("model")
    card = {**teaching.taught_card(base.card, result, split.counts), "title": f"{title} + class {class_name}",
            "command": "taught in the browser (Class tab: Train on our class)"}
    card["taught"] = {**card["taught"], "measured_on": f"every {teaching.HOLD_OUT_EVERY}th drawing of each digit "
                      "given, in the order given, held out"}
    entry = Entry(model_key(code), result.model, card)
    return ClassModel(code, entry, base.key, str(title), result, split.held_ids, time.time())
