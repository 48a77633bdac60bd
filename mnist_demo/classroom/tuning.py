"""A class's own model: the class's drawings split for "Train on our class", and the class models.

The teaching itself is `training.teach` (the one engine, a `TeachJob` in a process of its own under the
training cap); this module only says which drawings teach and which measure, and keeps the result.

* Hold-out: within each digit given, in the order the drawings arrived, every HOLD_OUT_EVERY-th (5th)
  drawing is kept apart (`teach.hold_out`) and both models, the picked one and the class-tuned one, are
  measured on those alone. A digit with fewer than 5 drawings is all taught.
* Kept with the class in the class store (`store.save_class_model`: safetensors bytes, card, the comparison,
  and its ONNX export for the page's runtime, `device_models`, which every server then serves as is), one model per class (training again replaces it), deleted with the class: it survives
  a restart, and every app server sharing the database serves the same one. Each process keeps the networks
  it has loaded in memory, at most MAX_MODELS at once (the least recently used goes first), and asks the store
  at most every CHECK_S seconds whether a class's model is still the newest: a training finished on another
  server (or a class deleted there) reaches this one within CHECK_S.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import device_models, weights
from ..catalog import Entry
from ..data import Split
from ..training import teach as teaching
from . import store as class_store
from .store import Drawing

log = logging.getLogger(__name__)

MIN_DRAWINGS = 10  # fewer than this: nothing worth teaching
MAX_MODELS = 20  # class models held in memory at once (a DigitNet is ~1.3 MB); the store keeps them all
CHECK_S = 2.0  # how often a process asks the store whether its copy of a class's model is still the newest
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
                      [ordered[i].number for i in taught], [ordered[i].number for i in held],
                      np.bincount(labels, minlength=10).tolist())


@dataclass(frozen=True)
class ClassModel:
    code: str
    entry: Entry  # key "class:CODE"
    base_key: str  # the model it was tuned from
    base_title: str
    result: teaching.TeachResult
    held_ids: list[int]
    trained_at: float  # the store's stamp of this model (0 until stored)


def model_key(code: str) -> str:
    return KEY_PREFIX + code


class ClassModels:
    """code -> ClassModel: the class models of the class store `store`, with the networks loaded in memory
    (bounded, least recently used first out) and rechecked against the store every `check_s`.
    Safe from any thread."""

    def __init__(self, store: class_store.ClassStore, limit: int = MAX_MODELS, check_s: float = CHECK_S,
                 clock=time.monotonic) -> None:
        self.store, self.limit, self.check_s, self.clock = store, limit, check_s, clock
        # code -> (model, checked, the store's stamp it was read at: None when the class had no model)
        self._models: OrderedDict[str, tuple[ClassModel | None, float, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(model is not None for model, *_ in self._models.values())

    def _remember(self, code: str, model: ClassModel | None, stamp: float | None) -> None:
        with self._lock:
            self._models.pop(code, None)
            self._models[code] = (model, self.clock(), stamp)
            while len(self._models) > self.limit:
                self._models.popitem(last=False)

    def put(self, model: ClassModel) -> None:
        """Keep `model` with its class (replacing the class's model before) and in memory; raises
        store.ClassError("no_class") when the class is gone."""
        card = model.entry.card
        trained = self.store.save_class_model(model.code, weights.to_bytes(model.entry.model, card), card,
                                              base=model.base_key, base_title=model.base_title,
                                              held_ids=model.held_ids)
        found = device_models.device_file(model.entry.model)  # the page's runtime runs it as ONNX: exported once
        if found is not None:
            self.store.save_class_model_onnx(model.code, trained, found.data)
        self._remember(model.code, dataclasses.replace(model, trained_at=trained), trained)

    def get(self, code: str | None) -> ClassModel | None:
        """The class's model (None: it has none, or no such class), from memory while the store has no newer one."""
        if not code:
            return None
        with self._lock:
            cached = self._models.get(code)
            if cached is not None:
                self._models.move_to_end(code)
                if self.clock() - cached[1] < self.check_s:
                    return cached[0]
        trained = self.store.class_model_trained(code)
        if cached is not None and trained == cached[2]:  # unchanged: no model, the same one, or one that won't load
            self._remember(code, cached[0], trained)
            return cached[0]
        try:
            found = None if trained is None else load(self.store.class_model(code))
        except weights.WeightsError as exc:  # kept by an earlier version whose network has changed since
            log.warning("class %s: its model no longer loads (%s); the class answers with the default", code, exc)
            found = None
        self._remember(code, found, trained)
        return found

    def drop(self, code: str) -> bool:
        """Forget this process's copy (the store deletes the class's model with the class)."""
        with self._lock:
            cached = self._models.pop(code, None)
        return cached is not None and cached[0] is not None

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


def load(stored: class_store.StoredModel | None) -> ClassModel | None:
    """A class model as the store keeps it, loaded (its weights checked as any weights file's)."""
    if stored is None:
        return None
    model, card = weights.load_bytes_checked(stored.weights, Path(f"class-{stored.code}.safetensors"), stored.card)
    taught = card.get("taught", {})
    result = teaching.TeachResult(model, **{f.name: taught.get(f.name) for f in dataclasses.fields(teaching.TeachResult)
                                            if f.name != "model"})
    if stored.onnx is not None:
        device_models.adopt(model, stored.onnx)
    entry = Entry(model_key(stored.code), model, card)
    return ClassModel(stored.code, entry, stored.base, stored.base_title, result, stored.held_ids, stored.trained)


def make_class_model(code: str, base: Entry, result: teaching.TeachResult, split: ClassSplit,
                     class_name: str) -> ClassModel:
    title = base.card.get("title") or base.card.get("model")
    card = {**teaching.taught_card(base.card, result, split.counts), "title": f"{title} + class {class_name}",
            "command": "taught in the browser (Class tab: Train on our class)"}
    card["taught"] = {**card["taught"], "measured_on": f"every {teaching.HOLD_OUT_EVERY}th drawing of each digit "
                      "given, in the order given, held out"}
    entry = Entry(model_key(code), result.model, card)
    return ClassModel(code, entry, base.key, str(title), result, split.held_ids, time.time())
