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
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from .. import settings
from ..data import Split, load_split, resolve_data_dir
from ..models import build_model
from .budget import training_seconds
from .engine import Progress, train
from .metrics import accuracy
from .recipes import Recipe
from .slots import AlreadyQueued, QueueFull, TrainingSlots, shared_slots

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


# ---------------------------------------------------------------------------------------------
# One teaching from the browser: a process of its own (as `job.TrainingJob`'s trainings), under the
# global training cap, polled by the page


def _tensors(split: Split | None) -> dict:
    return {} if split is None else {"images": split.images.contiguous(), "labels": split.labels.contiguous()}


def _split(blob: bytes) -> Split | None:
    tensors = load_tensors(blob)
    return Split(tensors["images"], tensors["labels"]) if tensors else None


def teach_main(conn, stop, params: dict) -> None:
    """The teaching process: rebuild the model from plain data, teach, send progress and the result back."""
    from .worker import _lower_priority, friendly_error, progress_message, weights_bytes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def should_stop() -> bool:
        if os.getppid() != parent:  # the server is gone
            os._exit(3)
        return stop.is_set()

    try:
        _lower_priority(params["threads"], params["nice"])
        model = build_model(params["model"])
        model.load_state_dict(load_tensors(params["weights"]))
        result = None
        for event in teach(model, _split(params["mine"]), held_out=_split(params["held_out"]),
                           data_dir=params["data_dir"], should_stop=should_stop, mnist_before=params["mnist_before"]):
            if isinstance(event, TeachResult):
                result = event
            else:
                conn.send(("progress", progress_message(event)))
        summary = {k: v for k, v in vars(result).items() if k != "model"}
        conn.send(("result", {"weights": weights_bytes(result.model), "summary": summary}))
    except (BrokenPipeError, EOFError):
        pass
    except Exception as exc:
        conn.send(("error", friendly_error(exc)))
    finally:
        conn.close()


class TeachJob:
    """Teach in a process of its own once a training slot is free; poll `state`, `position`, `latest`,
    `result`, `error`; set `stop` to end it (between steps, keeping what was learned)."""

    def __init__(self, model: nn.Module, model_name: str, mine: Split, held_out: Split | None, *,
                 slots: TrainingSlots | None = None, data_dir=None, mnist_before: float | None = None,
                 session=None) -> None:
        from .job import default_threads

        self.stop = threading.Event()
        self.state = "queued"  # queued, running, done, cancelled, failed
        self.position = 0
        self.queue_seconds = 0.0  # estimated seconds until it starts
        self.session = session  # whose teaching: one place in line per session
        self._cost = training_seconds(model_name, TEACH, len(repeated(mine)))
        self.latest: Progress | None = None
        self.result: TeachResult | None = None
        self.error: str | None = None
        self._model_name = model_name
        data_dir = str(resolve_data_dir(data_dir).resolve())
        self._params = {"model": model_name, "weights": save_tensors(
            {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}),
            "mine": save_tensors(_tensors(mine)), "held_out": save_tensors(_tensors(held_out)),
            "data_dir": data_dir, "mnist_before": mnist_before, "threads": default_threads(),
            "nice": settings.current().train_nice}
        self._slots = slots or shared_slots()
        self._thread = threading.Thread(target=self._run, name="teach", daemon=True)

    def start(self) -> TeachJob:
        try:
            self._ticket = self._slots.join(self.session, self._cost)
        except (QueueFull, AlreadyQueued) as exc:
            self.state, self.error = "failed", str(exc)
            return self
        self.position, self.queue_seconds = self._ticket.position(), self._ticket.estimated_start()
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "cancelled", "failed")

    def _run(self) -> None:
        from .job import _mp_context
        from .worker import friendly_error, progress_from_message

        process = None
        try:
            while not self._ticket.wait(0.2):
                if self.stop.is_set() or self._ticket.cancelled:
                    self.state = "cancelled"
                    return
                self.position, self.queue_seconds = self._ticket.position(), self._ticket.estimated_start()
            if self.stop.is_set():
                self.state = "cancelled"
                return
            self.position, self.queue_seconds, self.state = 0, 0.0, "running"
            ctx = _mp_context()
            receiver, sender = ctx.Pipe(duplex=False)
            child_stop = ctx.Event()
            process = ctx.Process(target=teach_main, args=(sender, child_stop, self._params), daemon=True, name="teach")
            process.start()
            sender.close()
            while True:
                if self.stop.is_set():
                    child_stop.set()
                ready = multiprocessing.connection.wait([receiver, process.sentinel], timeout=0.2)
                if not ready:
                    continue
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    process.join(1)
                    raise RuntimeError(f"the teaching process stopped unexpectedly (exit code {process.exitcode})") \
                        from None
                if kind == "progress":
                    self.latest = progress_from_message(payload)
                    self._ticket.report(1.0 if self.latest.kind == "done" else self.latest.fraction)
                elif kind == "error":
                    self.state, self.error = "failed", payload
                    return
                else:
                    model = build_model(self._model_name)
                    model.load_state_dict(load_tensors(payload["weights"]))
                    self.result = TeachResult(model.eval(), **payload["summary"])
                    self.state = "done"
                    return
        except Exception as exc:  # shown to the user; the server keeps serving
            self.state, self.error = "failed", friendly_error(exc)
        finally:
            if process is not None:
                process.join(5)
                if process.is_alive():
                    process.terminate()
                    process.join(5)
            self._ticket.release()
