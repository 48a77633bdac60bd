"""A model on a class's drawings: its answers, the class accuracy and the confusion matrix.

The dashboard asks again every few seconds while drawings arrive, so answers are remembered per
(model, drawing) and only new drawings go through the model, as one batch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..models import evaluating, probabilities
from .store import Drawing

CACHE_SIZE = 200_000  # (model, drawing) answers kept; ~100 bytes each


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
    """answers(model, drawings) -> (answer, confidence) per drawing, remembered across calls."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[int, int], tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, model: nn.Module, drawings: list[Drawing]) -> list[tuple[int, float]]:
        tag = id(model)
        with self._lock:
            known = {d.id: self._cache.get((tag, d.id)) for d in drawings}
        todo = [d for d in drawings if known[d.id] is None]
        for start in range(0, len(todo), 512):
            chunk = todo[start:start + 512]
            x = torch.from_numpy(np.stack([d.input for d in chunk]).astype(np.float32) / 255.0).unsqueeze(1)
            with torch.inference_mode(), evaluating(model):
                probs = probabilities(model, model(x)).float()
            conf, answer = probs.max(dim=1)
            with self._lock:
                for d, a, c in zip(chunk, answer.tolist(), conf.tolist(), strict=True):
                    known[d.id] = (int(a), float(c))
                    self._cache[(tag, d.id)] = (int(a), float(c))
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return [known[d.id] for d in drawings]


ANSWERS = Answers()


def confusion(model: nn.Module, drawings: list[Drawing], answers: Answers = ANSWERS) -> Confusion:
    matrix = np.zeros((10, 10), np.int64)
    cells: dict[tuple[int, int], list[int]] = {}
    for drawing, (answer, _) in zip(drawings, answers(model, drawings), strict=True):
        matrix[drawing.label, answer] += 1
        cells.setdefault((drawing.label, answer), []).append(drawing.id)
    return Confusion(matrix, cells)
