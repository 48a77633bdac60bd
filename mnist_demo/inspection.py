"""Looking inside a network: layer table, filters, feature maps, Grad-CAM, saliency, convolution.

Everything is computed from the model itself (its modules and one real forward pass), never
written by hand, so it holds for every registered model, the NumPy network and models trained in
a browser session alike. Layers are recognised by what they look like (a 4-D `weight` and a
`kernel_size` is a convolution), so duck-typed layers such as the NumPy network's count too.
Images come back as small uint8 arrays (nearest-neighbour enlarged) that compress well as PNG.
No gradio here.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .models import probabilities
from .models.layers import Normalize

INPUT_SIDE = 28
OVERLAY_SIDE = 224  # 28 x 8

# --- recognising layers -------------------------------------------------------------------------

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


def _pair(value) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


# --- one traced forward pass --------------------------------------------------------------------


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


class _Evaluating:
    """Inference mode for the duration (batch norm uses its running statistics, no dropout)."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.was_training = model, model.training

    def __enter__(self) -> nn.Module:
        self.model.eval()
        return self.model

    def __exit__(self, *exc) -> None:
        if self.was_training:
            self.model.train()


def as_input(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(28, 28) pixels in [0, 1] (or an (N, 1, 28, 28) batch) -> float tensor (1, 1, 28, 28)."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float32) if not isinstance(image, torch.Tensor) else image)
    return x.float().reshape(-1, 1, INPUT_SIDE, INPUT_SIDE)[:1]


def _dummy_input() -> torch.Tensor:
    return torch.zeros(1, 1, INPUT_SIDE, INPUT_SIDE)


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _traced(model: nn.Module, x: torch.Tensor, grad: bool) -> list[Step]:
    with _Evaluating(model), torch.set_grad_enabled(grad):
        return trace(model, x.to(_model_device(model)))


# --- 1. architecture table ----------------------------------------------------------------------


@dataclass(frozen=True)
class LayerRow:
    """One line of the architecture table. Receptive field and jump are (rows, columns) in input pixels."""

    name: str
    kind: str
    type: str
    detail: str
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int
    receptive_field: tuple[int, int] | None  # None once the spatial layout is gone (after flatten)
    jump: tuple[int, int] | None  # distance in input pixels between neighbouring outputs
    formula: str | None  # the output-size arithmetic for conv and pool layers


def _geometry(module: nn.Module) -> dict[str, tuple[int, int]]:
    kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
    return {"kernel": kernel, "stride": stride, "padding": _pair(getattr(module, "padding", 0)),
            "dilation": _pair(getattr(module, "dilation", 1))}


def output_size_formula(size_in: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                        ceil_mode: bool = False) -> tuple[str, int]:
    """out = (in + 2*padding - kernel) / stride + 1 written out with the numbers, and its value."""
    k_text = str(kernel) if dilation == 1 else f"({dilation}·({kernel} − 1) + 1)"
    k_eff = dilation * (kernel - 1) + 1
    numerator = size_in + 2 * padding - k_eff
    exact = numerator % stride == 0
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding(numerator / stride) + 1
    inner = f"({size_in} + 2·{padding} − {k_text}) / {stride}"
    if not exact:
        inner = f"⌈{inner}⌉" if ceil_mode else f"⌊{inner}⌋"
    return f"{inner} + 1 = {out}", out


def _formula(module: nn.Module, in_shape: tuple[int, ...]) -> str:
    g = _geometry(module)
    parts = [output_size_formula(in_shape[-2 + axis], g["kernel"][axis], g["stride"][axis], g["padding"][axis],
                                 g["dilation"][axis], bool(getattr(module, "ceil_mode", False)))[0]
             for axis in (0, 1)]
    return parts[0] if parts[0] == parts[1] else f"rows: {parts[0]}; columns: {parts[1]}"


def _detail(module: nn.Module, kind: str) -> str:
    if kind == "conv":
        g = _geometry(module)
        return (f"{module.weight.shape[1]}→{module.weight.shape[0]}, kernel {g['kernel'][0]}×{g['kernel'][1]}, "
                f"stride {g['stride'][0]}, padding {g['padding'][0]}")
    if kind == "pool":
        g = _geometry(module)
        return f"{g['kernel'][0]}×{g['kernel'][1]}, stride {g['stride'][0]}, padding {g['padding'][0]}"
    if kind == "fc":
        return f"{module.weight.shape[1]}→{module.weight.shape[0]}"
    if kind == "normalize":
        return f"(x − {module.mean:g}) / {module.std:g}"
    if kind == "dropout":
        return f"p = {module.p:g} (off when predicting)"
    return ""


def _grow_receptive_field(rf, jump, module: nn.Module):
    """rf_out = rf_in + (k_eff − 1)·jump_in; jump_out = jump_in·stride (per axis)."""
    g = _geometry(module)
    k_eff = [g["dilation"][a] * (g["kernel"][a] - 1) + 1 for a in (0, 1)]
    return (tuple(rf[a] + (k_eff[a] - 1) * jump[a] for a in (0, 1)),
            tuple(jump[a] * g["stride"][a] for a in (0, 1)))


def layer_table(model: nn.Module) -> list[LayerRow]:
    """The architecture, computed from a real forward pass of a blank (1, 1, 28, 28) image."""
    with torch.no_grad():
        steps = _traced(model, _dummy_input(), grad=False)
    rows = [LayerRow("input", "input", "", "28×28 pixels in [0, 1]", (1, INPUT_SIDE, INPUT_SIDE), 0,
                     (1, 1), (1, 1), None)]
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    for step in steps:
        formula = None
        if step.kind in ("conv", "pool") and rf is not None:
            rf, jump = _grow_receptive_field(rf, jump, step.module)
            formula = _formula(step.module, tuple(step.input.shape))
        elif step.output.ndim < 4:  # flattened: every unit sees the whole image
            rf, jump = None, None
        params = sum(p.numel() for p in step.module.parameters())
        rows.append(LayerRow(step.name, step.kind, type(step.module).__name__, _detail(step.module, step.kind),
                             tuple(step.output.shape[1:]), params, rf, jump, formula))
    return rows


# --- colours and grids --------------------------------------------------------------------------


def _ramp(anchors: list[tuple[int, int, int]], size: int = 256) -> np.ndarray:
    """A colour lookup table through evenly spaced anchor colours (odd `size`: an exact middle entry)."""
    stops = np.linspace(0, size - 1, len(anchors))
    channels = [np.interp(np.arange(size), stops, [a[c] for a in anchors]) for c in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


DIVERGING = _ramp([(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)], 255)  # zero white
SEQUENTIAL = _ramp([(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)])  # "inferno"-like
GAP = np.array([200, 200, 200], dtype=np.uint8)


def colorize(values: np.ndarray, lut: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map values in [low, high] through a lookup table: (...) float -> (..., 3) uint8."""
    span = high - low if high > low else 1.0
    top = len(lut) - 1
    index = np.clip((np.asarray(values, dtype=np.float32) - low) / span * top + 0.5, 0, top).astype(np.uint8)
    return lut[index]


def colorize_diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Blue for negative, white for zero, red for positive; symmetric scale ±limit (default max |v|)."""
    limit = float(np.abs(values).max()) if limit is None else limit
    limit = limit if limit > 0 else 1.0
    return colorize(values, DIVERGING, -limit, limit)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so every weight or pixel stays a crisp square."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1) if factor > 1 else image


def tile_grid(tiles: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """(N, h, w, 3) uint8 tiles -> one (rows·(h+gap)+gap, cols·(w+gap)+gap, 3) grid image."""
    n, h, w, _ = tiles.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = np.empty((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), dtype=np.uint8)
    grid[:] = GAP
    for index in range(n):
        r, c = divmod(index, columns)
        top, left = gap + r * (h + gap), gap + c * (w + gap)
        grid[top:top + h, left:left + w] = tiles[index]
    return grid


def _tile_factor(side: int, target: int) -> int:
    """An integer enlargement bringing a map's side near `target` pixels."""
    return max(1, round(target / side))


def _grid_columns(n: int) -> int:
    return min(n, 8 if n > 16 else max(1, math.ceil(math.sqrt(n))))


# --- 2. filters ---------------------------------------------------------------------------------


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
        factor = _tile_factor(self.tiles.shape[-1], tile_side)
        coloured = np.stack([enlarge(colorize_diverging(tile, self.limit), factor) for tile in self.tiles])
        return tile_grid(coloured, _grid_columns(len(self.tiles)), gap)


def _filter_tiles(weight: torch.Tensor) -> tuple[np.ndarray, str]:
    w = weight.detach().float().cpu().numpy()
    if w.shape[1] == 1:
        return w[:, 0], "the only input channel"
    return w.mean(axis=1), f"mean over the {w.shape[1]} input channels"


def filters(model: nn.Module) -> list[FilterGrid]:
    """Every convolution layer's filters, diverging colours (blue < 0 < red) on a per-layer symmetric scale."""
    with torch.no_grad():
        steps = _traced(model, _dummy_input(), grad=False)
    grids = []
    for step in steps:
        if step.kind != "conv":
            continue
        tiles, reduction = _filter_tiles(step.module.weight)
        grids.append(FilterGrid(step.name, tuple(step.module.weight.shape), reduction, tiles,
                                float(np.abs(tiles).max()) or 1.0))
    return grids


# --- 3. feature maps and fully connected activations --------------------------------------------


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


def render_maps(values: np.ndarray, tile_side: int = 52, gap: int = 2) -> np.ndarray:
    """(C, H, W) activations -> grid; one colour scale for the whole layer so channels compare.

    Non-negative layers (after ReLU, sigmoid, max-pool of those) use a dark-to-bright ramp;
    layers with negative values use the diverging ramp with zero white.
    """
    low, high = float(values.min()), float(values.max())
    if low >= 0:
        coloured = colorize(values, SEQUENTIAL, 0.0, high)
    else:
        coloured = colorize_diverging(values)
    factor = _tile_factor(values.shape[-1], tile_side)
    tiles = np.stack([enlarge(c, factor) for c in coloured])
    return tile_grid(tiles, _grid_columns(len(tiles)), gap)


def render_bars(values: np.ndarray, width: int = 512, height: int = 64) -> np.ndarray:
    """A compact bar chart of a vector: positive bars red upwards, negative blue downwards from zero."""
    n = len(values)
    bar = max(1, width // n)
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    span = (high - low) or 1.0
    zero_row = int(round(height * high / span))
    image = np.full((height, n * bar, 3), 255, dtype=np.uint8)
    for unit, value in enumerate(values):
        size = int(round(abs(value) / span * height))
        rows = slice(zero_row - size, zero_row) if value >= 0 else slice(zero_row, zero_row + size)
        image[rows, unit * bar:(unit + 1) * bar - (1 if bar > 2 else 0)] = (
            (178, 24, 43) if value >= 0 else (33, 102, 172))
    image[min(zero_row, height - 1), :] = (90, 90, 90)
    return image


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
        return _activations(model, _traced(model, as_input(x), grad=False))


# --- 4. where it looks: Grad-CAM and saliency ---------------------------------------------------


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
    x = as_input(x).to(_model_device(model)).requires_grad_(True)
    steps = _traced(model, x, grad=True)
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


def render_overlay(image: np.ndarray, heat: np.ndarray, size: int = OVERLAY_SIDE, alpha: float = 0.8) -> np.ndarray:
    """The 28x28 input in grey with the heat map's colours blended on top, enlarged to size x size.

    The heat colour's weight grows with the square root of the heat, so weak evidence stays visible
    and a zero heat leaves the input as it is.
    """
    factor = max(1, size // INPUT_SIDE)
    grey = np.repeat(np.clip(np.asarray(image, dtype=np.float32), 0, 1)[..., None] * 255, 3, axis=2)
    colour = colorize(heat, SEQUENTIAL, 0.0, 1.0).astype(np.float32)
    weight = alpha * np.sqrt(np.clip(np.asarray(heat, dtype=np.float32), 0, 1))[..., None]
    blended = (1 - weight) * grey + weight * colour
    return enlarge(blended.round().astype(np.uint8), factor)


def render_input(image: np.ndarray, size: int = 112) -> np.ndarray:
    """The 28x28 input in grey, enlarged to about size x size."""
    grey = (np.clip(np.asarray(image, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
    return enlarge(np.repeat(grey[..., None], 3, axis=2), max(1, size // INPUT_SIDE))


# --- 5. convolution step by step ----------------------------------------------------------------

KERNELS: dict[str, np.ndarray] = {
    "sobel-x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "sobel-y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32),
    "box-blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "gaussian-blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
}
PADDINGS = (0, 1, 2)
STRIDES = (1, 2, 3)


def first_conv_kernels(model: nn.Module) -> list[np.ndarray]:
    """The learned filters of the model's first convolution layer (input channel 0), as (k, k) arrays."""
    with torch.no_grad():
        steps = _traced(model, _dummy_input(), grad=False)
    conv = next((step for step in steps if step.kind == "conv"), None)
    if conv is None:
        return []
    return list(conv.module.weight.detach().float().cpu().numpy()[:, 0])


@dataclass
class ConvSteps:
    """A kernel slid over a padded image: the whole output map and every position's arithmetic.

    Cross-correlation without bias, as nn.Conv2d computes it (the kernel is not flipped).
    """

    padded: np.ndarray  # (H + 2p, W + 2p) the input with its zero border
    kernel: np.ndarray  # (kh, kw)
    padding: int
    stride: int
    output: np.ndarray  # (out_h, out_w)

    @property
    def count(self) -> int:
        return self.output.size

    def position(self, n: int) -> tuple[int, int]:
        """Output (row, column) of step n, row by row."""
        return divmod(int(np.clip(n, 0, self.count - 1)), self.output.shape[1])

    def window(self, n: int) -> tuple[int, int]:
        """Top-left corner, in the padded image, of the patch step n multiplies."""
        row, col = self.position(n)
        return row * self.stride, col * self.stride

    def patch(self, n: int) -> np.ndarray:
        top, left = self.window(n)
        kh, kw = self.kernel.shape
        return self.padded[top:top + kh, left:left + kw]

    def products(self, n: int) -> np.ndarray:
        return self.patch(n) * self.kernel

    def arithmetic(self, n: int) -> str:
        """The multiply-and-add written out, one kernel row per line: "0.00×(−1) + 0.50×0 + … = 1.25"."""
        lines = [" + ".join(f"{p:.2f}×{_number(k)}" for p, k in zip(prow, krow, strict=True))
                 for prow, krow in zip(self.patch(n), self.kernel, strict=True)]
        return "\n+ ".join(lines) + f"\n= {float(self.products(n).sum()):.3f}"


def _number(value: float) -> str:
    text = f"{value:.3g}"
    return f"({text})" if value < 0 else text


def conv_output_size(size: int, kernel: int, padding: int, stride: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def conv_steps(image28: np.ndarray, kernel: np.ndarray, padding: int, stride: int) -> ConvSteps:
    """Slide `kernel` over the image with zero padding and stride, computing every output in NumPy."""
    image = np.asarray(image28, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    padded = np.pad(image, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    output = np.einsum("ijkl,kl->ij", windows, kernel, dtype=np.float64).astype(np.float32)
    return ConvSteps(padded, kernel, padding, stride, output)


PADDING_COLOUR = np.array([70, 90, 120], dtype=np.uint8)
WINDOW_COLOUR = np.array([255, 200, 0], dtype=np.uint8)
UNFILLED_COLOUR = np.array([185, 185, 185], dtype=np.uint8)


def _outline(image: np.ndarray, top: int, left: int, height: int, width: int, colour: np.ndarray,
             thickness: int = 2) -> None:
    """Draw a rectangle's border in place (coordinates in pixels of `image`)."""
    bottom, right = top + height, left + width
    image[top:top + thickness, left:right] = colour
    image[bottom - thickness:bottom, left:right] = colour
    image[top:bottom, left:left + thickness] = colour
    image[top:bottom, right - thickness:right] = colour


def render_conv_input(steps: ConvSteps, n: int, cell: int = 8) -> np.ndarray:
    """The padded input in grey (the zero border tinted) with the current kernel window outlined."""
    side_h, side_w = steps.padded.shape
    grey = (np.clip(steps.padded, 0, 1) * 255).round().astype(np.uint8)
    image = np.repeat(grey[..., None], 3, axis=2)
    p = steps.padding
    if p:
        border = np.ones((side_h, side_w), dtype=bool)
        border[p:side_h - p, p:side_w - p] = False
        image[border] = PADDING_COLOUR
    image = enlarge(image, cell)
    top, left = steps.window(n)
    kh, kw = steps.kernel.shape
    _outline(image, top * cell, left * cell, kh * cell, kw * cell, WINDOW_COLOUR)
    return image


def render_conv_output(steps: ConvSteps, n: int, cell: int | None = None) -> np.ndarray:
    """The output map built up to step n (later cells blank), the current cell outlined."""
    out_h, out_w = steps.output.shape
    cell = cell or max(4, 240 // max(out_h, out_w))
    image = colorize_diverging(steps.output).reshape(-1, 3)
    filled = np.arange(steps.count) <= n
    image[~filled] = UNFILLED_COLOUR
    image = enlarge(image.reshape(out_h, out_w, 3), cell)
    row, col = steps.position(n)
    _outline(image, row * cell, col * cell, cell, cell, WINDOW_COLOUR)
    return image


def render_kernel(kernel: np.ndarray, cell: int = 24) -> np.ndarray:
    return enlarge(colorize_diverging(kernel), cell)


def to_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (H, W, 3) image: what a browser receives for it."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
