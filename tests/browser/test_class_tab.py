"""Class mode in headless Chromium: a teacher opens a class, three students on phone viewports (390x844,
touch) join by the link, draw, confirm or correct; the teacher's wall shows the drawings without a
reload, a confusion cell opens its drawings, one drawing is removed, the zip is exported, "Train on our class"
answers (too few drawings here: tests/test_class_train.py trains), a student picks the class model."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.harness import DEVICE_READY_JS, DIGITS, field, touch_strokes

CANVAS = "#class-canvas canvas.ink"


@pytest.fixture
def class_store(app_classroom):
    """The served app's class store."""
    return app_classroom.store


def inside_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["x"] + box["width"] <= 390


def test_a_lesson_teacher_and_three_phones(browser, app_url, class_store):
    teacher_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                          accept_downloads=True)
    teacher = teacher_context.new_page()
    teacher.goto(app_url, wait_until="load")
    teacher.get_by_role("tab", name="Class").click()
    field(teacher, "class-title").fill("7B")
    teacher.locator("#class-create").click()
    teacher.wait_for_function("() => document.querySelector('#class-teacher-key input, #class-teacher-key textarea')"
                              "?.value.length > 10", timeout=30_000)
    key = field(teacher, "class-teacher-key").input_value()
    assert not teacher.locator("#class-qr svg").is_visible()  # the key first, alone
    teacher.locator("#class-show-screen").click()
    teacher.wait_for_selector("#class-qr svg", timeout=30_000)
    assert key not in teacher.locator("body").inner_text()  # the class's screen: no key
    link = field(teacher, "class-link").input_value()
    code = link.split("class=")[1]
    assert teacher.locator("#class-code").inner_text().replace("-", "").find(code) >= 0
    assert class_store.check_key(code, key) is not None
    assert teacher.locator("#class-qr svg").bounding_box()["width"] >= 300  # readable from the back of a room
    teacher.locator("#class-open").click()
    teacher.wait_for_selector("#class-dashboard", state="visible", timeout=30_000)

    # Three phones: 7 confirmed, 3 confirmed, 1 drawn but corrected to 7
    plan = [(7, 7, "Ada"), (3, 3, ""), (1, 7, "Cy")]
    phones = []
    for drawn, given, nickname in plan:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="en-US")
        page = context.new_page()
        page.goto(link, wait_until="load")
        page.wait_for_selector(f"{CANVAS}[data-ready='1']", state="visible", timeout=30_000)
        page.wait_for_timeout(300)
        for selector in (CANVAS, "#class-answer", "#class-teach-0", "#class-teach-9"):
            assert inside_viewport(page, selector), selector  # one screen, no scrolling
        if nickname:
            field(page, "class-nickname").fill(nickname)
            page.evaluate("() => window.scrollTo(0, 0)")  # the field scrolled the page: the canvas back in view
        if not phones:  # the first phone answers on the device, with the class's model, once its runtime is ready
            page.wait_for_function(DEVICE_READY_JS, arg="class-canvas", timeout=60_000)
            live = []
            page.on("request", lambda r, live=live: live.append(r.url) if "/run/" in r.url or "/queue/join" in r.url
                    else None)
        touch_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[drawn], pause_ms=8)
        if not phones:
            page.wait_for_function("() => document.querySelector('#class-answer-source').innerText.includes('device')")
            assert len(live) <= 1, live  # the stroke's end (its model rechecked), nothing while drawing
        page.wait_for_function(f"() => document.querySelector('#class-answer').innerText.includes('{drawn}')",
                               timeout=20_000)
        page.locator(f"#class-teach-{given}").click()
        page.wait_for_function("() => document.querySelector('#class-count').innerText.includes('given 1')",
                               timeout=20_000)
        phones.append((context, page))

    # The wall follows without a reload
    teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length === 3", timeout=30_000)
    captions = teacher.locator("#class-wall figcaption").all_inner_texts()
    assert any("given 7" in c and "Cy" in c for c in captions)
    assert "Class accuracy" in teacher.locator("#class-accuracy").inner_text()

    # A student sees only their own drawings
    context, page = phones[0]
    page.get_by_text("My drawings in this class").click()
    page.wait_for_selector("#class-mine img", timeout=20_000)
    assert page.locator("#class-mine img").count() == 1

    # The confusion cell "given 7, answered 1" opens Cy's drawing
    teacher.locator("#class-confusion [role=gridcell]").nth(7 * 11 + 2).click()  # 11 columns: the label, then 0-9
    teacher.wait_for_selector("#class-cell img", timeout=20_000)
    assert teacher.locator("#class-cell img").count() == 1

    # Remove one drawing
    cy = [d for d in class_store.newest(code) if d.nickname == "Cy"][0]
    field(teacher, "class-remove-id").fill(str(cy.number))  # the number the wall shows
    teacher.locator("#class-remove").click()
    teacher.wait_for_function("() => document.querySelectorAll('#class-wall figure').length === 2", timeout=30_000)
    assert class_store.count(code) == 2

    # Export the zip
    teacher.locator("#class-export").click()
    link_to_zip = teacher.locator("#class-export-file a").first
    link_to_zip.wait_for(timeout=30_000)
    with teacher.expect_download() as download:
        link_to_zip.click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    assert {"labels.csv", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"} <= set(archive.namelist())
    assert sum(n.startswith("images/") for n in archive.namelist()) == 2

    # Train on our class: two drawings are too few to train on, and the dashboard says so
    teacher.locator("#class-train").click()
    teacher.wait_for_function("() => document.querySelector('#class-train-progress').innerText.includes('at least')",
                              timeout=20_000)
    # A student can pick the class's model (none yet: the MNIST model keeps answering)
    context, page = phones[1]
    page.locator("#class-student-model").get_by_text("Our class's model").click()
    page.wait_for_function("() => document.querySelector('#class-answer').innerText.includes('no class model')",
                           timeout=20_000)

    for context, _ in phones:
        context.close()
    teacher_context.close()


def test_a_student_who_reloads_is_the_same_student(browser, app_url, class_store):
    """The browser keeps its place (a signed token in localStorage): opening the app again, even without the
    class link, brings back the same student with their drawings and count."""
    info, _ = class_store.create_class("reload")
    from mnist_demo.classroom.security import pretty_code

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="en-US")
    page = context.new_page()
    page.goto(f"{app_url}?class={pretty_code(info.code)}", wait_until="load")
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", state="visible", timeout=30_000)
    touch_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[7], pause_ms=8)
    page.locator("#class-teach-7").click()
    page.wait_for_function("() => document.querySelector('#class-count').innerText.includes('given 1')",
                           timeout=20_000)
    page.goto(app_url, wait_until="load")  # the page again, without the link: a new Gradio session
    page.wait_for_function("() => document.querySelector('#class-count')?.innerText.includes('given 1')",
                           timeout=30_000)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", state="visible", timeout=30_000)
    touch_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[1], pause_ms=8)
    page.locator("#class-teach-1").click()
    page.wait_for_function("() => document.querySelector('#class-count').innerText.includes('given 2')",
                           timeout=20_000)
    assert len({d.student for d in class_store.all_drawings(info.code)}) == 1
    context.close()
