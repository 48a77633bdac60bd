"""What a first visit downloads, and how long until the page answers on the device, over a 10 Mbit/s line.

    python -m bench.first_visit                  # starts `python app.py` on a free port, stops it after
    python -m bench.first_visit --mbit 10 --rtt 40

Headless Chromium on a phone viewport (390x844) with DevTools network emulation (throughput and round
trip). Counts every response's bytes on the wire (`Network.loadingFinished`'s encodedDataLength: compressed
as served, headers included), the page's own (everything but /device/) and the device road's (/device/: the
runtime, its WebAssembly, the page's script, the model), and times from navigation to the canvas being ready
(the page answers through the server from then on) and to the device answering (runtime and model loaded).
Then a second visit in the same browser: what it downloads again (nothing of /device/ should be). Writes
bench/results/first_visit.json and .md.
"""

from __future__ import annotations

import argparse
import time

from tests.harness import (
    CANVAS,
    DEVICE_READY_JS,
    RESULTS,
    launch_chromium,
    load_average,
    serve_subprocess,
    write_results,
)


def visit(context, url: str, mbit: float, rtt: int) -> dict:
    """One visit in `context`: bytes by road, responses, and the times to the canvas and to device answers."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    rate = mbit * 1e6 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": rtt, "downloadThroughput": rate,
                                                  "uploadThroughput": rate})
    urls, sizes, cached = {}, {}, set()
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", lambda e: cached.add(e["requestId"]) if e["response"].get("fromDiskCache")
           or e["response"].get("fromPrefetchCache") else None)  # a disk-cache hit is told on its response only
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=300_000)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=300_000)
    canvas_s = time.perf_counter() - started
    page.wait_for_function(DEVICE_READY_JS, arg="sketchpad", timeout=300_000, polling=50)
    device_s = time.perf_counter() - started
    page.wait_for_timeout(1500)  # the page's remaining requests (its queue stream stays open)
    device = {i: n for i, n in sizes.items() if "/device/" in urls.get(i, "")}
    page_bytes = {i: n for i, n in sizes.items() if i not in device}
    page.close()
    return {
        "canvas_ready_s": round(canvas_s, 2), "device_ready_s": round(device_s, 2),
        "page_bytes": sum(page_bytes.values()), "page_responses": len(page_bytes),
        "device_bytes": sum(device.values()), "device_responses": len(device),
        "device_files": sorted({urls[i].split("/device/", 1)[1] for i in device}),
        "device_from_cache": sum(1 for i in cached if "/device/" in urls.get(i, "")),
    }


def markdown(results: dict) -> str:
    first, second = results["first"], results["second"]
    mb = lambda n: f"{n / 1e6:.2f} MB"
    return "\n".join([
        "# First visit: what the page downloads, and when it answers on the device",
        "",
        f"Headless Chromium, 390x844 phone viewport, DevTools network emulation at {results['mbit']} Mbit/s both ways "
        f"and {results['rtt_ms']} ms round trip; bytes as on the wire (compressed as served, headers included). "
        f"Load average {results['load_avg_before']} before, {results['load_avg_after']} after.",
        "",
        "| visit | page (responses) | device road: runtime, wasm, script, model (responses) | total | canvas ready | "
        "answers on the device |",
        "|---|---|---|---|---|---|",
        f"| first | {mb(first['page_bytes'])} ({first['page_responses']}) | {mb(first['device_bytes'])} "
        f"({first['device_responses']}) | **{mb(first['page_bytes'] + first['device_bytes'])}** | "
        f"{first['canvas_ready_s']} s | **{first['device_ready_s']} s** |",
        f"| second (same browser) | {mb(second['page_bytes'])} ({second['page_responses']}) | "
        f"{mb(second['device_bytes'])} ({second['device_responses']} fetched, {second['device_from_cache']} from the "
        f"cache) | {mb(second['page_bytes'] + second['device_bytes'])} | {second['canvas_ready_s']} s | "
        f"{second['device_ready_s']} s |",
        "",
        "Device files of the first visit: " + ", ".join(f"`{f}`" for f in first["device_files"]) + ".",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app already running (default: start app.py)")
    parser.add_argument("--mbit", type=float, default=10.0, help="line speed, Mbit/s (default 10)")
    parser.add_argument("--rtt", type=int, default=40, help="round trip, ms (default 40)")
    parser.add_argument("--out-dir", default=str(RESULTS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = load_average()
    app = None if args.url else serve_subprocess()
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                          device_scale_factor=3)
            first = visit(context, args.url or app.url, args.mbit, args.rtt)
            second = visit(context, args.url or app.url, args.mbit, args.rtt)
            browser.close()
    finally:
        if app is not None:
            app.stop()
    results = {"mbit": args.mbit, "rtt_ms": args.rtt, "first": first, "second": second,
               "load_avg_before": load_before, "load_avg_after": load_average()}
    print(write_results("first_visit", results, markdown(results), args.out_dir).read_text())


if __name__ == "__main__":
    main()
