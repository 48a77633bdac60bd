"""Teach a trained network one person's handwriting: fine-tune a copy on My digits, through the one engine.

`teach` runs `engine.train` on a copy of the model with the TEACH recipe: each epoch is the first
MNIST_MIX MNIST training images plus the person's digits repeated to about MINE_PER_EPOCH images,
all under the engine's own "digits" augmentation, so the network learns the new style without
forgetting everyone else's. A fixed amount of work whatever the number of digits: about 9,000
images seen, 10-20 s on two CPU cores (bench/teach.py measures it).

How well it worked is measured on digits the teaching did not use: `hold_out` keeps every
HOLD_OUT_EVERY-th digit of each label apart (a hold-out, not cross-validation, which would cost
one teaching per fold), and the MNIST test set is measured before and after.
"""

from __future__ import annotations

import copy
import math
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from ..data import Split, load_split, resolve_data_dir
from ..models import build_model
from .budget import training_seconds
from .engine import Progress, train
from .metrics import accuracy
from .recipes import Recipe
from .runner import Job
from .slots import TrainingSlots

MNIST_MIX = 2000  # MNIST images in every teaching epoch (the first ones of the training set)
MINE_PER_EPOCH = 1000  # the person's digits, repeated, fill about this many images of every epoch
HOLD_OUT_EVERY = 5  # every 5th digit of each label is kept out of the teaching to measure it
TEACH = Recipe("teach", "Teach: fine-tune on My digits (repeated) mixed with 2,000 MNIST images; AdamW lr 0.001 "
               "one-cycle, drawing-like augmentation, label smoothing 0.1, batch 64, 3 epochs.",
               "adamw", 1e-3, weight_decay=5e-4, batch_size=64, epochs=3, schedule="onecycle", augment="digits",
               label_smoothing=0.1, train_subset=MNIST_MIX)
SUFFIX = " + my handwriting"


@dataclass(frozen=True)
class TeachResult:
    model: nn.Module  # the taught copy, on the CPU, in eval mode
    trained_on: int  # the person's digits used for teaching
    held_out: int  # ... and kept apart to measure it (0: nothing to measure)
    mine_before: float | None  # accuracy on the held-out digits, before and after (None when none)
    mine_after: float | None
    mnist_before: float
    mnist_after: float
    seconds: float  # the teaching alone (the engine's run, its final MNIST test included)
    stopped: bool

    def summary(self) -> dict:
        """The numbers, rounded, for a card or a results file."""
        r = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {"trained_on": self.trained_on, "held_out": self.held_out, "mine_before": r(self.mine_before),
                "mine_after": r(self.mine_after), "mnist_before": r(self.mnist_before),
                "mnist_after": r(self.mnist_after), "seconds": round(self.seconds, 1), "stopped": self.stopped}


def hold_out(labels: np.ndarray | torch.Tensor, every: int = HOLD_OUT_EVERY) -> tuple[np.ndarray, np.ndarray]:
    """(indices to teach with, indices held out): within each label, in the order added, every `every`-th digit
    is held out (a label with fewer than `every` digits is all taught)."""
    labels = np.asarray(labels)
    held = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        held[where[every - 1::every]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def first_per_class(labels: np.ndarray | torch.Tensor, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the first `n` digits of each label, indices of the rest): a user who gives n of each."""
    labels = np.asarray(labels)
    first = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        first[np.flatnonzero(labels == label)[:n]] = True
    return np.flatnonzero(first), np.flatnonzero(~first)


def subset(split: Split, indices: np.ndarray) -> Split:
    index = torch.as_tensor(indices, dtype=torch.long)
    return Split(split.images[index], split.labels[index])


def repeated(split: Split, target: int = MINE_PER_EPOCH) -> Split:
    """The split repeated so it makes up about `target` images (at least once)."""
    times = max(1, math.ceil(target / max(len(split), 1)))
    return Split(split.images.repeat(times, 1, 1), split.labels.repeat(times))


_mnist_accuracy: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mnist_accuracy(model: nn.Module, data_dir=None) -> float:
    """The model's MNIST test accuracy, measured once per model object (an untaught model does not change)."""
    if model not in _mnist_accuracy:
        _mnist_accuracy[model] = accuracy(model, load_split("mnist", "test", data_dir), torch.device("cpu"))
    return _mnist_accuracy[model]


def teach(model: nn.Module, mine: Split, *, held_out: Split | None = None, recipe: Recipe = TEACH,
          data_dir=None, seed: int = 0, should_stop: Callable[[], bool] | None = None,
          report_seconds: float = 0.25, mnist_before: float | None = None) -> Iterator[Progress | TeachResult]:
    """Fine-tune a copy of `model` on `mine` (never `model` itself), yielding the engine's `Progress`, then one
    `TeachResult` last. `held_out`: the person's digits to measure on (not taught)."""
    if len(mine) == 0:
        raise ValueError("My digits is empty: add some digits before teaching")
    started = time.perf_counter()
    if mnist_before is None:
        mnist_before = mnist_accuracy(model, data_dir)
    mine_before = accuracy(model, held_out, torch.device("cpu")) if held_out is not None and len(held_out) else None
    taught = copy.deepcopy(model).cpu()
    final = None
    for event in train(taught, recipe, "mnist", data_dir=data_dir, seed=seed, device="cpu", should_stop=should_stop,
                       report_seconds=report_seconds, test_every_epoch=False, extra_train=repeated(mine)):
        final = event
        yield event
    taught.cpu().eval()
    mine_after = accuracy(taught, held_out, torch.device("cpu")) if mine_before is not None else None
    _mnist_accuracy[taught] = final.test_acc
    yield TeachResult(taught, len(mine), len(held_out) if held_out is not None else 0, mine_before, mine_after,
                      mnist_before, final.test_acc, time.perf_counter() - started, final.stopped)


def run_teach(model: nn.Module, mine: Split, **options) -> TeachResult:
    """`teach` to the end; its result."""
    result = None
    for event in teach(model, mine, **options):
        result = event
    return result


def taught_card(card: dict, result: TeachResult, counts: list[int]) -> dict:
    """The taught model's card: its base's, renamed, with the teaching's numbers."""
    return {**card, "title": f"{card.get('title') or card.get('model')}{SUFFIX}",
            "test_accuracy": round(result.mnist_after, 4), "test_images": 10_000,
            "taught": {**result.summary(), "digits_per_label": counts, "recipe": {**vars(TEACH)},
                       "measured_on": f"every {HOLD_OUT_EVERY}th digit of each label, held out"},
            "command": "taught in the browser (Draw tab: My digits)"}


def mnist_before(card: dict) -> float | None:
    """A model's MNIST test accuracy from its card when it was measured on the whole test set (else the teaching
    measures it): the "before" of every teaching's comparison."""
    acc, images = card.get("test_accuracy"), card.get("test_images", 10_000)
    return float(acc) if isinstance(acc, (int, float)) and images == 10_000 else None


# ---------------------------------------------------------------------------------------------
# One teaching from the browser (My digits, or a class's drawings): a `runner.Job` whose entry is `teach_entry`


def _tensors(split: Split | None) -> dict:
    return {} if split is None else {"images": split.images.contiguous(), "labels": split.labels.contiguous()}


def _split(blob: bytes) -> Split | None:
    tensors = load_tensors(blob)
    return Split(tensors["images"], tensors["labels"]) if tensors else None


def teach_entry(report, should_stop, params: dict) -> dict:
    """The teaching process's work: rebuild the model from plain data, teach, return the taught weights and the
    result's numbers."""
    from .worker import weights_bytes

    model = build_model(params["model"])
    model.load_state_dict(load_tensors(params["weights"]))
    result = None
    for event in teach(model, _split(params["mine"]), held_out=_split(params["held_out"]),
                       data_dir=params["data_dir"], should_stop=should_stop, mnist_before=params["mnist_before"]):
        if isinstance(event, TeachResult):
            result = event
        else:
            report(event)
    return {"weights": weights_bytes(result.model), "summary": {k: v for k, v in vars(result).items() if k != "model"}}


class TeachJob(Job):
    """Teach a copy of `model` on `mine` in a process of its own once the line lets it run (`held_out`: the
    digits that measure it). Poll `snapshot()` (its `result` is a `TeachResult`); set `stop` to end it between
    steps, keeping what was learned."""

    entry = staticmethod(teach_entry)
    stop_cancels_until_progress = False  # stopped early, the copy is still the trained model: keep it

    def __init__(self, model: nn.Module, model_name: str, mine: Split, held_out: Split | None, *,
                 slots: TrainingSlots | None = None, data_dir=None, mnist_before: float | None = None,
                 session=None, address: str | None = None, group=None) -> None:
        super().__init__(name="teach", slots=slots, session=session, address=address, group=group,
                         cost=training_seconds(model_name, TEACH, len(repeated(mine))))
        self._model_name = model_name
        self._params = {"model": model_name, "weights": save_tensors(
            {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}),
            "mine": save_tensors(_tensors(mine)), "held_out": save_tensors(_tensors(held_out)),
            "data_dir": str(resolve_data_dir(data_dir).resolve()), "mnist_before": mnist_before}

    def params(self) -> dict:
        return self._params

    def decode(self, payload: dict) -> TeachResult:
        model = build_model(self._model_name)
        model.load_state_dict(load_tensors(payload["weights"]))
        return TeachResult(model.eval(), **payload["summary"])
