"""The Draw & Predict tab in headless Chromium: drawing digits with the mouse and a finger, uploads, undo and
clear, live updates during a stroke, the canvas layout, two users at once, and the /predict API.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from mnist_demo.ui.i18n import t
from tests.harness import CANVAS, DIGITS, draw_strokes, line, to_page, touch_strokes

pytestmark = pytest.mark.browser

TOP = "#prediction [data-testid='label-output-value']"
QUIET_MS = 600

# Installed in each page: the time of the last change to the outputs, to know when the answers are in.
PROBE = """() => {
  window.__lastUpdate = performance.now();
  const mark = () => { window.__lastUpdate = performance.now(); };
  for (const id of ['#prediction', '#draw-status', '#seen'])
    new MutationObserver(mark).observe(document.querySelector(id),
      { subtree: true, childList: true, characterData: true, attributes: true });
  document.querySelector('#sketchpad canvas.ink').addEventListener('pad-sent', mark);
}"""


def ready(page) -> dict:
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=30_000)
    for output in ("#prediction", "#draw-status", "#seen"):
        page.wait_for_selector(output, state="attached", timeout=30_000)
    page.evaluate(PROBE)
    return page.locator(CANVAS).bounding_box()


def settle(page, timeout_s: float = 30) -> None:
    """Wait until nothing was sent and no output changed for QUIET_MS."""
    page.wait_for_function(f"() => performance.now() - window.__lastUpdate > {QUIET_MS}", timeout=timeout_s * 1000)


def top_label(page) -> str | None:
    top = page.locator(TOP)
    return top.inner_text().strip() if top.count() else None


def status(page) -> str:
    return page.locator("#draw-status").inner_text().strip()


def clear(page) -> None:
    page.locator("#clear").click()
    settle(page)


def canvas_is_white(page) -> bool:
    return page.locator(CANVAS).evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every(v => v === 255)")


def blank_message() -> str:
    return t("draw.msg.blank", "en").split(" ", 1)[1]  # without the leading emoji


def test_draws_each_digit_with_the_mouse(page):
    box = ready(page)
    seen = {}
    for digit, strokes in DIGITS.items():
        clear(page)
        draw_strokes(page, box, strokes)
        settle(page)
        seen[digit] = top_label(page)
    assert seen == {d: str(d) for d in DIGITS}, f"drawn -> predicted: {seen}"


def test_label_updates_while_the_stroke_is_still_being_drawn(page):
    box = ready(page)
    stroke = DIGITS[7][0]
    page.mouse.move(*to_page(box, stroke[0]))
    page.mouse.down()
    for point in stroke[1:]:
        page.mouse.move(*to_page(box, point))
        page.wait_for_timeout(25)
    page.wait_for_selector(TOP, timeout=5000)  # the button is still down
    during = top_label(page)
    page.mouse.up()
    settle(page)
    assert during is not None and top_label(page) == "7"


def test_clear_empties_canvas_and_prediction_then_asks_for_a_digit(page):
    box = ready(page)
    draw_strokes(page, box, DIGITS[4])
    settle(page)
    assert top_label(page) == "4" and not canvas_is_white(page)
    clear(page)
    assert canvas_is_white(page)
    assert top_label(page) is None
    assert page.locator("#prediction [aria-label='Empty value']").count() == 1
    assert blank_message() in status(page)


def test_undo_by_button_and_ctrl_z(page):
    box = ready(page)
    draw_strokes(page, box, DIGITS[1])
    settle(page)
    one = page.locator(CANVAS).evaluate("c => c.toDataURL()")
    assert top_label(page) == "1"
    for undo in (lambda: page.keyboard.press("Control+z"), lambda: page.locator("#undo").click()):
        draw_strokes(page, box, [line((0.2, 0.5), (0.8, 0.5))])  # a cross bar
        settle(page)
        assert page.locator(CANVAS).evaluate("c => c.toDataURL()") != one
        undo()
        settle(page)
        assert page.locator(CANVAS).evaluate("c => c.toDataURL()") == one
        assert top_label(page) == "1"


def digit_picture(path, digit_strokes, size=(1200, 900), ink=(20, 30, 90), paper=(225, 222, 210)) -> None:
    """A photo-like picture: dark pen on greyish paper, the digit off-centre and smaller than the picture."""
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    side = 0.66 * min(size)
    left, top = 0.6 * (size[0] - side), 0.3 * (size[1] - side)
    for stroke in digit_strokes:
        draw.line([(left + x * side, top + y * side) for x, y in stroke], fill=ink, width=round(side / 15),
                  joint="curve")
    image.save(path)


def test_upload_a_picture_and_a_broken_file(page, tmp_path):
    ready(page)
    picture = tmp_path / "seven.png"
    digit_picture(picture, DIGITS[7])
    page.locator("#upload input[type='file']").set_input_files(str(picture))
    page.wait_for_function(f"() => document.querySelector(\"{TOP}\")?.innerText.trim() === '7'", timeout=20_000)

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not a picture" * 10)
    clear(page)  # empties the upload box too
    assert top_label(page) is None
    page.locator("#upload input[type='file']").set_input_files(str(broken))
    expected = t("draw.msg.bad_picture", "en", detail="").split(" ", 1)[1].strip()
    page.wait_for_function(f"() => document.querySelector('#draw-status').innerText.includes({expected!r})",
                           timeout=20_000)
    assert top_label(page) is None
    assert "Traceback" not in page.content()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                  is_mobile=True, has_touch=True, locale="en-US")
    yield context
    context.close()


def test_phone_touch_draws_without_scrolling(phone, app_url):
    context = phone
    page = context.new_page()
    page.goto(app_url)
    ready(page)
    assert page.evaluate("() => document.scrollingElement.scrollHeight > window.innerHeight + 100")  # could scroll
    page.evaluate("() => window.scrollTo(0, document.querySelector('#sketchpad').getBoundingClientRect().top - 40)")
    box = page.locator(CANVAS).bounding_box()  # scrolled a little, so a finger drag could scroll either way
    assert page.evaluate("() => window.scrollY") > 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["width"] <= 390
    scroll_before = page.evaluate("() => window.scrollY")
    touch_strokes(page, box, DIGITS[1])  # straight down: a drag the page would take as a scroll
    settle(page)
    assert page.evaluate("() => window.scrollY") == scroll_before
    assert not canvas_is_white(page)
    assert top_label(page) == "1"


ANSWER = ("#draw-status", "#prediction", *(f"#teach-{n}" for n in range(10)))
# A word broken across lines has more than one line box: count them per word of the heading.
BROKEN_WORDS = """h => { const words = [], text = h.firstChild && h.innerText; const walker = document.createTreeWalker(
  h, NodeFilter.SHOW_TEXT); let node; while ((node = walker.nextNode())) { const re = /\\S+/g; let m;
  while ((m = re.exec(node.data))) { const r = document.createRange(); r.setStart(node, m.index);
    r.setEnd(node, m.index + m[0].length); if (new Set([...r.getClientRects()].map(b => Math.round(b.top))).size > 1)
      words.push(m[0]); } } return words; }"""


def test_phone_shows_the_answer_and_the_teach_buttons_right_after_drawing(phone, app_url):
    page = phone.new_page()
    page.goto(app_url)
    box = ready(page)  # as the page loads: no scrolling before, during or after drawing
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844
    touch_strokes(page, box, DIGITS[5])
    settle(page)
    assert page.evaluate("() => window.scrollY") == 0
    assert "5" in status(page)
    for selector in ANSWER:
        found = page.locator(selector).bounding_box()
        assert found is not None and found["height"] > 0, selector
        assert 0 <= found["x"] and found["x"] + found["width"] <= 390, (selector, found)
        assert 0 <= found["y"] and found["y"] + found["height"] <= 844, (selector, found)
    assert page.locator("#prediction [data-testid='5-confidence-set']").is_visible()  # the top bar, in the box
    heading = page.locator("h1").first
    assert heading.evaluate(BROKEN_WORDS) == [] and heading.bounding_box()["width"] <= 390


def test_desktop_keeps_two_columns(page):
    draw_strokes(page, ready(page), DIGITS[5])
    settle(page)
    left, right = (page.locator(f"#draw-{side}").bounding_box() for side in ("left", "right"))
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 2
    assert page.locator("#draw-model").bounding_box()["y"] < page.locator("#prediction").bounding_box()["y"]
    assert page.locator(TOP).is_visible() and page.locator("#prediction > label").is_visible()


def test_canvas_is_laid_out_square_and_centred_on_every_load(page, app_url):
    for _ in range(10):
        page.goto(app_url)
        ready(page)
        for wait_ms in (0, 400):  # right away, and once late layout would have happened
            page.wait_for_timeout(wait_ms)
            canvas = page.locator(CANVAS).bounding_box()
            column = page.locator("#sketchpad").bounding_box()
            assert abs(canvas["width"] - canvas["height"]) <= 1
            assert 200 <= canvas["width"] <= 362 and canvas["width"] < 0.5 * 1280
            assert abs((canvas["x"] + canvas["width"] / 2) - (column["x"] + column["width"] / 2)) <= 1.5
            assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 1280
            assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= 900
            backing = page.locator(CANVAS).evaluate("c => [c.width, c.height, window.devicePixelRatio]")
            assert backing[0] == backing[1] == round(canvas["width"] * backing[2])


@pytest.fixture
def two_pages(browser, app_url):
    """Two browser contexts: two users, each with their own Gradio session."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US") for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.goto(app_url)
    yield pages
    for context in contexts:
        context.close()


def test_two_users_drawing_at_once_each_see_their_own_digit(two_pages):
    pages = two_pages
    boxes = [ready(page) for page in pages]
    strokes = [DIGITS[7][0], DIGITS[0][0]]
    for page, box, stroke in zip(pages, boxes, strokes, strict=True):
        page.mouse.move(*to_page(box, stroke[0]))
        page.mouse.down()
    for i in range(1, max(map(len, strokes))):  # interleaved, so both users' requests are in flight together
        for page, box, stroke in zip(pages, boxes, strokes, strict=True):
            page.mouse.move(*to_page(box, stroke[min(i, len(stroke) - 1)]))
    for page in pages:
        page.mouse.up()
    for page in pages:
        settle(page)
    assert [top_label(p) for p in pages] == ["7", "0"]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_predict_api_with_gradio_client(app_url, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    picture = tmp_path / "three.png"
    digit_picture(picture, DIGITS[3], size=(400, 400), ink=(255, 255, 255), paper=(0, 0, 0))  # white on black
    client = Client(app_url, verbose=False)
    result = client.predict(handle_file(str(picture)), api_name="/predict")
    assert result["label"] == "3"
    assert sorted(c["label"] for c in result["confidences"]) == [str(d) for d in range(10)]
    assert sum(c["confidence"] for c in result["confidences"]) == pytest.approx(1.0, abs=1e-4)

    blank = tmp_path / "blank.png"
    blank.write_bytes(png_bytes(Image.new("RGB", (64, 64), "white")))
    with pytest.raises(AppError) as error:
        client.predict(handle_file(str(blank)), api_name="/predict")
    assert error.value.message == t("draw.msg.blank", "en")


def test_switching_to_chinese_relabels_the_tab_and_its_messages(page):
    box = ready(page)
    draw_strokes(page, box, DIGITS[2])
    settle(page)
    page.get_by_label("中文").check()
    page.get_by_role("button", name=t("draw.clear", "zh")).wait_for(timeout=10_000)
    opening = t("draw.msg.confident", "zh").split("**")[0]
    page.wait_for_function(f"() => document.querySelector('#draw-status').innerText.startsWith({opening!r})",
                           timeout=10_000)
    assert "2" in status(page) and top_label(page) == "2"
    assert t("draw.seen.title", "zh") in page.locator("#seen").inner_text()
