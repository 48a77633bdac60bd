"""The five seed systems of the tutorial articles (see SEEDS.md), layer for layer.

Each takes pixels in [0, 1]; the article's input normalization is the first layer. S2, the NumPy
network, lives in numpy_cnn.py.
"""

from __future__ import annotations

from torch import nn

from .layers import Normalize, Softmax


def s1_bn_cnn() -> nn.Sequential:
    """Article 000: one 5x5 conv with batch norm, max-pool, then a tanh MLP (ToTensor only)."""
    return nn.Sequential(
        Normalize(0.0, 1.0),
        nn.Conv2d(1, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(14 * 14 * 32, 70), nn.Tanh(),
        nn.Linear(70, 30), nn.Tanh(),
        nn.Linear(30, 10),
    )


def s3_mlp(relu_on_logits: bool = False) -> nn.Sequential:
    """Article 002: a 784-256-64-10 perceptron on plain ToTensor pixels.

    `relu_on_logits=True` keeps the article's bug: a ReLU after the last layer clips the logits.
    """
    layers: list[nn.Module] = [
        Normalize(0.0, 1.0),
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 64), nn.ReLU(),
        nn.Linear(64, 10),
    ]
    if relu_on_logits:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def s4_two_conv() -> nn.Sequential:
    """Article 003: conv16 -> pool -> conv32 -> pool -> 800-120-10, inputs in [-1, 1]."""
    return nn.Sequential(
        Normalize(0.5, 0.5),
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 10),
    )


def s5_lenet(softmax_output: bool = False) -> nn.Sequential:
    """Article 004, MNIST: LeNet with ReLU and max-pool, inputs in [-1, 1].

    `softmax_output=True` keeps the article's bug: softmax before CrossEntropyLoss, which then
    applies a second softmax and flattens the gradients.
    """
    layers: list[nn.Module] = [
        Normalize(0.5, 0.5),
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    ]
    if softmax_output:
        layers.append(Softmax())
    return nn.Sequential(*layers)


def s5_lenet_sigmoid() -> nn.Sequential:
    """Article 004, Fashion-MNIST: the classic LeNet (d2l): sigmoid, average pooling, Xavier init."""
    net = nn.Sequential(
        Normalize(0.0, 1.0),
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10),
    )
    for module in net:
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
    return net


def classic_examples_net() -> nn.Sequential:
    """pytorch/examples' mnist Net: two 3x3 convs 32/64, max-pool, dropout 0.25/0.5, 9216-128-10."""
    return nn.Sequential(
        Normalize(0.1307, 0.3081),
        nn.Conv2d(1, 32, 3, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
        nn.LogSoftmax(dim=1),  # as in the example; harmless before CrossEntropyLoss
    )
