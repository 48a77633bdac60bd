"""Class presets: "Train a network" on a student's phone, a handful of bounded choices that matter and teach.

Five choices, three or two options each (`CHOICES`): the network's size, the learning rate, the epochs,
augmentation on or off, and how many training images. Every combination is a small run of the one engine
(the fast recipe's AdamW one-cycle with the chosen values), bounded so the longest takes seconds on two
cores and the usual one about two; `spec` turns a student's choices into a training, refusing anything
outside the table. The one-line reason for each choice is the page's (its strings, in both languages).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..training.job import JobSpec
from ..training.recipes import RECIPES, Recipe

# choice -> option -> what it sets; the first option listed is not the default (DEFAULTS is).
CHOICES: dict[str, dict[str, object]] = {
    "size": {"small": "fastnet-small", "medium": "fastnet", "large": "fastnet-large"},
    "lr": {"low": 0.001, "medium": 0.01, "high": 0.1},
    "epochs": {"1": 1, "2": 2, "3": 3},
    "augment": {"off": "none", "on": "digits"},
    "images": {"1000": 1000, "5000": 5000, "20000": 20000},
}
DEFAULTS = {"size": "medium", "lr": "medium", "epochs": "1", "augment": "off", "images": "5000"}
BATCH_SIZE = 128  # 1,000 images still make 8 steps an epoch (the one-cycle schedule needs 5)
BASE: Recipe = RECIPES["fast"]


def checked(choices: Mapping[str, object] | None) -> dict[str, str]:
    """The student's choices, each one of its options (missing ones at their default); ValueError otherwise."""
    chosen = dict(DEFAULTS)
    for name, option in (choices or {}).items():
        if name not in CHOICES or not isinstance(option, str) or option not in CHOICES[name]:
            raise ValueError(f"unknown choice {name}={option!r}")
        chosen[name] = option
    return chosen


def recipe(choices: Mapping[str, object] | None) -> Recipe:
    """The recipe the choices make (after `checked`)."""
    c = checked(choices)
    described = (f"Class preset: {c['size']} network, learning rate {c['lr']}, {c['epochs']} epoch(s), "
                 f"augmentation {c['augment']}, {c['images']} training images (AdamW one-cycle, batch {BATCH_SIZE}).")
    return BASE.with_changes(name="class", description=described, lr=CHOICES["lr"][c["lr"]], epochs=CHOICES["epochs"][c["epochs"]],
                             augment=CHOICES["augment"][c["augment"]], train_subset=CHOICES["images"][c["images"]],
                             batch_size=BATCH_SIZE)


def spec(choices: Mapping[str, object] | None, seed: int = 0) -> JobSpec:
    """The training a student's choices make: a registered network, MNIST, the preset's recipe."""
    c = checked(choices)
    return JobSpec(str(CHOICES["size"][c["size"]]), "mnist", recipe(c), seed=seed)
