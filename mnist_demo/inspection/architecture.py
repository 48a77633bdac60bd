"""The architecture table, computed from the model: output shapes, parameters, receptive fields,
and the output-size formula filled in for every conv and pool layer."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .tracing import INPUT_SIDE, dummy_input, pair, traced


@dataclass(frozen=True)
class LayerRow:
    """One line of the architecture table. Receptive field and jump are (rows, columns) in input pixels."""

    name: str
    kind: str
    type: str
    detail: dict  # the layer's settings as numbers (see `_detail`); the page words them in its language
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int
    receptive_field: tuple[int, int] | None  # None once the spatial layout is gone (after flatten)
    jump: tuple[int, int] | None  # distance in input pixels between neighbouring outputs
    formula: tuple[str, ...] | None  # the output-size arithmetic for conv and pool layers: (both axes,) or
    # (rows, columns) when they differ


def _geometry(module: nn.Module) -> dict[str, tuple[int, int]]:
    kernel, stride = pair(module.kernel_size), pair(module.stride or module.kernel_size)
    return {"kernel": kernel, "stride": stride, "padding": pair(getattr(module, "padding", 0)),
            "dilation": pair(getattr(module, "dilation", 1))}


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


def _formula(module: nn.Module, in_shape: tuple[int, ...]) -> tuple[str, ...]:
    g = _geometry(module)
    parts = [output_size_formula(in_shape[-2 + axis], g["kernel"][axis], g["stride"][axis], g["padding"][axis],
                                 g["dilation"][axis], bool(getattr(module, "ceil_mode", False)))[0]
             for axis in (0, 1)]
    return (parts[0],) if parts[0] == parts[1] else tuple(parts)


def _detail(module: nn.Module, kind: str) -> dict:
    """The settings a reader needs, by kind: conv (channels in/out, kernel, stride, padding), pool, fc (units
    in/out), normalize (mean, std), dropout (p); {} for the others."""
    if kind in ("conv", "pool"):
        g = _geometry(module)
        detail = {"kernel": f"{g['kernel'][0]}×{g['kernel'][1]}", "stride": g["stride"][0], "padding": g["padding"][0]}
        return {"cin": module.weight.shape[1], "cout": module.weight.shape[0], **detail} if kind == "conv" else detail
    if kind == "fc":
        return {"cin": module.weight.shape[1], "cout": module.weight.shape[0]}
    if kind == "normalize":
        return {"mean": f"{module.mean:g}", "std": f"{module.std:g}"}
    if kind == "dropout":
        return {"p": f"{module.p:g}"}
    return {}


def _grow_receptive_field(rf, jump, module: nn.Module):
    """rf_out = rf_in + (k_eff − 1)·jump_in; jump_out = jump_in·stride (per axis)."""
    g = _geometry(module)
    k_eff = [g["dilation"][a] * (g["kernel"][a] - 1) + 1 for a in (0, 1)]
    return (tuple(rf[a] + (k_eff[a] - 1) * jump[a] for a in (0, 1)),
            tuple(jump[a] * g["stride"][a] for a in (0, 1)))


def layer_table(model: nn.Module) -> list[LayerRow]:
    """The architecture, computed from a real forward pass of a blank (1, 1, 28, 28) image."""
    with torch.no_grad():
        steps = traced(model, dummy_input(), grad=False)
    rows = [LayerRow("input", "input", "", {"side": INPUT_SIDE}, (1, INPUT_SIDE, INPUT_SIDE), 0,
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
