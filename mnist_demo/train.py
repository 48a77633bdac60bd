"""Command line: train a registered model and write its weights and card.

    python -m mnist_demo.train --model digitnet --dataset mnist --recipe seed --out weights/digitnet
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import torch
from tqdm import tqdm

from . import weights
from .augment import AUGMENTATIONS
from .data import DATASETS, DataMissingError, load_split
from .models import MODELS, build_model, param_count
from .training.card import build_card, epoch_record
from .training.engine import pick_device, train
from .training.metrics import evaluate_model
from .training.recipes import OPTIMIZERS, RECIPES, recipe_for


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=list(MODELS))
    p.add_argument("--dataset", choices=list(DATASETS), help="default: the model's own")
    p.add_argument("--recipe", default="seed", choices=["seed", *RECIPES],
                   help="seed = the model's own recipe (the article's, for a seed system)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--augment", choices=AUGMENTATIONS)
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
        test = load_split(dataset, "test", args.data_dir).first(recipe.test_subset)
    except (ValueError, DataMissingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    model = build_model(args.model, seed=args.seed)
    device = pick_device(args.device)
    print(f"{MODELS[args.model].title}: {param_count(model):,} parameters; {dataset}; recipe {recipe.name} "
          f"({recipe.description}); device {device}")
    started = time.time()
    history, final = [], None
    bar = tqdm(total=recipe.steps(), unit="step")
    for event in train(model, recipe, dataset, data_dir=args.data_dir, seed=args.seed, device=device):
        bar.update(event.step - bar.n)
        bar.set_postfix(epoch=f"{event.epoch}/{event.epochs}", loss=f"{event.loss:.3f}",
                        acc=f"{event.train_acc:.3f}", img_s=f"{event.images_per_sec:.0f}")
        if event.kind == "epoch":
            history.append(epoch_record(event))
            tqdm.write(f"epoch {event.epoch}: test accuracy {event.test_acc:.2%} ({event.elapsed:.0f} s)")
        final = event
    bar.close()

    evaluation = evaluate_model(model.cpu(), test)
    card = build_card(model_name=args.model, model=model, dataset=dataset, recipe=recipe, seed=args.seed,
                      evaluation=evaluation, final=final, history=history, seconds=time.time() - started,
                      device=device, threads=torch.get_num_threads(), data_dir=args.data_dir,
                      command="python -m mnist_demo.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    path = weights.save(model, args.out, card)
    print(f"test accuracy {evaluation.accuracy:.2%} (evaluated on the CPU); wrote {path} and {weights.card_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
