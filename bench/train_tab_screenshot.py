"""The README's picture of the Train tab mid-training: progress bar, loss and accuracy curves, and
the test accuracy after the first epochs.

    python bench/train_tab_screenshot.py [--lang en] [--out docs/train_tab.png]
"""

from __future__ import annotations

import argparse
import os

from train_from_browser import CHROMIUM_ARGS, ROOT, App  # also sets sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", default="en", help="the browser's language (en or zh)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "train_tab.png"))
    args = parser.parse_args()
    os.environ.setdefault("MNIST_DEMO_DATA", str(ROOT.parent / "shared" / "data"))
    from playwright.sync_api import sync_playwright

    app = App()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale=args.lang)
            page.goto(app.url)
            page.wait_for_selector("#tabs", timeout=60_000)
            page.locator("#tab-train-button, [role=tab]").nth(1).click()
            # Four short epochs, so the test-accuracy curve has points while the others keep moving.
            page.locator("#train-subset input").fill("8000")
            page.locator("#train-epochs input").fill("4")
            page.locator("#train-start").click()
            page.wait_for_function("() => document.querySelector('#train-bar')?.innerText.includes('Epoch 3/4')",
                                   timeout=600_000)
            page.wait_for_timeout(1500)
            top = page.evaluate("() => document.querySelector('#tabs').getBoundingClientRect().top + window.scrollY")
            page.screenshot(path=args.out, full_page=True, clip={"x": 0, "y": top - 10, "width": 1280, "height": 820})
            page.locator("#train-stop").click()
            page.locator("#train-result h3").wait_for(timeout=300_000)
            browser.close()
    finally:
        app.stop()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
