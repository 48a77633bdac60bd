"""Screenshots of the Visualize tab for the README: docs/visualize_tab.png and docs/visualize_conv.png.

    MNIST_DEMO_DATA=/path/to/data python bench/visualize_screenshot.py [--index 0]

Starts the app in-process, opens the tab in headless Chromium (Debian's /usr/bin/chromium, or
$CHROMIUM), shows MNIST test image --index with the default model, steps the convolution a little
way in, and saves the two pictures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from mnist_demo.ui.app import build_app  # noqa: E402
from mnist_demo.ui.i18n import t  # noqa: E402


def box(page, selector: str) -> dict:
    """An element's box in page coordinates (bounding_box is relative to the scrolled viewport)."""
    found = page.locator(selector).bounding_box()
    scroll = page.evaluate("() => [window.scrollX, window.scrollY]")
    return {**found, "x": found["x"] + scroll[0], "y": found["y"] + scroll[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=int, default=0, help="MNIST test image to show")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    options = parser.parse_args()
    options.out.mkdir(exist_ok=True)
    demo = build_app()
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name=t("tab.visualize")).click()
            page.wait_for_selector("#viz-maps img", timeout=30_000)
            page.locator("#viz-source").get_by_text(t("viz.source.test")).click()
            page.locator("#viz-index input").fill(str(options.index))
            page.locator("#viz-index input").press("Enter")
            page.wait_for_function("n => document.querySelector('#viz-status').innerText.includes('#' + n + ' ')",
                                   arg=options.index, timeout=20_000)
            page.locator("#viz-position input[type=number]").fill("230")
            page.locator("#viz-position input[type=number]").press("Enter")
            page.locator("#viz-next").click()
            page.wait_for_function("() => document.querySelector('#viz-arithmetic').innerText.includes('Step 232')",
                                   timeout=20_000)
            page.wait_for_timeout(1000)
            tab, maps, looks, last = (box(page, selector) for selector in
                                      ("#tab-visualize", "#viz-maps", "#viz-looks", "#viz-arithmetic"))
            page.screenshot(path=str(options.out / "visualize_tab.png"), full_page=True,
                            clip={"x": tab["x"], "y": tab["y"], "width": tab["width"],
                                  "height": maps["y"] + maps["height"] - tab["y"] + 10})
            page.screenshot(path=str(options.out / "visualize_conv.png"), full_page=True,
                            clip={"x": tab["x"], "y": looks["y"] - 50, "width": tab["width"],
                                  "height": last["y"] + last["height"] - looks["y"] + 60})
            browser.close()
    finally:
        demo.close()
    for name in ("visualize_tab.png", "visualize_conv.png"):
        path = options.out / name
        print(path, f"{path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
