"""Writers the shipped model never trained on, replayed stroke by stroke with the mouse on the real canvas in
Chromium: the page's answer is the one the Python canvas road of the benchmarks gives, and mostly right.

The writers are the shipped default's held-out fold (its card's `handwriting.held_out_writers`: digits it chose
its temperature on but never trained on); two digits of each label, chosen by a seeded draw, leaving out the
unreadable marks (ink that cannot be its label: `handwriting.unreadable_mark`).
"""

from __future__ import annotations

import numpy as np
import torch

from mnist_demo import handwriting as hw
from mnist_demo import weights
from mnist_demo.catalog import WEIGHTS_DIR
from tests.browser.test_draw_tab import clear, ready, settle, top_label
from tests.harness import draw_strokes, needs_dataset, pen_strokes

pytestmark = needs_dataset("unipen-dev", "replays UNIPEN pen strokes")
PER_LABEL = 2


def held_out_digits() -> list[hw.PenDigit]:
    _, card = weights.load(WEIGHTS_DIR / "digitnet.safetensors")
    digits = hw.load_unipen()
    trained, held = hw.writers_used(card["handwriting"], digits)
    rng = np.random.default_rng(0)
    chosen = []
    for label in range(10):
        pool = [d for d in digits if d.writer in held and d.writer not in trained and d.label == label
                and not hw.unreadable_mark(d)]
        chosen += [pool[i] for i in sorted(rng.choice(len(pool), PER_LABEL, replace=False))]
    return chosen


def test_unseen_writers_drawn_in_the_browser_read_as_the_benchmark_reads_them(page):
    digits = held_out_digits()
    model, _ = weights.load(WEIGHTS_DIR / "digitnet.safetensors")
    with torch.inference_mode():
        x = torch.from_numpy(np.stack([hw.prepared_canvas(d) for d in digits])).unsqueeze(1).float() / 255
        python_road = model(x).argmax(1).tolist()
    box = ready(page)
    in_browser = []
    for digit in digits:
        clear(page)
        draw_strokes(page, box, pen_strokes(digit), pause_ms=0)
        settle(page)
        in_browser.append(int(top_label(page)))
    labels = [d.label for d in digits]
    agree = sum(b == p for b, p in zip(in_browser, python_road, strict=True))
    right = sum(b == y for b, y in zip(in_browser, labels, strict=True))
    detail = f"browser {in_browser}, python {python_road}, labels {labels}"
    assert agree >= len(digits) - 1, detail  # the mouse replay keeps at most 40 points a stroke
    assert right >= len(digits) - 2, detail  # 96.2% of these writers' digits (marks included) are read right by the benchmark
