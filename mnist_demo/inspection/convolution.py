"""A convolution step by step: a kernel slid over the 28x28 input with padding and stride, each
position's multiply-and-add written out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .tracing import dummy_input, traced

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
        steps = traced(model, dummy_input(), grad=False)
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
