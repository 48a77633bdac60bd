"""Command line: train a registered model and write its weights and card.

    python -m mnist_demo.train --model digitnet --dataset mnist --recipe seed --out weights/digitnet
    python -m mnist_demo.train --model digitnet --recipe handwriting --init weights/base/digitnet-mnist.safetensors \
        --handwriting syn,ibm,app --out runs/hw      # fine-tune with rendered UNIPEN writers mixed in

With --handwriting, one writer fold of those sites (--handwriting-holdout) is kept out of training
and a temperature is fitted on it and folded into the last layer (calibration.py); the "not sure"
threshold is chosen there too (the smallest giving 99.7% accurate confident answers while 95% stay
confident) and stored in the card as `not_sure_below`, which the app uses for this model.

    python -m mnist_demo.train --model digitnet --extra-data my-digits.zip --out runs/mine   # plus My digits
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import torch
from tqdm import tqdm

from . import calibration, handwriting, settings, weights
from .augment import AUGMENTATIONS
from .data import DATASETS, TRAIN_SIZE, DataMissingError, Split, load_split
from .models import MODELS, build_model, param_count
from .my_digits import training_data
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
    p.add_argument("--init", help="start from this weights file (same architecture) instead of random weights")
    p.add_argument("--handwriting", help="mix rendered UNIPEN digits of these sites (comma-separated, or 'all') "
                   "from DATA/unipen-dev into the training set")
    p.add_argument("--handwriting-variants", type=int, default=4, help="stroke-level redrawings per digit (default 4)")
    p.add_argument("--handwriting-holdout", default="0",
                   help="writer fold (of 5) kept out of training to fit the temperature on, or 'none' (default 0)")
    p.add_argument("--handwriting-exclude", type=int, help="another writer fold kept out of training and "
                   "calibration alike: the writers a measurement tests on (bench/unseen_writers.py --split writers)")
    p.add_argument("--extra-data", help="a My digits zip (the Draw tab's download): its digits are mixed into "
                   "every epoch's training set, and the card records it")
    p.add_argument("--extra-repeats", type=int, default=1, help="how many times each extra digit is used per epoch")
    p.add_argument("--out", required=True, help="output path, without or with .safetensors")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    settings.load()
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = args.dataset or MODELS[args.model].dataset
    try:
        recipe = recipe_for(args.model, args.recipe).with_changes(
            epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, optimizer=args.optimizer,
            augment=args.augment, train_subset=args.train_subset)
        test = load_split(dataset, "test", args.data_dir).first(recipe.test_subset)
        mine, mine_info = training_data(args.extra_data, args.extra_repeats, dataset)
    except (ValueError, DataMissingError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    model = build_model(args.model, seed=args.seed)
    init_card = None
    if args.init:
        try:
            init_model, init_card = weights.load(args.init)
        except weights.WeightsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if init_card.get("model") != args.model:
            print(f"error: {args.init} is a {init_card.get('model')} model, not {args.model}", file=sys.stderr)
            return 2
        model.load_state_dict(init_model.state_dict())
    extra = held_out = hw_info = None
    if args.handwriting:
        sites = handwriting.SITES if args.handwriting == "all" else tuple(args.handwriting.split(","))
        holdout = None if args.handwriting_holdout == "none" else int(args.handwriting_holdout)
        try:
            extra, held_out, hw_info = handwriting.training_set(
                sites, args.handwriting_variants, args.seed, holdout, data_dir=args.data_dir,
                exclude_fold=args.handwriting_exclude)
        except (ValueError, DataMissingError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"handwriting: {hw_info['train_images']:,} canvas renderings of {hw_info['train_digits']:,} digits "
              f"by {hw_info['train_writers']} writers ({', '.join(hw_info['sites'])}) mixed in")
    if mine is not None:  # My digits, with the handwriting if any
        extra = mine if extra is None else Split(torch.cat([extra.images, mine.images]),
                                                 torch.cat([extra.labels, mine.labels]))
        print(f"extra data: {mine_info['digits']} digits from {mine_info['file']}, x{mine_info['repeats']} per epoch")
    device = pick_device(args.device)
    print(f"{MODELS[args.model].title}: {param_count(model):,} parameters; {dataset}; recipe {recipe.name} "
          f"({recipe.description}); device {device}")
    started = time.time()
    history, final = [], None
    bar = tqdm(total=recipe.steps((recipe.train_subset or TRAIN_SIZE) + (len(extra) if extra else 0)), unit="step")
    for event in train(model, recipe, dataset, data_dir=args.data_dir, seed=args.seed, device=device,
                       extra_train=extra):
        bar.update(event.step - bar.n)
        bar.set_postfix(epoch=f"{event.epoch}/{event.epochs}", loss=f"{event.loss:.3f}",
                        acc=f"{event.train_acc:.3f}", img_s=f"{event.images_per_sec:.0f}")
        if event.kind == "epoch":
            history.append(epoch_record(event))
            tqdm.write(f"epoch {event.epoch}: test accuracy {event.test_acc:.2%} ({event.elapsed:.0f} s)")
        final = event
    bar.close()

    model.cpu()
    calibrated = None
    if held_out is not None:
        calibrated = calibration.calibrate(model, held_out)
        ns = calibrated["not_sure"]
        print(f"temperature {calibrated['temperature']:.3f} fitted on {calibrated['fitted_on']}: ECE "
              f"{calibrated['ece_before']:.4f} -> {calibrated['ece_after']:.4f}; not sure below {ns['threshold']:.2f} "
              f"({ns['confident_accuracy']:.2%} accurate when confident, {ns['coverage']:.2%} confident"
              f"{'' if ns['target_met'] else ', 99.7% not reached'})")
    evaluation = evaluate_model(model, test)
    card = build_card(model_name=args.model, model=model, dataset=dataset, recipe=recipe, seed=args.seed,
                      evaluation=evaluation, final=final, history=history, seconds=time.time() - started,
                      device=device, threads=torch.get_num_threads(), data_dir=args.data_dir,
                      command="python -m mnist_demo.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    if init_card:
        card["init"] = {"weights": args.init, "test_accuracy": init_card.get("test_accuracy"),
                        "command": init_card.get("command")}
    if hw_info:
        card["handwriting"] = hw_info
    if calibrated:
        card["calibration"] = calibrated
        card["not_sure_below"] = calibrated["not_sure"]["threshold"]
    if mine_info:
        card["extra_data"] = mine_info
    path = weights.save(model, args.out, card)
    print(f"test accuracy {evaluation.accuracy:.2%} (evaluated on the CPU); wrote {path} and {weights.card_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
