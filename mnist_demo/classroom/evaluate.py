"""A model on a class's drawings: its answers, the class accuracy and the confusion matrix.

The dashboard asks again every few seconds while drawings arrive, so answers are remembered per
(model, drawing) and only new drawings go through the model, as one batch.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..models import evaluating, probabilities
from .store import Drawing

CACHE_SIZE = 100_000  # answers kept per model; ~150 bytes each


@dataclass
class Confusion:
    matrix: np.ndarray  # (10, 10) counts: rows the label given, columns the model's answer
    cells: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (label, answer) -> drawing ids

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    @property
    def correct(self) -> int:
        return int(np.trace(self.matrix))

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None


class Answers:
    """answers(model, drawings) -> (answer, confidence) per drawing, remembered across calls.

    Remembered per model object (weakly: a dropped session model takes its answers with it) and per
    drawing (its id and time, so a drawing of another store or a reused id is never mistaken for it).
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._cache: weakref.WeakKeyDictionary[nn.Module, OrderedDict] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(known) for known in self._cache.values())

    def __call__(self, model: nn.Module, drawings: list[Drawing]) -> list[tuple[int, float]]:
        with self._lock:
            cache = self._cache.setdefault(model, OrderedDict())
            known = {(d.id, d.created): cache.get((d.id, d.created)) for d in drawings}
        todo = [d for d in drawings if known[(d.id, d.created)] is None]
        for start in range(0, len(todo), 512):
            chunk = todo[start:start + 512]
            x = torch.from_numpy(np.stack([d.input for d in chunk]).astype(np.float32) / 255.0).unsqueeze(1)
            with torch.inference_mode(), evaluating(model):
                probs = probabilities(model, model(x)).float()
            conf, answer = probs.max(dim=1)
            with self._lock:
                for d, a, c in zip(chunk, answer.tolist(), conf.tolist(), strict=True):
                    known[(d.id, d.created)] = cache[(d.id, d.created)] = (int(a), float(c))
                while len(cache) > self.size:
                    cache.popitem(last=False)
        return [known[(d.id, d.created)] for d in drawings]


ANSWERS = Answers()


def confusion(model: nn.Module, drawings: list[Drawing], answers: Answers = ANSWERS) -> Confusion:
    matrix = np.zeros((10, 10), np.int64)
    cells: dict[tuple[int, int], list[int]] = {}
    for drawing, (answer, _) in zip(drawings, answers(model, drawings), strict=True):
        matrix[drawing.label, answer] += 1
        cells.setdefault((drawing.label, answer), []).append(drawing.id)
    return Confusion(matrix, cells)
