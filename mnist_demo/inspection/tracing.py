"""One real forward pass, traced: every leaf layer's input and output, and what kind of layer it is.

Layers are recognised by what they look like (a 4-D `weight` and a `kernel_size` is a
convolution), so duck-typed layers such as the NumPy network's count too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..models import evaluating
from ..models.layers import Normalize

INPUT_SIDE = 28


ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Softplus)


NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)


DROPOUTS = (nn.Dropout, nn.Dropout2d)


OUTPUTS = (nn.Softmax, nn.LogSoftmax)


def _has_weight(module: nn.Module, ndim: int) -> bool:
    weight = getattr(module, "weight", None)
    return isinstance(weight, torch.Tensor) and weight.ndim == ndim


def is_conv(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) or (_has_weight(module, 4) and hasattr(module, "kernel_size"))


def is_pool(module: nn.Module) -> bool:
    duck = hasattr(module, "kernel_size") and hasattr(module, "stride") and getattr(module, "weight", None) is None
    return isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)) or duck


def is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or (_has_weight(module, 2) and hasattr(module, "out_features"))


def layer_kind(module: nn.Module) -> str:
    """conv, pool, fc, activation, norm, dropout, flatten, normalize, output or other."""
    checks = [("conv", is_conv), ("pool", is_pool), ("fc", is_linear),
              ("activation", lambda m: isinstance(m, ACTIVATIONS)), ("norm", lambda m: isinstance(m, NORMS)),
              ("dropout", lambda m: isinstance(m, DROPOUTS)), ("flatten", lambda m: isinstance(m, nn.Flatten)),
              ("normalize", lambda m: isinstance(m, Normalize)), ("output", lambda m: isinstance(m, OUTPUTS))]
    return next((kind for kind, check in checks if check(module)), "other")


def pair(value) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


@dataclass
class Step:
    """One leaf layer as it ran: its display name ("conv1"), kind, module, input and output."""

    name: str
    kind: str
    module: nn.Module
    input: torch.Tensor
    output: torch.Tensor


def _sequential_leaves(module: nn.Module) -> list[nn.Module] | None:
    """The leaf layers in run order when the model is (nested) plain nn.Sequential, else None."""
    if not any(True for _ in module.children()):
        return [module]
    if not isinstance(module, nn.Sequential) or type(module).forward is not nn.Sequential.forward:
        return None
    leaves: list[nn.Module] = []
    for child in module.children():
        inner = _sequential_leaves(child)
        if inner is None:
            return None
        leaves += inner
    return leaves


_HOOK_LOCK = threading.Lock()  # hooks on a shared model would also see other threads' forwards


def _run_with_hooks(model: nn.Module, x: torch.Tensor) -> list[tuple[nn.Module, torch.Tensor, torch.Tensor]]:
    """Fallback for models that are not plain Sequential: record every leaf's call in order."""
    calls: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    with _HOOK_LOCK:
        handles = [m.register_forward_hook(lambda m, i, o: calls.append((m, i[0], o))) for m in leaves]
        try:
            model(x)
        finally:
            for handle in handles:
                handle.remove()
    return calls


def _display_names(kinds: list[str], modules: list[nn.Module]) -> list[str]:
    """conv1, conv2, pool1, fc1, relu1, bn1 ... (a kind that occurs once keeps its bare name)."""
    bases = [type(m).__name__.lower() if k in ("activation", "output", "other") else
             {"norm": "bn"}.get(k, k) for k, m in zip(kinds, modules, strict=True)]
    totals = {b: bases.count(b) for b in bases}
    seen: dict[str, int] = {}
    names = []
    for base in bases:
        seen[base] = seen.get(base, 0) + 1
        names.append(f"{base}{seen[base]}" if totals[base] > 1 or base in ("conv", "pool", "fc") else base)
    return names


def trace(model: nn.Module, x: torch.Tensor) -> list[Step]:
    """Run `model` on `x` once, keeping every leaf layer's input and output (graph kept if grad is on).

    Plain Sequential models are run layer by layer (no hooks, so concurrent predictions with the
    same shared model are undisturbed); anything else is recorded with forward hooks.
    """
    leaves = _sequential_leaves(model)
    calls = []
    if leaves is not None:
        for module in leaves:
            y = module(x)
            calls.append((module, x, y))
            x = y
    else:
        calls = _run_with_hooks(model, x)
    kinds = [layer_kind(m) for m, _, _ in calls]
    names = _display_names(kinds, [m for m, _, _ in calls])
    return [Step(n, k, m, i, o) for n, k, (m, i, o) in zip(names, kinds, calls, strict=True)]


def as_input(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(28, 28) pixels in [0, 1] (or an (N, 1, 28, 28) batch) -> float tensor (1, 1, 28, 28)."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float32) if not isinstance(image, torch.Tensor) else image)
    return x.float().reshape(-1, 1, INPUT_SIDE, INPUT_SIDE)[:1]


def dummy_input() -> torch.Tensor:
    return torch.zeros(1, 1, INPUT_SIDE, INPUT_SIDE)


def model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def traced(model: nn.Module, x: torch.Tensor, grad: bool) -> list[Step]:
    with evaluating(model), torch.set_grad_enabled(grad):
        return trace(model, x.to(model_device(model)))
