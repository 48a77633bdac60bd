"""How far a model's confidence can be trusted, and temperature scaling to make it trustworthy.

The app shows "not sure" when the top probability is under `reading.predict.NOT_SURE_BELOW`; these helpers
measure what that buys (accuracy among the confident answers, the share shown as confident) and
the expected calibration error, and fit one temperature on held-out data. A fitted temperature is
folded into the model's last linear layer (logits / T), so the app needs no change to use it.
"""

from __future__ import annotations

import torch
from torch import nn

ECE_BINS = 15


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many answers fall in each."""
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.float().mean().item() * abs(correct[inside].mean().item() - confidence[inside].mean().item())
    return total


def confidence_report(probs: torch.Tensor, labels: torch.Tensor, threshold: float) -> dict:
    """Accuracy, and with "not sure" under `threshold`: coverage (share confident) and accuracy among confident answers."""
    confidence, predicted = probs.max(1)
    correct = predicted == labels
    confident = confidence >= threshold
    return {
        "n": int(len(labels)),
        "accuracy": correct.float().mean().item(),
        "coverage": confident.float().mean().item(),
        "confident_accuracy": correct[confident].float().mean().item() if confident.any() else float("nan"),
        "wrong_but_confident": int((confident & ~correct).sum()),
        "not_sure_that_were_wrong": int((~confident & ~correct).sum()),
        "ece": expected_calibration_error(probs, labels),
    }


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The T minimising the negative log-likelihood of softmax(logits / T) (a fine grid on log T, then refined)."""
    logits, labels = logits.double(), labels.long()

    def nll(t: float) -> float:
        return nn.functional.cross_entropy(logits / t, labels).item()

    grid = torch.logspace(-1.0, 1.0, 81).tolist()  # 0.1 .. 10
    best = min(grid, key=nll)
    fine = torch.linspace(best / 1.06, best * 1.06, 41).tolist()
    return float(min(fine, key=nll))


def last_linear(model: nn.Module) -> nn.Linear:
    """The final nn.Linear, whose output is the logits."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("the model has no linear layer to scale")
    return layers[-1]


@torch.no_grad()
def fold_temperature(model: nn.Module, temperature: float) -> None:
    """Divide the logits by `temperature` for good: scales the last linear layer's weight and bias in place."""
    layer = last_linear(model)
    layer.weight.div_(temperature)
    if layer.bias is not None:
        layer.bias.div_(temperature)


THRESHOLD_GRID = tuple(round(0.5 + 0.01 * i, 2) for i in range(50))  # 0.50 .. 0.99


def choose_threshold(probs: torch.Tensor, labels: torch.Tensor, target: float = 0.997,
                     min_coverage: float = 0.95, grid: tuple[float, ...] = THRESHOLD_GRID) -> dict:
    """The smallest "not sure" threshold (of `grid`, never under 0.5) whose confident answers are at least
    `target` accurate while at least `min_coverage` of the answers stay confident.

    Where no threshold reaches `target` inside the coverage floor, the largest one that keeps the floor
    is taken (as much precision as the coverage allows) and `target_met` is False. Fit on held-out data.
    """
    slack = 1e-6  # shares are float32 means: 90 of 100 is 0.89999998
    allowed = [t for t in grid if confidence_report(probs, labels, t)["coverage"] >= min_coverage - slack] or [grid[0]]
    for t in allowed:
        report = confidence_report(probs, labels, t)
        if report["confident_accuracy"] >= target - slack:
            return {"threshold": t, "target_met": True, **_summary(report)}
    t = allowed[-1]
    return {"threshold": t, "target_met": False, **_summary(confidence_report(probs, labels, t))}


def _summary(report: dict) -> dict:
    return {"coverage": round(report["coverage"], 4), "confident_accuracy": round(report["confident_accuracy"], 4),
            "wrong_but_confident": report["wrong_but_confident"]}


@torch.no_grad()
def calibrate(model: nn.Module, held_out) -> dict:
    """Fit a temperature on held-out writers' canvas renderings, fold it into the model's last layer and choose
    the "not sure" threshold there; what the card records of it (`python -m mnist_demo.train --handwriting`)."""
    model.eval()
    x = held_out.images.unsqueeze(1).float() / 255
    logits = model(x)
    temperature = fit_temperature(logits, held_out.labels)
    before = expected_calibration_error(torch.softmax(logits, 1), held_out.labels)
    after = expected_calibration_error(torch.softmax(logits / temperature, 1), held_out.labels)
    fold_temperature(model, temperature)
    not_sure = choose_threshold(torch.softmax(model(x), 1), held_out.labels)
    return {"temperature": round(temperature, 4), "folded_into": "last linear layer (logits / T)",
            "fitted_on": f"held-out writers: {len(held_out):,} canvas renderings never trained on",
            "ece_before": round(before, 4), "ece_after": round(after, 4),
            "not_sure": {"rule": "smallest threshold (0.50-0.99) with >= 99.7% accuracy among confident answers "
                                 "and >= 95% of answers confident, on the held-out writers, after T", **not_sure}}
