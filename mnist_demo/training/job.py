"""One training started from the browser: a `runner.Job` whose entry is `worker.train_entry`.

The process runs the engine, evaluates the model and builds its card (`card.build_card`, the same as the
command line's), and sends progress events (a few a second) and at the end the weights as safetensors bytes,
the card and the evaluation, all as plain data; the server only rebuilds the model (`decode`). Everything else
(the line, the process, stopping, crashes, cleanup) is the runner's. `check_length` refuses trainings longer
than $MNIST_DEMO_MAX_TRAIN_STEPS steps (default 20,000 on the CPU, 200,000 on a GPU; a form can call it with
its other checks): such a job is "failed" at once with a message that says why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
from safetensors.torch import load as load_tensors
from torch import nn

from .. import settings
from ..data import DATASETS, TRAIN_SIZE, resolve_data_dir
from ..models import MODELS, build_model
from . import worker
from .budget import training_seconds
from .engine import pick_device
from .metrics import Evaluation
from .recipes import Recipe
from .runner import CurvePoint, Job, Snapshot, warm_up
from .slots import AlreadyQueued, QueueFull, TrainingSlots

__all__ = ["AlreadyQueued", "CurvePoint", "ExtraDigits", "JobResult", "JobSpec", "QueueFull", "Snapshot", "TrainingJob",
           "TrainingTooLong", "check_length", "max_train_steps", "warm_up"]

DEFAULT_MAX_TRAIN_STEPS = {"cpu": 20_000, "cuda": 200_000}  # cpu: every preset (fashion's 18,760 the longest)


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
class JobResult:
    model: nn.Module  # on the CPU, in eval mode
    card: dict
    evaluation: Evaluation
    stopped: bool


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


_checksums: dict[tuple[str, str], str] = {}  # (dataset, data folder) -> the data checksum a training reported


class TrainingJob(Job):
    """A training in its own process: `start()`, then poll `snapshot()`; set `stop` to end it early.

    Stopping while queued (or before the process has reported progress) cancels it; stopping while
    training ends the run between steps and keeps (and evaluates) what was learned.
    """

    entry = staticmethod(worker.train_entry)

    def __init__(self, spec: JobSpec, stop: threading.Event | None = None, *, slots: TrainingSlots | None = None,
                 data_dir: str | None = None, device: str | None = None, threads: int | None = None,
                 nice: int | None = None, report_seconds: float = 0.25, session=None,
                 cost: float | None = None, address: str | None = None, group=None) -> None:
        extra = len(spec.extra) if spec.extra else 0
        if cost is None and spec.model in MODELS:
            cost = training_seconds(spec.model, spec.recipe, extra)
        super().__init__(name=f"train-{spec.model}", stop=stop, slots=slots, session=session, cost=cost,
                         threads=threads, nice=nice, address=address, group=group)
        self.spec = spec
        self.data_dir = data_dir
        self.device = device
        self.report_seconds = report_seconds

    def refuse(self) -> None:
        extra = len(self.spec.extra) if self.spec.extra else 0
        check_length(self.spec.recipe, self.spec.model, self.device, extra_images=extra)

    def params(self) -> dict:
        spec = self.spec
        if spec.model not in MODELS:  # found without starting a process
            raise ValueError(f"unknown model {spec.model!r}; choose one of {', '.join(MODELS)}")
        if spec.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {spec.dataset!r}; choose one of {', '.join(DATASETS)}")
        data_dir = str(resolve_data_dir(self.data_dir).resolve())  # the fork server's environment may be older
        return {"model": spec.model, "dataset": spec.dataset, "recipe": dict(vars(spec.recipe)), "seed": spec.seed,
                "data_dir": data_dir, "device": self.device, "threads": self.threads,
                "report_seconds": self.report_seconds, "command": "trained in the browser (Train tab)",
                "checksum": _checksums.get((spec.dataset, data_dir)),
                "extra": None if spec.extra is None else {"images": spec.extra.images, "labels": spec.extra.labels,
                                                          "info": spec.extra.info}}

    def decode(self, payload: dict) -> JobResult:
        model = build_model(self.spec.model, seed=self.spec.seed)
        model.load_state_dict(load_tensors(payload["weights"]))
        model.eval()
        card = payload["card"]
        _checksums[(self.spec.dataset, str(resolve_data_dir(self.data_dir).resolve()))] = card["data_checksum"]
        done = self._latest
        return JobResult(model, card, worker.evaluation_from_message(payload["evaluation"]), bool(done and done.stopped))
