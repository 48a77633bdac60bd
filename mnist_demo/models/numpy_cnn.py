"""Seed S2, the CNN from scratch: every layer's forward and backward pass written in NumPy.

The article (SEEDS.md, S2) builds conv3x3 (8 filters) -> max-pool 2x2 -> softmax (1352 -> 10) with
explicit loops and a hand-written backward pass per layer. Here each layer is a
`torch.autograd.Function` whose forward and backward are the same NumPy math, vectorized over the
batch and the positions instead of looped, so PyTorch only keeps the books: its optimizer updates
the parameters, its state dict saves them, and forward hooks see the feature maps. The layers
look like `nn.Conv2d`, `nn.MaxPool2d` and `nn.Linear` from outside (same parameter layout and
attributes), so code written for those (filter grids, receptive fields) treats them alike.

Differences from the article, all deliberate:
- The last layer returns logits; the softmax lives in the loss. softmax followed by -ln p[label]
  is exactly `F.cross_entropy` on the logits, and its gradient, p - onehot(label), is what the
  article's hand-written softmax backward computes.
- Max-pool ties (common: flat background gives equal conv outputs) send the gradient to the first
  maximum of the window, row by row, as `F.max_pool2d` does; the article's loop copies it to
  every tied position, which is not the gradient.
- Features are flattened channel-first (torch's (C, H, W) order), not the article's (H, W, C).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .layers import Normalize


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _to_torch(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """Back to a tensor on `like`'s device (the layers also work when handed a GPU tensor)."""
    return torch.from_numpy(np.ascontiguousarray(a)).to(like.device)


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (N*H'*W', C*k*k): each valid k x k window as one row (H' = H - k + 1)."""
    n, c, h, w = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, H', W', k, k)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * (h - k + 1) * (w - k + 1), c * k * k)


def conv_forward(x: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid convolution (cross-correlation, like nn.Conv2d) without bias; returns (out, columns)."""
    n, _, h, w = x.shape
    f, _, k, _ = weight.shape
    cols = _im2col(x, k)
    out = cols @ weight.reshape(f, -1).T  # (N*H'*W', F)
    return out.reshape(n, h - k + 1, w - k + 1, f).transpose(0, 3, 1, 2), cols


def conv_backward(grad_out: np.ndarray, cols: np.ndarray, weight: np.ndarray,
                  need_input_grad: bool) -> tuple[np.ndarray | None, np.ndarray]:
    """Gradients of the input (full convolution with the flipped filters) and of the filters."""
    f, c, k, _ = weight.shape
    grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*H'*W', F), rows as in cols
    grad_weight = (grad_rows.T @ cols).reshape(weight.shape)
    grad_x = None
    if need_input_grad:  # the first layer's input never needs it in training; the tests check it
        padded = np.pad(grad_out, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, k, k)
        grad_x, _ = conv_forward(padded, np.ascontiguousarray(flipped))
    return grad_x, grad_weight


def pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pool, stride 2 (an odd last row or column is dropped, as in F.max_pool2d).

    Returns the pooled maps and the index (0..3, row by row) of each window's first maximum.
    """
    n, c, h, w = x.shape
    x = x[:, :, : h // 2 * 2, : w // 2 * 2]
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    winner = windows.argmax(axis=-1)
    return np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0], winner


def pool_backward(grad_out: np.ndarray, winner: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Each window's gradient goes to its maximum; every other input gets zero."""
    n, c, h, w = input_shape
    hp, wp = grad_out.shape[2:]
    mask = winner[..., None] == np.arange(4)  # (N, C, H/2, W/2, 4) one-hot
    windows = np.where(mask, grad_out[..., None], 0).astype(grad_out.dtype, copy=False)
    grad = np.zeros(input_shape, dtype=grad_out.dtype)
    grad[:, :, : hp * 2, : wp * 2] = windows.reshape(n, c, hp, wp, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, hp * 2, wp * 2)
    return grad


class _Conv3x3Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        w = _to_numpy(weight)
        out, cols = conv_forward(_to_numpy(x), w)
        ctx.cols, ctx.weight = cols, w
        return _to_torch(out, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        grad_x, grad_w = conv_backward(_to_numpy(grad_out), ctx.cols, ctx.weight, ctx.needs_input_grad[0])
        return (None if grad_x is None else _to_torch(grad_x, grad_out)), _to_torch(grad_w, grad_out)


class _MaxPool2Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        out, winner = pool_forward(_to_numpy(x))
        ctx.winner, ctx.input_shape = winner, tuple(x.shape)
        return _to_torch(out, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        return _to_torch(pool_backward(_to_numpy(grad_out), ctx.winner, ctx.input_shape), grad_out)


class _DenseFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        xs, w = _to_numpy(x), _to_numpy(weight)
        ctx.x, ctx.weight = xs, w
        return _to_torch(xs @ w.T + _to_numpy(bias), x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        g = _to_numpy(grad_out)
        grad_x = _to_torch(g @ ctx.weight, grad_out) if ctx.needs_input_grad[0] else None
        return grad_x, _to_torch(g.T @ ctx.x, grad_out), _to_torch(g.sum(axis=0), grad_out)


class NumpyConv3x3(nn.Module):
    """3x3 valid convolution without bias (as in the article), filters initialized randn / 9.

    Duck-typed like `nn.Conv2d` (weight (F, C, 3, 3), kernel_size, stride, padding, ...).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 8) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = (3, 3), (1, 1), (0, 0), (1, 1)
        self.groups = 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3) / 9)
        self.bias = None  # the article's conv layer has none

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _Conv3x3Function.apply(x, self.weight)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size=(3, 3), bias=False (NumPy)"


class NumpyMaxPool2(nn.Module):
    """2x2 max-pool with stride 2, duck-typed like `nn.MaxPool2d(2)`."""

    def __init__(self) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode = 2, 2, 0, 1, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _MaxPool2Function.apply(x)

    def extra_repr(self) -> str:
        return "kernel_size=2, stride=2 (NumPy)"


class NumpyDense(nn.Module):
    """Fully connected layer returning logits: weight (out, in) initialized randn / in, bias zero.

    Duck-typed like `nn.Linear`. The article's softmax is left to the loss (see the module doc).
    """

    def __init__(self, in_features: int = 13 * 13 * 8, out_features: int = 10) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / in_features)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _DenseFunction.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features} (NumPy)"


class NumpyCNN(nn.Sequential):
    """S2: image/255 - 0.5 -> conv3x3 x 8 -> max-pool 2 -> flatten -> dense 1352 -> 10 (logits).

    No activation besides the max-pool, as in the article. Train it with cross-entropy on the
    logits: softmax + -ln p[label] is `F.cross_entropy`, the article's loss and gradient.
    (N, 1, 28, 28) in [0, 1] -> conv (N, 8, 26, 26) -> pool (N, 8, 13, 13) -> (N, 10).
    """

    def __init__(self, filters: int = 8, classes: int = 10) -> None:
        super().__init__(OrderedDict(
            normalize=Normalize(0.5, 1.0),
            conv=NumpyConv3x3(1, filters),
            pool=NumpyMaxPool2(),
            flatten=nn.Flatten(),
            fc=NumpyDense(13 * 13 * filters, classes),
        ))
