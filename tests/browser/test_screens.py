"""The screens people see, in Chromium, in English and in Chinese (one browser context per language, its window
resized): no two visible things of the Train and Class tabs overlap at 1280x800, 1024x768 and 390x844; the
teacher key is in its private step only, never on the class's screen or the projector view; the dashboard's wall
is on its first screen; the projector view fills 1280x720 and 1920x1080 with the class code, the QR code and the
wall on the first screen, and nothing that changes anything. Screenshots of each go to the test's folder."""

from __future__ import annotations

import pytest

from mnist_demo.ui.i18n import t
from tests.harness import field, needs_dataset, overlaps, readable, seed_class

pytestmark = needs_dataset("unipen-dev", "gives a class real handwriting")

LOCALES = {"en": "en-US", "zh": "zh-CN"}
LAPTOP, TABLET, PHONE = (1280, 800), (1024, 768), (390, 844)
PROJECTORS = ((1280, 720), (1920, 1080))


# The text of each visible file box (its label, "drop a file here", "click to upload") that its box cuts off:
# a box too short for its label clipped its last line.
CUT_TEXT_JS = r"""(rootSelector) => {
  const cut = [];
  for (const box of document.querySelector(rootSelector).querySelectorAll('.block:has([data-testid=upload-text])')) {
    const b = box.getBoundingClientRect();
    if (b.width < 2 || b.height < 2) continue;
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      if (!node.textContent.trim() || !node.parentElement.offsetParent) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects())
        if (r.height > 1 && (r.bottom > b.bottom + 1 || r.top < b.top - 1 || r.right > b.right + 1))
          cut.push('#' + box.id + ': ' + node.textContent.trim().slice(0, 40));
    }
  }
  return cut;
}"""


def resize(page, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # layout after the resize


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_teachers_screens_fit_and_never_show_the_key(browser, app_url, app_classroom, lang, tmp_path):
    context = browser.new_context(viewport={"width": LAPTOP[0], "height": LAPTOP[1]}, locale=LOCALES[lang])
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#tabs", timeout=30_000)
    page.wait_for_function("lang => document.querySelector('#language input:checked')?.value === lang", arg=lang,
                           timeout=30_000)
    tabs = page.locator("#tabs button[role=tab]")
    # the page's words are relabelled after the language is picked: measure them, not the English ones before
    page.wait_for_function("text => document.querySelectorAll('#tabs button[role=tab]')[1]?.innerText.trim() === text",
                           arg=t("tab.train", lang), timeout=30_000)

    def fits(root: str, name: str, sizes=(LAPTOP, TABLET, PHONE)) -> None:
        for size in sizes:
            resize(page, size)
            page.screenshot(path=tmp_path / f"{name}-{lang}-{size[0]}x{size[1]}.png", full_page=True)
            assert overlaps(page, root) == [], (name, size)
            assert page.evaluate(CUT_TEXT_JS, root) == [], (name, size)

    tabs.nth(1).click()
    fits("#tab-train", "train")
    tabs.nth(3).click()
    fits("#tab-class", "class-start")

    resize(page, LAPTOP)
    field(page, "class-title").fill("7B")
    page.locator("#class-create").click()
    page.wait_for_function("() => document.querySelector('#class-teacher-key input, #class-teacher-key textarea')"
                           "?.value.length > 10", timeout=30_000)
    key = field(page, "class-teacher-key").input_value()
    code = field(page, "class-dash-code").input_value()
    fits("#tab-class", "class-key")
    page.locator("#class-show-screen").click()
    page.wait_for_selector("#class-qr svg", timeout=30_000)
    assert key not in readable(page, "#class-created") and key not in page.locator("body").inner_text()
    assert field(page, "class-dash-key").get_attribute("type") == "password"  # the dashboard asks for it hidden
    fits("#tab-class", "class-screen")

    seed_class(app_classroom.store, code.replace("-", ""))
    resize(page, LAPTOP)
    page.locator("#class-open").click()
    page.wait_for_function("() => document.querySelectorAll('#class-wall figure').length >= 30", timeout=60_000)
    # nothing empty takes room: the export's file and a confusion cell's drawings appear once they have something
    assert not page.locator("#class-export-file").first.is_visible() and not page.locator("#class-cell").is_visible()
    for size in (LAPTOP, TABLET):
        resize(page, size)
        assert page.locator("#class-export").bounding_box()["height"] < 60, size  # its natural height, not a block
        first = page.locator("#class-wall figure").first.bounding_box()
        assert first["y"] + first["height"] <= size[1], ("the wall's first row is below the first screen", size)
    fits("#tab-class", "class-dashboard")
    # on a phone the dashboard's header, its accuracy and the projector's button stack (side by side, the header
    # was a column a few letters wide: "Das / hbo / ard")
    resize(page, PHONE)
    for part in ("#class-dash-header", "#class-accuracy"):
        assert page.locator(part).bounding_box()["width"] >= 0.75 * PHONE[0], part

    page.locator("#class-projector-open").click()
    page.wait_for_selector("#class-projector-wall figure", timeout=30_000)
    for size in PROJECTORS:
        resize(page, size)
        page.screenshot(path=tmp_path / f"projector-{lang}-{size[0]}x{size[1]}.png")
        view = page.locator("#class-projector").bounding_box()
        assert (view["x"], view["y"], view["width"], view["height"]) == (0, 0, *size)  # the whole window
        shown = readable(page, "#class-projector")
        assert key not in shown and code in shown
        first = page.locator("#class-projector-wall figure").first.bounding_box()
        assert 0 <= first["y"] and first["y"] + first["height"] <= size[1] and first["width"] >= 120
        qr = page.locator("#class-projector-qr svg").bounding_box()
        assert qr["y"] + qr["height"] <= size[1] and qr["width"] >= 0.3 * size[1]  # readable from the back
        # Nothing that changes anything: no field, and one button, the way back to the dashboard
        assert page.locator("#class-projector input, #class-projector textarea").count() == 0
        assert page.locator("#class-projector button").count() == 1
        assert overlaps(page, "#class-projector") == [], (size, overlaps(page, "#class-projector"))
    page.locator("#class-projector-back").click()
    page.wait_for_selector("#class-dashboard", state="visible", timeout=30_000)
    context.close()
