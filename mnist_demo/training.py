"""One training engine for the command line and the browser, and the recipes it runs.

`train` is a generator: it yields `Progress` events a few times a second (and after every
epoch, with the test accuracy), checks `should_stop` between steps, and leaves the model trained
in place. The same seed gives the same run. It uses a GPU when one is given or present.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .augment import AUGMENTATIONS, augment
from .data import Split, load_split
from .models import MODELS

OPTIMIZERS = ("sgd", "adam", "adamw", "adadelta")
SCHEDULES = ("constant", "onecycle", "step", "cosine")
LIMITS = {"lr": (1e-6, 10.0), "batch_size": (1, 4096), "epochs": (1, 100), "momentum": (0.0, 0.999)}


@dataclass(frozen=True)
class Recipe:
    """Everything about how a model is trained, apart from the model itself."""

    name: str
    description: str
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0  # SGD only
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    schedule: str = "constant"  # "step": lr *= step_gamma after every epoch
    step_gamma: float = 0.7
    augment: str = "none"
    label_smoothing: float = 0.0
    train_subset: int | None = None  # first N training images (S2 trains on 1,000)
    test_subset: int | None = None  # first N test images

    def with_changes(self, **changes) -> Recipe:
        """A copy with some fields replaced (None values are ignored), validated."""
        recipe = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        recipe.validate()
        return recipe

    def validate(self) -> None:
        """Raise ValueError with a readable message for values no training can use."""
        problems = []
        for field, (low, high) in LIMITS.items():
            value = getattr(self, field)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                problems.append(f"{field} must be between {low:g} and {high:g} (got {value!r})")
        if self.lr <= 0:
            problems.append("lr must be positive")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)} (got {self.optimizer!r})")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)} (got {self.schedule!r})")
        if self.augment not in AUGMENTATIONS:
            problems.append(f"augment must be one of {', '.join(AUGMENTATIONS)} (got {self.augment!r})")
        if self.train_subset is not None and not 1 <= self.train_subset <= 60000:
            problems.append(f"train_subset must be between 1 and 60000 (got {self.train_subset})")
        if problems:
            raise ValueError("; ".join(problems))


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("s1", "S1 as written: Adam lr 0.001, batch 64, 10 epochs.", "adam", 1e-3, batch_size=64, epochs=10),
        Recipe("s2", "S2 as written: plain SGD lr 0.005, one image at a time, 3 epochs over the first 1,000 "
               "training images, tested on the first 1,000 test images.",
               "sgd", 0.005, batch_size=1, epochs=3, train_subset=1000, test_subset=1000),
        Recipe("s3", "S3 as written: SGD lr 0.8, batch 64, 5 epochs.", "sgd", 0.8, batch_size=64, epochs=5),
        Recipe("s4", "S4 as written: SGD lr 0.001 momentum 0.9, batch 64, 10 epochs.",
               "sgd", 1e-3, momentum=0.9, batch_size=64, epochs=10),
        Recipe("s5", "S5 (MNIST) as written: SGD lr 0.001 momentum 0.9, batch 64, 10 epochs.",
               "sgd", 1e-3, momentum=0.9, batch_size=64, epochs=10),
        Recipe("s5-fashion", "S5 (Fashion-MNIST) as written: SGD lr 0.9, batch 256, 10 epochs.",
               "sgd", 0.9, batch_size=256, epochs=10),
        Recipe("classic", "pytorch/examples mnist: Adadelta lr 1.0, StepLR gamma 0.7, batch 64, 14 epochs.",
               "adadelta", 1.0, batch_size=64, epochs=14, schedule="step", step_gamma=0.7),
        # One epoch is enough: 99.2% on MNIST (seeds 0-2) in about 20 s on two CPU cores (bench/fast_vs_classic.py).
        Recipe("fast", "Fast: AdamW lr 0.01 with a one-cycle schedule, label smoothing 0.1, batch 128, 1 epoch.",
               "adamw", 1e-2, weight_decay=1e-4, batch_size=128, epochs=1, schedule="onecycle", label_smoothing=0.1),
        Recipe("default", "Default: AdamW one-cycle, drawing-like augmentation, label smoothing, 30 epochs.",
               "adamw", 3e-3, weight_decay=5e-4, batch_size=128, epochs=30, schedule="onecycle",
               augment="digits", label_smoothing=0.1),
        # Fine-tuning the shipped digitnet (train --init) with rendered handwriting mixed in (--handwriting).
        # Two epochs over half of MNIST plus the handwriting keep a run near 5 minutes on two CPU cores.
        Recipe("handwriting", "Handwriting fine-tune: AdamW lr 0.0005 one-cycle, drawing-like augmentation, "
               "label smoothing, 2 epochs over the first 30,000 MNIST images (plus --handwriting).", "adamw", 5e-4,
               weight_decay=5e-4, batch_size=128, epochs=2, schedule="onecycle", augment="digits",
               label_smoothing=0.1, train_subset=30000),
        Recipe("fashion", "Fashion: AdamW one-cycle, flips and shifts, label smoothing, 40 epochs.",
               "adamw", 3e-3, weight_decay=5e-4, batch_size=128, epochs=40, schedule="onecycle",
               augment="fashion", label_smoothing=0.1),
    ]
}


def recipe_for(model_name: str, recipe: str = "seed") -> Recipe:
    """A recipe by name; "seed" means the model's own (the article's recipe for a seed system)."""
    name = MODELS[model_name].recipe if recipe in ("seed", "own") else recipe
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {recipe!r}; known recipes: seed, {', '.join(RECIPES)}")
    return RECIPES[name]


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

    @property
    def fraction(self) -> float:
        return self.step / max(self.total_steps, 1)


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """The requested device, or CUDA when present, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1], the input every model takes."""
    return images.unsqueeze(1).float().div_(255)


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


@torch.no_grad()
def predict_all(model: nn.Module, split: Split, device=None, batch_size: int = 1000) -> torch.Tensor:
    """The predicted class of every image of a split."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    preds = []
    for start in range(0, len(split), batch_size):
        x = to_input(split.images[start:start + batch_size].to(device))
        preds.append(model(x).argmax(1).cpu())
    model.train(was_training)
    return torch.cat(preds)


def accuracy(model: nn.Module, split: Split, device=None) -> float:
    """Fraction of the split's images the model classifies correctly."""
    return (predict_all(model, split, device) == split.labels).float().mean().item()


def _subset(split: Split, n: int | None) -> Split:
    return split if n is None else Split(split.images[:n], split.labels[:n])


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
    images with labels, e.g. rendered handwriting from `handwriting.training_set`) is mixed into the
    training set.
    """
    recipe.validate()
    started = time.perf_counter()
    spec = MODELS.get(getattr(model, "spec_name", ""), None)
    device = torch.device("cpu") if spec is not None and spec.cpu_only else pick_device(device)
    train_split = _subset(load_split(dataset, "train", data_dir), recipe.train_subset)
    if extra_train is not None:
        train_split = Split(torch.cat([train_split.images, extra_train.images]),
                            torch.cat([train_split.labels, extra_train.labels]))
    test_split = _subset(load_split(dataset, "test", data_dir), recipe.test_subset)
    images, labels = train_split.images.to(device), train_split.labels.to(device)
    model.to(device).train()

    gen = torch.Generator(device=device).manual_seed(seed)
    torch.manual_seed(seed)  # dropout
    steps_per_epoch = math.ceil(len(labels) / recipe.batch_size)
    total_steps = steps_per_epoch * recipe.epochs
    optimizer = make_optimizer(model, recipe)
    scheduler = make_scheduler(optimizer, recipe, steps_per_epoch)
    should_stop = should_stop or (lambda: False)

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
            if time.perf_counter() - last_report >= report_seconds:
                yield report("step", epoch)
        if stopped:
            break
        test_acc = accuracy(model, test_split, device) if test_every_epoch else None
        yield report("epoch", epoch, test_acc)

    model.eval()
    if stopped or test_acc is None:
        test_acc = accuracy(model, test_split, device)
    yield report("done", epoch, test_acc)
