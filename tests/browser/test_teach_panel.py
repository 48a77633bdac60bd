"""The teach panel in Chromium: replay a UNIPEN writer's pen strokes on the canvas, press teach-N, see the digit
in my-digits, download My digits and check the zip, upload it back."""

from __future__ import annotations

import csv
import io
import zipfile

from mnist_demo import handwriting as hw
from tests.browser.test_draw_tab import CANVAS, ready, settle
from tests.harness import (
    DEVICE_READY_JS,
    device_model_of,
    device_parity,
    draw_strokes,
    needs_dataset,
    parity_inks,
    pen_strokes,
)

pytestmark = needs_dataset("unipen-dev", "replays UNIPEN pen strokes")


def my_digits_count(page, label: int) -> int:
    row = page.locator(f"#my-digits .md-row[data-label='{label}'] .md-count")
    return int(row.inner_text()) if row.count() else 0


INKED_PIXELS = """() => {  // dark pixels on the Draw tab's canvas
    const c = document.querySelector('#sketchpad canvas.ink');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) n += data[i] < 128;
    return n; }"""


def test_teach_buttons_collect_download_and_upload(page, tmp_path):
    digits = [d for d in hw.load_unipen(sites=["ibm"]) if d.label in (3, 7)][:2]
    ready(page)
    assert page.locator("#teach-title").inner_text().strip() == "Teach it your handwriting"
    heights = {round(page.locator(f"#teach-{n}").bounding_box()["height"]) for n in range(10)}
    assert len(heights) == 1, heights  # no label wraps onto a second line at 1280 px ("It's a 9" did)
    for digit in digits:
        page.locator(CANVAS).scroll_into_view_if_needed()  # pressing a button below may have scrolled the page
        box = page.locator(CANVAS).bounding_box()
        draw_strokes(page, box, pen_strokes(digit))
        settle(page)
        assert page.evaluate(INKED_PIXELS) > 100
        page.locator(f"#teach-{digit.label}").click()
        page.wait_for_function(f"""() => {{
            const c = document.querySelector("#my-digits .md-row[data-label='{digit.label}'] .md-count");
            return c && Number(c.textContent) >= 1; }}""", timeout=30_000)
        page.wait_for_function(f"() => ({INKED_PIXELS})() === 0", timeout=30_000)  # cleared for the next digit
        settle(page)
    assert "Kept as a" in page.locator("#teach-message").inner_text()
    assert not page.locator("#teach-zip").is_visible()  # no empty file box before a download
    expected = {label: sum(d.label == label for d in digits) for label in (3, 7)}
    assert {label: my_digits_count(page, label) for label in (3, 7)} == expected
    assert page.locator("#my-digits img").count() == len(digits)

    page.locator("#teach-download").click()
    link = page.locator("#teach-zip a[href]").first
    link.wait_for(timeout=30_000)
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    data = response.body()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("labels.csv").decode())))
        assert [int(r["label"]) for r in rows] == [d.label for d in digits]
        assert {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"} <= set(zf.namelist())
        assert len(zf.read("train-images-idx3-ubyte")) == 16 + 784 * len(digits)

    path = tmp_path / "my-digits.zip"
    path.write_bytes(data)
    page.locator("#teach-upload").locator("xpath=..").locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function(f"() => document.querySelectorAll('#my-digits img').length === {2 * len(digits)}",
                           timeout=30_000)
    assert "Added 2 digits" in page.locator("#teach-message").inner_text()


def test_teaching_makes_a_model_for_every_picker(page, app_sessions, tmp_path):
    """Upload a writer's digits as a My digits zip, teach, and find '<model> + my handwriting' in the pickers."""
    from mnist_demo.my_digits import MyDigits

    session = "ibm:data/1a/ibm/ibm0/r0215.dat"  # one session of IBM writer 15
    images, labels = hw.canvas_images([d for d in hw.load_unipen(sites=["ibm"]) if d.session == session][:20])
    collection = MyDigits()
    for image, label in zip(images, labels, strict=True):
        collection.add(image, int(label))
    path = tmp_path / "writer.zip"
    collection.to_zip(path)
    ready(page)
    page.locator("#teach-upload").locator("xpath=..").locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function("() => document.querySelectorAll('#my-digits img').length === 20", timeout=30_000)
    page.locator("#teach-start").click()
    page.wait_for_function("() => document.querySelector('#teach-result').innerText.includes('MNIST')",
                           timeout=400_000)
    assert "+ my handwriting" in page.locator("#teach-progress").inner_text()
    result = page.locator("#teach-result").inner_text()
    assert "not measured" in result and " of 20 (" in result  # 20 digits: too few for a before/after figure
    picked = page.locator("#draw-model input")
    assert "+ my handwriting" in picked.input_value()  # the taught model is picked at once ...
    # ... and the page runs it itself (exported as it was made): its answers are PyTorch's
    page.wait_for_function(DEVICE_READY_JS, arg="sketchpad", timeout=60_000)
    key, model = device_model_of(page, "sketchpad", app_sessions)
    assert key.startswith("session:")
    parity = device_parity(page, parity_inks(40, seed=4), key, model=model)
    assert parity["top1_agree"] == 1.0 and parity["prob_diff_max"] <= 1e-3, parity
    page.locator("#teach-back").click()  # ... with a way back
    page.wait_for_function("() => document.querySelector('#draw-model input').value.startsWith('DigitNet')",
                           timeout=30_000)
    page.locator("#teach-back").wait_for(state="hidden", timeout=10_000)  # the same answer hides it (a frame later)
    open_picker_and_find(page, "#draw-model", "+ my handwriting")
    page.locator("#tab-visualize-button, button[role=tab]:has-text('Visualize')").first.click()
    open_picker_and_find(page, "#viz-model", "+ my handwriting")


def open_picker_and_find(page, picker: str, text: str) -> None:
    page.locator(f"{picker} input").click()
    page.get_by_role("option", name=text).first.wait_for(timeout=30_000)
    page.keyboard.press("Escape")
