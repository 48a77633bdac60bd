"""Issue 18's findings from the code review (not reachable as one HTTP probe), measured on two checkouts: the
limiter's memory and its check-and-count, spreadsheet formulas in an export, nested JSON in a weights header, a
zip's member count, PNG text chunks. `python -m bench.class_review --before DIR` measures the checkout DIR (e.g.
f780272, before the fixes) and this one, each in its own process with its own `mnist_demo`, and writes
bench/results/class_review.{json,md} (`--out NAME` for another name).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def probe() -> dict:
    """The measures, on the `mnist_demo` this process imports (the code of either version)."""
    import csv
    import io
    import threading
    import time
    import tracemalloc
    import zipfile

    import numpy as np
    from PIL import Image, PngImagePlugin

    from mnist_demo import digits_zip, weights
    from mnist_demo.classroom import security
    from mnist_demo.my_digits import MyDigit
    from mnist_demo.reading.files import load_picture

    out = {}
    # One failed join from each of 200,000 addresses, counted as each version's handler counts it
    limiter = security.RateLimiter(security.JOIN_FAILURES_PER_WINDOW)
    tracemalloc.start()
    for n in range(200_000):
        address = f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"
        if hasattr(limiter, "take"):
            limiter.take(address)
        elif limiter.allow(address):
            limiter.hit(address)
    out["limiter_keys_after_200k_addresses"] = len(limiter._events)
    out["limiter_mb"] = round(tracemalloc.get_traced_memory()[0] / 1e6, 1)
    tracemalloc.stop()

    # 40 parallel wrong tries from one address (limit 10), each found wrong 20 ms after its check
    limiter, passed, barrier = security.RateLimiter(10), [], threading.Barrier(40)

    def attempt():
        barrier.wait()
        if hasattr(limiter, "take"):
            allowed = limiter.take("203.0.113.7")
            time.sleep(0.02)
        else:
            allowed = limiter.allow("203.0.113.7")
            time.sleep(0.02)
            if allowed:
                limiter.hit("203.0.113.7")
        passed.append(allowed)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["parallel_wrong_tries_passed_of_40_limit_10"] = sum(passed)

    # A nickname that is a spreadsheet formula, in an export's labels.csv
    data = digits_zip.digits_zip([MyDigit(0, 3, np.zeros((28, 28), np.uint8), None, "drawing")], "r",
                                 {"nickname": ['=HYPERLINK("http://x","click")']})
    rows = list(csv.reader(io.StringIO(zipfile.ZipFile(io.BytesIO(data)).read("labels.csv").decode())))
    out["nickname_cell"] = rows[1][-1]

    # A weights header of JSON nested 100,000 deep
    deep = b"[" * 100_000 + b"]" * 100_000
    head = len(deep).to_bytes(8, "little") + deep
    try:
        weights.check_header(head, len(head) + 10)
        out["nested_json_header"] = "accepted"
    except Exception as exc:  # noqa: BLE001 - which exception is the finding
        out["nested_json_header"] = f"{type(exc).__name__}: {str(exc)[:70]}"

    # A zip of 65,000 empty members (5.6 MB; more would be ZIP64): time and memory until refused
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(65_000):
            zf.writestr(f"{i}", b"")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        digits_zip.read_zip(buffer.getvalue())
        answer = "read"
    except Exception as exc:  # noqa: BLE001
        answer = f"{type(exc).__name__}: {str(exc)[:60]}"
    out["zip_65k_members"] = {"answer": answer, "ms": round(1000 * (time.perf_counter() - started)),
                              "peak_mb": round(tracemalloc.get_traced_memory()[1] / 1e6, 1)}
    tracemalloc.stop()

    # A 28x28 PNG with 8 zTXt chunks that inflate to 1 MB each
    info = PngImagePlugin.PngInfo()
    for n in range(8):
        info.add_text(f"note{n}", "x" * 1_000_000, zip=True)
    png = io.BytesIO()
    Image.new("L", (28, 28)).save(png, "PNG", pnginfo=info)
    picture = load_picture(png.getvalue())
    out["png_8_ztxt"] = {"png_kb": round(len(png.getvalue()) / 1e3, 1),
                         "text_kept_mb": round(sum(len(str(v)) for v in picture.info.values()) / 1e6, 1)}
    return out


def measure(checkout: Path) -> dict:
    """`probe()` in a process of its own on `checkout`'s code."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, __file__, "--probe"], cwd=checkout, env=environment, check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(results: dict) -> str:
    lines = ["# Issue 18's code-review findings, before and after", "",
             "Each measure on the checkout's own code (`python -m bench.class_review`).", "",
             "| measure | before | after |", "|---|---|---|"]
    for name, after in results["after"].items():
        before = results["before"].get(name)
        lines.append(f"| {name} | {json.dumps(before, ensure_ascii=False)} | {json.dumps(after, ensure_ascii=False)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a checkout of the code before the fixes")
    parser.add_argument("--out", default="class_review")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe()))
        return
    from tests.harness import ROOT, load_average, write_results

    results = {"load_average_before": load_average()}
    if args.before:
        results["before"] = measure(Path(args.before).resolve())
    results["after"] = measure(ROOT)
    results["load_average_after"] = load_average()
    results.setdefault("before", {})
    print(json.dumps(results, indent=2))
    print(write_results(args.out, results, markdown(results)))


if __name__ == "__main__":
    main()
