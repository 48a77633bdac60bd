"""Everyone trains, in headless Chromium: three students on phone viewports start their own trainings from the
class page, the teacher's leaderboard shows three rows matching the students' cards, one run becomes the
class's model, and a student's phone then answers with it."""

from __future__ import annotations

import re

from tests.browser.test_class_tab import CANVAS
from tests.harness import DIGITS, field, teacher_opens_a_class, touch_strokes

CARD = re.compile(r"([\d.]+)% on the MNIST test set.*leaderboard as #(\d+)", re.S)


def _open_class(browser, app_url):
    teacher_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    teacher = teacher_context.new_page()
    teacher.goto(app_url, wait_until="load")
    link, _ = teacher_opens_a_class(teacher, "Everyone trains", dashboard=True)
    return teacher_context, teacher, link


def test_three_phones_train_the_leaderboard_shows_them_and_one_becomes_the_class_model(browser, app_url,
                                                                                        app_classroom):
    teacher_context, teacher, link = _open_class(browser, app_url)
    code = link.split("class=")[1]
    phones = []
    for nickname, size in (("Ada", "small"), ("Bo", "medium"), ("Cy", "small")):
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="en-US")
        page = context.new_page()
        page.goto(link, wait_until="load")
        page.wait_for_selector(f"{CANVAS}[data-ready='1']", state="visible", timeout=30_000)
        field(page, "class-nickname").fill(nickname)
        page.locator("#class-train-own").click()
        page.wait_for_selector("#class-own-panel", state="visible", timeout=20_000)
        page.locator("#class-own-size").get_by_text(size, exact=True).click()
        page.locator("#class-own-images").get_by_text("1,000", exact=True).click()
        page.locator("#class-own-start").click()
        phones.append((context, page, nickname, size))

    cards = {}
    for _, page, nickname, size in phones:  # each phone shows its place in line or progress, then its card
        page.wait_for_function("() => document.querySelector('#class-own-status').innerText.includes('leaderboard')",
                               timeout=240_000)
        found = CARD.search(page.locator("#class-own-status").inner_text())
        assert found, page.locator("#class-own-status").inner_text()
        cards[int(found.group(2))] = (nickname, size, float(found.group(1)))

    # The teacher's leaderboard: three rows, the same runs as the three cards
    teacher.wait_for_selector("#class-leaderboard [role=grid][aria-rowcount='4']", timeout=30_000)  # header + 3
    cells = [c.strip() for c in teacher.locator("#class-leaderboard [role=gridcell]").all_inner_texts()]
    rows = [cells[i:i + 11] for i in range(0, len(cells), 11)]
    seen = {}
    for row in rows:
        entry, nickname, size, accuracy = int(row[0]), row[1], row[2], float(row[7])
        seen[entry] = (nickname, size, accuracy)
    assert set(seen) == set(cards)
    for entry, (nickname, size, accuracy) in cards.items():
        assert seen[entry][:2] == (nickname, size) and abs(seen[entry][2] - accuracy) < 0.01, (seen, cards)

    # The teacher looks at Bo's run and makes it the class's model
    bo = next(entry for entry, (nickname, _, _) in cards.items() if nickname == "Bo")
    field(teacher, "class-run-id").fill(str(bo))
    teacher.locator("#class-run-show").click()
    teacher.wait_for_selector("#class-run-confusion img", timeout=20_000)
    assert f"Run #{bo}" in teacher.locator("#class-run-detail").inner_text()
    teacher.locator("#class-run-adopt").click()
    teacher.wait_for_function("() => document.querySelector('#class-run-detail').innerText.includes(\"class's model\")",
                              timeout=20_000)
    assert app_classroom.models.get(code).entry.card["taught"]["leaderboard_entry"] == bo

    # Ada's phone picks the class's model and answers with it: her next drawing is read by Bo's network
    _, page, _, _ = phones[0]
    page.locator("#class-student-model").get_by_text("Our class's model").click()
    page.wait_for_function("() => document.querySelector('#class-answer').innerText.includes(\"class's model\")",
                           timeout=20_000)
    page.evaluate("() => window.scrollTo(0, 0)")  # the training panel below pushed the page down
    page.wait_for_timeout(300)
    touch_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[7], pause_ms=8)
    page.wait_for_function("() => !document.querySelector('#class-answer').innerText.includes('answers now')",
                           timeout=30_000)  # the live answer, read by the class's model
    page.locator("#class-teach-7").click()
    page.wait_for_function("() => document.querySelector('#class-count').innerText.includes('given 1')",
                           timeout=20_000)
    given = app_classroom.store.newest(code)[0]
    assert given.nickname == "Ada" and given.model == f"class:{code}"

    for context, *_ in phones:
        context.close()
    teacher_context.close()
