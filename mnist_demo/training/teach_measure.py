"""How a teaching is measured honestly: which of a person's digits are kept apart, and what their figures rest on.

A figure on a handful of digits is noise: with 10 kept apart one digit moves it 10 points. So digits are kept
apart only when at least MIN_MEASURED of them can be (one digit is then 5 points at most) while most are still
taught: MIN_MEASURED from MIN_COLLECTION digits (a third), a fifth once that is more (the count keeps growing).
Below MIN_COLLECTION digits nothing is kept apart, everything is taught, and the page says why instead of a
percentage. What the untaught network makes of *all* the person's digits is always an honest figure (it has
seen none of them), so it is given too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import Split
from .metrics import accuracy

MIN_MEASURED = 20  # digits a before/after figure rests on, at least
SHARE_BELOW_100 = 3  # one digit in 3 kept apart until MIN_MEASURED are ...
SHARE_FROM_100 = 5  # ... one in 5 once a fifth is MIN_MEASURED or more
MIN_COLLECTION = MIN_MEASURED * SHARE_BELOW_100  # 60 digits: fewer are all taught, and not measured


def kept_apart_count(total: int) -> int:
    """How many of `total` digits measure the teaching (0: too few to measure)."""
    count = max(total // SHARE_FROM_100, min(MIN_MEASURED, total // SHARE_BELOW_100))
    return count if count >= MIN_MEASURED else 0


def measure_split(labels: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(indices to teach with, indices kept apart): `kept_apart_count` digits, spread over the labels in
    proportion to their counts and evenly over each label's digits in the order they were added."""
    labels = np.asarray(labels)
    want = kept_apart_count(len(labels))
    held = np.zeros(len(labels), bool)
    if want:
        values, counts = np.unique(labels, return_counts=True)
        exact = counts * want / len(labels)
        per_label = np.floor(exact).astype(int)
        for i in np.argsort(-(exact - per_label), kind="stable")[:want - per_label.sum()]:  # largest remainders
            per_label[i] += 1
        for value, count, take in zip(values, counts, per_label, strict=True):
            where = np.flatnonzero(labels == value)
            held[where[((np.arange(take) + 0.5) * count / max(take, 1)).astype(int)]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclass(frozen=True)
class Figure:
    """A count of right answers out of the digits it rests on."""

    right: int
    total: int

    @property
    def share(self) -> float:
        return self.right / self.total

    @classmethod
    def of(cls, accuracy: float | None, total: int) -> Figure | None:
        return None if accuracy is None or total <= 0 else cls(round(accuracy * total), total)


def right_answers(model: torch.nn.Module, digits: Split) -> Figure | None:
    """How many of these digits `model` reads right (None for none)."""
    return Figure.of(accuracy(model, digits, torch.device("cpu")), len(digits)) if len(digits) else None


def card_note(held: int) -> str:
    """What the card's before/after rests on (its `measured_on`)."""
    if not held:
        return f"not measured: fewer than {MIN_COLLECTION} digits, all taught"
    return f"{held} digits kept apart from the teaching, spread over the labels"
