"""Does mixing rendered handwriting into training help on writers never seen? Two splits of unipen-dev.

    MNIST_DEMO_DATA=/path/to/data python -m bench.unseen_writers [--split sites|writers] [--train] [--threads 2]

UNIPEN 1a, International Unipen Foundation; Guyon et al., ICPR 1994; CC BY 4.0. For each group of
test writers a digitnet is fine-tuned from the MNIST-only base (weights/base/digitnet-mnist) with the
other writers' digits rendered on the canvas and mixed into MNIST, by the project's own command
(`python -m mnist_demo.train --recipe handwriting --handwriting ...`; --train runs them, else the runs
in runs/unseen/ are read), and tested on the group through the app's canvas and picture roads:
- --split sites (default): leave one site out; train on three sites, test on the fourth: new writers
  on a new tablet, the strictest test;
- --split writers: five writer folds over all four sites (a writer never on both sides; IBM's and
  Toshiba's sessions of one person go together); train on four folds, test on the fifth: new writers
  on known tablets, which is what the shipped model (trained on all four sites) faces.
One writer fold of the training writers is kept out of training; the temperature and the model's
"not sure" threshold (card `not_sure_below`) are chosen there, never on the tested writers. Reports
per group, per site and pooled: accuracy (base vs fine-tuned), and for the fine-tuned model the "not
sure" figures (at the app's default 0.5 and at the card's threshold) and ECE before and after the
temperature; plus each run's MNIST test accuracy and the forward time on one thread. --lr /
--train-subset / --epochs change the trainings' recipe (recorded in each card's command). Writes
bench/results/unseen_writers[_by_writer].{json,md}.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.real_handwriting import machine, predict_probs, prepare
from mnist_demo import handwriting as hw
from mnist_demo import weights
from mnist_demo.calibration import confidence_report
from mnist_demo.reading.predict import NOT_SURE_BELOW, threshold_of
from tests.harness import ROOT

BASE = ROOT / "weights" / "base" / "digitnet-mnist.safetensors"
RUNS = ROOT / "runs" / "unseen"
RESULTS = ROOT / "bench" / "results"
PATHS = ("canvas", "picture")


FOLDS = 5  # writer folds of --split writers (train.py's --handwriting-holdout/--handwriting-exclude count of 5)


@dataclass
class Group:
    """Test writers, and the training that never sees them."""

    name: str
    tests: np.ndarray  # bool per unipen-dev digit
    train_args: list[str]  # what says which writers train.py uses

    @property
    def out(self) -> Path:
        return RUNS / f"without-{self.name}"


def groups(split: str, digits: list[hw.PenDigit], seed: int = 0) -> list[Group]:
    """--split sites: each site left out in turn; --split writers: each writer fold left out (calibrated on the next)."""
    if split == "sites":
        sources = np.array([d.source for d in digits])
        return [Group(site, sources == site, ["--handwriting", ",".join(s for s in hw.SITES if s != site)])
                for site in hw.SITES]
    folds = hw.writer_folds(digits, FOLDS, seed)  # the same folds train.py makes of all four sites
    return [Group(f"fold{k}", folds == k, ["--handwriting", "all", "--handwriting-exclude", str(k),
                                          "--handwriting-holdout", str((k + 1) % FOLDS)]) for k in range(FOLDS)]


def train_command(group: Group, threads: int, variants: int, recipe_changes: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "mnist_demo.train", "--model", "digitnet", "--recipe", "handwriting",
            "--init", str(BASE.relative_to(ROOT)), *group.train_args, "--handwriting-variants", str(variants),
            *recipe_changes, "--seed", "0", "--threads", str(threads), "--out", str(group.out.relative_to(ROOT))]


def forward_ms(model: torch.nn.Module, repeats: int = 300) -> float:
    """Median time of one 28x28 image through the model, one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    x = torch.rand(1, 1, 28, 28)
    times = []
    with torch.inference_mode():
        for _ in range(30):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    return 1e3 * statistics.median(times)


def test_time_variants(x: torch.Tensor) -> list[torch.Tensor]:
    """The input, shifted a pixel four ways and turned 8 degrees both ways: test-time variants to average over."""
    out = [x, *(torch.roll(x, shift, dims) for shift, dims in ((1, 3), (-1, 3), (1, 2), (-1, 2)))]
    for degrees in (-8, 8):
        t = math.radians(degrees)
        theta = torch.tensor([[math.cos(t), -math.sin(t), 0.0], [math.sin(t), math.cos(t), 0.0]]).expand(len(x), 2, 3)
        out.append(F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False))
    return out


def rounded(report: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()}


def reports(mask: torch.Tensor, probs: dict, labels: torch.Tensor, thresholds: torch.Tensor,
            readable: torch.Tensor) -> dict:
    """The figures of the digits in `mask`: base, fine-tuned before and after T, and at each model's own threshold;
    the last also without the unreadable marks (handwriting.unreadable_mark: ink that cannot be its label)."""
    y = labels[mask]
    out = {kind: rounded(confidence_report(p[mask], y, NOT_SURE_BELOW)) for kind, p in probs.items()}
    out["tuned_card_threshold"] = rounded(confidence_report(probs["tuned"][mask], y, thresholds[mask]))
    keep = mask & readable
    out["readable_card_threshold"] = rounded(confidence_report(probs["tuned"][keep], labels[keep], thresholds[keep]))
    out["unreadable_marks"] = int((mask & ~readable).sum())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("sites", "writers"), default="sites",
                   help="leave one site out (default), or one writer fold of all four sites")
    p.add_argument("--train", action="store_true", help="run the trainings (else read runs/unseen/)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variants", type=int, default=3, help="--handwriting-variants of the trainings")
    p.add_argument("--lr", help="--lr of the trainings (default: the handwriting recipe's)")
    p.add_argument("--train-subset", help="--train-subset of the trainings (default: the handwriting recipe's)")
    p.add_argument("--epochs", help="--epochs of the trainings (default: the handwriting recipe's)")
    p.add_argument("--final", default="weights/digitnet.safetensors",
                   help="the model trained on all four sites, for its MNIST figure and forward time")
    args = p.parse_args(argv)
    recipe_changes = tuple(x for flag, v in (("--train-subset", args.train_subset), ("--lr", args.lr),
                                                          ("--epochs", args.epochs)) if v
                           for x in (flag, v))
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    base, base_card = weights.load(BASE)
    assert "handwriting" not in base_card, "the base must never have seen UNIPEN"
    digits = hw.load_unipen()
    sources = np.array([d.source for d in digits])
    labels = torch.tensor([d.label for d in digits])
    inputs = prepare(digits)
    readable = torch.tensor([hw.unreadable_mark(d) is None for d in digits])
    n = len(digits)
    # every digit's probabilities from the model that never saw its writer; each digit is in one group
    probs = {road: {kind: torch.zeros(n, 10) for kind in ("base", "raw", "tuned")} for road in PATHS}
    thresholds = torch.zeros(n)
    averaged = torch.zeros(n, 10)  # canvas road, averaged over test_time_variants: what that would buy
    runs, left_out = {}, groups(args.split, digits)
    for group in left_out:
        if args.train:
            subprocess.run(["nice", "-n", "10", *train_command(group, args.threads, args.variants, recipe_changes)],
                           cwd=ROOT, check=True)
        model, card = weights.load(group.out.with_suffix(".safetensors"))
        mask = torch.from_numpy(group.tests)
        info = card["handwriting"]
        tested = {d.writer for d, t in zip(digits, group.tests, strict=True) if t}
        trained, calibrated_on = hw.writers_used(info, digits)
        assert not tested & (trained | calibrated_on), f"{group.out} saw writers it is tested on"
        temperature = card.get("calibration", {}).get("temperature", 1.0)
        thresholds[mask] = threshold_of(model)
        for road in PATHS:
            x = inputs[road][mask]
            probs[road]["base"][mask] = predict_probs(base, x)
            tuned = predict_probs(model, x)
            probs[road]["tuned"][mask] = tuned
            probs[road]["raw"][mask] = torch.softmax(torch.log(tuned.clamp_min(1e-12)) * temperature, 1)  # before T
        averaged[mask] = torch.stack([predict_probs(model, v) for v in test_time_variants(inputs["canvas"][mask])]).mean(0)
        runs[group.name] = {
            "digits": int(mask.sum()), "writers": len(tested), "sites": sorted(set(sources[group.tests])),
            "mnist_test": card["test_accuracy"], "temperature": temperature, "not_sure_below": threshold_of(model),
            "threshold_on_held_out": (card.get("calibration") or {}).get("not_sure"),
            "trained_on": info["sites"], "train_images": info["train_images"], "command": card["command"],
            **{road: reports(mask, probs[road], labels, thresholds, readable) for road in PATHS}}
        r = runs[group.name]["canvas"]
        print(f"{group.name}: base {r['base']['accuracy']:.2%} -> {r['tuned']['accuracy']:.2%} (canvas), "
              f"MNIST {card['test_accuracy']:.2%}")
    by_site = {site: {road: reports(torch.from_numpy(sources == site), probs[road], labels, thresholds, readable)
                      for road in PATHS} for site in hw.SITES}
    everything = torch.ones(n, dtype=torch.bool)
    pooled = {road: reports(everything, probs[road], labels, thresholds, readable) for road in PATHS}
    test_time = {"variants": len(test_time_variants(inputs["canvas"][:1])),
                 **rounded(confidence_report(averaged, labels, thresholds))}
    final = {}
    final_path = ROOT / args.final
    if final_path.is_file():
        final_model, final_card = weights.load(final_path)
        final = {"weights": args.final, "mnist_test": final_card["test_accuracy"],
                 "handwriting_sites": (final_card.get("handwriting") or {}).get("sites"),
                 "temperature": (final_card.get("calibration") or {}).get("temperature"),
                 "not_sure_below": threshold_of(final_model),
                 "threshold_on_held_out": (final_card.get("calibration") or {}).get("not_sure"),
                 "forward_ms_1_thread": round(forward_ms(final_model), 3),
                 "base_forward_ms_1_thread": round(forward_ms(base), 3)}
    command = "MNIST_DEMO_DATA=... python -m bench.unseen_writers" + " ".join(
        [""] + (argv if argv is not None else sys.argv[1:]))
    result = {"command": command, "split": args.split, "machine": machine(args.threads), "credit": hw.CREDIT,
              "threshold": NOT_SURE_BELOW, "seconds": round(time.perf_counter() - started, 1),
              "train_command_example": " ".join(["python", *train_command(left_out[-1], args.threads, args.variants,
                                                                         recipe_changes)[1:]]),
              "groups": runs, "sites": by_site, "pooled": pooled, "test_time_variants": test_time, "final": final}
    name = "unseen_writers" if args.split == "sites" else "unseen_writers_by_writer"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result, RESULTS / f"{name}.md")
    print(f"wrote {RESULTS / name}.md")
    return 0


def pct(v: float) -> str:
    return f"{v:.2%}"


def held_out_note(chosen: dict | None) -> str:
    if not chosen:
        return "none chosen"
    return (f"{pct(chosen['confident_accuracy'])} accurate when confident, {pct(chosen['coverage'])} confident"
            + ("" if chosen["target_met"] else ", 99.7% out of reach within 95%"))


def write_markdown(result: dict, path: Path) -> None:
    m = result["machine"]
    sites = result["split"] == "sites"
    title = ("leave-one-site-out" if sites else f"{FOLDS} writer folds over all four sites") + " on unipen-dev"
    how = ("the other three sites' digits" if sites else
           f"the digits of the other {FOLDS - 1} writer folds (all four sites; a writer never on both sides, "
           "all of a person's sessions together)")
    lines = [
        f"# Writers never seen: {title}", "",
        f"`{result['command']}` on {m['processor']} ({m['cpus']} cores, torch {m['torch']}), {m['date']}. "
        f"Data: {result['credit']}.", "",
        f"Each row's model was fine-tuned from the MNIST-only base (`weights/base/digitnet-mnist`) with {how} "
        "drawn on the canvas (plus stroke-level redrawings) mixed into MNIST, e.g. "
        f"`{result['train_command_example']}`; its temperature was fitted on held-out writers of its training "
        "data. *base* is the MNIST-only model. Confident = top probability at least "
        f"{result['threshold']} (the app's default \"not sure\" threshold), or at least the model card's own "
        "threshold (*card*: `not_sure_below`, chosen on the same held-out writers: the smallest giving 99.7% "
        "accurate confident answers with at least 95% of the answers confident; where that is out of reach, "
        "the largest keeping 95%).", "",
        "| left out | digits | road | base | fine-tuned | shown as confident | accuracy when confident "
        "| card threshold | confident (card) | accuracy when confident (card) "
        "| ECE before T | ECE after T | T | MNIST test |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in result["groups"].items():
        for road in PATHS:
            r = e[road]
            lines.append(f"| {name} | {e['digits']:,} | {road} | {pct(r['base']['accuracy'])} "
                         f"| **{pct(r['tuned']['accuracy'])}** "
                         f"| {pct(r['tuned']['coverage'])} | {pct(r['tuned']['confident_accuracy'])} "
                         f"| {e['not_sure_below']:.2f} | {pct(r['tuned_card_threshold']['coverage'])} "
                         f"| {pct(r['tuned_card_threshold']['confident_accuracy'])} "
                         f"| {r['raw']['ece']:.4f} | {r['tuned']['ece']:.4f} | {e['temperature']:.3f} "
                         f"| {pct(e['mnist_test'])} |")
    lines += ["", "## By site (each digit read by the model that never saw its writer)", "",
              "*Unreadable marks* (`handwriting.unreadable_mark`): a dot, or one straight line labelled other than 1 "
              "or lying flatter than 45 degrees: ink that cannot be its label (the recording lost strokes). They are "
              "counted in every figure; the last three columns leave them out.", "",
              "| site | road | base | fine-tuned | confident (card) | accuracy when confident (card) "
              "| unreadable marks | fine-tuned, without them | accuracy when confident (card), without them |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for site, roads in [*result["sites"].items(), ("all", result["pooled"])]:
        for road, r in roads.items():
            clean = r["readable_card_threshold"]
            lines.append(f"| {site} | {road} | {pct(r['base']['accuracy'])} | **{pct(r['tuned']['accuracy'])}** "
                         f"| {pct(r['tuned_card_threshold']['coverage'])} "
                         f"| {pct(r['tuned_card_threshold']['confident_accuracy'])} | {r['unreadable_marks']} "
                         f"| {pct(clean['accuracy'])} | {pct(clean['confident_accuracy'])} |")
    lines += ["", "## Pooled over every left-out group (each digit read by the model that never saw its writer)", "",
              "| road | model | accuracy | shown as confident | accuracy when confident | wrong but confident | ECE |",
              "|---|---|---:|---:|---:|---:|---:|"]
    names = {"base": "MNIST-only base", "raw": "fine-tuned, before T", "tuned": "fine-tuned, after T",
             "tuned_card_threshold": "fine-tuned, after T, card threshold"}
    for road, parts in result["pooled"].items():
        for kind in ("base", "raw", "tuned", "tuned_card_threshold"):
            r = parts[kind]
            lines.append(f"| {road} | {names[kind]} | {pct(r['accuracy'])} | {pct(r['coverage'])} "
                         f"| {pct(r['confident_accuracy'])} | {r['wrong_but_confident']} | {r['ece']:.4f} |")
    t = result["test_time_variants"]
    lines += ["", f"Averaging each answer over {t['variants']} test-time variants of the canvas road's input (itself, "
              "shifted a pixel four ways, turned 8 degrees both ways: `test_time_variants`): "
              f"{pct(t['accuracy'])} pooled against {pct(result['pooled']['canvas']['tuned']['accuracy'])}, "
              f"{pct(t['coverage'])} confident at the card thresholds, of which {pct(t['confident_accuracy'])} right; "
              + ("under 0.2 points for 7 forward passes, so the app reads each drawing once."
                 if t["accuracy"] - result["pooled"]["canvas"]["tuned"]["accuracy"] < 0.002 else
                 "0.2 points or more: worth the extra forward passes in the app.")]
    f = result.get("final")
    if f:
        lines += ["", f"The model trained on all four sites (`{f['weights']}`, UNIPEN sites {f['handwriting_sites']}): "
                  f"MNIST test {pct(f['mnist_test'])}, temperature {f['temperature']}, \"not sure\" below "
                  f"{f['not_sure_below']} (on its held-out writers: {held_out_note(f.get('threshold_on_held_out'))}), "
                  "forward pass "
                  f"{f['forward_ms_1_thread']:.2f} ms median on one thread (the base: {f['base_forward_ms_1_thread']:.2f} ms, "
                  f"same moment, load average {m['load_average_1min']})."]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
