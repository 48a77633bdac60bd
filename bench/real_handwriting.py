"""Every shipped digit model on real handwriting from writers outside MNIST: UNIPEN digits drawn on the app's canvas.

    MNIST_DEMO_DATA=/path/to/data python -m bench.real_handwriting [--limit N] [--threads 2]

Each of unipen-dev's 7,714 digits (UNIPEN 1a, International Unipen Foundation; Guyon et al., ICPR
1994; CC BY 4.0) is placed on the canvas as a person draws it and read through the app's two roads:
- canvas: the ink payload the page would send -> decode_ink_payload -> from_ink -> model;
- picture: the same strokes as dark ink on white paper (280 px) -> from_picture -> model.
Accuracy per site for every shipped MNIST model and the default's MNIST-only base; for the default
model also the "not sure" figures at its card's threshold: accuracy among confident answers, the
share shown as confident, and the expected calibration error. Writers a model was trained on (from
its card's `handwriting` entry) are left out of its "unseen" figure and their sites marked. Writes bench/results/real_handwriting.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from mnist_demo import handwriting as hw
from mnist_demo import weights
from mnist_demo.calibration import confidence_report
from mnist_demo.catalog import DEFAULT_MODEL, shipped
from mnist_demo.models import probabilities
from mnist_demo.reading.files import decode_ink_payload
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture
from mnist_demo.reading.predict import threshold_of
from tests.harness import cpu_name

RESULTS = Path(__file__).resolve().parent / "results"
BASE = Path(__file__).resolve().parent.parent / "weights" / "base" / "digitnet-mnist.safetensors"
PATHS = ("canvas", "picture")


def prepare(digits: list[hw.PenDigit]) -> dict[str, torch.Tensor]:
    """The 28x28 model inputs of every digit by both roads, as the app makes them."""
    canvas, picture = [], []
    for d in digits:
        strokes = hw.to_canvas(d.strokes)
        canvas.append(from_ink(decode_ink_payload(hw.render_payload(strokes))).image)
        picture.append(from_picture(hw.render_picture(strokes)).image)
    return {"canvas": torch.from_numpy(np.stack(canvas)).unsqueeze(1),
            "picture": torch.from_numpy(np.stack(picture)).unsqueeze(1)}


@torch.inference_mode()
def predict_probs(model: torch.nn.Module, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    model.eval()
    return torch.cat([probabilities(model, model(images[i:i + batch])).float() for i in range(0, len(images), batch)])


def per_site(correct: torch.Tensor, sources: np.ndarray, unseen: np.ndarray) -> dict:
    out = {site: round(correct[torch.from_numpy(sources == site)].float().mean().item(), 4) for site in hw.SITES}
    out["all"] = round(correct.float().mean().item(), 4)
    out["unseen"] = round(correct[torch.from_numpy(unseen)].float().mean().item(), 4) if unseen.any() else None
    out["unseen_digits"] = int(unseen.sum())
    return out


def machine(threads: int) -> dict:
    """The harness's machine facts, in the shape these results files have used from the start."""
    return {"processor": cpu_name(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__, "threads": threads,
            "load_average_1min": round(os.getloadavg()[0], 2), "date": datetime.datetime.now().isoformat("T", "minutes")}


def write_markdown(result: dict, path: Path) -> None:
    m = result["machine"]
    lines = [
        "# Real handwriting from writers MNIST never saw (UNIPEN, drawn on the app's canvas)", "",
        f"`{result['command']}` on {m['processor']} ({m['cpus']} cores, torch {m['torch']}, {m['threads']} threads), "
        f"{m['date']}; {result['digits']:,} digits of unipen-dev ({', '.join(f'{s} {n:,}' for s, n in result['per_site_count'].items())}), "
        f"{result['seconds']:.0f} s. Data: {hw.CREDIT}.", "",
        "Each digit is placed on the canvas as a person draws it (longer side 70% of the canvas, centred) and read "
        "through the app's canvas road (ink payload -> `decode_ink_payload` -> `from_ink`) and picture road (dark "
        "ink on white, 280 px -> `from_picture`). *unseen* counts only the writers the model was not trained on "
        "(sites marked * are in its training data; for the default, trained on all four sites, that is the writer "
        "fold its card holds out: other writers on the same tablets, whose digits chose its temperature and "
        "threshold but were never trained on; `bench/unseen_writers.py` measures its recipe on writers and "
        "sites it never saw).", "",
        "| model | MNIST test | road | " + " | ".join(hw.SITES) + " | all | unseen |",
        "|---|---:|---|" + "---:|" * (len(hw.SITES) + 2),
    ]
    for name, entry in result["models"].items():
        for road in PATHS:
            sites = entry[road]
            cells = [f"{sites[s]:.2%}" + ("*" if s in entry["trained_sites"] else "") for s in hw.SITES]
            unseen = (f"**{sites['unseen']:.2%}**" + ("" if sites["unseen_digits"] == result["digits"]
                                                      else f" ({sites['unseen_digits']:,})")
                      if sites["unseen"] is not None else "-")
            lines.append(f"| {name} | {entry['mnist_test']:.2%} | {road} | " + " | ".join(cells)
                         + f" | {sites['all']:.2%} | {unseen} |")
    d = result["default"]
    lines += ["", f"## The default model's \"not sure\" (top probability under {d['threshold']}, its card's threshold)", "",
              "| road | part | digits | accuracy | shown as confident | accuracy when confident | wrong but confident "
              "| not sure, and wrong | ECE |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for road in PATHS:
        for part, r in d[road].items():
            lines.append(f"| {road} | {part} | {r['n']:,} | {r['accuracy']:.2%} | {r['coverage']:.2%} | "
                         f"{r['confident_accuracy']:.2%} | {r['wrong_but_confident']} | {r['not_sure_that_were_wrong']} "
                         f"| {r['ece']:.4f} |")
    if d.get("temperature"):
        lines += ["", f"The default model's logits are divided by a temperature of {d['temperature']:.3f} "
                  f"(fitted on {d.get('temperature_fitted_on', 'held-out data')}, folded into its last layer)."]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, help="a seeded random N digits instead of all (a quick look)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out-dir", default=str(RESULTS))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    digits = hw.load_unipen()
    if args.limit:
        digits = [digits[i] for i in sorted(np.random.default_rng(0).choice(len(digits), args.limit, replace=False))]
    sources = np.array([d.source for d in digits])
    labels = torch.tensor([d.label for d in digits])
    inputs = prepare(digits)
    print(f"prepared {len(digits)} digits by both roads in {time.perf_counter() - started:.0f} s")

    models, default = {}, {}
    base, base_card = weights.load(BASE)  # the default before its fine-tune: a row of its own
    candidates = {name: (e.model, e.card) for name, e in shipped().items() if e.dataset == "mnist"}
    candidates = {DEFAULT_MODEL: candidates.pop(DEFAULT_MODEL), f"{DEFAULT_MODEL} (MNIST-only base)": (base, base_card),
                  **candidates}
    for name, (model, card) in candidates.items():
        info = card.get("handwriting")
        trained = hw.writers_used(info, digits)[0] if info else set()
        unseen = np.array([d.writer not in trained for d in digits])
        row = {"mnist_test": card.get("test_accuracy"), "trained_sites": sorted((info or {}).get("sites", []))}
        for road in PATHS:
            probs = predict_probs(model, inputs[road])
            row[road] = per_site(probs.argmax(1) == labels, sources, unseen)
            if name == DEFAULT_MODEL:
                default["threshold"] = threshold_of(model)
                parts = {"all": np.ones(len(digits), bool), **{s: sources == s for s in hw.SITES}}
                if trained:
                    parts["unseen writers"] = unseen
                default[road] = {part: confidence_report(probs[torch.from_numpy(mask)], labels[torch.from_numpy(mask)],
                                                         default["threshold"]) for part, mask in parts.items()}
        models[name] = row
        print(f"{name}: canvas {row['canvas']['all']:.2%}, picture {row['picture']['all']:.2%}")
    card = shipped()[DEFAULT_MODEL].card
    if card.get("calibration"):
        default["temperature"] = card["calibration"].get("temperature")
        default["temperature_fitted_on"] = card["calibration"].get("fitted_on")

    command = "MNIST_DEMO_DATA=... python -m bench.real_handwriting" + " ".join(
        [""] + (argv if argv is not None else sys.argv[1:]))
    result = {"command": command, "machine": machine(args.threads), "digits": len(digits),
              "per_site_count": {s: int((sources == s).sum()) for s in hw.SITES}, "credit": hw.CREDIT,
              "seconds": round(time.perf_counter() - started, 1), "models": models, "default": default}
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "real_handwriting.json").write_text(json.dumps(result, indent=2) + "\n")
    write_markdown(result, out / "real_handwriting.md")
    print(f"wrote {out / 'real_handwriting.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
