"""How live is the Draw tab? Stroke end to label in headless Chromium, updates during strokes, server time.

    python -m bench.stroke_latency                 # starts `python app.py` on a free port, stops it after
    python -m bench.stroke_latency --url http://127.0.0.1:7860/
    python -m bench.stroke_latency --roads server,device --rtt 0,150,300   # both roads over emulated networks

With --roads: each road (server: the page's runtime files refused, so every answer comes from the
server's live event, as before issue 19; device: the page answers itself once its runtime is ready)
at each round-trip time, emulated by Chromium's DevTools (`Network.emulateNetworkConditions`,
latency only). At RTT 300 ms the page is a phone: a 390x844 touch viewport, finger strokes, the
CPU slowed 4x (`Emulation.setCPUThrottlingRate`). Every stroke lasts 1.2 s; stroke end to answer
is pointer-up to the last change of the answer (label and status line) after it. Writes
bench/results/stroke_roads.json and .md, with the page's own time per answer (geometry + forward).

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


STROKE_MS = 1200  # --roads: every stroke drawn over this long
# --roads: only the answer (label and status), not the preprocessing panel, which the device road leaves to the server
# (the bars' widths too, six digits: a final answer equal to the previous one in whole percents still counts).
ANSWER_PROBE = PROBE.replace("'#seen': (e) => Array.from(e.querySelectorAll('img'), (img) => img.src).join(),",
                             "'#draw-status': (e) => e.innerText,").replace(
    ".join('|'),  // not its timer", ".join('|') + Array.from(e.querySelectorAll('[style*=width]'), (x) => x.style.width),")


# --roads: one stroke played inside the page, pointer events on a timer (DevTools input calls would pace it
# themselves, several times slower under CPU throttling): a move every MOVE_EVERY_MS for `ms`, the last
# point moved to right before the release (a hand lifts at once). Resolves after the release.
PLAY_STROKE = """([points, ms, kind]) => new Promise((resolve) => {
  const canvas = document.querySelector('#sketchpad canvas.ink'), box = canvas.getBoundingClientRect();
  const at = (p, type) => new PointerEvent(type, { pointerId: 7, pointerType: kind, isPrimary: true, button: 0,
    buttons: type === 'pointerup' ? 0 : 1, bubbles: true, cancelable: true,
    clientX: box.left + p[0] * box.width, clientY: box.top + p[1] * box.height });
  canvas.dispatchEvent(at(points[0], 'pointerdown'));
  const start = performance.now(), n = points.length - 1;
  const step = () => {
    const f = Math.min(1, (performance.now() - start) / ms);
    const i = Math.min(n, Math.round(f * n));
    canvas.dispatchEvent(at(points[i], 'pointermove'));
    if (f < 1) { setTimeout(step, MOVE); return; }
    canvas.dispatchEvent(at(points[n], 'pointerup'));
    resolve();
  };
  setTimeout(step, MOVE);
})""".replace("MOVE", str(MOVE_EVERY_MS))


def road_latency(url: str, road: str, rtt: int, rounds: int) -> dict:
    """Stroke end to answer and answers during 1.2 s strokes on one road at one emulated round trip."""
    from playwright.sync_api import sync_playwright

    from tests.harness import DEVICE_READY_JS

    phone = rtt >= 300
    latencies, during_counts, wrong = [], [], 0
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(**({"viewport": {"width": 390, "height": 844}, "has_touch": True,
                                           "is_mobile": True, "device_scale_factor": 3} if phone else
                                          {"viewport": {"width": 1280, "height": 900}}))
        page = context.new_page()
        if road == "server":  # the page's runtime never arrives: main's road, every answer from the server
            page.route("**/device/**", lambda route: route.abort())
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": rtt, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})
        if phone:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.goto(url, timeout=120_000)
        for selector in (f"{CANVAS}[data-ready='1']", "#prediction", "#draw-status"):
            page.wait_for_selector(selector, state="attached", timeout=120_000)
        if road == "device":
            page.wait_for_function(DEVICE_READY_JS, arg="sketchpad", timeout=120_000)
        page.evaluate(ANSWER_PROBE)
        for _ in range(rounds):
            for digit in range(10):
                page.locator("#clear").click()
                wait_quiet(page)
                for stroke in DIGITS[digit]:
                    page.evaluate(PLAY_STROKE, [stroke, STROKE_MS, "touch" if phone else "mouse"])
                    wait_quiet(page)
                    log = page.evaluate("() => window.__probe")
                    down, up = log["down"][-1], log["up"][-1]
                    after_up = [t for t in log["outputs"] if t > up]
                    during_counts.append(updates([t for t in log["label"] if down < t <= up]))
                    if after_up:
                        latencies.append(max(after_up) - up)
                top = page.locator("#prediction [data-testid='label-output-value']")
                wrong += not (top.count() and top.inner_text().strip() == str(digit))
        timings = page.evaluate("() => (globalThis.MnistDevice && MnistDevice.timings) || []")
        source = page.locator("#answer-source").inner_text()
        browser.close()
    return {
        "road": road, "rtt_ms": rtt, "phone_4x_cpu": phone, "strokes": len(during_counts), "measured": len(latencies),
        "median_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "changes_per_stroke_median": statistics.median(during_counts), "digits_wrong": wrong,
        "page_answer_ms_median": round(statistics.median(timings), 2) if timings else None,
        "page_answers_timed": len(timings), "answer_source": source,
    }


def roads_markdown(results: dict) -> str:
    lines = [
        "# Stroke end to answer, on the server's road and on the device's",
        "",
        f"Headless Chromium with DevTools network emulation (latency only); load average {results['load_avg_before']}"
        f" before and {results['load_avg_after']} after (1, 5, 15 min; the machine was shared). Every stroke lasts "
        f"{STROKE_MS / 1000} s; p95 = {PERCENTILE_DEFINITION}.",
        "",
        "| road | RTT | page | stroke end to answer, median | p95 | answer changes a stroke, median | "
        "page's geometry + forward, median | digits wrong |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        page = "390x844 touch, CPU 4x slower" if r["phone_4x_cpu"] else "1280x900 mouse"
        own = f"{r['page_answer_ms_median']} ms" if r["page_answer_ms_median"] is not None else "-"
        lines.append(f"| {r['road']} | {r['rtt_ms']} ms | {page} | **{r['median_ms']} ms** | {r['p95_ms']} ms | "
                     f"{r['changes_per_stroke_median']} | {own} | {r['digits_wrong']} of {r['strokes'] and 10 * results['rounds']} |")
    return "\n".join(lines) + "\n"


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
    parser.add_argument("--roads", help="compare roads, e.g. server,device (writes stroke_roads.md)")
    parser.add_argument("--rtt", default="0,150,300", help="--roads: round-trip times in ms (300+ = a phone)")
    args = parser.parse_args()
    load_before = load_average()
    if args.roads:
        app = None if args.url else serve_subprocess()
        try:
            runs = [road_latency(args.url or app.url, road, int(rtt), args.rounds)
                    for rtt in args.rtt.split(",") for road in args.roads.split(",")]
        finally:
            if app is not None:
                app.stop()
        results = {"runs": runs, "rounds": args.rounds, "load_avg_before": load_before, "load_avg_after": load_average()}
        print(write_results("stroke_roads", results, roads_markdown(results), args.out_dir).read_text())
        return
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
