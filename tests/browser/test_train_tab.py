"""The Train tab in a real browser: train, watch, stop, use, download and upload again, refuse bad
uploads, wait in line, and stop when the tab closes."""

from __future__ import annotations

import os
import re
import time

import pytest
from PIL import Image

from mnist_demo import weights
from mnist_demo.data import load_split
from mnist_demo.models import build_model
from mnist_demo.reading import predict
from tests.harness import DEVICE_READY_JS, device_model_of, device_parity, parity_inks

pytestmark = pytest.mark.browser

TOP = "#prediction [data-testid='label-output-value']"  # the Draw tab's answer
LONG_RUN = {"subset": "60000", "epochs": "20"}  # minutes of work: only ever stopped


def _session_of(page):
    session = page.app_sessions.get(page.session_hash)
    if session is None:
        raise KeyError(page.session_hash)
    return session


def _slots_free(timeout: float = 60) -> bool:
    from mnist_demo.training.slots import shared_slots

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if shared_slots().running == 0 and shared_slots().waiting == 0:
            return True
        time.sleep(0.2)
    return False


def open_train_tab(browser, app_url, sessions):
    """A new browser context on the Train tab; remembers its Gradio session hash and the app's open tabs."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    hashes = []
    page.on("request", lambda r: hashes.extend(re.findall(r"/heartbeat/([A-Za-z0-9]+)", r.url)))
    page.goto(app_url)
    page.wait_for_selector("#tabs", timeout=30_000)
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-start").wait_for()
    deadline = time.monotonic() + 10
    while not hashes and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.session_hash, page.app_sessions = hashes[0], sessions
    return page


@pytest.fixture
def train_page(browser, app_url, app_sessions):
    page = open_train_tab(browser, app_url, app_sessions)
    yield page
    try:
        _session_of(page).stop_run()
    except KeyError:
        pass
    page.context.close()
    assert _slots_free(), "a training outlived its test"


def set_fields(page, subset: str, epochs: str) -> None:
    page.locator("#train-subset input").fill(subset)
    page.locator("#train-epochs input").fill(epochs)


def wait_until_training(page, timeout: float = 90_000) -> None:
    page.wait_for_function(
        "() => { const b = document.querySelector('#train-bar');"
        " return b && b.dataset.state === 'running' && parseFloat(b.dataset.fraction) > 0; }", timeout=timeout)


def click_confusion_cell(page, true: int, predicted: int, cell: int = 44) -> None:
    """Click the middle of a cell of the confusion matrix picture, wherever the page scaled it to."""
    page.locator("#train-confusion img").scroll_into_view_if_needed()
    box = page.evaluate("""() => { const img = document.querySelector('#train-confusion img');
        const r = img.getBoundingClientRect();
        const s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
        return {x: r.left + (r.width - img.naturalWidth * s) / 2, y: r.top + (r.height - img.naturalHeight * s) / 2,
                s: s}; }""")
    page.mouse.click(box["x"] + (cell + predicted * cell + cell / 2) * box["s"],
                     box["y"] + (cell + true * cell + cell / 2) * box["s"])


def test_short_training_streams_progress_and_curves_then_shows_results(train_page, tmp_path):
    page = train_page
    set_fields(page, "20000", "1")  # 79 steps of the fast recipe's 256: long enough to be seen running when idle
    page.locator("#train-start").click()
    wait_until_training(page)
    first = page.locator("#train-progress").inner_text()
    assert re.search(r"Epoch 1/1 · step \d+/7[89]", first)  # 20,000 / 256
    page.locator("#train-loss-plot canvas, #train-loss-plot svg").first.wait_for(timeout=30_000)

    page.locator("#train-result h3").wait_for(timeout=240_000)
    result = page.locator("#train-result").inner_text()
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)%", result).group(1))
    assert 50 < accuracy <= 100  # 20,000 images, one epoch: far above chance
    assert page.locator("#train-progress").inner_text() != first  # the progress moved on
    assert "100%" in page.locator("#train-progress").inner_text()
    assert page.locator("#train-per-class td").count() >= 11
    page.locator("#train-confusion img").wait_for()
    assert page.locator("#train-mistakes img").count() > 0
    assert page.get_by_text(re.compile(r"\d → \d \(\d+%\)")).first.is_visible()

    # A click on a cell of the confusion matrix shows that cell's test images: the right 7s here.
    click_confusion_cell(page, 7, 7)
    page.wait_for_function("() => document.querySelector('#train-cell-message')?.innerText.includes('answered')",
                           timeout=30_000)
    assert "True 7, answered 7" in page.locator("#train-cell-message").inner_text()
    page.locator("#train-cell-examples img").first.wait_for(timeout=30_000)
    assert page.locator("#train-cell-examples").get_by_text(re.compile(r"^7 → 7 \(\d+%\)$")).count() > 0

    # The model is in this session at once, named as the page says ...
    (entry,) = _session_of(page).trained.values()
    assert entry.card["title"] in result and entry.card["test_accuracy"] == pytest.approx(accuracy / 100, abs=1e-4)

    # ... and the Draw tab's picker offers it, and predicts with it.
    page.get_by_role("tab", name="Draw & Predict").click()
    page.locator("#draw-model input").click()
    page.get_by_role("option", name=entry.label).click()
    picture = tmp_path / "test-image.png"
    Image.fromarray(255 - load_split("mnist", "test").images[0].numpy()).resize((140, 140)).save(picture)
    expected = predict.read_picture(picture, entry.model).probabilities
    answer = max(expected, key=expected.get)
    page.locator("#upload input[type='file']").set_input_files(str(picture))
    page.wait_for_function(
        f"() => document.querySelector(\"{TOP}\")?.innerText.trim() === {answer!r}", timeout=30_000)

    # The page runs the just-trained model itself (exported as it was made): its answers are PyTorch's.
    page.wait_for_function(DEVICE_READY_JS, arg="sketchpad", timeout=60_000)
    key, model = device_model_of(page, "sketchpad", page.app_sessions)
    assert key == entry.key and model is entry.model
    parity = device_parity(page, parity_inks(40, seed=3), key, model=model)
    assert parity["top1_agree"] == 1.0 and parity["prob_diff_max"] <= 1e-3, parity


def test_stop_midway_keeps_the_model(train_page):
    page = train_page
    set_fields(page, **LONG_RUN)
    page.locator("#train-start").click()
    wait_until_training(page)
    page.locator("#train-stop").click()
    page.locator("#train-result h3").wait_for(timeout=120_000)
    assert "stopped early" in page.locator("#train-result").inner_text()
    (entry,) = _session_of(page).trained.values()
    assert entry.card["stopped_early"] and entry.card["epochs_run"] < 20
    assert page.locator("#train-start").is_enabled()


def test_download_then_upload_again_and_refuse_bad_files(train_page, tmp_path):
    page = train_page
    set_fields(page, "2000", "1")  # 8 steps: the one-cycle schedule needs at least 5
    page.locator("#train-start").click()
    page.locator("#train-result h3").wait_for(timeout=240_000)

    saved = []
    for name in ("1-fastnet.safetensors", "1-fastnet.json"):
        with page.expect_download() as info:
            page.locator(f"#train-download a[download='{name}']").click()
        saved.append(tmp_path / info.value.suggested_filename)
        info.value.save_as(saved[-1])
    assert saved[0].suffix == ".safetensors" and saved[1].suffix == ".json"
    model, card = weights.load(saved[0])
    assert card["model"] == "fastnet" and card["command"] == "trained in the browser (Train tab)"

    upload = page.locator("#train-upload input[type=file]")
    upload.set_input_files([str(p) for p in saved])
    page.locator("#train-upload-message").get_by_text("Loaded").wait_for(timeout=30_000)
    assert len(_session_of(page).trained) == 2

    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(os.urandom(3000))
    page.locator("#train-upload button[aria-label='Clear']").first.click()
    upload.set_input_files(str(junk))
    page.locator("#train-upload-message").get_by_text("not a safetensors file").wait_for(timeout=30_000)

    wrong = weights.save(build_model("s3-mlp"), tmp_path / "wrong", {"model": "fastnet"})
    os.remove(wrong.with_suffix(".json"))  # only the card embedded in the file: it claims FastNet
    page.locator("#train-upload button[aria-label='Clear']").first.click()
    upload.set_input_files(str(wrong))
    page.locator("#train-upload-message").get_by_text("does not fit the FastNet architecture").wait_for(timeout=30_000)
    assert len(_session_of(page).trained) == 2


def test_out_of_range_values_get_a_message(train_page):
    page = train_page
    page.locator("#train-lr input").fill("0")
    page.locator("#train-batch input").fill("0")
    page.locator("#train-start").click()
    message = page.locator("#train-message")
    message.get_by_text("cannot be used").wait_for(timeout=15_000)
    assert "lr" in message.inner_text() and "batch_size" in message.inner_text()
    assert page.locator("#train-bar").count() == 0


def test_second_user_waits_in_line_and_closing_a_tab_stops_its_training(browser, app_url, train_page):
    first = train_page
    set_fields(first, **LONG_RUN)
    first.locator("#train-start").click()
    wait_until_training(first)

    second = open_train_tab(browser, app_url, train_page.app_sessions)
    try:
        set_fields(second, "60000", "1")  # long enough to be seen running (2,000 images take a second)
        second.locator("#train-start").click()
        second.get_by_text("you are number 1 in line").wait_for(timeout=15_000)

        session = _session_of(first)
        run_stop = session.run_stop
        first.context.close()  # the teacher closes the tab: its training stops, its models go
        deadline = time.monotonic() + 30
        while not run_stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run_stop.is_set()

        wait_until_training(second)  # the next in line starts
        second.locator("#train-stop").click()
        second.locator("#train-result h3").wait_for(timeout=120_000)
        deadline = time.monotonic() + 30  # the session closes once the tab showed no sign of life for a while
        while not session.closed and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session.closed and not session.trained
    finally:
        _session_of(second).stop_run()
        second.context.close()
