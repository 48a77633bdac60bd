"""Benchmark: the fast recipe's time to 99% MNIST test accuracy against one epoch of pytorch/examples'
classic recipe, measured in the same run, and where the fast recipe's seconds go.

    python -m bench.fast_vs_classic --threads 2 --seed 0

Both go through the same engine (`mnist_demo.training.train`) on the CPU, in one process. The fast
recipe is timed twice, once before and once after the classic epoch, so that a change in the shared
machine's load touches both sides alike; the ratio is the mean of the two fast runs over the classic
epoch. Each clock starts before the model is built, with the data cache cleared, so reading the data
is included, and stops after the test set (all 10,000 images) has been evaluated: for the fast recipe
at the end of the first epoch whose test accuracy reaches 99.0%, for the classic one after its first
epoch. Then the fast run's seconds are taken apart: starting a Python process that imports the
engine, reading the data into tensors, augmentation, forward, backward and optimizer steps (timed
over the steps of one more epoch), and one evaluation of the test set. Writes
bench/results/fast_vs_classic.md and .json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as mnist_demo sets it; must precede torch's import

import torch
import torch._dynamo  # noqa: F401  torch.optim imports it at the first optimizer (~1 s); the app's training
import torch.nn.functional as F  # processes start with it loaded (training/preload.py), so it is process start here too

from mnist_demo import data
from mnist_demo.augment import augment
from mnist_demo.models import build_model, param_count
from mnist_demo.settings import TRAINING_PROCESS_TUNING
from mnist_demo.training.engine import make_optimizer, make_scheduler, train
from mnist_demo.training.metrics import accuracy
from mnist_demo.training.recipes import Recipe, recipe_for
from tests.harness import RESULTS, command_line, load_average, machine_info, write_results

TARGET = 0.99
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")
    p.add_argument("--data-dir", help="folder with mnist/ (default $MNIST_DEMO_DATA or ./data)")
    p.add_argument("--out-dir", default=str(RESULTS), help="where the .md and .json go (default bench/results)")
    return p.parse_args(argv)


def timed_run(model_name: str, recipe: Recipe, seed: int, data_dir: str | None, stop_at_target: bool) -> dict:
    """Train on the CPU, from an empty data cache, until the end-of-epoch test accuracy first reaches
    TARGET (stop_at_target) or the recipe's epochs are done."""
    data._load_cached.cache_clear()  # data loading is part of the time
    started = time.perf_counter()
    model = build_model(model_name, seed=seed)
    history, reached_at = [], None
    run = train(model, recipe, "mnist", data_dir=data_dir, seed=seed, device="cpu")
    for event in run:
        if event.kind != "epoch":
            continue
        seconds = time.perf_counter() - started
        history.append({"epoch": event.epoch, "test_accuracy": round(event.test_acc, 4), "seconds": round(seconds, 2)})
        print(f"  {model_name}/{recipe.name} epoch {event.epoch}: {event.test_acc:.2%} at {seconds:.2f} s", flush=True)
        if event.test_acc >= TARGET and reached_at is None:
            reached_at = history[-1]
            if stop_at_target:
                break
    run.close()
    return {
        "recipe": recipe.name, "recipe_description": recipe.description, "model": model_name,
        "parameters": param_count(model),
        "epochs_to_target": reached_at["epoch"] if reached_at else None,
        "seconds_to_target": reached_at["seconds"] if reached_at else None,
        "seconds": history[-1]["seconds"] if history else None,
        "final_accuracy": history[-1]["test_accuracy"] if history else None,
        "history": history,
    }


def process_start_seconds() -> float:
    """A fresh Python that imports the engine (torch and torch._dynamo included), as the training server starts."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch._dynamo, mnist_demo.training.engine"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def breakdown(model_name: str, recipe: Recipe, seed: int, data_dir: str | None) -> dict:
    """Where one epoch of the fast recipe spends its seconds: the engine's own step, timed piece by piece."""
    data._load_cached.cache_clear()
    t0 = time.perf_counter()
    train_split = data.load_split("mnist", "train", data_dir).first(recipe.train_subset)
    test_split = data.load_split("mnist", "test", data_dir)
    parts = {"data to tensors": time.perf_counter() - t0}
    model = build_model(model_name, seed=seed).train()
    optimizer = make_optimizer(model, recipe)
    steps = recipe.steps(len(train_split)) // recipe.epochs
    scheduler = make_scheduler(optimizer, recipe, steps)
    gen = torch.Generator().manual_seed(seed)
    clocks = dict.fromkeys(("batching", "augmentation", "forward", "backward", "optimizer step"), 0.0)
    order = torch.randperm(len(train_split), generator=gen)
    for start in range(0, len(train_split), recipe.batch_size):
        t = [time.perf_counter()]
        idx = order[start:start + recipe.batch_size]
        x, y = data.to_input(train_split.images[idx]), train_split.labels[idx]
        t.append(time.perf_counter())
        x = augment(x, recipe.augment, gen)
        t.append(time.perf_counter())
        loss = F.cross_entropy(model(x), y, label_smoothing=recipe.label_smoothing)
        t.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t.append(time.perf_counter())
        optimizer.step()
        scheduler.step()
        t.append(time.perf_counter())
        for name, a, b in zip(clocks, t, t[1:], strict=False):
            clocks[name] += b - a
    parts.update(clocks)
    t0 = time.perf_counter()
    accuracy(model, test_split, "cpu")
    parts["evaluation (10,000 test images)"] = time.perf_counter() - t0
    return {name: round(seconds, 2) for name, seconds in parts.items()}


def to_markdown(result: dict) -> str:
    m = result["machine"]
    rows = ["| run | model | params | epochs | test accuracy | seconds |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for label, r in (("fast, first", result["fast"][0]), ("classic, one epoch", result["classic"]),
                     ("fast, second", result["fast"][1])):
        reached = r["seconds_to_target"] if label.startswith("fast") else r["seconds"]
        rows.append(f"| {label} | {r['model']} | {r['parameters']:,} | {len(r['history'])} | "
                    f"{r['final_accuracy']:.2%} | {'not reached' if reached is None else f'{reached:.2f}'} |")
    ratio = result["ratio_fast_over_classic_epoch"]
    parts = result["breakdown"]
    total = sum(v for k, v in parts.items() if k != "process start (not in the runs above)")
    split = ["| part | seconds | share |", "| --- | ---: | ---: |"]
    split += [f"| {name} | {seconds:.2f} | {'' if name.startswith('process') else f'{seconds / total:.0%}'} |"
              for name, seconds in parts.items()]
    return "\n".join([
        "# Fast recipe to 99% vs one epoch of the classic pytorch/examples recipe",
        "",
        f"CPU only, {m['threads']} torch threads (OMP_WAIT_POLICY {m['omp_wait_policy']}, "
        f"{', '.join(f'{k}={v}' for k, v in m.get('tuning', {}).items())}, as the app's training processes start), "
        f"seed {result['seed']}. "
        f"Load average (1, 5, 15 min) before: {m['load_before']}; between: {m['load_between']}; after: "
        f"{m['load_after']} (the machine is shared: a load above its {m['cores']} cores means the runs "
        "competed for the CPU; the ratio compares runs made minutes apart).",
        "",
        f"Fast recipe: {result['fast'][0]['recipe_description']}",
        f"Classic recipe: {result['classic']['recipe_description']}",
        "",
        "Each time runs from an empty data cache (reading MNIST included) to the end of an epoch's "
        "evaluation of all 10,000 test images: the fast recipe's first epoch at or above 99.0%, the classic "
        "recipe's first epoch.",
        "",
        *rows,
        "",
        f"Fast recipe to 99% / one classic epoch: **{ratio:.3f}x**" if ratio else
        "Ratio: n/a (the fast recipe did not reach 99%).",
        "",
        "Where the fast recipe's seconds go (one more epoch, each piece of the engine's step timed on its own):",
        "",
        *split,
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = load_average()
    fast = recipe_for("fastnet", "fast")
    classic = recipe_for("classic", "classic").with_changes(epochs=1)  # its step schedule leaves epoch 1 unchanged
    print(f"fast: {fast.description}\nclassic: {classic.description}", flush=True)
    first = timed_run("fastnet", fast, args.seed, args.data_dir, stop_at_target=True)
    load_between = load_average()
    classic_run = timed_run("classic", classic, args.seed, args.data_dir, stop_at_target=False)
    second = timed_run("fastnet", fast, args.seed, args.data_dir, stop_at_target=True)
    fast_seconds = [r["seconds_to_target"] for r in (first, second)]
    ratio = None
    if None not in fast_seconds:
        ratio = round(sum(fast_seconds) / 2 / classic_run["seconds"], 3)
    parts = breakdown("fastnet", fast, args.seed, args.data_dir)
    parts["process start (not in the runs above)"] = round(process_start_seconds(), 2)
    result = {
        "command": command_line(None if argv is None else [__file__, *argv]),
        "seed": args.seed,
        "target": TARGET,
        "machine": {
            **machine_info(), "threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "tuning": {name: os.environ.get(name, "unset") for name in TRAINING_PROCESS_TUNING},
            "load_before": load_before, "load_between": load_between, "load_after": load_average(),
        },
        "fast": [first, second],
        "classic": classic_run,
        "ratio_fast_over_classic_epoch": ratio,
        "breakdown": parts,
    }
    print(write_results("fast_vs_classic", result, to_markdown(result), args.out_dir).read_text())
    return 0 if ratio is not None else 1


if __name__ == "__main__":
    if any(os.environ.get(name) != value for name, value in TRAINING_PROCESS_TUNING.items()):
        # Start again with the memory and thread settings the app's training processes start with (glibc and
        # OpenMP read them only as a process starts), so the engine runs here as it does there
        os.execve(sys.executable, [sys.executable, "-m", "bench.fast_vs_classic", *sys.argv[1:]],
                  {**os.environ, **TRAINING_PROCESS_TUNING})
    sys.exit(main())
