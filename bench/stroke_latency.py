"""How live is the Draw tab? Stroke end to label in headless Chromium, updates during strokes, server time.

    python bench/stroke_latency.py                 # starts `python app.py` on a free port, stops it after
    python bench/stroke_latency.py --url http://127.0.0.1:7860/

Browser: draws the digits 0-9 (tests/digit_strokes.py) with the mouse at ~60 pointer events a
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
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from digit_strokes import DIGITS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def updates(times: list[float], gap_ms: float = 10) -> int:
    """Distinct page updates in a list of DOM mutation times (one response touches many nodes at once)."""
    ordered = sorted(times)
    return sum(1 for i, t in enumerate(ordered) if i == 0 or t - ordered[i - 1] > gap_ms)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=1)
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the app did not start within 2 minutes")


def draw_stroke(page, box: dict, points) -> None:
    at = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.wait_for_timeout(MOVE_EVERY_MS)
        page.mouse.move(*at(point))
    page.mouse.up()  # at once after the last move, as a hand lifts


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
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        for selector in ("#sketchpad canvas.ink[data-ready='1']", "#prediction", "#seen"):
            page.wait_for_selector(selector, state="attached", timeout=60_000)
        page.evaluate(PROBE)
        box = page.locator("#sketchpad canvas.ink").bounding_box()
        for _ in range(rounds):
            for digit in range(10):
                page.locator("#clear").click()
                wait_quiet(page)
                for stroke in DIGITS[digit]:
                    draw_stroke(page, box, stroke)
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


def machine() -> dict:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in load], "platform": platform.platform(),
            "python": platform.python_version()}


def write(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "draw_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    b, s, m = results["browser"], results["server"], results["machine"]
    lines = [
        "# Draw tab latency",
        "",
        f"Measured {results['date']} with `{results['command']}`, headless Chromium on localhost; "
        f"{m['cpus']} CPUs, load average {m['load_avg_before']} before and {m['load_avg_1_5_15']} after "
        "(1, 5, 15 min; the machine was shared).",
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
    (RESULTS / "draw_latency.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app already running (default: start app.py)")
    parser.add_argument("--rounds", type=int, default=3, help="times to draw the ten digits (11 strokes each)")
    parser.add_argument("--server-runs", type=int, default=200)
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    process, url = (None, args.url) if args.url else start_app()
    try:
        browser = browser_latency(url, args.rounds)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    results = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/stroke_latency.py" + (f" --rounds {args.rounds}" if args.rounds != 3 else ""),
        "browser": browser,
        "server": server_time(args.server_runs),
        "machine": {**machine(), "load_avg_before": load_before},
    }
    write(results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
