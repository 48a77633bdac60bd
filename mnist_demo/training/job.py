"""One training started from the browser, run in a process of its own that the page polls.

`TrainingJob.start()` takes a place in line (`slots`, whose cap and bounded line it honours) and
starts a small watcher thread. When its turn comes, the watcher starts a training process
(`worker.main`, multiprocessing's "forkserver" context, whose server has imported torch once, so
a job starts in well under a second; $MNIST_DEMO_TRAIN_START=spawn for a fresh interpreter per job)
with `threads` torch threads at a lower CPU priority. The process runs the engine, evaluates the
model and builds its card (`card.build_card`, the same as the command line's), and sends progress
events (a few a second) and at the end the weights as safetensors bytes, the card and the
evaluation, all as plain data. The server only rebuilds the model (`build_model` +
`load_state_dict`): the training's Python work never takes the server's interpreter lock, so
other people's predictions keep their speed.

Stopping (`stop`, a `threading.Event`) while queued, or before the process has reported any
progress, cancels (the process is terminated); while training, it is passed on to the process,
which ends between steps and keeps (and evaluates) what was learned. Whatever happens, the
process is joined or terminated before the job finishes and its slot is released; a process that
crashes or is killed leaves the job "failed" with a short message. `check_length` refuses
trainings longer than $MNIST_DEMO_MAX_TRAIN_STEPS steps (default 20,000 on the CPU, 200,000 on
a GPU; a form can call it with its other checks); `start()` refuses those and, when the line is
full (`slots.QueueFull`), every new job: such a job is "failed" at once with a message that says
why. `warm_up()` starts the fork server ahead of the first training.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from dataclasses import dataclass

import torch
from safetensors.torch import load as load_tensors
from torch import nn

from .. import settings
from ..data import DATASETS, TRAIN_SIZE, resolve_data_dir
from ..models import MODELS, build_model
from . import worker
from .budget import training_seconds
from .engine import Progress, pick_device
from .metrics import Evaluation
from .recipes import Recipe
from .slots import AlreadyQueued, QueueFull, TrainingSlots, shared_slots

log = logging.getLogger(__name__)

__all__ = ["AlreadyQueued", "CurvePoint", "ExtraDigits", "JobResult", "JobSpec", "QueueFull", "Snapshot", "TrainingJob", "TrainingTooLong",
           "check_length", "max_train_steps", "warm_up"]

DEFAULT_MAX_TRAIN_STEPS = {"cpu": 20_000, "cuda": 200_000}  # cpu: every preset (fashion's 18,760 the longest)
STOP_GRACE_SECONDS = 120.0  # after a stop, how long the process may take to evaluate and report
EXIT_SECONDS = 10.0  # after its result, how long the process may take to exit

@dataclass(frozen=True)
class ExtraDigits:
    """Digits trained on besides the dataset's (a My digits zip), as plain data for the training
    process: `images` N*28*28 uint8 bytes, `labels` N uint8 bytes, and what the card records."""

    images: bytes
    labels: bytes
    info: dict

    @classmethod
    def from_split(cls, split, info: dict) -> ExtraDigits:
        return cls(split.images.to(torch.uint8).contiguous().numpy().tobytes(),
                   split.labels.to(torch.uint8).contiguous().numpy().tobytes(), dict(info))

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class JobSpec:
    """What to train: a registered model, a dataset, a validated recipe, a seed, and optionally
    extra digits mixed into the training set."""

    model: str
    dataset: str
    recipe: Recipe
    seed: int = 0
    extra: ExtraDigits | None = None


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
    queue_seconds: float  # estimated seconds until it starts (0 once running)
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


def default_threads() -> int:
    configured = settings.current().train_threads
    if configured is not None:
        return max(1, configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class TrainingTooLong(ValueError):
    """A recipe with more optimizer steps than this server trains."""


def _device_type(model: str, device: str | None) -> str:
    spec = MODELS.get(model)
    return "cpu" if spec is not None and spec.cpu_only else pick_device(device).type


def max_train_steps(device_type: str = "cpu") -> int:
    """The most optimizer steps one training may take on this kind of device."""
    configured = settings.current().max_train_steps
    if configured is not None:
        return max(1, configured)
    return DEFAULT_MAX_TRAIN_STEPS.get(device_type, DEFAULT_MAX_TRAIN_STEPS["cuda"])


def check_length(recipe: Recipe, model: str | None = None, device: str | None = None,
                 extra_images: int = 0) -> None:
    """Raise TrainingTooLong (a ValueError, with a readable message) if `recipe` trains too long
    for the device it would run on (`model` matters: some models run on the CPU whatever the device)."""
    kind = _device_type(model or "", device)
    steps = recipe.steps((recipe.train_subset or TRAIN_SIZE) + extra_images) if extra_images else recipe.steps()
    limit = max_train_steps(kind)
    if steps > limit:
        raise TrainingTooLong(
            f"this training would take {steps:,} steps; this server trains at most {limit:,} on its {kind.upper()} "
            f"(use fewer epochs or training images, or a larger batch_size)")


_context_lock = threading.Lock()
_context = None
_checksums: dict[tuple[str, str], str] = {}  # (dataset, data folder) -> the data checksum a training reported


def _mp_context():
    """The multiprocessing context for training processes (never plain fork: the server has threads)."""
    global _context
    with _context_lock:
        if _context is None:
            method = settings.current().train_start
            if method not in ("forkserver", "spawn") or method not in multiprocessing.get_all_start_methods():
                method = "spawn"
            _context = multiprocessing.get_context(method)
            if method == "forkserver":  # torch, the worker and MNIST loaded once in the fork server, not per job
                _context.set_forkserver_preload([f"{__package__}.preload"])
        return _context


def warm_up() -> None:
    """Start the fork server now (it imports torch in the background, ~3 s of its own CPU) so that
    the first training starts as fast as the later ones. Cheap for the caller; safe to call twice."""
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _crash_message(exitcode: int | None) -> str:
    how = f"it was killed (signal {-exitcode})" if exitcode is not None and exitcode < 0 else \
        f"exit code {exitcode}"
    return f"The training process stopped unexpectedly ({how}; out of memory?). Please try again."


class _Cancelled(Exception):
    pass


class TrainingJob:
    """A training in its own process: `start()`, then poll `snapshot()`; set `stop` to end it early.

    Stopping while queued (or before the process has reported progress) cancels it; stopping while
    training ends the run between steps and keeps (and evaluates) what was learned.
    """

    def __init__(self, spec: JobSpec, stop: threading.Event | None = None, *, slots: TrainingSlots | None = None,
                 data_dir: str | None = None, device: str | None = None, threads: int | None = None,
                 nice: int | None = None, report_seconds: float = 0.25, session=None,
                 cost: float | None = None) -> None:
        self.spec = spec
        self.session = session  # whose training: one place in line per session
        self.cost = cost  # declared seconds of machine time (None: worked out from the spec)
        self.stop = stop or threading.Event()
        self.slots = slots or shared_slots()
        self.data_dir = data_dir
        self.device = device
        self.threads = threads or default_threads()
        self.nice = settings.current().train_nice if nice is None else nice
        self.report_seconds = report_seconds
        self._lock = threading.Lock()
        self._state = "queued"
        self._version = 0
        self._ticket = None
        self._process = None
        self._receiver = None
        self._latest: Progress | None = None
        self._images_per_sec = 0.0
        self._curve: list[CurvePoint] = []
        self._test_curve: list[tuple[int, float]] = []
        self._result: JobResult | None = None
        self._error: str | None = None
        self.refusal: TrainingTooLong | QueueFull | AlreadyQueued | None = None  # why start() did not start it
        self._thread = threading.Thread(target=self._run, name=f"train-{spec.model}", daemon=True)

    def start(self) -> TrainingJob:
        """Take a place in line and begin. A training that is too long (`check_length`), that finds
        the line full (`QueueFull`) or whose session already has one (`AlreadyQueued`) does not start:
        the job is "failed" at once, its error says why (`refusal` holds the exception), and it holds no
        place in line."""
        extra = len(self.spec.extra) if self.spec.extra else 0
        try:
            check_length(self.spec.recipe, self.spec.model, self.device, extra_images=extra)
            cost = self.cost
            if cost is None and self.spec.model in MODELS:
                cost = training_seconds(self.spec.model, self.spec.recipe, extra)
            self._ticket = self.slots.join(self.session, cost)
        except (TrainingTooLong, QueueFull, AlreadyQueued) as exc:
            self.refusal = exc
            self._update(state="failed", error=str(exc))
            return self
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)

    @property
    def pid(self) -> int | None:
        """The training process's id once started (it may have ended since)."""
        process = self._process
        return None if process is None else process.pid

    def snapshot(self) -> Snapshot:
        ticket = self._ticket
        position = ticket.position() if ticket is not None else 0
        seconds = ticket.estimated_start() if position else 0.0
        running = self.slots.running
        with self._lock:
            return Snapshot(self._state, self._version, position, seconds, running, self._latest,
                            self._images_per_sec,
                            tuple(self._curve),
                            tuple(self._test_curve), self._result, self._error)

    def _update(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
            self._version += 1

    def _record(self, event: Progress) -> None:
        if self._ticket is not None:
            self._ticket.report(1.0 if event.kind == "done" else event.fraction)
        with self._lock:
            self._latest = event
            if event.kind == "step":
                self._images_per_sec = event.images_per_sec
            if event.kind == "step" or (event.kind == "epoch" and not self._curve):
                epochs_done = event.fraction * event.epochs
                self._curve.append(CurvePoint(epochs_done, event.loss, event.train_acc))
            if event.kind == "epoch" and event.test_acc is not None:
                self._test_curve.append((event.epoch, event.test_acc))
            if event.kind == "done":
                self._state = "evaluating"
            self._version += 1

    def _run(self) -> None:
        ticket = self._ticket
        try:
            while not ticket.wait(0.2):
                if self.stop.is_set() or ticket.cancelled:
                    raise _Cancelled
                self._update()  # the place in line (and its estimate) may have moved
            if self.stop.is_set():
                raise _Cancelled
            problem = self._problem()
            if problem:
                self._update(state="failed", error=problem)
                return
            self._update(state="running")
            self._train()
        except _Cancelled:
            self._update(state="cancelled")
        except Exception as exc:  # shown to the user; the server keeps serving
            log.exception("training failed")
            self._update(state="failed", error=worker.friendly_error(exc))
        finally:
            self._end_process()
            ticket.release()

    def _problem(self) -> str | None:
        """What is wrong with the spec, found without starting a process."""
        if self.spec.model not in MODELS:
            return f"unknown model {self.spec.model!r}; choose one of {', '.join(MODELS)}"
        if self.spec.dataset not in DATASETS:
            return f"unknown dataset {self.spec.dataset!r}; choose one of {', '.join(DATASETS)}"
        return None

    def _params(self) -> dict:
        spec = self.spec
        data_dir = str(resolve_data_dir(self.data_dir).resolve())  # the fork server's environment may be older
        return {"model": spec.model, "dataset": spec.dataset, "recipe": dict(vars(spec.recipe)), "seed": spec.seed,
                "data_dir": data_dir, "device": self.device, "threads": self.threads, "nice": self.nice,
                "report_seconds": self.report_seconds, "command": "trained in the browser (Train tab)",
                "checksum": _checksums.get((spec.dataset, data_dir)),
                "extra": None if spec.extra is None else {"images": spec.extra.images, "labels": spec.extra.labels,
                                                          "info": spec.extra.info}}

    def _train(self) -> None:
        ctx = _mp_context()
        params = self._params()
        receiver, sender = ctx.Pipe(duplex=False)
        child_stop = ctx.Event()
        process = ctx.Process(target=worker.main, args=(sender, child_stop, params), daemon=True,
                              name=f"train-{self.spec.model}")
        self._process, self._receiver = process, receiver
        try:
            if self.stop.is_set():
                raise _Cancelled
            process.start()
        finally:
            sender.close()  # the child's end: once it exits, reading ours says so
        heard, stop_sent = False, None
        while True:
            if self.stop.is_set():
                if not heard:
                    raise _Cancelled  # nothing learned yet: no point in evaluating
                if stop_sent is None:
                    child_stop.set()
                    stop_sent = time.monotonic()
                elif time.monotonic() - stop_sent > STOP_GRACE_SECONDS:
                    raise RuntimeError("the training did not stop in time")
            ready = multiprocessing.connection.wait([receiver, process.sentinel], timeout=0.2)
            if not ready:
                continue
            if receiver not in ready and not receiver.poll(0):
                raise RuntimeError(_crash_message(process.exitcode))
            try:
                kind, payload = receiver.recv()
            except (EOFError, OSError):
                process.join(1)
                raise RuntimeError(_crash_message(process.exitcode)) from None
            if kind == "progress":
                heard = True
                self._record(worker.progress_from_message(payload))
            elif kind == "error":
                self._update(state="failed", error=str(payload))
                return
            elif kind == "result":
                self._finish(payload, params)
                return

    def _finish(self, payload: dict, params: dict) -> None:
        model = build_model(self.spec.model, seed=self.spec.seed)
        model.load_state_dict(load_tensors(payload["weights"]))
        model.eval()
        card = payload["card"]
        _checksums[(self.spec.dataset, params["data_dir"])] = card["data_checksum"]
        evaluation = worker.evaluation_from_message(payload["evaluation"])
        done = self._latest
        self._update(state="done", result=JobResult(model, card, evaluation, bool(done and done.stopped)))

    def _end_process(self) -> None:
        """Join the training process, or end it: no job leaves one behind."""
        process = self._process
        if process is None:
            return
        try:
            if process.pid is not None:  # started
                process.join(EXIT_SECONDS if self._state in ("done", "failed") else 0)
                if process.is_alive():
                    process.terminate()
                    process.join(2)
                if process.is_alive():
                    process.kill()
                    process.join()
        finally:
            if self._receiver is not None:
                self._receiver.close()
