"""Does teaching work? UNIPEN writers play users: each gives 5 digits of every label, the rest are its test.

For every writer of unipen-dev (grouped by segment file: one writing session) with at least 5 digits
of each label: the digits are drawn through the app's canvas road (`handwriting.canvas_images`), the
first 5 of each label (in writing order) teach a copy of the model (`training.teach`, the Draw tab's
Teach button), and the writer's other digits measure it before and after. MNIST's test set is
measured before and after each teaching. Reported over writers: median and worst decile of the
unseen-digit accuracy, the MNIST change, seconds per teaching (wall, and CPU time / threads).

    python -m bench.teach                      # every such writer, the default model, 2 threads
    python -m bench.teach --writers 4          # the first 4 (a quick look)
    python -m bench.teach --panel 3            # the Draw tab's own before/after for the 3 writers (of 60+ digits)
                                               # the model reads worst: bench/results/teach_panel.md

--panel gives each chosen writer's digits to the teach panel's split (`training.teach_measure`: the digits kept
apart grow with the collection) and writes the table the panel shows, with the writer's other figures beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

from mnist_demo import handwriting as hw
from mnist_demo import weights
from mnist_demo.catalog import WEIGHTS_DIR, Entry
from mnist_demo.data import Split
from mnist_demo.training import teach as T
from tests.harness import PERCENTILE_DEFINITION, percentile, write_results

PER_CLASS = 5


def writers(min_per_class: int = PER_CLASS) -> dict[str, list[hw.PenDigit]]:
    """writer (one sitting: `PenDigit.session`) -> digits in writing order, where it has `min_per_class` of every label."""
    by = defaultdict(list)
    for digit in hw.load_unipen():
        by[digit.session].append(digit)
    return {w: d for w, d in sorted(by.items())
            if all(sum(x.label == c for x in d) >= min_per_class for c in range(10))
            and len(d) > 10 * min_per_class}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(WEIGHTS_DIR / "base" / "digitnet-mnist.safetensors"),
                   help="the model users teach; default the MNIST-only digitnet: the shipped one was fine-tuned on "
                        "these very writers, so teaching it would measure nothing")
    p.add_argument("--writers", type=int, help="only the first N writers")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out-dir", default=None, help="where teach.json/.md go (default bench/results)")
    p.add_argument("--panel", type=int, metavar="N", help="the teach panel's before/after for N writers instead")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, _ = weights.load(args.weights)
    entry = Entry(args.weights, model, {})
    mnist_before = T.mnist_accuracy(entry.model)
    if args.panel:
        return panel(entry, mnist_before, args)
    chosen = writers()
    names = list(chosen)[: args.writers]
    rows = []
    for name in names:
        images, labels = hw.canvas_images(chosen[name])
        mine, rest = T.first_per_class(labels, PER_CLASS)
        split = Split(torch.from_numpy(images), torch.from_numpy(labels))
        wall, cpu = time.perf_counter(), time.process_time()
        result = T.run_teach(entry.model, T.subset(split, mine), held_out=T.subset(split, rest), mnist_before=mnist_before)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        row = {"writer": name, "taught": len(mine), "unseen": len(rest),
               "before": round(result.mine_before, 4), "after": round(result.mine_after, 4),
               "mnist_after": round(result.mnist_after, 4), "seconds": round(wall, 1),
               "cpu_seconds_per_thread": round(cpu / args.threads, 1)}
        rows.append(row)
        print(row, flush=True)

    def stat(key: str, q: float) -> float:
        return percentile([r[key] for r in rows], q)

    mnist_after = [r["mnist_after"] for r in rows]
    summary = {
        "writers": len(rows), "model": Path(args.weights).stem, "threads": args.threads, "per_class": PER_CLASS,
        "unseen_median_before": stat("before", 50), "unseen_median_after": stat("after", 50),
        "unseen_worst_decile_before": stat("before", 10), "unseen_worst_decile_after": stat("after", 10),
        "unseen_pooled_before": round(sum(r["before"] * r["unseen"] for r in rows) / sum(r["unseen"] for r in rows), 4),
        "unseen_pooled_after": round(sum(r["after"] * r["unseen"] for r in rows) / sum(r["unseen"] for r in rows), 4),
        "mnist_before": round(mnist_before, 4), "mnist_after_median": percentile(mnist_after, 50),
        "mnist_after_worst": min(mnist_after),
        "seconds_median": stat("seconds", 50), "seconds_max": max(r["seconds"] for r in rows),
        "cpu_seconds_per_thread_median": stat("cpu_seconds_per_thread", 50),
        "percentile": PERCENTILE_DEFINITION,
        "recipe": {**vars(T.TEACH)}, "mnist_mix": T.MNIST_MIX, "mine_per_epoch": T.MINE_PER_EPOCH,
    }
    pct = lambda v: f"{100 * v:.2f}%"  # noqa: E731
    md = [
        f"# Teaching the network a writer's handwriting ({Path(args.weights).stem})",
        "",
        f"{len(rows)} UNIPEN writers of unipen-dev (one writer = one segment file; those with at least {PER_CLASS} "
        f"digits of every label) play users: the first {PER_CLASS} digits of each label, in writing order, teach a "
        "copy of the model (`mnist_demo.training.teach`, what the Draw tab's Teach button runs); the writer's other "
        "digits, drawn through the app's canvas road, measure it. UNIPEN 1a: International Unipen Foundation, "
        "CC BY 4.0.",
        "",
        "| | before | after teaching |",
        "|---|---:|---:|",
        f"| writer's unseen digits, median over writers | {pct(summary['unseen_median_before'])} | "
        f"{pct(summary['unseen_median_after'])} |",
        f"| writer's unseen digits, worst decile of writers | {pct(summary['unseen_worst_decile_before'])} | "
        f"{pct(summary['unseen_worst_decile_after'])} |",
        f"| writer's unseen digits, all pooled | {pct(summary['unseen_pooled_before'])} | "
        f"{pct(summary['unseen_pooled_after'])} |",
        f"| MNIST test set (10,000), median over teachings | {pct(mnist_before)} | {pct(summary['mnist_after_median'])} |",
        f"| MNIST test set, worst teaching | | {pct(summary['mnist_after_worst'])} |",
        "",
        f"Seconds per teaching (50 digits, {args.threads} torch threads, MNIST test included): median "
        f"{summary['seconds_median']:.1f} s wall, at most {summary['seconds_max']:.1f} s; CPU time per thread median "
        f"{summary['cpu_seconds_per_thread_median']:.1f} s (an estimate of the wall time on an idle "
        "machine, not a measurement of it; the machine was shared, see the load average below).",
        "",
        "| writer | taught | unseen | before | after | MNIST after | s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| {r['writer']} | {r['taught']} | {r['unseen']} | {pct(r['before'])} | {pct(r['after'])} | "
          f"{pct(r['mnist_after'])} | {r['seconds']} |" for r in rows],
        "",
        f"Percentiles: {PERCENTILE_DEFINITION}.",
    ]
    kwargs = {"out_dir": args.out_dir} if args.out_dir else {}
    path = write_results("teach", {"summary": summary, "writers": rows}, "\n".join(md), **kwargs)
    print(f"wrote {path}")
    return 0


def panel(entry: Entry, mnist_before: float, args) -> int:
    """The teach panel's own before/after (its split, its table) for the writers of 60+ digits it reads worst."""
    from mnist_demo.training import teach_measure as measure
    from mnist_demo.ui.teach_panel import result_table

    by = defaultdict(list)
    for digit in hw.load_unipen():
        by[digit.session].append(digit)
    candidates = []
    for name, digits in sorted(by.items()):
        if len(digits) >= measure.MIN_COLLECTION:
            images, labels = hw.canvas_images(digits)
            split = Split(torch.from_numpy(images), torch.from_numpy(labels))
            candidates.append((measure.right_answers(entry.model, split).share, name, split))
    candidates.sort(key=lambda c: c[0])
    md = [f"# The teach panel's before/after ({Path(args.weights).stem})", "",
          f"The {args.panel} UNIPEN writers (unipen-dev, one writing session each, at least {measure.MIN_COLLECTION} "
          "digits, drawn through the canvas road) the model reads worst give all their digits to My digits; the "
          "panel's split keeps some apart and the rest teach (`python -m bench.teach --panel "
          f"{args.panel}`). Below, each writer's table as the panel shows it.", ""]
    rows = []
    for share, name, split in candidates[: args.panel]:
        taught, held = measure.measure_split(split.labels.numpy())
        wall = time.perf_counter()
        result = T.run_teach(entry.model, T.subset(split, taught), held_out=T.subset(split, held),
                             mnist_before=mnist_before)
        wall = time.perf_counter() - wall
        everything = measure.Figure.of(share, len(split))
        rows.append({"writer": name, "digits": len(split), "kept_apart": len(held), "before_all": round(share, 4),
                     **result.summary(), "seconds": round(wall, 1)})
        print(rows[-1], flush=True)
        md += [f"## {name}: {len(split)} digits", "", result_table(result, everything, "en"), "",
               f"({wall:.0f} s of teaching here.)", ""]
    kwargs = {"out_dir": args.out_dir} if args.out_dir else {}
    path = write_results("teach_panel", {"writers": rows}, "\n".join(md), **kwargs)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
