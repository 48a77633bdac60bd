"""The model registry: every network the app, the trainer and the inspector know, by name.

Every model takes a float tensor (N, 1, 28, 28) of pixels in [0, 1] (white ink on black, as in
MNIST) and returns one score per class. Use `probabilities` to turn the scores into
probabilities: two seed systems as written end in a softmax or a ReLU.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from . import ours, seeds


def _numpy_cnn() -> nn.Module:
    from .numpy_cnn import NumpyCNN

    return NumpyCNN()


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    description: str
    build: Callable[[], nn.Module]
    dataset: str  # the dataset it is meant for (any model trains on either)
    recipe: str  # its own recipe, the one `--recipe seed` picks
    seed_system: str | None = None  # "S1".."S5" for the tutorial systems
    reported: str | None = None  # the article's headline figure
    cpu_only: bool = False  # the NumPy network runs on the CPU whatever the device
    outputs_probabilities: bool = False  # S5 as written ends in a softmax


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("digitnet", "DigitNet (default)",
                  "This project's default: 4 conv layers with batch norm, trained with drawing-like augmentation.",
                  ours.digit_net, "mnist", "default"),
        ModelSpec("fashionnet", "FashionNet (default, Fashion-MNIST)",
                  "The default network, wider, for clothing images.",
                  ours.fashion_net, "fashion-mnist", "fashion"),
        ModelSpec("fastnet", "FastNet",
                  "A strided 5x5 conv and two 3x3 conv layers with batch norm: 99% on MNIST in one epoch, seconds on a laptop CPU.",
                  ours.fast_net, "mnist", "fast"),
        ModelSpec("fastnet-small", "FastNet (small)",
                  "FastNet with 8, 16 and 32 channels: 40% of its work, for the class presets.",
                  lambda: ours.fast_net(8, (16, 32)), "mnist", "fast"),
        ModelSpec("fastnet-large", "FastNet (large)",
                  "FastNet with 32, 64 and 128 channels: six times its work, for the class presets.",
                  lambda: ours.fast_net(32, (64, 128)), "mnist", "fast"),
        ModelSpec("s1-bn-cnn", "S1 BN-CNN",
                  "Seed S1: one 5x5 conv with batch norm and max-pool, then a tanh MLP.",
                  seeds.s1_bn_cnn, "mnist", "s1", "S1", "98.69% after 10 epochs (best 98.72%)"),
        ModelSpec("s2-numpy-cnn", "S2 NumPy CNN",
                  "Seed S2: 8 3x3 filters, max-pool, softmax; forward and backward written in NumPy.",
                  _numpy_cnn, "mnist", "s2", "S2", "~10% untrained; trained on 1,000 images",
                  cpu_only=True),
        ModelSpec("s3-mlp", "S3 MLP (corrected)",
                  "Seed S3 without its bug: a 784-256-64-10 perceptron.",
                  seeds.s3_mlp, "mnist", "s3", "S3", "about 97%"),
        ModelSpec("s3-mlp-as-written", "S3 MLP (as written)",
                  "Seed S3 exactly as the article has it, ReLU on the logits included.",
                  lambda: seeds.s3_mlp(relu_on_logits=True), "mnist", "s3", "S3", "about 97%"),
        ModelSpec("s4-two-conv", "S4 two-conv CNN",
                  "Seed S4: conv16-pool-conv32-pool, then 800-120-10.",
                  seeds.s4_two_conv, "mnist", "s4", "S4", "about 98%"),
        ModelSpec("s5-lenet", "S5 LeNet (corrected)",
                  "Seed S5 without its bug: LeNet with ReLU and max-pool.",
                  seeds.s5_lenet, "mnist", "s5", "S5", "not stated (loss printed only)"),
        ModelSpec("s5-lenet-as-written", "S5 LeNet (as written)",
                  "Seed S5 exactly as the article has it, softmax before the cross-entropy included.",
                  lambda: seeds.s5_lenet(softmax_output=True), "mnist", "s5", "S5",
                  "not stated (loss printed only)", outputs_probabilities=True),
        ModelSpec("s5-lenet-fashion", "S5 LeNet, sigmoid (Fashion-MNIST)",
                  "Seed S5's Fashion-MNIST LeNet: sigmoid, average pooling, Xavier init.",
                  seeds.s5_lenet_sigmoid, "fashion-mnist", "s5-fashion", "S5", "not stated"),
        ModelSpec("classic", "pytorch/examples CNN",
                  "The classic pytorch/examples mnist network (1.2M parameters), for comparison.",
                  seeds.classic_examples_net, "mnist", "classic", None, "about 99% (examples README)"),
    ]
}


def get_spec(name: str) -> ModelSpec:
    """The registry entry for `name`, with the known names in the error."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None


# Held while code borrows torch's process-wide generator with its own seed (fork_rng saves and
# restores it): two threads doing so at once would hand each other their states.
RNG_LOCK = threading.RLock()


def build_model(name: str, seed: int | None = None) -> nn.Module:
    """A freshly initialized model; `seed` makes the initialization reproducible."""
    spec = get_spec(name)
    with RNG_LOCK, torch.random.fork_rng(devices=[]):  # seeding must not reset the process's shared generator
        if seed is not None:
            torch.manual_seed(seed)
        model = spec.build()
    model.spec_name = name  # lets the app and the trainer find the entry again
    return model


class PrivateRNG:
    """A seeded stream of torch's global generator for one user (a training's dropout), kept apart.

    Dropout draws from the process-wide generator and takes no generator of its own. `active()`
    lends this stream to the global generator for a moment (a forward pass) and puts the process's
    own state back afterwards, so a training is reproducible for its seed (the same draws as
    `torch.manual_seed(seed)` followed by the run alone) and nobody else's random numbers move.
    """

    def __init__(self, seed: int, device: torch.device | str = "cpu") -> None:
        device = torch.device(device)
        self._cuda = device.index if device.type == "cuda" else None
        if self._cuda is None and device.type == "cuda":
            self._cuda = torch.cuda.current_device()
        with self._borrowed():
            torch.manual_seed(seed)
            self._state = self._get()

    def _borrowed(self):
        devices = [] if self._cuda is None else [self._cuda]
        return torch.random.fork_rng(devices=devices)

    def _get(self):
        return (torch.get_rng_state(), None if self._cuda is None else torch.cuda.get_rng_state(self._cuda))

    @contextmanager
    def active(self) -> Iterator[None]:
        with RNG_LOCK, self._borrowed():
            cpu, cuda = self._state
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state(cuda, self._cuda)
            try:
                yield
            finally:
                self._state = self._get()


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def probabilities(model: nn.Module, scores: torch.Tensor) -> torch.Tensor:
    """Class probabilities from a model's output, whatever its last layer."""
    name = getattr(model, "spec_name", None)
    if name is not None and MODELS[name].outputs_probabilities:
        return scores
    return torch.softmax(scores, dim=1)


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for the duration (batch norm uses its running statistics, no dropout), then back."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
