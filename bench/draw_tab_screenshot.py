"""The README's picture of the Draw & Predict tab: a digit drawn with the mouse and its prediction.

    python bench/draw_tab_screenshot.py [--digit 5] [--lang en] [--out docs/draw_tab.png]
"""

from __future__ import annotations

import argparse

from stroke_latency import CHROMIUM, CHROMIUM_ARGS, DIGITS, ROOT, draw_stroke, start_app  # also sets sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digit", type=int, default=5)
    parser.add_argument("--lang", default="en", help="the browser's language (en or zh)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "draw_tab.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    process, url = start_app()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale=args.lang)
            page.goto(url)
            page.wait_for_selector("#sketchpad canvas.ink[data-ready='1']", timeout=60_000)
            box = page.locator("#sketchpad canvas.ink").bounding_box()
            for stroke in DIGITS[args.digit]:
                draw_stroke(page, box, stroke)
            page.wait_for_selector("#prediction [data-testid='label-output-value']", timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=args.out, full_page=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
