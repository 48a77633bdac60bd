"""Answers computed in the page (ui/device.py): the same inputs and probabilities as the server's, answers during
a stroke with the server's live event blocked, the server's answers when the runtime cannot load, and models
trained or taught in this session running in the page too.
"""

from __future__ import annotations

import json

import pytest

from mnist_demo.ui.i18n import t
from tests.harness import CANVAS, DEVICE_READY_JS, DIGITS, device_parity, draw_strokes, needs_dataset, parity_inks

PARITY_DRAWINGS = 2000  # the count; ~40 s of the test run here
SOURCE = "#answer-source"
LABEL = "#prediction [data-testid='label-output-value']"

# Counts the label's changes (a MutationObserver), and the page's requests to the server's events.
PROBE = """() => {
  window.__changes = 0;
  new MutationObserver(() => { window.__changes++; }).observe(document.querySelector('#prediction'),
    { subtree: true, childList: true, characterData: true });
}"""


def open_page(browser, app_url, block: str | None = None):
    """A fresh context on the app; `block`: a URL pattern the page's requests for are aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    if block:
        page.route(block, lambda route: route.abort())
    page.goto(app_url)
    page.wait_for_selector(f"{CANVAS}[data-ready='1']", timeout=30_000)
    return context, page


def wait_for_device(page, pad: str = "sketchpad") -> None:
    page.wait_for_function(DEVICE_READY_JS, arg=pad, timeout=60_000)


def live_event(page) -> int:
    """fn_index of the canvas's live event (the server road), from the page's own config."""
    config = page.evaluate("() => window.gradio_config")
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    return next(i for i, dep in enumerate(config["dependencies"]) if [ids["sketchpad"], "input"] in dep["targets"])


def slow_stroke(page, points, pause_ms: int = 35) -> None:
    """One stroke drawn over ~1 s, the pointer still down at the end (the caller releases it)."""
    box = page.locator(CANVAS).bounding_box()
    at = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.wait_for_timeout(pause_ms)
        page.mouse.move(*at(point))


@needs_dataset("unipen-dev", "the parity set's pen digits")
def test_the_page_computes_the_servers_inputs_and_probabilities(browser, app_url):
    """2,000 drawings (UNIPEN pen digits and redrawn MNIST digits) prepared and classified in Chromium by the
    page's own script and ONNX graph, against reading.geometry and PyTorch: the issue's parity targets."""
    context, page = open_page(browser, app_url)
    try:
        wait_for_device(page)
        result = device_parity(page, parity_inks(PARITY_DRAWINGS, seed=19), "digitnet")
    finally:
        context.close()
    assert result["blank_agree"], result
    assert result["input_diff_p999"] <= 1 / 255, result
    assert result["top1_agree"] >= 0.999, result
    assert result["prob_diff_max"] <= 1e-3, result


def test_answers_during_a_stroke_come_from_the_page_with_the_live_event_blocked(browser, app_url):
    context, page = open_page(browser, app_url)
    try:
        wait_for_device(page)
        live = live_event(page)
        sent = []

        def refuse_live(route) -> None:
            body = route.request.post_data or ""
            if json.loads(body or "{}").get("fn_index") == live:
                sent.append(body)
                return route.abort()
            return route.continue_()

        page.route("**/gradio_api/**", refuse_live)
        page.evaluate(PROBE)
        requests = []
        page.on("request", lambda r: requests.append(r.url) if "/gradio_api/" in r.url else None)
        slow_stroke(page, DIGITS[7][0])
        during, changes = list(requests), page.evaluate("() => window.__changes")
        page.mouse.up()
        page.wait_for_function(f"() => document.querySelector('{SOURCE}').innerText.includes('on this device')")
        page.wait_for_timeout(300)
        assert during == [], during  # no request at all while drawing
        assert changes >= 3, changes  # the answer moved during the stroke
        assert page.locator(LABEL).inner_text().strip() == "7"
        assert sent == []  # the live event was never even tried
        assert t("draw.source.device", "en") in page.locator(SOURCE).inner_text()
    finally:
        context.close()


def test_the_server_answers_when_the_runtime_cannot_load(browser, app_url):
    context, page = open_page(browser, app_url, block="**/device/a/ort.wasm.min.*")
    try:
        page.wait_for_function("() => globalThis.MnistDevice && MnistDevice.runtime === 'failed'", timeout=30_000)
        box = page.locator(CANVAS).bounding_box()
        draw_strokes(page, box, DIGITS[3])
        page.wait_for_function(f"() => document.querySelector(\"{LABEL}\")?.innerText.trim() === '3'", timeout=15_000)
        assert t("draw.source.server", "en") in page.locator(SOURCE).inner_text()
        assert "Error" not in page.locator("body").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("pattern", ["**/device/m/*.onnx"])
def test_the_server_answers_when_the_model_cannot_load(browser, app_url, pattern):
    context, page = open_page(browser, app_url, block=pattern)
    try:
        page.wait_for_function("() => (globalThis.MnistDevice?.errors || []).some((e) => e.startsWith('model'))",
                               timeout=30_000)
        draw_strokes(page, page.locator(CANVAS).bounding_box(), DIGITS[1])
        page.wait_for_function(f"() => document.querySelector(\"{LABEL}\")?.innerText.trim() === '1'", timeout=15_000)
        assert t("draw.source.server", "en") in page.locator(SOURCE).inner_text()
    finally:
        context.close()
