"""Command line: train a registered model and write its weights and card.

    python -m mnist_demo.train --model digitnet --dataset mnist --recipe seed --out weights/digitnet
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shlex
import sys
import time

import torch
from tqdm import tqdm

from . import weights
from .data import DataMissingError, data_checksum, load_split
from .evaluate import per_class_accuracy
from .models import MODELS, build_model, param_count
from .training import RECIPES, Progress, pick_device, predict_all, recipe_for, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=list(MODELS))
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], help="default: the model's own")
    p.add_argument("--recipe", default="seed", choices=["seed", *RECIPES],
                   help="seed = the model's own recipe (the article's, for a seed system)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "adadelta"])
    p.add_argument("--augment", choices=["none", "digits", "fashion"])
    p.add_argument("--train-subset", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--data-dir", help="folder with mnist/ and fashion-mnist/ (default $MNIST_DEMO_DATA or ./data)")
    p.add_argument("--out", required=True, help="output path, without or with .safetensors")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = args.dataset or MODELS[args.model].dataset
    try:
        recipe = recipe_for(args.model, args.recipe).with_changes(
            epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, optimizer=args.optimizer,
            augment=args.augment, train_subset=args.train_subset)
        checksum = data_checksum(dataset, args.data_dir)
    except (ValueError, DataMissingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    model = build_model(args.model, seed=args.seed)
    device = pick_device(args.device)
    print(f"{MODELS[args.model].title}: {param_count(model):,} parameters; {dataset}; recipe {recipe.name} "
          f"({recipe.description}); device {device}")
    started = time.time()
    history: list[dict] = []
    bar = tqdm(total=recipe.epochs * -(-(recipe.train_subset or 60000) // recipe.batch_size), unit="step")
    final: Progress | None = None
    for event in train(model, recipe, dataset, data_dir=args.data_dir, seed=args.seed, device=device):
        bar.update(event.step - bar.n)
        bar.set_postfix(epoch=f"{event.epoch}/{event.epochs}", loss=f"{event.loss:.3f}",
                        acc=f"{event.train_acc:.3f}", img_s=f"{event.images_per_sec:.0f}")
        if event.kind == "epoch":
            history.append({"epoch": event.epoch, "test_accuracy": round(event.test_acc, 4),
                            "elapsed_s": round(event.elapsed, 1)})
            tqdm.write(f"epoch {event.epoch}: test accuracy {event.test_acc:.2%} ({event.elapsed:.0f} s)")
        final = event
    bar.close()

    test = load_split(dataset, "test", args.data_dir)
    model.cpu()
    preds = predict_all(model, test, "cpu")
    accuracy = (preds == test.labels).float().mean().item()
    card = {
        "model": args.model,
        "title": MODELS[args.model].title,
        "parameters": param_count(model),
        "dataset": dataset,
        "data_checksum": checksum,
        "recipe": {**vars(recipe)},
        "seed": args.seed,
        "test_accuracy": round(accuracy, 4),
        "per_class_accuracy": [round(a, 4) for a in per_class_accuracy(preds, test.labels)],
        "epochs_run": final.epoch if final else 0,
        "history": history,
        "train_seconds": round(time.time() - started, 1),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
        "command": "python -m mnist_demo.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
    }
    path = weights.save(model, args.out, card)
    print(f"test accuracy {accuracy:.2%} (evaluated on the CPU); wrote {path} and {weights.card_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
