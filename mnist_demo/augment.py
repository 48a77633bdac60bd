"""Batch augmentation on tensors, so training stays on one device and needs no per-image PIL.

"digits": what real drawings differ from MNIST by: small shifts, rotations, scale, shear and
stroke thickness. "fashion": horizontal flips and small shifts (clothes are upright).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("none", "digits", "fashion")


def _uniform(n: int, low: float, high: float, gen: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=device) * (high - low) + low


def random_affine(
    x: torch.Tensor,
    gen: torch.Generator,
    max_rotate_deg: float = 15.0,
    scale: tuple[float, float] = (0.85, 1.15),
    max_shear: float = 0.3,
    max_shift_px: float = 3.0,
) -> torch.Tensor:
    """Warp each image of a batch (N, 1, 28, 28) by its own random affine map."""
    n, device = x.shape[0], x.device
    angle = _uniform(n, -max_rotate_deg, max_rotate_deg, gen, device) * math.pi / 180
    s = _uniform(n, *scale, gen, device)
    shear = _uniform(n, -max_shear, max_shear, gen, device)
    shift = _uniform(2 * n, -max_shift_px, max_shift_px, gen, device).view(n, 2) * (2 / x.shape[-1])
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    # The grid maps output coordinates to input ones, hence the inverse scale.
    theta = torch.stack(
        [torch.stack([cos, -sin + shear * cos, shift[:, 0]], 1), torch.stack([sin, cos + shear * sin, shift[:, 1]], 1)],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_thickness(
    x: torch.Tensor, gen: torch.Generator, p_thick: float = 0.25, p_thin: float = 0.15
) -> torch.Tensor:
    """Thicken some strokes (grey dilation) and thin others (grey erosion), as pens differ."""
    n = x.shape[0]
    r = torch.rand(n, generator=gen, device=x.device).view(n, 1, 1, 1)
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-x, 2, stride=1)
    thin = F.pad(thin, (0, 1, 0, 1))
    # Blend so a "dilation" adds about one pixel, not a full 3x3 blob.
    thick = 0.5 * (x + thick)
    out = torch.where(r < p_thick, thick, x)
    return torch.where((r >= p_thick) & (r < p_thick + p_thin), torch.maximum(thin, 0.6 * x), out)


def random_flip_shift(x: torch.Tensor, gen: torch.Generator, max_shift_px: float = 2.0) -> torch.Tensor:
    """Mirror half the images left-right and shift each by up to `max_shift_px`."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen, device=x.device) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(-1), x)
    return random_affine(x, gen, max_rotate_deg=0.0, scale=(1.0, 1.0), max_shear=0.0, max_shift_px=max_shift_px)


def augment(x: torch.Tensor, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Apply the named augmentation to a batch of [0, 1] images."""
    if kind == "digits":
        return random_thickness(random_affine(x, gen), gen).clamp_(0, 1)
    if kind == "fashion":
        return random_flip_shift(x, gen)
    if kind == "none":
        return x
    raise ValueError(f"unknown augmentation {kind!r}; choose one of {AUGMENTATIONS}")
