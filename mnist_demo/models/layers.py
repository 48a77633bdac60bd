"""Small building blocks shared by the model definitions."""

from __future__ import annotations

import torch
from torch import nn


class Normalize(nn.Module):
    """(x - mean) / std as the network's first layer, so every model takes pixels in [0, 1].

    This is exactly the seed articles' `transforms.Normalize`, moved from the data pipeline into
    the model so the app, the trainer and the inspector all feed the same input.
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        self.mean, self.std = float(mean), float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Softmax(nn.Softmax):
    """A softmax output layer (S5 as written puts one before CrossEntropyLoss)."""

    def __init__(self) -> None:
        super().__init__(dim=1)


def conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, padding: int = 1) -> list[nn.Module]:
    """conv -> batch norm -> ReLU, the conv without bias since BN adds its own."""
    return [nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
