"""Server time and payload of one Visualize-tab update, on one CPU thread.

    MNIST_DEMO_DATA=/path/to/data python -m bench.visualize_update [--repeats 30]

Times the tab's own handlers, exactly as the app calls them, plus Gradio's postprocessing of the
outputs that need it (the bar chart and the table), for three kinds of update:
- input: the drawing changed (prediction, feature maps, activations, Grad-CAM and saliency for two
  classes, the step-through); this is what happens after each stroke while the tab is on screen;
- model: the model was switched or the tab opened (the above plus the layer table and filters);
- step: one step or animation tick of the convolution step-through.
The payload is what goes to the browser: the HTML with its inline PNGs, Markdown, and the bar
chart's and table's JSON. Writes bench/results/visualize_update.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from dataclasses import replace
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pandas as pd
import torch

from mnist_demo.catalog import UNTRAINED_PREFIX, shipped
from mnist_demo.data import load_split
from mnist_demo.ui import visualize_tab as tab
from mnist_demo.ui.session import Session
from tests.harness import PERCENTILE_DEFINITION, RESULTS, machine_info, percentile, write_results

MODELS = ["digitnet", "s5-lenet", "s2-numpy-cnn", "s3-mlp", "classic", "fashionnet"]
BAR_PLOT = gr.BarPlot(x="class", y="probability", render=False)
TABLE = gr.Dataframe(render=False)
FIGURES = tab.Figures(*(object() for _ in dataclasses.fields(tab.Figures)))  # the updates' keys (no page here)


def payload(outputs: list | dict) -> int:
    """Bytes sent for a handler's outputs (a list, or a dict keyed by component), after Gradio's postprocessing
    where it has one."""
    total = 0
    for out in (outputs.values() if isinstance(outputs, dict) else outputs):
        value = out.get("value") if isinstance(out, dict) else out
        if isinstance(value, pd.DataFrame) and "probability" in value.columns:
            total += len(BAR_PLOT.postprocess(value).model_dump_json())
        elif isinstance(value, pd.DataFrame):
            total += len(TABLE.postprocess(value).model_dump_json())
        elif isinstance(value, str):
            total += len(value.encode())
        elif isinstance(out, dict):  # choices of a dropdown, a slider's range
            total += len(json.dumps(out, default=str).encode())
    return total


def timed(fn, *args) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, payload bytes) of one handler call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    outputs = fn(*args)
    payload_bytes = payload(outputs)  # includes the postprocessing of bar chart and table
    return time.perf_counter() - start, time.process_time() - start_cpu, payload_bytes


def bench_model(key: str, images: np.ndarray, repeats: int) -> dict:
    session = Session()
    view = tab.View(model=key, source="drawing", index=0, target=tab.RUNNER_UP, kernel="sobel-x", padding=1,
                    stride=1, position=0)

    results = {}
    for kind in ("input", "model", "step"):
        times, cpu_times, sizes = [], [], []
        for i in range(repeats + 3):  # the first three warm up
            session.current_input = SimpleNamespace(image=images[i % len(images)], blank=False)
            if kind == "input":
                seconds, cpu, size = timed(tab.update_input, FIGURES, view, session, "en")
            elif kind == "model":
                seconds, cpu, size = timed(tab.update_all, FIGURES, view, session, "en")
            else:
                step = replace(view, image=images[0], position=37 * i % 784)
                seconds, cpu, size = timed(tab.show_step, step, session, "en")
            if i >= 3:
                times.append(seconds * 1000)
                cpu_times.append(cpu * 1000)
                sizes.append(size)
        results[kind] = {"median_ms": statistics.median(times), "p95_ms": percentile(times, 95),
                         "cpu_median_ms": statistics.median(cpu_times), "payload_kb": statistics.median(sizes) / 1024}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--out-dir", default=str(RESULTS), help="where visualize_update.md/.json go")
    options = parser.parse_args()
    torch.set_num_threads(1)
    split = load_split("mnist", "test")
    images = split.images[:40].numpy().astype(np.float32) / 255
    available = shipped()
    rows = {}
    for name in options.models:
        key = name if name in available else UNTRAINED_PREFIX + name
        rows[name] = {"weights": "shipped" if name in available else "untrained", **bench_model(key, images,
                                                                                             options.repeats)}
        print(name, json.dumps(rows[name]))
    machine = {**machine_info(), "threads": torch.get_num_threads()}
    results = {"machine": machine, "repeats": options.repeats, "percentile": PERCENTILE_DEFINITION, "results": rows}
    print(write_results("visualize_update", results, markdown(rows, machine, options.repeats), options.out_dir).read_text())


def markdown(rows: dict, machine: dict, repeats: int) -> str:
    load = machine["load_avg_1_5_15"]
    lines = [
        "# Visualize tab: server time and payload per update",
        "",
        f"Torch limited to {machine['threads']} thread; gradio {machine['gradio']}. Median and 95th percentile "
        f"({PERCENTILE_DEFINITION}) of {repeats} updates after 3 warm-up ones, "
        "each on a different MNIST test image given as the Draw tab's drawing. Wall time is what a user waits "
        "for on the server; CPU time is this process's own, which is what the update costs on an idle core "
        f"(the machine's 1-minute load average at the end of the run was {load[0] if load else 'n/a'}).",
        "",
        "- **input**: the drawing changed: prediction, feature maps, fully connected activations, Grad-CAM and "
        "saliency for the predicted and the runner-up class, the step-through.",
        "- **model**: model switched or tab opened: the above plus the layer table and the filters.",
        "- **step**: one step (or animation tick) of the convolution step-through.",
        "",
        "| model | weights | input: wall median / p95, CPU median (ms) | payload KB "
        "| model: wall median / p95, CPU median (ms) | payload KB | step: wall median / p95, CPU median (ms) "
        "| payload KB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        cells = [f"{r[k]['median_ms']:.0f} / {r[k]['p95_ms']:.0f}, {r[k]['cpu_median_ms']:.0f} "
                 f"| {r[k]['payload_kb']:.0f}"
                 for k in ("input", "model", "step")]
        lines.append(f"| {name} | {r['weights']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
