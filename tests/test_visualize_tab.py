"""The Visualize tab: its handlers for every model, and the tab in headless Chromium."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_demo.catalog import UNTRAINED_PREFIX
from mnist_demo.models import MODELS
from mnist_demo.ui import visualize_tab as tab
from mnist_demo.ui.i18n import STRINGS, t
from mnist_demo.ui.session import Session


def run_all(key, session, lang="en", **changes):
    return tab.update_all(tab.View(model=key, **changes), session, lang)


def drawing() -> SimpleNamespace:
    image = np.zeros((28, 28), np.float32)
    image[5:23, 13:16] = 1.0  # a "1"
    return SimpleNamespace(image=image, blank=False)


def test_every_translation_key_has_both_languages():
    for key, texts in STRINGS.items():
        if key.startswith("viz."):
            assert texts.get("en") and texts.get("zh"), key


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_renders(name):
    session = Session()
    session.current_input = drawing()
    table, filters, kernels, classes, status, shown, probs, maps, fc, looks, image, slider, conv, arithmetic = (
        run_all(UNTRAINED_PREFIX + name, session))
    assert t("viz.input.drawing") in status
    assert np.array_equal(image, session.current_input.image)
    assert filters.count("<img") == sum(1 for m in tab.entry_for(UNTRAINED_PREFIX + name, None).model.modules()
                                        if tab.ins.is_conv(m))
    assert len(probs["value"]) == 10
    assert looks.count("<img") in (2, 4)  # MLPs: saliency only
    if looks.count("<img") == 2:
        assert t("viz.looks.no_conv") in looks
    assert conv.count("<img") == 3 and "Step 1 of 784" in arithmetic
    total = sum(len(part) for part in (filters, maps, fc, looks, conv, shown, arithmetic, status))
    assert total < 400_000  # compact: the inline PNGs of one update stay far below a megabyte


def test_without_a_drawing_a_test_image_is_shown():
    status = run_all(tab.default_key(), Session(), index=3)[4]
    assert t("viz.input.no_drawing") in status and "#3" in status


def test_a_session_trained_model_is_offered_and_used():
    from mnist_demo.models import build_model

    session = Session()
    entry = session.add_trained(build_model("s5-lenet", seed=3), {"model": "s5-lenet", "dataset": "mnist"})
    assert entry.key in dict((v, k) for k, v in tab.choices(session, "en"))
    assert tab.entry_for(entry.key, session) is entry
    assert "this session" in run_all(entry.key, session)[4]


def test_chinese_captions():
    out = run_all(UNTRAINED_PREFIX + "s5-lenet", Session(), lang="zh")
    assert t("viz.col.rf", "zh") in out[0].columns
    assert t("viz.filters.help", "zh") in out[1]


def test_animation_tick_advances_and_stops_at_the_end():
    image = drawing().image
    view = tab.View(model=tab.default_key(), kernel="sobel-x", padding=0, stride=3, position=0, speed=2, image=image)
    out = tab.advance(view, None, "en")
    assert out[0]["value"] == 2 and not isinstance(out[3], bool)  # still running: the checkbox is left alone
    last = tab.step_count("sobel-x", None, 0, 3) - 1  # (28 - 3) // 3 + 1 = 9 per side
    assert last == 80
    out = tab.advance(replace(view, position=last - 1, speed=5), None, "en")
    assert out[0]["value"] == last and out[3] is False


def test_learned_kernels_come_from_the_models_first_conv():
    model = tab.entry_for(UNTRAINED_PREFIX + "s5-lenet", None).model
    keys = [value for _, value in tab.kernel_choices(model, "en")]
    assert keys[-1] == f"{tab.LEARNED}5"  # six filters in LeNet's first layer
    np.testing.assert_array_equal(tab.kernel_for(f"{tab.LEARNED}5", model), model[1].weight[5, 0].detach().numpy())


# --- in the browser -----------------------------------------------------------------------------

SECTIONS = ["#viz-filters", "#viz-maps", "#viz-fc", "#viz-looks", "#viz-conv", "#viz-input"]


def open_tab(page) -> None:
    page.get_by_role("tab", name=t("tab.visualize")).click()
    page.wait_for_selector("#viz-maps img", timeout=30_000)


def images_loaded(page, section: str) -> int:
    """How many images in `section` decoded to a non-zero size."""
    return page.locator(f"{section} img").evaluate_all(
        "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0).length")


def choose(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def wait_for_text(page, selector: str, pattern: str) -> None:
    page.wait_for_function(
        "([sel, pat]) => new RegExp(pat).test(document.querySelector(sel)?.innerText || '')",
        arg=[selector, pattern], timeout=20_000)


@pytest.mark.browser
def test_tab_shows_filters_maps_and_where_it_looks(page):
    open_tab(page)
    wait_for_text(page, "#viz-status", re.escape(t("viz.input.no_drawing")))
    for section in SECTIONS:
        assert images_loaded(page, section) > 0, section
    assert images_loaded(page, "#viz-looks") == 4  # Grad-CAM and saliency, predicted and chosen class
    assert page.locator("#viz-arch").get_by_text("conv1", exact=True).count() == 1


@pytest.mark.browser
def test_test_image_and_model_switch(page):
    open_tab(page)
    page.locator("#viz-source").get_by_text(t("viz.source.test")).click()
    index = page.locator("#viz-index input")
    index.fill("1")
    index.press("Enter")
    wait_for_text(page, "#viz-status", "#1 of mnist")
    before = page.locator("#viz-filters").inner_html()
    choose(page, "#viz-model", [label for label, key in tab.choices(None, "en") if key.endswith("s5-lenet")][0])
    wait_for_text(page, "#viz-filters", "conv2 · weights 16×6×5×5")
    assert images_loaded(page, "#viz-filters") == 2 and page.locator("#viz-filters").inner_html() != before
    assert page.locator("#viz-arch").get_by_text("14×14", exact=True).count() == 2  # conv2 and relu2 see 14×14 px
    choose(page, "#viz-model", [label for label, key in tab.choices(None, "en") if key.endswith("s3-mlp")][0])
    wait_for_text(page, "#viz-looks", re.escape(t("viz.looks.no_conv")))
    assert images_loaded(page, "#viz-filters") == 0 and images_loaded(page, "#viz-looks") == 2


@pytest.mark.browser
def test_step_through_the_convolution(page):
    open_tab(page)
    wait_for_text(page, "#viz-arithmetic", "Step 1 of 784")
    page.locator("#viz-next").click()
    wait_for_text(page, "#viz-arithmetic", "Step 2 of 784: output row 0, column 1")
    page.locator("#viz-padding").get_by_text("0", exact=True).click()
    wait_for_text(page, "#viz-arithmetic", "Step 2 of 676")
    page.locator("#viz-stride").get_by_text("2", exact=True).click()
    wait_for_text(page, "#viz-arithmetic", r"of 169[\s\S]*⌊\(28 \+ 2·0 − 3\) / 2⌋ \+ 1 = 13")
    page.locator("#viz-animate input").check()
    wait_for_text(page, "#viz-arithmetic", r"Step ([4-9]|\d\d+) of 169")
    page.locator("#viz-animate input").uncheck()
    assert images_loaded(page, "#viz-conv") == 3


def stroke(page, start, end) -> None:
    """One pen stroke on the Draw tab's canvas, from `start` to `end` in canvas fractions."""
    canvas = page.locator("#sketchpad canvas.ink")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=25)
    page.mouse.up()
    page.wait_for_timeout(1500)  # the live prediction (which stores the input in the session) settles


@pytest.mark.browser
def test_follows_the_draw_tab_drawing(page):
    page.wait_for_selector("#sketchpad canvas.ink[data-ready='1']", timeout=30_000)
    stroke(page, (0.5, 0.15), (0.48, 0.85))
    open_tab(page)
    wait_for_text(page, "#viz-status", re.escape(t("viz.input.drawing")))
    assert images_loaded(page, "#viz-looks") == 4
    first = page.locator("#viz-input img").get_attribute("src")
    page.get_by_role("tab", name=t("tab.draw")).click()  # draw more, come back: the new drawing is shown
    stroke(page, (0.25, 0.5), (0.75, 0.5))
    page.get_by_role("tab", name=t("tab.visualize")).click()
    page.wait_for_function("src => document.querySelector('#viz-input img')?.getAttribute('src') !== src",
                           arg=first, timeout=20_000)
    wait_for_text(page, "#viz-status", re.escape(t("viz.input.drawing")))
