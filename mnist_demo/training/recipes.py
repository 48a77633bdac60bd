"""The recipes: everything about how a model is trained, apart from the model itself.

Each seed system's recipe is written here as its article gives it; `fast`, `default` and
`fashion` are this project's. The option lists (OPTIMIZERS, SCHEDULES, augment.AUGMENTATIONS)
are the one home the command line and the Train tab read their choices from.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..augment import AUGMENTATIONS
from ..data import TRAIN_SIZE
from ..models import MODELS

OPTIMIZERS = ("sgd", "adam", "adamw", "adadelta")
SCHEDULES = ("constant", "onecycle", "step", "cosine")
LIMITS = {"lr": (1e-6, 10.0), "batch_size": (1, 4096), "epochs": (1, 100), "momentum": (0.0, 0.999)}
MIN_ONECYCLE_STEPS = 5  # torch's OneCycleLR divides by zero below this (pct_start 0.25)


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

    def steps(self, train_images: int | None = None) -> int:
        """Optimizer steps of the whole run over `train_images` (default: the subset or the full set)."""
        return math.ceil((train_images or self.train_subset or TRAIN_SIZE) / self.batch_size) * self.epochs

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
        if self.train_subset is not None and not 1 <= self.train_subset <= TRAIN_SIZE:
            problems.append(f"train_subset must be between 1 and {TRAIN_SIZE} (got {self.train_subset})")
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
        # One epoch is enough: 99.08-99.19% on MNIST (seeds 0-9) in a few seconds on two CPU cores
        # (bench/fast_vs_classic.py). Batch 256 at twice batch 128's rate: half the steps, each cheaper per image.
        Recipe("fast", "Fast: AdamW lr 0.02 with a one-cycle schedule, label smoothing 0.1, batch 256, 1 epoch.",
               "adamw", 2e-2, weight_decay=1e-4, batch_size=256, epochs=1, schedule="onecycle", label_smoothing=0.1),
        Recipe("default", "Default: AdamW one-cycle, drawing-like augmentation, label smoothing, 30 epochs.",
               "adamw", 3e-3, weight_decay=5e-4, batch_size=128, epochs=30, schedule="onecycle",
               augment="digits", label_smoothing=0.1),
        # Fine-tuning the MNIST-only digitnet (train --init) with rendered handwriting mixed in (--handwriting):
        # the shipped default's recipe. All of MNIST at a low rate keeps MNIST at 99.6%+ (half of it at lr 5e-4
        # fell to 99.56%); two epochs learn the slashed zeros one did not. About 3 minutes on two CPU cores.
        Recipe("handwriting", "Handwriting fine-tune: AdamW lr 0.0003 one-cycle, drawing-like augmentation, "
               "label smoothing, 2 epochs over MNIST (plus --handwriting).", "adamw", 3e-4,
               weight_decay=5e-4, batch_size=128, epochs=2, schedule="onecycle", augment="digits",
               label_smoothing=0.1),
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


def custom_recipe(base: Recipe, *, optimizer: str | None, lr: float | None, momentum: float | None,
                  batch_size: float | None, epochs: float | None, train_subset: float | None,
                  augment: str | None) -> Recipe:
    """`base` with a form's values, validated; ValueError names every field that is wrong.

    Every field must be filled in (an empty field is an error, not "keep the preset's"); a
    training subset of TRAIN_SIZE or more means the whole training set.
    """
    values = {"optimizer": optimizer, "lr": lr, "momentum": momentum, "batch_size": batch_size, "epochs": epochs,
              "train_subset": train_subset, "augment": augment}
    empty = [name for name, value in values.items() if value is None or value == ""]
    if empty:
        raise ValueError("; ".join(f"{name} is empty" for name in empty))
    for name in ("batch_size", "epochs", "train_subset"):
        if float(values[name]) != int(values[name]):
            raise ValueError(f"{name} must be a whole number (got {values[name]!r})")
        values[name] = int(values[name])
    values["lr"], values["momentum"] = float(lr), float(momentum)
    if values["train_subset"] >= TRAIN_SIZE:
        values["train_subset"] = None
    elif values["train_subset"] < 1:
        raise ValueError(f"train_subset must be between 1 and {TRAIN_SIZE} (got {values['train_subset']})")
    recipe = dataclasses.replace(base, **values)
    recipe.validate()
    if recipe.schedule == "onecycle" and recipe.steps() < MIN_ONECYCLE_STEPS:
        raise ValueError(f"the one-cycle schedule needs at least {MIN_ONECYCLE_STEPS} training steps "
                         f"(got {recipe.steps()}): use more training images or epochs, or a smaller batch_size")
    return recipe
