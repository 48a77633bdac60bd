"""What a training will cost: the seconds of machine time it declares when it joins the queue (`slots`).

A first guess from the work itself (images seen times the model's floating-point operations per image,
plus an evaluation of the test set per epoch, plus a process start), at rates measured on a 2-core CPU.
The queue corrects every declared cost by what declared seconds really took on its machine, so the
guess needs to be proportionate across models and recipes, not exact.
"""

from __future__ import annotations

import functools

import torch

from ..data import TEST_SIZE, TRAIN_SIZE
from ..models import build_model
from .recipes import Recipe

# Fitted to the seconds class presets held their slot on a quiet 2-core machine (bench.class_trainings, 30 runs with the
# training processes' OpenMP spin and the 19k-parameter fastnet: slot-seconds 0.45 s + 0.82x the earlier fit's work;
# that fit, a start of 0.5 s and 160e9 flop/s, made them take 0.83x what they declared)
START_SECONDS = 0.45  # a training process from the fork server, its data and its card
FLOPS_PER_SECOND = 195e9  # forward + backward on two CPU threads
STEP_SECONDS = 0.4e-3  # the optimizer and the engine's own Python work, per step
BACKWARD_FACTOR = 3  # a training step costs about three forward passes


@functools.lru_cache(maxsize=32)
def forward_flops(model_name: str) -> float:
    """Floating-point operations of one forward pass on one 28x28 image (measured once per model)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(model_name, seed=0).eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(torch.zeros(2, 1, 28, 28))
        flops = counter.get_total_flops() / 2
    except Exception:  # a model torch cannot count (the NumPy network): by its size
        flops = 0
    return float(flops or 2 * sum(p.numel() for p in model.parameters()))


def training_seconds(model_name: str, recipe: Recipe, extra_images: int = 0) -> float:
    """The seconds one training of `model_name` with `recipe` should take on a quiet 2-core machine."""
    images = (recipe.train_subset or TRAIN_SIZE) + extra_images
    flops = forward_flops(model_name)
    train = recipe.epochs * images * flops * BACKWARD_FACTOR / FLOPS_PER_SECOND
    test = (recipe.epochs + 1) * (recipe.test_subset or TEST_SIZE) * flops / FLOPS_PER_SECOND
    return START_SECONDS + train + test + recipe.steps(images) * STEP_SECONDS
