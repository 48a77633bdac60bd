"""How live is the Draw tab? Stroke end to label in headless Chromium, updates during strokes, server time.

    python -m bench.stroke_latency                 # starts `python app.py` on a free port, stops it after
    python -m bench.stroke_latency --url http://127.0.0.1:7860/

Browser: draws the digits 0-9 (tests/harness.py's DIGITS) with the mouse at ~60 pointer events a
second, clearing between digits, and times each stroke from mouse-up to the moment the page
shows the outputs for the finished stroke (the last update of the prediction after mouse-up;
label and "what the network sees" arrive in one response). It also counts how often the
#prediction label changed while the button was still down. Server: the prediction function
alone (decode the canvas payload, preprocess, forward pass) on one thread, median over 200 runs.
Writes bench/results/draw_latency.json and .md.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time

from tests.harness import (
    CANVAS,
    DIGITS,
    PERCENTILE_DEFINITION,
    RESULTS,
    draw_strokes,
    launch_chromium,
    load_average,
    percentile,
    serve_subprocess,
    write_results,
)

MOVE_EVERY_MS = 16  # ~60 pointer events per second, like a mouse or finger
QUIET_MS = 700  # no page update for this long after mouse-up: the stroke's answer is in

# Runs in the page: timestamps of pointer down/up on the canvas and of every change in what the outputs show
# (their text and pictures, not the bookkeeping Gradio does on them while a request runs).
PROBE = """() => {
  const log = window.__probe = { down: [], up: [], label: [], outputs: [] };
  const canvas = document.querySelector('#sketchpad canvas.ink');
  canvas.addEventListener('pointerdown', () => log.down.push(performance.now()), true);
  canvas.addEventListener('pointerup', () => log.up.push(performance.now()), true);
  const shown = {
    '#prediction': (e) => Array.from(e.querySelectorAll('h2, dl'), (x) => x.innerText).join('|'),  // not its timer
    '#seen': (e) => Array.from(e.querySelectorAll('img'), (img) => img.src).join(),
  };
  for (const [selector, read] of Object.entries(shown)) {
    const element = document.querySelector(selector);
    let before = read(element);
    new MutationObserver(() => {
      const now = read(element);
      if (now === before) return;
      before = now;
      const t = performance.now();
      log.outputs.push(t);
      if (selector === '#prediction') log.label.push(t);
    }).observe(element, { subtree: true, childList: true, characterData: true, attributes: true });
  }
}"""


def updates(times: list[float], gap_ms: float = 10) -> int:
    """Distinct page updates in a list of DOM mutation times (one response touches many nodes at once)."""
    ordered = sorted(times)
    return sum(1 for i, t in enumerate(ordered) if i == 0 or t - ordered[i - 1] > gap_ms)


def wait_quiet(page) -> None:
    """Until neither output has changed for QUIET_MS (at most 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        idle = page.evaluate("() => performance.now() - Math.max(0, ...window.__probe.outputs)")
        if idle >= QUIET_MS:
            return
        page.wait_for_timeout(100)


def browser_latency(url: str, rounds: int) -> dict:
    from playwright.sync_api import sync_playwright

    latencies, updates_during, strokes_with_updates = [], [], 0
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        for selector in (f"{CANVAS}[data-ready='1']", "#prediction", "#seen"):
            page.wait_for_selector(selector, state="attached", timeout=60_000)
        page.evaluate(PROBE)
        box = page.locator(CANVAS).bounding_box()
        for _ in range(rounds):
            for digit in range(10):
                page.locator("#clear").click()
                wait_quiet(page)
                for stroke in DIGITS[digit]:
                    draw_strokes(page, box, [stroke], pause_ms=MOVE_EVERY_MS)
                    wait_quiet(page)
                    log = page.evaluate("() => window.__probe")
                    down, up = log["down"][-1], log["up"][-1]
                    after_up = [t for t in log["outputs"] if t > up]
                    during = updates([t for t in log["label"] if down < t <= up])
                    updates_during.append(during)
                    strokes_with_updates += bool(during)
                    if after_up:
                        latencies.append(max(after_up) - up)
        browser.close()
    return {
        "strokes": len(updates_during),
        "measured": len(latencies),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "min_ms": round(min(latencies), 1),
        "max_ms": round(max(latencies), 1),
        "label_updates_during_strokes_total": sum(updates_during),
        "label_updates_per_stroke_median": statistics.median(updates_during),
        "strokes_with_label_updates_during": strokes_with_updates,
        "move_every_ms": MOVE_EVERY_MS,
    }


def stroke_payloads() -> list[str]:
    """The canvas's payload for each test digit, rendered like the browser does (112 px, same brush)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from mnist_demo.ui.canvas import BRUSH, INK_SIDE

    side = INK_SIDE * 4
    payloads = []
    for strokes in DIGITS.values():
        image = Image.new("L", (side, side), 0)
        draw = ImageDraw.Draw(image)
        width = round(BRUSH * side)
        for stroke in strokes:
            draw.line([(x * side, y * side) for x, y in stroke], fill=255, width=width, joint="curve")
        ink = np.asarray(image.resize((INK_SIDE, INK_SIDE), Image.Resampling.BOX), np.uint8)
        payloads.append(json.dumps({"w": INK_SIDE, "h": INK_SIDE, "data": base64.b64encode(ink.tobytes()).decode()}))
    return payloads


def server_time(runs: int) -> dict:
    """Median and p95 of the prediction function and of its two halves, on one thread."""
    import torch

    from mnist_demo.catalog import resolve
    from mnist_demo.reading import predict
    from mnist_demo.reading.files import decode_ink_payload
    from mnist_demo.reading.geometry import from_ink

    torch.set_num_threads(1)
    model = resolve(None, None)
    payloads = stroke_payloads()
    prepared = [from_ink(decode_ink_payload(p)) for p in payloads]
    parts = {
        "total": lambda i: predict.read_drawing(payloads[i], model.model),
        "preprocess": lambda i: from_ink(decode_ink_payload(payloads[i])),
        "forward": lambda i: predict.predict(model.model, prepared[i]),
    }
    result = {"model": model.key, "runs": runs, "threads": 1}
    for name, work in parts.items():
        for i in range(len(payloads)):  # warm up
            work(i)
        times = []
        for i in range(runs):
            start = time.perf_counter()
            work(i % len(payloads))
            times.append((time.perf_counter() - start) * 1000)
        result[f"{name}_median_ms"] = round(statistics.median(times), 2)
        result[f"{name}_p95_ms"] = round(percentile(times, 95), 2)
    return result


def markdown(results: dict) -> str:
    b, s = results["browser"], results["server"]
    lines = [
        "# Draw tab latency",
        "",
        f"Headless Chromium on localhost; load average {results['load_avg_before']} before the run and "
        f"{results['load_avg_after']} after (1, 5, 15 min; the machine was shared). p95 = {PERCENTILE_DEFINITION}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| stroke end to label, median | **{b['median_ms']} ms** |",
        f"| stroke end to label, p95 | {b['p95_ms']} ms |",
        f"| strokes measured | {b['measured']} of {b['strokes']} |",
        f"| label updates while drawing (total; median per stroke) | {b['label_updates_during_strokes_total']}; "
        f"{b['label_updates_per_stroke_median']} |",
        f"| strokes whose label changed before mouse-up | {b['strokes_with_label_updates_during']} of {b['strokes']} |",
        f"| server: decode + preprocess + forward ({s['model']}, 1 thread), median; p95 | "
        f"{s['total_median_ms']} ms; {s['total_p95_ms']} ms |",
        f"| of which decode + preprocess, median | {s['preprocess_median_ms']} ms |",
        f"| of which forward pass, median | {s['forward_median_ms']} ms |",
        "",
        f"Pointer moves every {b['move_every_ms']} ms; the canvas sends at most every 70 ms while drawing and "
        "once at mouse-up. Stroke end to label = mouse-up to the last update of the outputs after it.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app already running (default: start app.py)")
    parser.add_argument("--rounds", type=int, default=3, help="times to draw the ten digits (11 strokes each)")
    parser.add_argument("--server-runs", type=int, default=200)
    parser.add_argument("--out-dir", default=str(RESULTS), help="where draw_latency.md/.json go (default bench/results)")
    args = parser.parse_args()
    load_before = load_average()
    app = None if args.url else serve_subprocess()
    try:
        browser = browser_latency(args.url or app.url, args.rounds)
    finally:
        if app is not None:
            app.stop()
    results = {
        "browser": browser,
        "server": server_time(args.server_runs),
        "load_avg_before": load_before,
        "load_avg_after": load_average(),
        "percentile": PERCENTILE_DEFINITION,
    }
    print(write_results("draw_latency", results, markdown(results), args.out_dir).read_text())


if __name__ == "__main__":
    main()
