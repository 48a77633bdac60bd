"""The README's pictures of the app, one tab at a time, in headless Chromium.

    python -m bench.screenshot --tab draw        [--digit 5] [--lang en]   # docs/draw_tab.png
    python -m bench.screenshot --tab draw --phone [--lang en]              # docs/my_digits_phone.png
    python -m bench.screenshot --tab train       [--lang en]               # docs/train_tab.png (trains ~1 min)
    python -m bench.screenshot --tab visualize   [--index 0] [--lang en]   # docs/visualize_tab.png, visualize_conv.png
    python -m bench.screenshot --tab class       [--lang en]   # docs/class_wall.png, class_phone.png, class_dashboard.png, class_projector.png
    python -m bench.screenshot --tab leaderboard [--lang en]               # docs/class_leaderboard.png (4 trainings)

Starts `python app.py` on a free port (stopped by its PID afterwards) and Debian's Chromium
($CHROMIUM). draw: a digit drawn with the mouse and its prediction; with --phone, on a 390x844
touch screen, a few digits drawn with a finger and taught ("It's a N"), then one more drawn: its answer, the
buttons and My digits. train: four short epochs on
8,000 images, caught during the third, then stopped. visualize: MNIST test image --index with the
default model, the convolution stepped a little way in. class: the app on a fresh state folder; a teacher
opens a class, 30 UNIPEN digits (unipen-dev, 3 of each, drawn through the canvas path) are given into it as
five nicknamed students would, a phone (390x844, touch) joins by the link and draws a 7; the phone before its
button is pressed, then the teacher's wall, the teacher's first screen at 1280x800 (class_dashboard.png) and the
projector view at 1280x720 (class_projector.png). Train, visualize and class read the data folder ($MNIST_DEMO_DATA,
else ./data).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.harness import (
    CANVAS,
    DIGITS,
    ROOT,
    draw_strokes,
    field,
    launch_chromium,
    serve_subprocess,
    teacher_opens_a_class,
    touch_strokes,
)

LOCALES = {"en": "en-US", "zh": "zh-CN"}


def page_box(page, selector: str) -> dict:
    """An element's box in page coordinates (bounding_box is relative to the scrolled viewport)."""
    found = page.locator(selector).bounding_box()
    scroll = page.evaluate("() => [window.scrollX, window.scrollY]")
    return {**found, "x": found["x"] + scroll[0], "y": found["y"] + scroll[1]}


PHONE = {"width": 390, "height": 844}
TAUGHT = (7, 7, 1, 4, 2, 3)  # drawn with a finger and kept in My digits, in this order (each press clears the canvas)
SHOWN = 5  # then drawn and left on screen with its answer


def my_digits_phone(browser, url: str, options) -> list[Path]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale=LOCALES[options.lang])
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=60_000)
    for number, digit in enumerate((*TAUGHT, SHOWN), 1):
        page.wait_for_function("() => !document.querySelector(\"#prediction [data-testid='label-output-value']\")",
                               timeout=30_000)  # the press before cleared the answer
        page.evaluate("() => window.scrollTo(0, 0)")
        touch_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[digit], pause_ms=16)
        page.wait_for_selector("#prediction [data-testid='label-output-value']", state="attached", timeout=30_000)
        page.wait_for_timeout(700)
        if number > len(TAUGHT):
            break
        page.locator(f"#teach-{digit}").click()
        page.wait_for_function("n => document.querySelectorAll('#my-digits img').length >= n", arg=number,
                               timeout=30_000)
    page.wait_for_timeout(1000)
    page.evaluate("() => window.scrollTo(0, 0)")
    bottom = page.evaluate("() => { const r = document.querySelector('#my-digits').getBoundingClientRect();"
                           " return r.bottom + window.scrollY; }")
    out = options.out_dir / "my_digits_phone.png"
    page.screenshot(path=out, full_page=True, clip={"x": 0, "y": 0, "width": PHONE["width"], "height": bottom + 12})
    context.close()
    return [out]


def draw_tab(browser, url: str, options) -> list[Path]:
    if options.phone:
        return my_digits_phone(browser, url, options)
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale=LOCALES[options.lang])
    page.goto(url)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=60_000)
    draw_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[options.digit], pause_ms=16)
    page.wait_for_selector("#prediction [data-testid='label-output-value']", timeout=30_000)
    page.wait_for_timeout(1500)
    out = options.out_dir / "draw_tab.png"
    page.screenshot(path=out, full_page=True)
    return [out]


def train_tab(browser, url: str, options) -> list[Path]:
    from mnist_demo.ui.i18n import t

    third_epoch = t("train.progress", options.lang).split(" · ")[0].format(epoch=3, epochs=4)  # "Epoch 3/4"
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale=LOCALES[options.lang])
    page.goto(url)
    page.wait_for_selector("#tabs", timeout=60_000)
    page.locator("#tab-train-button, [role=tab]").nth(1).click()
    # Four short epochs, so the test-accuracy curve has points while the others keep moving.
    page.locator("#train-subset input").fill("8000")
    page.locator("#train-epochs input").fill("4")
    page.locator("#train-start").click()
    page.wait_for_function("text => document.querySelector('#train-bar')?.innerText.includes(text)",
                           arg=third_epoch, timeout=600_000)
    page.wait_for_timeout(1500)
    top = page.evaluate("() => document.querySelector('#tabs').getBoundingClientRect().top + window.scrollY")
    out = options.out_dir / "train_tab.png"
    page.screenshot(path=out, full_page=True, clip={"x": 0, "y": top - 10, "width": 1280, "height": 820})
    page.locator("#train-stop").click()
    page.locator("#train-result h3").wait_for(timeout=300_000)
    return [out]


def visualize_tab(browser, url: str, options) -> list[Path]:
    from mnist_demo.ui.i18n import t

    lang = options.lang
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=LOCALES[lang])
    page.goto(url)
    page.get_by_role("tab", name=t("tab.visualize", lang)).click()
    page.wait_for_selector("#viz-maps img", timeout=60_000)
    page.locator("#viz-source").get_by_text(t("viz.source.test", lang)).click()
    page.locator("#viz-index input").fill(str(options.index))
    page.locator("#viz-index input").press("Enter")
    page.wait_for_function("n => document.querySelector('#viz-status').innerText.includes('#' + n + ' ')",
                           arg=options.index, timeout=60_000)
    page.locator("#viz-position input[type=number]").fill("230")
    page.locator("#viz-position input[type=number]").press("Enter")
    page.locator("#viz-next").click()
    step = t("viz.conv.step", lang).split("{total}")[0].replace("**", "").format(n=232).strip()  # "Step 232 of"
    page.wait_for_function("text => document.querySelector('#viz-arithmetic').innerText.includes(text)",
                           arg=step, timeout=60_000)
    page.wait_for_timeout(1000)
    tab, maps, looks, last = (page_box(page, selector) for selector in
                              ("#tab-visualize", "#viz-maps", "#viz-looks", "#viz-arithmetic"))
    outs = [options.out_dir / "visualize_tab.png", options.out_dir / "visualize_conv.png"]
    page.screenshot(path=outs[0], full_page=True, clip={"x": tab["x"], "y": tab["y"], "width": tab["width"],
                                                        "height": maps["y"] + maps["height"] - tab["y"] + 10})
    page.screenshot(path=outs[1], full_page=True, clip={"x": tab["x"], "y": looks["y"] - 50, "width": tab["width"],
                                                        "height": last["y"] + last["height"] - looks["y"] + 60})
    return outs


def class_tab(browser, url: str, options) -> list[Path]:
    from mnist_demo.classroom.store import ClassStore
    from tests.harness import seed_class, touch_strokes

    teacher = browser.new_page(viewport={"width": 1280, "height": 900}, locale=LOCALES[options.lang])
    teacher.goto(url)
    link, _ = teacher_opens_a_class(teacher, "7B")
    db = ClassStore()
    seed_class(db, link.split("class=")[1])
    db.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale=LOCALES[options.lang])
    phone = context.new_page()
    phone.goto(link)
    phone.wait_for_selector("#class-canvas canvas.ink[data-ready='1']", state="visible", timeout=60_000)
    field(phone, "class-nickname").fill("Eli")
    phone.evaluate("() => window.scrollTo(0, 0)")  # the field scrolled the page: the canvas back in view
    phone.wait_for_timeout(500)
    touch_strokes(phone, phone.locator("#class-canvas canvas.ink").bounding_box(), DIGITS[7], pause_ms=10)
    phone.wait_for_function("() => document.querySelector('#class-answer').innerText.includes('7')", timeout=30_000)
    phone.wait_for_timeout(800)
    outs = [options.out_dir / "class_wall.png", options.out_dir / "class_phone.png",
            options.out_dir / "class_dashboard.png", options.out_dir / "class_projector.png"]
    phone.screenshot(path=outs[1])
    phone.locator("#class-teach-7").click()
    phone.wait_for_function("() => document.querySelector('#class-count').innerText.includes('1')", timeout=30_000)

    teacher.locator("#class-open").click()
    teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length >= 31", timeout=60_000)
    teacher.wait_for_timeout(1500)
    dash, wall = page_box(teacher, "#class-dashboard"), page_box(teacher, "#class-wall")
    teacher.screenshot(path=outs[0], full_page=True, clip={"x": dash["x"], "y": dash["y"] - 8, "width": dash["width"],
                                                           "height": wall["y"] + wall["height"] - dash["y"] + 16})
    # The teacher's own first screen at 1280x800, then the projector view at 1280x720 (toasts closed first)
    teacher.evaluate("() => document.querySelectorAll('.toast-close').forEach(b => b.click())")
    teacher.set_viewport_size({"width": 1280, "height": 800})
    teacher.evaluate("() => window.scrollTo(0, 0)")
    teacher.wait_for_timeout(800)
    teacher.screenshot(path=outs[2])
    teacher.locator("#class-projector-open").click()
    teacher.set_viewport_size({"width": 1280, "height": 720})
    teacher.wait_for_selector("#class-projector-wall figure", timeout=60_000)
    teacher.wait_for_timeout(1500)
    teacher.screenshot(path=outs[3])
    context.close()
    return outs


def leaderboard(browser, url: str, options) -> list[Path]:
    """Four phones train their own networks (real runs through the fair queue); the teacher's leaderboard, with
    the best run's confusion matrix and loss curve opened."""

    teacher = browser.new_page(viewport={"width": 1280, "height": 900}, locale=LOCALES[options.lang])
    teacher.goto(url)
    link, _ = teacher_opens_a_class(teacher, "7B", dashboard=True)
    picks = [("Ada", {"size": "large"}), ("Bo", {"lr": "high (0.1)"}), ("Cy", {"images": "20,000"}),
             ("Dee", {"augment": "on", "epochs": "2"})]
    phones = []
    for nickname, changes in picks:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale=LOCALES[options.lang])
        phone = context.new_page()
        phone.goto(link)
        phone.wait_for_selector("#class-train-own", timeout=60_000)
        field(phone, "class-nickname").fill(nickname)
        phone.locator("#class-train-own").click()
        for choice, option in changes.items():
            phone.locator(f"#class-own-{choice}").get_by_text(option, exact=True).click()
        phone.locator("#class-own-start").click()
        phones.append((context, phone))
    for _, phone in phones:
        phone.wait_for_function("() => document.querySelector('#class-own-status').innerText.includes('leaderboard')",
                                timeout=600_000)
    out = [options.out_dir / "class_leaderboard.png", options.out_dir / "class_train_phone.png"]
    phones[0][1].screenshot(path=out[1], full_page=True)
    teacher.wait_for_selector("#class-leaderboard [role=grid][aria-rowcount='5']", timeout=60_000)
    field(teacher, "class-run-id").fill("1")
    teacher.locator("#class-run-show").click()
    teacher.wait_for_selector("#class-run-confusion img", timeout=60_000)
    teacher.wait_for_timeout(1500)
    # Gradio 6's gr.Group writes its elem_id on two nested divs (the outer one: the whole panel)
    teacher.locator("#class-dashboard #class-board-panel").first.screenshot(path=out[0])
    for context, _ in phones:
        context.close()
    return out


TABS = {"draw": draw_tab, "train": train_tab, "visualize": visualize_tab, "class": class_tab,
        "leaderboard": leaderboard}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tab", choices=TABS, required=True)
    parser.add_argument("--lang", choices=LOCALES, default="en", help="the browser's language")
    parser.add_argument("--digit", type=int, default=5, help="draw: the digit drawn")
    parser.add_argument("--phone", action="store_true", help="draw: on a phone, a few digits taught (My digits)")
    parser.add_argument("--index", type=int, default=0, help="visualize: the MNIST test image shown")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    options = parser.parse_args()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    if options.tab in ("class", "leaderboard"):  # a fresh state folder for the served app and seed_class alike
        import os
        import tempfile

        os.environ["MNIST_DEMO_STATE"] = tempfile.mkdtemp(prefix="mnist-demo-screenshot-state-")

    with serve_subprocess(timeout_s=600) as app, sync_playwright() as p:  # a loaded machine starts it slowly
        browser = launch_chromium(p)
        written = TABS[options.tab](browser, app.url, options)
        browser.close()
    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
