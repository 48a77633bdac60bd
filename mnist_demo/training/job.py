"""One training started from the browser, run in a worker thread that the page polls.

The thread waits for a slot (`slots`), runs the engine (`engine.train`) with a lower CPU
priority so that other people's predictions still get the CPU at once, keeps the curves, and at
the end evaluates the model once for the results panel and builds its card (`card.build_card`,
the same as the command line's). The page reads `snapshot()` a few times a second; nothing here
copies data per training step.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import torch
from torch import nn

from ..data import load_split
from ..models import build_model
from .card import build_card, epoch_record
from .engine import Progress, train
from .metrics import Evaluation, evaluate_model
from .recipes import Recipe
from .slots import TrainingSlots, shared_slots

log = logging.getLogger(__name__)

TRAIN_THREADS_ENV = "MNIST_DEMO_TRAIN_THREADS"  # torch threads for a training (default: all cores)
TRAIN_NICE_ENV = "MNIST_DEMO_TRAIN_NICE"  # how much lower a training's CPU priority is (default 10)


@dataclass(frozen=True)
class JobSpec:
    """What to train: a registered model, a dataset, a validated recipe, a seed."""

    model: str
    dataset: str
    recipe: Recipe
    seed: int = 0


@dataclass(frozen=True)
class CurvePoint:
    epoch: float  # fractional epochs done, the x axis of the curves
    loss: float
    train_acc: float


@dataclass(frozen=True)
class JobResult:
    model: nn.Module  # on the CPU, in eval mode
    card: dict
    evaluation: Evaluation
    stopped: bool


@dataclass(frozen=True)
class Snapshot:
    """What the page shows right now."""

    state: str  # queued, running, evaluating, done, cancelled, failed
    version: int  # grows with every change; equal versions mean nothing new
    queue_position: int  # 1 = next in line; 0 once running
    trainings_running: int
    latest: Progress | None
    images_per_sec: float  # the latest measured speed (the final report has none of its own)
    curve: tuple[CurvePoint, ...]
    test_curve: tuple[tuple[int, float], ...]  # (epoch, test accuracy) after each epoch
    result: JobResult | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "cancelled", "failed")


def _limit_cpu(threads: int, nice: int) -> None:
    """Run this thread's torch ops on `threads` threads at a lower priority (Linux: per thread).

    OpenMP worker threads started from here inherit the priority, so a prediction in another
    thread preempts the training instead of queueing behind it. torch.set_num_threads also sets
    the default for threads created later; a short-lived thread puts that default back.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    if threads != previous:
        restore = threading.Thread(target=torch.set_num_threads, args=(previous,), daemon=True)
        restore.start()
        restore.join()
    if nice > 0 and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as exc:  # not permitted on some systems: train at normal priority
            log.warning("could not lower the training thread's priority: %s", exc)


def default_threads() -> int:
    env = os.environ.get(TRAIN_THREADS_ENV)
    if env:
        return max(1, int(env))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class TrainingJob:
    """A training in its own thread: `start()`, then poll `snapshot()`; set `stop` to end it early.

    Stopping while queued cancels it; stopping while training ends the run between steps and
    keeps (and evaluates) what was learned.
    """

    def __init__(self, spec: JobSpec, stop: threading.Event | None = None, *, slots: TrainingSlots | None = None,
                 data_dir: str | None = None, device: str | None = None, threads: int | None = None,
                 nice: int | None = None, report_seconds: float = 0.25) -> None:
        self.spec = spec
        self.stop = stop or threading.Event()
        self.slots = slots or shared_slots()
        self.data_dir = data_dir
        self.device = device
        self.threads = threads or default_threads()
        self.nice = int(os.environ.get(TRAIN_NICE_ENV, "10")) if nice is None else nice
        self.report_seconds = report_seconds
        self._lock = threading.Lock()
        self._state = "queued"
        self._version = 0
        self._ticket = None
        self._latest: Progress | None = None
        self._images_per_sec = 0.0
        self._curve: list[CurvePoint] = []
        self._test_curve: list[tuple[int, float]] = []
        self._history: list[dict] = []  # the card's per-epoch record, as the command line writes it
        self._result: JobResult | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"train-{spec.model}", daemon=True)

    def start(self) -> TrainingJob:
        self._ticket = self.slots.join()
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def snapshot(self) -> Snapshot:
        position = self._ticket.position() if self._ticket is not None else 0
        running = self.slots.running
        with self._lock:
            return Snapshot(self._state, self._version, position, running, self._latest, self._images_per_sec,
                            tuple(self._curve),
                            tuple(self._test_curve), self._result, self._error)

    def _update(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
            self._version += 1

    def _record(self, event: Progress) -> None:
        with self._lock:
            self._latest = event
            if event.kind == "step":
                self._images_per_sec = event.images_per_sec
            if event.kind == "step" or (event.kind == "epoch" and not self._curve):
                epochs_done = event.fraction * event.epochs
                self._curve.append(CurvePoint(epochs_done, event.loss, event.train_acc))
            if event.kind == "epoch" and event.test_acc is not None:
                self._test_curve.append((event.epoch, event.test_acc))
                self._history.append(epoch_record(event))
            self._version += 1

    def _run(self) -> None:
        ticket = self._ticket
        try:
            while not ticket.wait(0.2):
                if self.stop.is_set():
                    self._update(state="cancelled")
                    return
                self._update()  # the place in line may have moved
            self._update(state="running")
            _limit_cpu(self.threads, self.nice)
            self._train()
        except Exception as exc:  # shown to the user; the server keeps serving
            log.exception("training failed")
            self._update(state="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            ticket.release()

    def _train(self) -> None:
        spec = self.spec
        started = time.time()
        model = build_model(spec.model, seed=spec.seed)
        for event in train(model, spec.recipe, spec.dataset, data_dir=self.data_dir, seed=spec.seed,
                           device=self.device, should_stop=self.stop.is_set, report_seconds=self.report_seconds):
            self._record(event)
        done = self._latest
        self._update(state="evaluating")
        device = next(model.parameters()).device
        model.cpu().eval()
        evaluation = evaluate_model(model, load_split(spec.dataset, "test", self.data_dir).first(spec.recipe.test_subset))
        card = build_card(model_name=spec.model, model=model, dataset=spec.dataset, recipe=spec.recipe,
                          seed=spec.seed, evaluation=evaluation, final=done, history=self._history,
                          seconds=time.time() - started, device=device, threads=self.threads,
                          command="trained in the browser (Train tab)", data_dir=self.data_dir)
        self._update(state="done", result=JobResult(model, card, evaluation, bool(done and done.stopped)))
