"""The page's own answers against the server's: inputs, probabilities and time per answer, in Chromium.

    python -m bench.device_parity                    # 4,000 drawings, the default model
    python -m bench.device_parity --drawings 2000 --model s5-lenet

Draws the parity set (tests/harness.py `parity_inks`: half UNIPEN pen digits rendered as the canvas draws
them, half MNIST test digits redrawn as a user would and sent as the canvas would), runs each through the
page's own geometry (static/geometry.js) and the model's ONNX graph in ONNX Runtime Web, and compares with
reading.geometry and PyTorch. Then the time per answer (geometry + forward) on 300 of them at full speed
and with the CPU slowed 4x (DevTools `Emulation.setCPUThrottlingRate`, a mid-range phone). Writes
bench/results/device_parity.json and .md.
"""

from __future__ import annotations

import argparse

from tests.harness import (
    DEVICE_READY_JS,
    RESULTS,
    device_parity,
    launch_chromium,
    load_average,
    parity_inks,
    serve_subprocess,
    write_results,
)

TIMED = 300


def markdown(r: dict) -> str:
    p = r["parity"]
    return "\n".join([
        "# The page's own answers against the server's",
        "",
        f"{p['drawings']} drawings (half UNIPEN pen digits as the canvas draws them, half redrawn MNIST test digits), "
        f"model `{r['model']}`, headless Chromium, ONNX Runtime Web 1.30.0 (WebAssembly, one thread). "
        f"Load average {r['load_avg_before']} before, {r['load_avg_after']} after.",
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        f"| 28x28 inputs, per-pixel difference, 99.9th percentile (max) | **{p['input_diff_p999']:.2g}** "
        f"({p['input_diff_max']:.2g}) | <= 1/255 |",
        f"| top-1 answers that agree | **{p['top1_agree']:.2%}** | >= 99.9% |",
        f"| probabilities, largest difference | **{p['prob_diff_max']:.2g}** | <= 1e-3 |",
        f"| blank drawings recognised alike | {p['blank_agree']} | |",
        f"| page: geometry + forward per answer, median ({TIMED} drawings) | **{r['ms_full']:.2f} ms** | |",
        f"| the same with the CPU slowed 4x | **{r['ms_4x']:.2f} ms** | <= 8 ms |",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drawings", type=int, default=4000)
    parser.add_argument("--model", default="digitnet", help="a shipped model's name")
    parser.add_argument("--out-dir", default=str(RESULTS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = load_average()
    inks = parity_inks(args.drawings, seed=2026)
    with serve_subprocess() as app, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        page.goto(app.url)
        page.wait_for_function(DEVICE_READY_JS, arg="sketchpad", timeout=120_000)
        parity = device_parity(page, inks, args.model)
        ms_full = device_parity(page, inks[:TIMED], args.model)["page_ms_median"]
        cdp = page.context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        ms_4x = device_parity(page, inks[:TIMED], args.model)["page_ms_median"]
        browser.close()
    results = {"model": args.model, "parity": parity, "ms_full": ms_full, "ms_4x": ms_4x,
               "load_avg_before": load_before, "load_avg_after": load_average()}
    print(write_results("device_parity", results, markdown(results), args.out_dir).read_text())


if __name__ == "__main__":
    main()
