"""The Visualize tab in headless Chromium: filters, maps and where it looks, a test image and a model switch,
the convolution step-through, and following the Draw tab's drawing."""

from __future__ import annotations

import re

import pytest

from mnist_demo.ui import visualize_tab as tab
from mnist_demo.ui.i18n import t
from tests.harness import CANVAS, draw_strokes, line

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
    draw_strokes(page, page.locator(CANVAS).bounding_box(), [line(start, end)], pause_ms=0)
    page.wait_for_timeout(1500)  # the live prediction (which stores the input in the session) settles


@pytest.mark.browser
def test_follows_the_draw_tab_drawing(page):
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=30_000)
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
