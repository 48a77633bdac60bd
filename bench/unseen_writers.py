"""Does mixing rendered handwriting into training help on writers never seen? Leave-one-site-out on unipen-dev.

    MNIST_DEMO_DATA=/path/to/data python bench/unseen_writers.py [--train] [--threads 2]

For each of the four UNIPEN sites (UNIPEN 1a, International Unipen Foundation; Guyon et al., ICPR
1994; CC BY 4.0) a digitnet is fine-tuned from the MNIST-only base (weights/base/digitnet-mnist) with
the other three sites' digits rendered on the canvas and mixed into MNIST, by the project's own
command (`python -m mnist_demo.train --recipe handwriting --handwriting OTHERS ...`; --train runs
them, else the runs in runs/unseen/ are read), and tested on the left-out site through the app's
canvas and picture roads. One writer fold of the training sites is kept out of training; the
temperature and the model's "not sure" threshold (card `not_sure_below`) are chosen there, never on
the tested site. Reports per site and pooled: accuracy (base vs fine-tuned), and for the fine-tuned
model the "not sure" figures (at the app's default 0.5 and at the card's threshold) and ECE before and
after the temperature; plus each run's MNIST test accuracy and the forward time on one thread.
--lr / --train-subset / --epochs change the trainings' recipe (recorded in each card's command). Writes
bench/results/unseen_writers.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from real_handwriting import machine, predict_probs, prepare  # noqa: E402

from mnist_demo import handwriting as hw  # noqa: E402
from mnist_demo import weights  # noqa: E402
from mnist_demo.calibration import choose_threshold, confidence_report  # noqa: E402
from mnist_demo.reading.predict import NOT_SURE_BELOW, threshold_of  # noqa: E402

BASE = ROOT / "weights" / "base" / "digitnet-mnist.safetensors"
RUNS = ROOT / "runs" / "unseen"
RESULTS = ROOT / "bench" / "results"
PATHS = ("canvas", "picture")


def train_command(site: str, threads: int, variants: int, recipe_changes: tuple[str, ...] = ()) -> list[str]:
    others = ",".join(s for s in hw.SITES if s != site)
    return [sys.executable, "-m", "mnist_demo.train", "--model", "digitnet", "--recipe", "handwriting",
            "--init", str(BASE.relative_to(ROOT)), "--handwriting", others, "--handwriting-variants", str(variants),
            *recipe_changes, "--seed", "0", "--threads", str(threads),
            "--out", str((RUNS / f"without-{site}").relative_to(ROOT))]


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


def held_out_threshold(model: torch.nn.Module, card: dict) -> dict | None:
    """For a card without `not_sure_below`: the threshold train.py would have chosen, on the same held-out writers
    (writer fold `held_out_writers.fold` of the card's training sites, drawn once on the canvas)."""
    info = card.get("handwriting") or {}
    held = info.get("held_out_writers")
    if not held:
        return None
    digits = hw.load_unipen(sites=info["sites"])
    folds = hw.writer_folds(digits, held["of"], card.get("seed", 0))
    images, labels = hw.canvas_images([d for d, f in zip(digits, folds, strict=True) if f == held["fold"]])
    assert len(labels) == held["digits"], "not the held-out writers the card names"
    probs = predict_probs(model, torch.from_numpy(images).unsqueeze(1).float() / 255)
    return {"chosen_by": "bench/unseen_writers.py (the card has none)", **choose_threshold(probs, torch.from_numpy(labels))}


def rounded(report: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", action="store_true", help="run the four trainings (else read runs/unseen/)")
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

    sites, pooled = {}, {road: {"base": [], "tuned": [], "raw": []} for road in PATHS}
    pooled_thresholds = []
    for site in hw.SITES:
        out = RUNS / f"without-{site}"
        if args.train:
            subprocess.run(["nice", "-n", "10", *train_command(site, args.threads, args.variants, recipe_changes)],
                           cwd=ROOT, check=True)
        model, card = weights.load(out.with_suffix(".safetensors"))
        assert site not in card["handwriting"]["sites"], f"{out} was trained on {site}"
        temperature = card.get("calibration", {}).get("temperature", 1.0)
        chosen = (card.get("calibration") or {}).get("not_sure")
        if "not_sure_below" not in card:
            chosen = held_out_threshold(model, card)
            model.not_sure_below = chosen["threshold"] if chosen else NOT_SURE_BELOW
        threshold = threshold_of(model)
        mask = torch.from_numpy(sources == site)
        pooled_thresholds.append(torch.full((int(mask.sum()),), threshold))
        entry = {"digits": int(mask.sum()), "mnist_test": card["test_accuracy"], "temperature": temperature,
                 "not_sure_below": threshold,
                 "threshold_on_held_out": chosen,
                 "trained_on": card["handwriting"]["sites"], "train_images": card["handwriting"]["train_images"],
                 "command": card["command"]}
        for road in PATHS:
            x, y = inputs[road][mask], labels[mask]
            base_probs, probs = predict_probs(base, x), predict_probs(model, x)
            raw_probs = torch.softmax(torch.log(probs.clamp_min(1e-12)) * temperature, 1)  # before the temperature
            entry[road] = {"base_accuracy": round((base_probs.argmax(1) == y).float().mean().item(), 4),
                           "base": rounded(confidence_report(base_probs, y, NOT_SURE_BELOW)),
                           "before_temperature": rounded(confidence_report(raw_probs, y, NOT_SURE_BELOW)),
                           "tuned": rounded(confidence_report(probs, y, NOT_SURE_BELOW)),
                           "tuned_card_threshold": rounded(confidence_report(probs, y, threshold))}
            pooled[road]["base"].append(base_probs)
            pooled[road]["tuned"].append(probs)
            pooled[road]["raw"].append(raw_probs)
        sites[site] = entry
        print(f"{site}: base {entry['canvas']['base_accuracy']:.2%} -> {entry['canvas']['tuned']['accuracy']:.2%} "
              f"(canvas), MNIST {entry['mnist_test']:.2%}")
    order = torch.cat([labels[torch.from_numpy(sources == s)] for s in hw.SITES])
    pooled_reports = {road: {kind: rounded(confidence_report(torch.cat(v), order, NOT_SURE_BELOW))
                             for kind, v in parts.items()} for road, parts in pooled.items()}
    for road, parts in pooled.items():  # each digit with the threshold of the model that read it
        pooled_reports[road]["tuned_card_threshold"] = rounded(
            confidence_report(torch.cat(parts["tuned"]), order, torch.cat(pooled_thresholds)))
    final = {}
    final_path = ROOT / args.final
    if final_path.is_file():
        final_model, final_card = weights.load(final_path)
        final_chosen = (final_card.get("calibration") or {}).get("not_sure")
        if "not_sure_below" not in final_card:
            final_chosen = held_out_threshold(final_model, final_card)
            final_model.not_sure_below = final_chosen["threshold"] if final_chosen else NOT_SURE_BELOW
        final = {"weights": args.final, "mnist_test": final_card["test_accuracy"],
                 "handwriting_sites": (final_card.get("handwriting") or {}).get("sites"),
                 "temperature": (final_card.get("calibration") or {}).get("temperature"),
                 "not_sure_below": threshold_of(final_model),
                 "threshold_on_held_out": final_chosen,
                 "forward_ms_1_thread": round(forward_ms(final_model), 3),
                 "base_forward_ms_1_thread": round(forward_ms(base), 3)}
    command = "MNIST_DEMO_DATA=... python bench/unseen_writers.py" + " ".join(
        [""] + (argv if argv is not None else sys.argv[1:]))
    result = {"command": command, "machine": machine(args.threads), "credit": hw.CREDIT,
              "threshold": NOT_SURE_BELOW, "seconds": round(time.perf_counter() - started, 1),
              "train_command_example": " ".join(["python", *train_command("tos", args.threads, args.variants,
                                                                         recipe_changes)[1:]]),
              "sites": sites, "pooled": pooled_reports, "final": final}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "unseen_writers.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result, RESULTS / "unseen_writers.md")
    print(f"wrote {RESULTS / 'unseen_writers.md'}")
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
    lines = [
        "# Writers never seen: leave-one-site-out on unipen-dev", "",
        f"`{result['command']}` on {m['processor']} ({m['cpus']} cores, torch {m['torch']}), {m['date']}. "
        f"Data: {result['credit']}.", "",
        "Each row's model was fine-tuned from the MNIST-only base (`weights/base/digitnet-mnist`) with the other "
        "three sites' digits drawn on the canvas (plus stroke-level redrawings) mixed into MNIST, e.g. "
        f"`{result['train_command_example']}`; its temperature was fitted on held-out writers of those three "
        "sites. *base* is the MNIST-only model. Confident = top probability at least "
        f"{result['threshold']} (the app's default \"not sure\" threshold), or at least the model card's own "
        "threshold (*card*: `not_sure_below`, chosen on the same held-out writers: the smallest giving 99.7% "
        "accurate confident answers with at least 95% of the answers confident; where that is out of reach, the largest "
        "keeping 95%).", "",
        "| left-out site | digits | road | base | fine-tuned | shown as confident | accuracy when confident "
        "| card threshold | confident (card) | accuracy when confident (card) "
        "| ECE before T | ECE after T | T | MNIST test |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for site, e in result["sites"].items():
        for road in PATHS:
            r = e[road]
            lines.append(f"| {site} | {e['digits']:,} | {road} | {pct(r['base_accuracy'])} | **{pct(r['tuned']['accuracy'])}** "
                         f"| {pct(r['tuned']['coverage'])} | {pct(r['tuned']['confident_accuracy'])} "
                         f"| {e['not_sure_below']:.2f} | {pct(r['tuned_card_threshold']['coverage'])} "
                         f"| {pct(r['tuned_card_threshold']['confident_accuracy'])} "
                         f"| {r['before_temperature']['ece']:.4f} | {r['tuned']['ece']:.4f} | {e['temperature']:.3f} "
                         f"| {pct(e['mnist_test'])} |")
    lines += ["", "## Pooled over the four left-out sites (each digit read by the model that never saw its site)", "",
              "| road | model | accuracy | shown as confident | accuracy when confident | wrong but confident | ECE |",
              "|---|---|---:|---:|---:|---:|---:|"]
    names = {"base": "MNIST-only base", "raw": "fine-tuned, before T", "tuned": "fine-tuned, after T",
             "tuned_card_threshold": "fine-tuned, after T, card threshold"}
    for road, parts in result["pooled"].items():
        for kind in ("base", "raw", "tuned", "tuned_card_threshold"):
            r = parts[kind]
            lines.append(f"| {road} | {names[kind]} | {pct(r['accuracy'])} | {pct(r['coverage'])} "
                         f"| {pct(r['confident_accuracy'])} | {r['wrong_but_confident']} | {r['ece']:.4f} |")
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
