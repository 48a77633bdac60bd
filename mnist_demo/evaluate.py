"""Command line: evaluate a weights file on its test set.

    python -m mnist_demo.evaluate weights/digitnet.safetensors

Prints the accuracy, the per-class accuracy and the confusion matrix (rows: true, columns:
predicted).
"""

from __future__ import annotations

import argparse
import sys

from . import settings, weights
from .data import DATASETS, DataMissingError, load_split
from .training.metrics import evaluate_model, format_report


def main(argv: list[str] | None = None) -> int:
    settings.load()
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
    print(f"{card.get('title', card['model'])} on the {dataset} test set")
    print(format_report(evaluate_model(model, test, device="cpu"), DATASETS[dataset].classes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
