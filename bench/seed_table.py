"""The seed reproduction table: each tutorial system trained with its own recipe, as written, next to
what its article reports.

    python -m bench.seed_table --device cuda            # train all through the CLI, then write the table
    python -m bench.seed_table --skip-train             # only rebuild the table from the cards in weights/
    python -m bench.seed_table --only s3-mlp,s3-mlp-as-written --epochs 1 --train-subset 2000 \
        --out-dir /tmp/w --results-dir /tmp/r           # a quick end-to-end check

Each model is trained by the project's command line (`python -m mnist_demo.train --model M --recipe
seed --seed 0 --out OUT_DIR/M`), so the shipped weights and their cards come from the CLI. The table
is then read from the cards (OUT_DIR/M.json) and written to RESULTS_DIR/seeds.md and seeds.json.
--epochs and --train-subset are passed through to the CLI for quick checks; the table says so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from mnist_demo.models import MODELS
from tests.harness import RESULTS, ROOT, command_line, write_results

SEED_MODELS = ["s1-bn-cnn", "s2-numpy-cnn", "s3-mlp-as-written", "s3-mlp", "s4-two-conv",
               "s5-lenet-as-written", "s5-lenet", "s5-lenet-fashion"]
# (corrected, as written): what the article's bug costs is the gap between the two.
BUG_PAIRS = [("s3-mlp", "s3-mlp-as-written", "ReLU after the last layer clips the logits"),
             ("s5-lenet", "s5-lenet-as-written", "softmax before CrossEntropyLoss (softmax applied twice)")]
# S1's article prints the test accuracy after each of its 10 epochs (SEEDS.md).
S1_REPORTED_CURVE = [.9729, .9773, .9791, .9845, .9830, .9859, .9867, .9872, .9865, .9869]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(SEED_MODELS))
    p.add_argument("--device", default="auto", help="passed to the CLI: auto, cpu or cuda")
    p.add_argument("--data-dir", help="passed to the CLI (default $MNIST_DEMO_DATA or ./data)")
    p.add_argument("--skip-train", action="store_true", help="only rebuild the table from existing cards")
    p.add_argument("--out-dir", default="weights", help="where the weights and cards are (default weights)")
    p.add_argument("--results-dir", default=str(RESULTS), help="where seeds.md/.json go")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="override the recipes' epochs (quick checks only)")
    p.add_argument("--train-subset", type=int, help="train on the first N images (quick checks only)")
    p.add_argument("--threads", type=int, help="passed to the CLI")
    args = p.parse_args(argv)
    args.models = SEED_MODELS if not args.only else [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in SEED_MODELS]
    if unknown:
        p.error(f"unknown seed model(s) {', '.join(unknown)}; choose from {', '.join(SEED_MODELS)}")
    # The CLI runs from the repository root: make the paths given here independent of that.
    args.out_dir = str(Path(args.out_dir).resolve())
    args.data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
    return args


def cli_command(model: str, args: argparse.Namespace) -> list[str]:
    """The training command line for one model, its own (seed) recipe, as written unless overridden."""
    cmd = [sys.executable, "-m", "mnist_demo.train", "--model", model, "--recipe", "seed",
           "--seed", str(args.seed), "--device", args.device, "--out", str(Path(args.out_dir) / model)]
    for flag, value in (("--data-dir", args.data_dir), ("--epochs", args.epochs),
                        ("--train-subset", args.train_subset), ("--threads", args.threads)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def train_all(args: argparse.Namespace) -> dict[str, str]:
    """Run the CLI for each model; returns the models that failed, with the end of their error output."""
    failures = {}
    for model in args.models:
        cmd = cli_command(model, args)
        print("$ " + " ".join(cmd[1:]), flush=True)
        done = subprocess.run(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            failures[model] = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            print(f"  {model} failed: {failures[model]}", flush=True)
    return failures


def read_card(out_dir: str, model: str) -> dict | None:
    path = Path(out_dir) / f"{model}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def recipe_summary(recipe: dict) -> str:
    """e.g. "SGD lr 0.001 momentum 0.9, batch 64, 10 epochs", from the card's recipe fields."""
    text = f"{recipe['optimizer'].upper() if recipe['optimizer'] == 'sgd' else recipe['optimizer'].capitalize()}"
    text += f" lr {recipe['lr']:g}"
    if recipe.get("momentum"):
        text += f" momentum {recipe['momentum']:g}"
    text += f", batch {recipe['batch_size']}, {recipe['epochs']} epoch{'s' if recipe['epochs'] != 1 else ''}"
    if recipe.get("schedule", "constant") != "constant":
        text += f", {recipe['schedule']} schedule"
    if recipe.get("train_subset"):
        text += f", first {recipe['train_subset']:,} training images"
    if recipe.get("test_subset"):
        text += f", tested on the first {recipe['test_subset']:,}"
    return text


def seed_row(model: str, card: dict | None, failure: str | None) -> dict:
    spec = MODELS[model]
    row = {"seed": spec.seed_system, "model": model, "dataset": spec.dataset, "reported": spec.reported}
    if card is None:
        row["status"] = f"failed: {failure}" if failure else "not trained (no card)"
        return row
    row.update({
        "status": "ok",
        "recipe": recipe_summary(card["recipe"]),
        "test_accuracy": card["test_accuracy"],
        "last_epoch_accuracy": card["history"][-1]["test_accuracy"] if card.get("history") else None,
        "epochs": card["epochs_run"],
        "seconds": card["train_seconds"],
        "device": card["device"],
        "date": card.get("date"),
        "command": card.get("command"),
    })
    return row


def bug_costs(rows: dict[str, dict]) -> list[dict]:
    costs = []
    for corrected, as_written, bug in BUG_PAIRS:
        a, b = rows.get(corrected, {}), rows.get(as_written, {})
        if "test_accuracy" in a and "test_accuracy" in b:
            costs.append({"corrected": corrected, "as_written": as_written, "bug": bug,
                          "corrected_accuracy": a["test_accuracy"], "as_written_accuracy": b["test_accuracy"],
                          "cost_points": round(100 * (a["test_accuracy"] - b["test_accuracy"]), 2)})
    return costs


def s1_curve(card: dict | None) -> list[dict]:
    ours = {h["epoch"]: h["test_accuracy"] for h in (card or {}).get("history", [])}
    return [{"epoch": i, "reported": r, "ours": ours.get(i)} for i, r in enumerate(S1_REPORTED_CURVE, start=1)]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def to_markdown(result: dict) -> str:
    lines = ["# The seed systems, reproduced", "",
             f"Each trained with its own recipe as the article writes it, seed {result['seed']}, through "
             "`python -m mnist_demo.train --model M --recipe seed`; figures read from the weights cards. "
             "Test accuracy is on the whole test set (10,000 images), evaluated on the CPU.", ""]
    if result["overrides"]:
        lines += [f"**Not the articles' recipes: overridden with {result['overrides']} (a quick check).**", ""]
    lines += ["| seed | model | recipe | article reports | our test accuracy | epochs | seconds | device |",
              "| --- | --- | --- | --- | ---: | ---: | ---: | --- |"]
    for r in result["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['seed']} | {r['model']} | — | {r['reported']} | {r['status']} | | | |")
            continue
        dataset = "" if r["dataset"] == "mnist" else f" ({r['dataset']})"
        lines.append(f"| {r['seed']} | {r['model']}{dataset} | {r['recipe']} | {r['reported']} | "
                     f"{_pct(r['test_accuracy'])} | {r['epochs']} | {r['seconds']:.0f} | {r['device']} |")
    s2 = next((r for r in result["rows"] if r["model"] == "s2-numpy-cnn" and r["status"] == "ok"), None)
    if s2:
        lines += ["", f"S2 tests on the first 1,000 test images, as its article does, during training: "
                      f"{_pct(s2['last_epoch_accuracy'])} on those after the last epoch."]
    if result["bug_costs"]:
        lines += ["", "## What the articles' bugs cost", "",
                  "| bug | as written | corrected | cost (points: corrected - as written) |",
                  "| --- | ---: | ---: | ---: |"]
        for c in result["bug_costs"]:
            lines.append(f"| {c['bug']} ({c['as_written']} vs {c['corrected']}) | {_pct(c['as_written_accuracy'])} | "
                         f"{_pct(c['corrected_accuracy'])} | {c['cost_points']:+.2f} |")
    if result["s1_curve"] and any(p["ours"] is not None for p in result["s1_curve"]):
        lines += ["", "## S1: test accuracy after each epoch, article vs ours", "",
                  "| epoch | article | ours | difference (points) |", "| ---: | ---: | ---: | ---: |"]
        for p in result["s1_curve"]:
            diff = "" if p["ours"] is None else f"{100 * (p['ours'] - p['reported']):+.2f}"
            lines.append(f"| {p['epoch']} | {_pct(p['reported'])} | {_pct(p['ours'])} | {diff} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    failures = {} if args.skip_train else train_all(args)
    cards = {m: read_card(args.out_dir, m) for m in args.models}
    rows = [seed_row(m, cards[m], failures.get(m)) for m in args.models]
    by_model = {r["model"]: r for r in rows}
    overrides = ", ".join(f"{k} {v}" for k, v in (("epochs", args.epochs), ("train subset", args.train_subset))
                          if v is not None)
    result = {
        "command": command_line(None if argv is None else [__file__, *argv]),
        "seed": args.seed,
        "overrides": overrides,
        "rows": rows,
        "bug_costs": bug_costs(by_model),
        "s1_curve": s1_curve(cards.get("s1-bn-cnn")) if "s1-bn-cnn" in args.models else [],
    }
    print(write_results("seeds", result, to_markdown(result), args.results_dir).read_text())
    missing = [r["model"] for r in rows if r["status"] != "ok"]
    if missing:
        print(f"no result for: {', '.join(missing)}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
