"""Time to 99% from the browser versus the command line, and another user's predictions meanwhile.

    python -m bench.train_from_browser            # writes bench/results/train_from_browser.{md,json}

1. CLI: `python -m mnist_demo.train --model fastnet --recipe fast` (process wall time, and the
   card's train_seconds: training plus the final test pass).
2. Browser: the real app (`python app.py`, a subprocess) driven by Playwright in Chromium: pick
   FastNet and its own "fast" preset, press Start, wait for the final test accuracy. Time from
   the click to the accuracy on the page; the page's curve updates are counted.
3. The same again while a second user calls the app's `/predict` endpoint (gradio_client) in a
   loop: that user's latency with no training running, and while the training runs.

Figures depend on the machine and on what else it is running: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.harness import (
    PERCENTILE_DEFINITION,
    RESULTS,
    ROOT,
    launch_chromium,
    load_average,
    percentile,
    serve_subprocess,
    write_results,
)

# Counts the page's progress-bar and curve updates while the training runs.
UPDATE_PROBE = """() => {
  window.__updates = 0;
  new MutationObserver(() => { window.__updates += 1; })
    .observe(document.querySelector('#train-progress'), { subtree: true, childList: true });
}"""


def run_cli(out_dir: Path) -> dict:
    cmd = [sys.executable, "-m", "mnist_demo.train", "--model", "fastnet", "--recipe", "fast",
           "--out", str(out_dir / "cli-fastnet")]
    load = load_average()
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    card = json.loads((out_dir / "cli-fastnet.json").read_text())
    return {"command": "python -m mnist_demo.train --model fastnet --recipe fast --out ...",
            "wall_s": round(wall, 1), "train_seconds": card["train_seconds"],
            "test_accuracy": card["test_accuracy"], "load_before": load}


class SecondUser:
    """Calls /predict in a loop (one request at a time, a short pause between) and keeps latencies."""

    def __init__(self, url: str, picture: Path) -> None:
        from gradio_client import Client, handle_file

        self.client = Client(url, verbose=False)
        self.picture = handle_file(str(picture))
        self.client.predict(self.picture, api_name="/predict")  # warm up
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.client.predict(self.picture, api_name="/predict")
            self.latencies.append(time.perf_counter() - started)
            self._stop.wait(0.2)

    def start(self) -> None:
        self.latencies, self._stop = [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(60)
        return self.latencies


def summary(latencies: list[float]) -> dict:
    ms = [1000 * x for x in latencies]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1), "p90_ms": round(percentile(ms, 90), 1),
            "max_ms": round(max(ms), 1)}


def train_in_browser(browser, url: str, downloads: Path, second_user: SecondUser | None = None) -> dict:
    """Start the fast recipe from the Train tab and wait for its test accuracy."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#tabs", timeout=60_000)
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-model input").click()
    page.get_by_role("option", name=re.compile(r"^FastNet ·")).click()
    page.locator("#train-preset input").click()
    page.get_by_role("option", name=re.compile(r"^Fast \(this network")).click()  # its own preset
    page.wait_for_timeout(500)
    page.evaluate(UPDATE_PROBE)
    load = load_average()
    if second_user:
        second_user.start()
    started = time.perf_counter()
    page.locator("#train-start").click()
    page.locator("#train-result h3").wait_for(timeout=900_000)
    wall = time.perf_counter() - started
    latencies = second_user.stop() if second_user else []
    text = page.locator("#train-result").inner_text()
    updates = page.evaluate("() => window.__updates")
    with page.expect_download() as info:
        page.locator("#train-download a[download$='.json']").click()
    card_path = downloads / f"browser-{int(time.time())}.json"
    info.value.save_as(card_path)
    card = json.loads(card_path.read_text())
    context.close()
    return {"wall_s": round(wall, 1), "train_seconds": card["train_seconds"],
            "test_accuracy": float(re.search(r"Test accuracy: ([\d.]+)%", text).group(1)) / 100,
            "page_updates": updates, "page_updates_per_s": round(updates / wall, 2), "load_before": load,
            "recipe": card["recipe"], "machine": card["machine"],
            **({"second_user_predict": summary(latencies)} if second_user else {})}


def digit_picture(path: Path) -> Path:
    from PIL import Image

    from mnist_demo.data import load_split

    Image.fromarray(255 - load_split("mnist", "test").images[0].numpy()).resize((280, 280)).save(path)
    return path


def markdown(results: dict) -> str:
    cli, alone, busy = results["cli"], results["browser"], results["browser_with_second_user"]
    base = results["second_user_idle"]
    overhead_wall = alone["wall_s"] / cli["train_seconds"] - 1
    lines = [
        "# Fast recipe from the browser vs the command line; a second user's predictions meanwhile",
        "",
        "Load average before each run is listed: this machine was shared with other jobs, so the absolute times "
        "vary from run to run; compare the rows of one table.",
        "",
        "| run | test accuracy | time to the accuracy | training + final test (card) | load before |",
        "|---|---:|---:|---:|---|",
        f"| CLI `python -m mnist_demo.train --model fastnet --recipe fast` | {cli['test_accuracy']:.2%} | "
        f"{cli['wall_s']} s (process, imports included) | {cli['train_seconds']} s | {cli['load_before']} |",
        f"| Browser: Train tab, FastNet + fast preset, Start → accuracy shown | {alone['test_accuracy']:.2%} | "
        f"{alone['wall_s']} s (click to result) | {alone['train_seconds']} s | {alone['load_before']} |",
        f"| Browser, while a second user calls /predict | {busy['test_accuracy']:.2%} | {busy['wall_s']} s | "
        f"{busy['train_seconds']} s | {busy['load_before']} |",
        "",
        f"Browser click-to-result vs the CLI's own training time: {overhead_wall:+.1%}. "
        f"The page was updated {alone['page_updates_per_s']} times a second on average "
        f"({alone['page_updates']} updates).",
        "",
        "Second user's `/predict` latency (gradio_client, one request at a time, 0.2 s apart; the default model; "
        f"p90 = {PERCENTILE_DEFINITION}):",
        "",
        "| | requests | median | p90 | max |",
        "|---|---:|---:|---:|---:|",
        f"| no training running | {base['n']} | {base.get('median_ms')} ms | {base.get('p90_ms')} ms | "
        f"{base.get('max_ms')} ms |",
        f"| while the fast recipe trains | {busy['second_user_predict']['n']} | "
        f"{busy['second_user_predict'].get('median_ms')} ms | {busy['second_user_predict'].get('p90_ms')} ms | "
        f"{busy['second_user_predict'].get('max_ms')} ms |",
        "",
        f"The training thread uses {alone['machine'].split(',')[1].strip()} at a lower CPU priority (nice "
        f"{os.environ.get('MNIST_DEMO_TRAIN_NICE', '10')}), so a prediction preempts it.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default=str(RESULTS), help="where train_from_browser.md/.json go")
    parser.add_argument("--idle-seconds", type=float, default=15, help="baseline /predict sampling time")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="train-from-browser-"))
    results: dict = {"percentile": PERCENTILE_DEFINITION}
    print("CLI ...", flush=True)
    results["cli"] = run_cli(work)
    print(results["cli"], flush=True)
    app = serve_subprocess()
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            print("browser ...", flush=True)
            results["browser"] = train_in_browser(browser, app.url, work)
            print(results["browser"], flush=True)
            user = SecondUser(app.url, digit_picture(work / "seven.png"))
            user.start()
            time.sleep(args.idle_seconds)
            results["second_user_idle"] = summary(user.stop())
            print("browser + second user ...", flush=True)
            results["browser_with_second_user"] = train_in_browser(browser, app.url, work, user)
            print(results["browser_with_second_user"], flush=True)
            browser.close()
    finally:
        app.stop()
    print(write_results("train_from_browser", results, markdown(results), args.out_dir).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
