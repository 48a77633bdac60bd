"""The one training engine, for the command line and the browser alike.

`train` is a generator: it yields `Progress` events a few times a second and at least CURVE_POINTS times a
run (and after every epoch, with the test accuracy), checks `should_stop` between steps, and leaves the model trained
in place. The same seed gives the same run. It uses a GPU when one is given or present.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..augment import augment
from ..data import Split, load_split, to_input
from ..models import MODELS, PrivateRNG
from .budget import BACKWARD_FACTOR
from .metrics import accuracy
from .recipes import Recipe

# A short run still draws its loss curve from this many reports at least (a class preset's 40 steps last under a
# second, and reports a quarter of a second apart made a curve of three points)
CURVE_POINTS = 40


@dataclass
class Progress:
    """One report from the engine. kind: "step" (a few times a second), "epoch", or "done"."""

    kind: str
    step: int
    total_steps: int
    epoch: int  # 1-based epoch in progress (or just finished)
    epochs: int
    loss: float  # mean training loss since the last report
    train_acc: float  # training accuracy since the last report
    lr: float
    images_per_sec: float
    elapsed: float  # seconds since the engine started, data loading included
    test_acc: float | None = None  # after each epoch and at the end
    stopped: bool = False  # "done" after a stop request
    work: float = 0.0  # share of the run's work done: its steps and its test-set evaluations, in forward passes

    @property
    def fraction(self) -> float:
        """Share of the optimizer steps done (the curves' x axis)."""
        return self.step / max(self.total_steps, 1)


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """The requested device, or CUDA when present, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = model.parameters()
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.Adadelta(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def make_scheduler(optimizer, recipe: Recipe, steps_per_epoch: int):
    """A per-step scheduler; "step" decays once per epoch (the engine calls it per step)."""
    total = steps_per_epoch * recipe.epochs
    if recipe.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=total, pct_start=0.25)
    if recipe.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: recipe.step_gamma ** (step // steps_per_epoch))
    return None


def train(
    model: nn.Module,
    recipe: Recipe,
    dataset: str = "mnist",
    *,
    data_dir=None,
    seed: int = 0,
    device: str | torch.device | None = None,
    should_stop: Callable[[], bool] | None = None,
    report_seconds: float = 0.25,
    test_every_epoch: bool = True,
    extra_train: Split | None = None,
) -> Iterator[Progress]:
    """Train `model` in place with `recipe`, yielding `Progress` as it goes.

    Stopping (should_stop() true, checked between steps) ends the run early and still yields a
    final "done" event with the test accuracy of what was learned so far. `extra_train` (28x28 uint8
    images with labels: My digits, rendered handwriting from `handwriting.training_set`) is mixed into
    every epoch's training set.
    """
    recipe.validate()
    started = time.perf_counter()
    spec = MODELS.get(getattr(model, "spec_name", ""), None)
    device = torch.device("cpu") if spec is not None and spec.cpu_only else pick_device(device)
    train_split = load_split(dataset, "train", data_dir).first(recipe.train_subset)
    if extra_train is not None:
        train_split = Split(torch.cat([train_split.images, extra_train.images]),
                            torch.cat([train_split.labels, extra_train.labels]))
    test_split = load_split(dataset, "test", data_dir).first(recipe.test_subset)
    images, labels = train_split.images.to(device), train_split.labels.to(device)
    model.to(device).train()

    gen = torch.Generator(device=device).manual_seed(seed)
    dropout_rng = PrivateRNG(seed, device)  # dropout draws from torch's global generator: lend it ours, per step
    total_steps = recipe.steps(len(labels))
    steps_per_epoch = total_steps // recipe.epochs
    # The work in forward passes, for the training line's pace: an evaluation after an epoch of 5,000 images
    # is 40% of that epoch, which a share of steps would not count (a step is about three forward passes)
    step_work, test_work = BACKWARD_FACTOR * recipe.batch_size, len(test_split.labels)
    total_work = total_steps * step_work + (recipe.epochs if test_every_epoch else 1) * test_work
    tested = 0
    optimizer = make_optimizer(model, recipe)
    scheduler = make_scheduler(optimizer, recipe, steps_per_epoch)
    should_stop = should_stop or (lambda: False)

    report_every = max(1, total_steps // CURVE_POINTS)
    step, last_report = 0, time.perf_counter()
    window_loss = torch.zeros((), device=device)
    window_correct = torch.zeros((), device=device, dtype=torch.long)
    window_seen = window_steps = 0
    stopped = False
    test_acc: float | None = None

    def report(kind: str, epoch: int, test_acc: float | None = None) -> Progress:
        nonlocal window_seen, window_steps, last_report
        now = time.perf_counter()
        event = Progress(
            kind, step, total_steps, epoch, recipe.epochs,
            loss=window_loss.item() / window_steps if window_steps else float("nan"),
            train_acc=window_correct.item() / window_seen if window_seen else float("nan"),
            lr=optimizer.param_groups[0]["lr"],
            images_per_sec=window_seen / max(now - last_report, 1e-9),
            elapsed=now - started, test_acc=test_acc, stopped=stopped,
            work=min(1.0, (step * step_work + tested * test_work) / max(total_work, 1)),
        )
        window_loss.zero_(), window_correct.zero_()
        window_seen = window_steps = 0
        last_report = now
        return event

    for epoch in range(1, recipe.epochs + 1):
        order = torch.randperm(len(labels), generator=gen, device=device)
        for start in range(0, len(labels), recipe.batch_size):
            if should_stop():
                stopped = True
                break
            idx = order[start:start + recipe.batch_size]
            x = augment(to_input(images[idx]), recipe.augment, gen)
            y = labels[idx]
            with dropout_rng.active():
                scores = model(x)
            loss = F.cross_entropy(scores, y, label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            window_loss += loss.detach()
            window_correct += (scores.detach().argmax(1) == y).sum()
            window_seen += len(y)
            window_steps += 1
            if step % report_every == 0 or time.perf_counter() - last_report >= report_seconds:
                yield report("step", epoch)
        if stopped:
            break
        test_acc = accuracy(model, test_split, device) if test_every_epoch else None
        tested += test_every_epoch
        yield report("epoch", epoch, test_acc)

    model.eval()
    if stopped or test_acc is None:
        test_acc = accuracy(model, test_split, device)
        tested += 1
    yield report("done", epoch, test_acc)
