"""What a network computes on one input: its filters, the feature maps of every conv and pool
layer, the fully connected activations, and where it looks (Grad-CAM and gradient saliency).

This is the teaching API the Visualize tab shows: `filters`, `feature_maps`, `grad_cam`,
`saliency` (and `where_it_looks` for both from one backward pass).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models import probabilities
from ..pictures import colorize_diverging, enlarge, grid_columns, render_bars, render_maps, tile_factor, tile_grid
from .tracing import INPUT_SIDE, Step, as_input, dummy_input, model_device, traced


@dataclass
class FilterGrid:
    """One conv layer's filters as a tile grid: one tile per filter (output channel)."""

    layer: str
    shape: tuple[int, ...]  # the weight's (out, in, kh, kw)
    reduction: str  # "the only input channel" or "mean over the N input channels"
    tiles: np.ndarray  # (out, kh, kw) the values drawn
    limit: float  # the colour scale is symmetric: ±limit, zero white

    def render(self, tile_side: int = 30, gap: int = 2) -> np.ndarray:
        """uint8 (H, W, 3) grid, each tile enlarged to about `tile_side` pixels (1: one pixel per weight)."""
        factor = tile_factor(self.tiles.shape[-1], tile_side)
        coloured = np.stack([enlarge(colorize_diverging(tile, self.limit), factor) for tile in self.tiles])
        return tile_grid(coloured, grid_columns(len(self.tiles)), gap)


def _filter_tiles(weight: torch.Tensor) -> tuple[np.ndarray, str]:
    w = weight.detach().float().cpu().numpy()
    if w.shape[1] == 1:
        return w[:, 0], "the only input channel"
    return w.mean(axis=1), f"mean over the {w.shape[1]} input channels"


def filters(model: nn.Module) -> list[FilterGrid]:
    """Every convolution layer's filters, diverging colours (blue < 0 < red) on a per-layer symmetric scale."""
    with torch.no_grad():
        steps = traced(model, dummy_input(), grad=False)
    grids = []
    for step in steps:
        if step.kind != "conv":
            continue
        tiles, reduction = _filter_tiles(step.module.weight)
        grids.append(FilterGrid(step.name, tuple(step.module.weight.shape), reduction, tiles,
                                float(np.abs(tiles).max()) or 1.0))
    return grids


@dataclass
class FeatureMaps:
    """A conv or pool layer's output after its activation, one tile per channel."""

    layer: str
    chain: str  # which layers produced it, e.g. "conv1 → bn1 → relu1"
    values: np.ndarray  # (C, H, W)

    def render(self, tile_side: int = 52, gap: int = 2) -> np.ndarray:
        return render_maps(self.values, tile_side, gap)


@dataclass
class Vector:
    """A fully connected layer's output after its activation, for a bar chart."""

    layer: str
    chain: str
    values: np.ndarray  # (units,)

    def render(self, width: int = 512, height: int = 64) -> np.ndarray:
        return render_bars(self.values, width, height)


@dataclass
class Activations:
    maps: list[FeatureMaps]
    vectors: list[Vector]
    scores: np.ndarray  # the last fully connected layer's output (the logits)
    probabilities: np.ndarray


def _block_end(steps: list[Step], start: int) -> int:
    """Index of the step whose output is `start`'s "after the activation": the last activation in
    the chain of batch-norm / activation / dropout layers that follows it (itself when none does)."""
    end = start
    for index in range(start + 1, len(steps)):
        if steps[index].kind not in ("norm", "activation", "dropout"):
            break
        if steps[index].kind == "activation":
            end = index
    return end


def _chain(steps: list[Step], start: int, end: int) -> str:
    return " → ".join(step.name for step in steps[start:end + 1])


def _activations(model: nn.Module, steps: list[Step]) -> Activations:
    maps, vectors = [], []
    for index, step in enumerate(steps):
        if step.kind not in ("conv", "pool", "fc"):
            continue
        end = _block_end(steps, index)
        values = steps[end].output.detach()[0].float().cpu().numpy()
        chain = _chain(steps, index, end)
        if step.kind == "fc":
            vectors.append(Vector(step.name, chain, values))
        else:
            maps.append(FeatureMaps(step.name, chain, values))
    scores = _score_tensor(steps).detach()
    probs = probabilities(model, steps[-1].output.detach())[0].float().cpu().numpy()
    return Activations(maps, vectors, scores[0].float().cpu().numpy(), probs)


def _score_tensor(steps: list[Step]) -> torch.Tensor:
    """The class scores: the last fully connected layer's own output (before any ReLU/softmax after it)."""
    fcs = [step for step in steps if step.kind == "fc"]
    return fcs[-1].output if fcs else steps[-1].output


def feature_maps(model: nn.Module, x: np.ndarray | torch.Tensor) -> Activations:
    """Feature maps of every conv and pool layer, the fully connected activations and the probabilities."""
    with torch.no_grad():
        return _activations(model, traced(model, as_input(x), grad=False))


@dataclass
class Heatmap:
    """A 28x28 map in [0, 1] for one class, or the reason it cannot be computed."""

    method: str  # "grad-cam" or "saliency"
    target: int
    values: np.ndarray | None  # (28, 28) float32 in [0, 1]; None when not applicable
    layer: str | None = None  # Grad-CAM's layer
    reason: str | None = None  # why `values` is None


def normalize01(values: torch.Tensor | np.ndarray) -> np.ndarray:
    """Scale non-negative values to [0, 1] by their maximum; an all-zero map stays zero."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    v = np.maximum(v, 0)
    top = float(v.max())
    return v / top if top > 0 else v


def _last_conv(steps: list[Step]) -> int | None:
    convs = [i for i, step in enumerate(steps) if step.kind == "conv"]
    return convs[-1] if convs else None


def _grad_cam_map(activation: torch.Tensor, gradient: torch.Tensor) -> np.ndarray:
    """ReLU(sum_k mean(dscore/dA_k) · A_k), enlarged bilinearly to 28x28 (Selvaraju et al. 2017)."""
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activation).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=(INPUT_SIDE, INPUT_SIDE), mode="bilinear", align_corners=False)
    return normalize01(cam[0, 0].detach().cpu().numpy())


def _heatmaps(steps: list[Step], x: torch.Tensor, target: int, retain: bool) -> tuple[Heatmap, Heatmap]:
    """Grad-CAM and gradient saliency for one class from a traced pass that kept its graph."""
    score = _score_tensor(steps)[0, target]
    conv = _last_conv(steps)
    if conv is None:
        (grad_x,) = torch.autograd.grad(score, [x], retain_graph=retain)
        cam = Heatmap("grad-cam", target, None, reason="no convolution layer")
    else:
        activation = steps[_block_end(steps, conv)].output
        grad_a, grad_x = torch.autograd.grad(score, [activation, x], retain_graph=retain)
        cam = Heatmap("grad-cam", target, _grad_cam_map(activation, grad_a), layer=_chain(steps, conv,
                                                                                         _block_end(steps, conv)))
    return cam, Heatmap("saliency", target, normalize01(grad_x[0, 0].abs().cpu().numpy()))


def where_it_looks(model: nn.Module, x: np.ndarray | torch.Tensor,
                   targets: Sequence[int] | Callable[[np.ndarray], Sequence[int]],
                   ) -> tuple[Activations, list[tuple[Heatmap, Heatmap]]]:
    """One forward pass giving the activations and, per target class, (Grad-CAM, saliency).

    `targets` may be a function of the probabilities (e.g. "the predicted class and the runner-up").
    """
    x = as_input(x).to(model_device(model)).requires_grad_(True)
    steps = traced(model, x, grad=True)
    activations = _activations(model, steps)
    targets = list(targets(activations.probabilities) if callable(targets) else targets)
    maps = [_heatmaps(steps, x, t, retain=i < len(targets) - 1) for i, t in enumerate(targets)]
    return activations, maps


def grad_cam(model: nn.Module, x: np.ndarray | torch.Tensor, target_class: int) -> Heatmap:
    """Grad-CAM on the last convolution layer (after its activation), 28x28 in [0, 1]."""
    return where_it_looks(model, x, [target_class])[1][0][0]


def saliency(model: nn.Module, x: np.ndarray | torch.Tensor, target_class: int) -> Heatmap:
    """|d score / d pixel|: how much each input pixel moves the class score, 28x28 in [0, 1]."""
    return where_it_looks(model, x, [target_class])[1][0][1]
