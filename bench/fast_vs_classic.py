"""Benchmark: wall time to 99% MNIST test accuracy, the fast recipe against pytorch/examples' classic one.

    python -m bench.fast_vs_classic --threads 2 --seed 0

Both runs go through the same engine (`mnist_demo.training.train`) on the CPU, in one process.
The clock starts before the model is built and the data cache is cleared first, so data loading
is included. The test set is evaluated at the end of every epoch for both recipes; a run stops as
soon as the accuracy reaches the target (the classic one otherwise at --max-classic-epochs,
reported as not reached). Writes bench/results/fast_vs_classic.md and .json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as mnist_demo sets it; must precede torch's import

import torch

from mnist_demo import data
from mnist_demo.models import build_model, param_count
from mnist_demo.training.engine import train
from mnist_demo.training.recipes import Recipe, recipe_for
from tests.harness import RESULTS, command_line, load_average, machine_info, write_results

TARGET = 0.99


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")
    p.add_argument("--data-dir", help="folder with mnist/ (default $MNIST_DEMO_DATA or ./data)")
    p.add_argument("--max-classic-epochs", type=int, default=5,
                   help="stop the classic run here if it has not reached the target (default 5)")
    p.add_argument("--out-dir", default=str(RESULTS), help="where the .md and .json go (default bench/results)")
    return p.parse_args(argv)


def time_to_target(model_name: str, recipe: Recipe, seed: int, data_dir: str | None) -> dict:
    """Train on the CPU until the end-of-epoch test accuracy first reaches TARGET or the epochs run out."""
    data._load_cached.cache_clear()  # data loading is part of the time
    started = time.perf_counter()
    model = build_model(model_name, seed=seed)
    history, reached_at = [], None
    run = train(model, recipe, "mnist", data_dir=data_dir, seed=seed, device="cpu")
    for event in run:
        if event.kind != "epoch":
            continue
        seconds = time.perf_counter() - started
        history.append({"epoch": event.epoch, "test_accuracy": round(event.test_acc, 4), "seconds": round(seconds, 1)})
        print(f"  {model_name}/{recipe.name} epoch {event.epoch}: {event.test_acc:.2%} at {seconds:.1f} s", flush=True)
        if event.test_acc >= TARGET:
            reached_at = history[-1]
            break
    run.close()
    return {
        "recipe": recipe.name,
        "recipe_description": recipe.description,
        "model": model_name,
        "parameters": param_count(model),
        "epochs_to_target": reached_at["epoch"] if reached_at else None,
        "seconds_to_target": reached_at["seconds"] if reached_at else None,
        "epochs_run": len(history),
        "final_accuracy": history[-1]["test_accuracy"] if history else None,
        "history": history,
    }


def _cell(value, fmt: str = "{}") -> str:
    return "not reached" if value is None else fmt.format(value)


def to_markdown(result: dict) -> str:
    m = result["machine"]
    rows = [
        "| recipe | model | params | epochs to 99% | seconds to 99% | final accuracy | epochs run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["runs"]:
        rows.append(f"| {r['recipe']} | {r['model']} | {r['parameters']:,} | {_cell(r['epochs_to_target'])} | "
                    f"{_cell(r['seconds_to_target'], '{:.1f}')} | {r['final_accuracy']:.2%} | {r['epochs_run']} |")
    ratio = result["ratio_classic_over_fast"]
    curves = ["| recipe | epoch | test accuracy | seconds since start |", "| --- | ---: | ---: | ---: |"]
    for r in result["runs"]:
        curves += [f"| {r['recipe']} | {h['epoch']} | {h['test_accuracy']:.2%} | {h['seconds']:.1f} |"
                   for h in r["history"]]
    return "\n".join([
        "# Fast recipe vs the classic pytorch/examples recipe: time to 99% MNIST test accuracy",
        "",
        f"CPU only, {m['threads']} torch threads (OMP_WAIT_POLICY {m['omp_wait_policy']}), seed {result['seed']}.",
        f"Load average (1, 5, 15 min) before: {m['load_before']}; after: {m['load_after']} "
        "(the machine is shared; a load above the core count means the runs competed for the CPU).",
        "",
        "Wall time from the start (model built and data cache cleared first, so loading the data is "
        "included) to the end of the first epoch whose test accuracy (all 10,000 test images, "
        "evaluated after every epoch for both recipes) reaches 99.0%; each run stops there.",
        "",
        *rows,
        "",
        f"Classic / fast time to 99%: **{ratio:.1f}x**." if ratio else "Ratio: n/a (a run did not reach 99%).",
        "",
        "Per-epoch test accuracy:",
        "",
        *curves,
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = load_average()
    fast = recipe_for("fastnet", "fast")
    # The step schedule does not depend on the total epochs, so capping them leaves the run unchanged.
    classic = recipe_for("classic", "classic").with_changes(epochs=args.max_classic_epochs)
    runs = []
    for model_name, recipe in (("fastnet", fast), ("classic", classic)):
        print(f"{model_name} with the {recipe.name} recipe: {recipe.description}", flush=True)
        runs.append(time_to_target(model_name, recipe, args.seed, args.data_dir))
    fast_s, classic_s = runs[0]["seconds_to_target"], runs[1]["seconds_to_target"]
    result = {
        "command": command_line(None if argv is None else [__file__, *argv]),
        "seed": args.seed,
        "target": TARGET,
        "machine": {
            **machine_info(), "threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "load_before": load_before, "load_after": load_average(),
        },
        "runs": runs,
        "ratio_classic_over_fast": round(classic_s / fast_s, 2) if fast_s and classic_s else None,
    }
    print(write_results("fast_vs_classic", result, to_markdown(result), args.out_dir).read_text())
    return 0 if fast_s is not None else 1


if __name__ == "__main__":
    sys.exit(main())
