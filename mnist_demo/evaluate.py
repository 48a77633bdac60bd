"""Command line: evaluate a weights file on its test set.

    python -m mnist_demo.evaluate weights/digitnet.safetensors

Prints the accuracy, the per-class accuracy and the confusion matrix (rows: true, columns:
predicted).
"""

from __future__ import annotations

import argparse
import sys

import torch

from . import weights
from .data import DATASETS, DataMissingError, load_split
from .training import predict_all


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """counts[true, predicted]."""
    return torch.bincount(labels * n_classes + preds, minlength=n_classes * n_classes).view(n_classes, n_classes)


def per_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> list[float]:
    matrix = confusion_matrix(preds, labels, n_classes).float()
    return (matrix.diag() / matrix.sum(1).clamp(min=1)).tolist()


def format_report(preds: torch.Tensor, labels: torch.Tensor, classes: tuple[str, ...]) -> str:
    matrix = confusion_matrix(preds, labels, len(classes))
    accuracy = (preds == labels).float().mean().item()
    lines = [f"accuracy: {accuracy:.2%} ({int((preds == labels).sum())}/{len(labels)})", "", "per class:"]
    for name, acc, row in zip(classes, per_class_accuracy(preds, labels, len(classes)), matrix, strict=True):
        lines.append(f"  {name:>12}: {acc:.2%} of {int(row.sum())}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted):",
              "      " + "".join(f"{i:>6}" for i in range(len(classes)))]
    lines += [f"{i:>6}" + "".join(f"{int(v):>6}" for v in row) for i, row in enumerate(matrix)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", help="a .safetensors file (its .json card beside it)")
    p.add_argument("--dataset", choices=list(DATASETS), help="default: the one in the card")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    try:
        model, card = weights.load(args.weights)
        dataset = args.dataset or card.get("dataset", "mnist")
        test = load_split(dataset, "test", args.data_dir)
    except (weights.WeightsError, DataMissingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    preds = predict_all(model, test, "cpu")
    print(f"{card.get('title', card['model'])} on the {dataset} test set")
    print(format_report(preds, test.labels, DATASETS[dataset].classes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
