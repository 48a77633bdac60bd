"""How well a model does on a split: probabilities in one batched loop, accuracy, per-class
accuracy, the confusion matrix, the test images it got wrong (with its confidence), and the
images behind any one cell of the matrix (`cell_examples`, the Train tab's click-through).

Everything that evaluates a model (the engine after each epoch, the weights card, the Train
tab's results, `python -m mnist_demo.evaluate`) goes through `class_probabilities`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import Split, to_input
from ..models import evaluating, probabilities


@dataclass(frozen=True)
class Mistake:
    """One test image with the model's answer (28x28 uint8, white ink on black): a misclassified one
    in `Evaluation.mistakes`; in `cell_examples`, right (true == predicted) or wrong."""

    index: int  # position in the test split
    image: np.ndarray
    true: int
    predicted: int
    confidence: float  # the model's probability for its prediction


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    per_class: list[float]
    confusion: torch.Tensor  # counts[true, predicted]
    mistakes: list[Mistake]  # the most confident mistakes first
    predictions: torch.Tensor
    count: int  # test images evaluated
    confidences: torch.Tensor | None = None  # (count,) float32: the probability of each prediction


def class_probabilities(model: nn.Module, split: Split, device=None, batch_size: int = 1000) -> torch.Tensor:
    """(N, classes) probabilities for every image of a split, computed on `device` (default: the model's)."""
    device = device or next(model.parameters()).device
    out = []
    with evaluating(model), torch.inference_mode():  # no autograd bookkeeping at all
        for start in range(0, len(split), batch_size):
            x = to_input(split.images[start:start + batch_size].to(device))
            out.append(probabilities(model, model(x)).float().cpu())
    return torch.cat(out)


def accuracy(model: nn.Module, split: Split, device=None) -> float:
    """Fraction of the split's images the model classifies correctly."""
    return (class_probabilities(model, split, device).argmax(1) == split.labels).float().mean().item()


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """counts[true, predicted]."""
    return torch.bincount(labels * n_classes + preds, minlength=n_classes * n_classes).view(n_classes, n_classes)


def per_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> list[float]:
    matrix = confusion_matrix(preds, labels, n_classes).float()
    return (matrix.diag() / matrix.sum(1).clamp(min=1)).tolist()


def evaluate_model(model: nn.Module, split: Split, max_mistakes: int = 24, device=None) -> Evaluation:
    """Evaluate `model` on `split` once and gather everything the results panel and the card show."""
    probs = class_probabilities(model, split, device)
    confidence, preds = probs.max(1)
    labels = split.labels
    wrong = (preds != labels).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:max_mistakes]
    mistakes = [
        Mistake(int(i), split.images[i].numpy().copy(), int(labels[i]), int(preds[i]), float(confidence[i]))
        for i in order
    ]
    return Evaluation(
        accuracy=(preds == labels).float().mean().item(),
        per_class=per_class_accuracy(preds, labels, probs.shape[1]),
        confusion=confusion_matrix(preds, labels, probs.shape[1]),
        mistakes=mistakes,
        predictions=preds,
        count=len(labels),
        confidences=confidence.float(),
    )


def cell_examples(evaluation: Evaluation, split: Split, true: int, predicted: int, limit: int = 24) -> list[Mistake]:
    """The test images behind the confusion matrix's cell (true, predicted), most confident first
    (ties: lower test index first), at most `limit` (all of them: `evaluation.confusion[true, predicted]`).

    `split` is the split the evaluation was made on (its first `evaluation.count` images are used).
    Raises ValueError for a class outside the matrix or a negative limit.
    """
    n = evaluation.confusion.shape[0]
    for name, value in (("true", true), ("predicted", predicted)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
            raise ValueError(f"{name} must be a class from 0 to {n - 1} (got {value!r})")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a whole number from 0 (got {limit!r})")
    if len(split) < evaluation.count:
        raise ValueError(f"the split has {len(split)} images; the evaluation was made on {evaluation.count}")
    labels, preds = split.labels[:evaluation.count], evaluation.predictions
    confidences = evaluation.confidences
    if confidences is None:  # an evaluation from before confidences were kept: no order but the split's
        confidences = torch.zeros(evaluation.count)
    members = ((labels == true) & (preds == predicted)).nonzero().flatten()
    order = members[confidences[members].argsort(descending=True, stable=True)][:limit]
    return [Mistake(int(i), split.images[i].numpy().copy(), true, predicted, float(confidences[i]))
            for i in order]


def format_report(evaluation: Evaluation, classes: tuple[str, ...]) -> str:
    """Accuracy, per-class accuracy and the confusion matrix as text, for the command line."""
    matrix = evaluation.confusion
    correct = int(matrix.diag().sum())
    lines = [f"accuracy: {evaluation.accuracy:.2%} ({correct}/{evaluation.count})", "", "per class:"]
    for name, acc, row in zip(classes, evaluation.per_class, matrix, strict=True):
        lines.append(f"  {name:>12}: {acc:.2%} of {int(row.sum())}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted):",
              "      " + "".join(f"{i:>6}" for i in range(len(classes)))]
    lines += [f"{i:>6}" + "".join(f"{int(v):>6}" for v in row) for i, row in enumerate(matrix)]
    return "\n".join(lines)
