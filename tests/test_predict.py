"""Reading drawings and pictures: probabilities, blank inputs, doubtful ones, bad payloads and files."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn

from mnist_demo.models import build_model
from mnist_demo.reading import predict
from mnist_demo.ui import draw_tab
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session


class FixedScores(nn.Module):
    """A model that gives every input the same scores, to test what the tab makes of them."""

    def __init__(self, scores: list[float]):
        super().__init__()
        self.scores = torch.tensor([scores], dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores.expand(x.shape[0], -1)


CONFIDENT_THREE = FixedScores([0, 0, 0, 9, 0, 0, 0, 0, 0, 0])  # softmax: 0.9989 for "3"
UNDECIDED = FixedScores([1, 0, 0, 1, 0, 0, 0, 1, 0, 0])  # top probability 0.21


def ink_payload(ink: np.ndarray) -> str:
    return json.dumps({"w": ink.shape[1], "h": ink.shape[0], "data": base64.b64encode(ink.tobytes()).decode()})


def drawn_bar() -> str:
    """The canvas payload of a thick vertical stroke (a "1")."""
    ink = np.zeros((112, 112), np.uint8)
    ink[20:92, 50:60] = 255
    return ink_payload(ink)


def test_probabilities_cover_ten_classes_and_sum_to_one():
    model = build_model("fastnet", seed=0).eval()
    reading = predict.read_drawing(drawn_bar(), model)
    assert reading.outcome in (predict.CONFIDENT, predict.NOT_SURE)
    assert list(reading.probabilities) == [str(d) for d in range(10)]
    assert sum(reading.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= p <= 1.0 for p in reading.probabilities.values())


def test_confident_reading_names_the_digit():
    reading = predict.read_drawing(drawn_bar(), CONFIDENT_THREE)
    assert reading.outcome == predict.CONFIDENT
    assert reading.top[0] == "3"
    assert draw_tab.status_text(reading, "en") == t("draw.msg.confident", "en", digit="3", prob="100%")


@pytest.mark.parametrize("payload", ["", None, ink_payload(np.zeros((112, 112), np.uint8))])
def test_blank_canvas_asks_for_a_digit_and_shows_no_probabilities(payload):
    reading = predict.read_drawing(payload, CONFIDENT_THREE)
    assert reading.outcome == predict.BLANK
    assert reading.probabilities is None
    label, status, _, _ = draw_tab.show(reading, Session(), "en", 0)
    assert label is None
    assert status == t("draw.msg.blank", "en")
    assert draw_tab.status_text(reading, "zh") == t("draw.msg.blank", "zh") != status


def test_low_confidence_gets_a_not_sure_note():
    reading = predict.read_drawing(drawn_bar(), UNDECIDED)
    assert reading.outcome == predict.NOT_SURE
    assert max(reading.probabilities.values()) < predict.NOT_SURE_BELOW
    assert len(reading.probabilities) == 10  # still shown, all of them
    assert draw_tab.status_text(reading, "en").startswith(t("draw.msg.not_sure", "en").split(":")[0])


def test_the_models_card_threshold_decides_not_sure(tmp_path):
    from mnist_demo import weights

    fairly_sure = FixedScores([0, 0, 0, 2, 0, 0, 0, 0, 0, 0])  # top probability 0.45
    assert predict.read_drawing(drawn_bar(), fairly_sure).outcome == predict.NOT_SURE  # the default 0.5
    fairly_sure.not_sure_below = 0.4
    assert predict.read_drawing(drawn_bar(), fairly_sure).outcome == predict.CONFIDENT
    path = weights.save(build_model("fastnet", seed=0), tmp_path / "m", {"model": "fastnet", "not_sure_below": 0.9})
    model, _ = weights.load(path)
    assert predict.threshold_of(model) == 0.9
    assert predict.threshold_of(build_model("fastnet", seed=0)) == predict.NOT_SURE_BELOW
    for bad in ("0.9", 2, True):  # an uploaded card is user data: only a probability is used
        path.with_suffix(".json").write_text(json.dumps({"model": "fastnet", "not_sure_below": bad}))
        assert predict.threshold_of(weights.load(path)[0]) == predict.NOT_SURE_BELOW


@pytest.mark.parametrize("payload", [
    "not json",
    json.dumps({"w": 112}),
    json.dumps({"w": 2, "h": 2, "data": "@@@@"}),
    json.dumps({"w": 4, "h": 4, "data": base64.b64encode(b"\0" * 5).decode()}),
    json.dumps({"w": 100000, "h": 100000, "data": ""}),
    json.dumps([1, 2, 3]),
])
def test_bad_payload_gives_a_friendly_message(payload):
    reading = predict.read_drawing(payload, CONFIDENT_THREE)
    assert reading.outcome == predict.UNREADABLE
    assert reading.probabilities is None
    label, status, _, counter = draw_tab.show(reading, Session(), "en", 4)
    assert label is None and counter == 5
    assert status == t("draw.msg.bad_drawing", "en")
    assert "Traceback" not in status


def picture_bytes(draw_on, size=(300, 200), mode="RGB", background="white") -> bytes:
    image = Image.new(mode, size, background)
    draw_on(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_pictures_broken_blank_and_drawn():
    broken = predict.read_picture(b"\x89PNG\r\n\x1a\n not really", CONFIDENT_THREE)
    assert broken.outcome == predict.UNREADABLE and broken.probabilities is None
    message = draw_tab.status_text(broken, "en")
    assert message.startswith(t("draw.msg.bad_picture", "en", detail="").strip()) and broken.detail in message

    blank = predict.read_picture(picture_bytes(lambda d: None), CONFIDENT_THREE)
    assert blank.outcome == predict.BLANK and blank.probabilities is None

    drawn = predict.read_picture(picture_bytes(lambda d: d.line([(150, 30), (150, 170)], fill="black", width=14)),
                                 CONFIDENT_THREE)
    assert drawn.outcome == predict.CONFIDENT and drawn.prepared is not None


def test_handlers_keep_each_sessions_input_and_bump_the_visualize_counter(monkeypatch):
    monkeypatch.setattr(draw_tab, "_model", lambda key, session: CONFIDENT_THREE)
    first, second = Session(), Session()
    label, _, seen, counter = draw_tab.on_drawing(drawn_bar(), None, first, "en", 7)
    assert counter == 8 and label["3"] > 0.99 and "data:image/png;base64," in seen
    assert first.current_input is not None and not first.current_input.blank
    assert second.current_input is None  # another browser session is untouched
    draw_tab.on_drawing("", None, second, "en", 0)
    assert second.current_input.blank and not first.current_input.blank
    *_, counter = draw_tab.on_clear(first, "en", 8)
    assert first.current_input is None
    assert counter == 9


def test_refresh_rereads_the_stored_input_with_another_model(monkeypatch):
    session = Session()
    monkeypatch.setattr(draw_tab, "_model", lambda key, s: CONFIDENT_THREE)
    draw_tab.on_drawing(drawn_bar(), None, session, "en", 0)
    monkeypatch.setattr(draw_tab, "_model", lambda key, s: UNDECIDED)
    label, status, _ = draw_tab.on_refresh("other", session, "zh")
    assert max(label.values()) < predict.NOT_SURE_BELOW
    assert status.startswith(t("draw.msg.not_sure", "zh")[:4])


def test_every_preprocessing_step_has_a_caption_in_both_languages():
    from mnist_demo.reading.geometry import from_ink
    from mnist_demo.reading.photo import from_picture
    from mnist_demo.ui.i18n import STRINGS

    def picture(width: int, mode: str = "RGB", background="white", ink="black") -> np.ndarray:
        image = Image.new(mode, (300, 300), background)
        ImageDraw.Draw(image).line([(100, 60), (200, 60), (130, 250)], fill=ink, width=width)
        return np.asarray(image)

    thin_bar = np.zeros((112, 112), np.float32)
    thin_bar[10:100, 55] = 1.0
    fat_bar = np.zeros((112, 112), np.float32)
    fat_bar[30:90, 20:90] = 1.0
    prepared = [from_ink(thin_bar), from_ink(fat_bar), from_picture(picture(12)),
                from_picture(picture(12, "RGBA", (0, 0, 0, 0), (0, 0, 0, 255)))]
    names = {name for p in prepared for name, _ in p.steps}
    assert {"ink", "cropped", "grey", "transparency as ink", "thickened", "thinned"} <= names
    for name in names:
        assert {"en", "zh"} <= STRINGS[f"draw.step.{name}"].keys(), name


def test_huge_picture_is_refused_with_a_message():
    buffer = io.BytesIO()
    Image.new("1", (8000, 7000), 1).save(buffer, format="PNG")  # 56 megapixels in a small file
    reading = predict.read_picture(buffer.getvalue(), CONFIDENT_THREE)
    assert reading.outcome == predict.UNREADABLE and reading.probabilities is None
    assert "megapixels" in draw_tab.status_text(reading, "en")


def test_model_picker_lists_digit_models_with_accuracy_and_this_sessions_own():
    from mnist_demo.catalog import shipped

    session = Session()
    model = build_model("fastnet", seed=0).eval()
    mine = session.add_trained(model, {"model": "fastnet", "dataset": "mnist", "test_accuracy": 0.9812})
    session.add_trained(model, {"model": "fashionnet", "dataset": "fashion-mnist", "test_accuracy": 0.9})
    update, device_config = draw_tab.on_models_changed(session, "no-longer-there", "en")
    labels, keys = zip(*update["choices"], strict=True)
    assert mine.key in keys and "98.12%" in labels[keys.index(mine.key)]
    assert all(entry.dataset == "mnist" for key, entry in {**shipped(), **session.trained}.items() if key in keys)
    assert update["value"] == draw_tab.default_choice(list(keys))
    assert "value" not in draw_tab.on_models_changed(session, mine.key, "en")[0]  # still offered: the pick stays as it is
    # The page may run the session's new model itself: exported as it joined the picker (not the NumPy one).
    files = json.loads(device_config)["models"]
    assert mine.key in files and "digitnet" in files and "s2-numpy-cnn" not in files
    assert set(files) <= set(keys)


def test_not_sure_names_what_it_is_unsure_between_without_a_contradicting_percentage():
    probabilities = {str(d): 0.0 for d in range(10)} | {"2": 0.92, "8": 0.07, "7": 0.01}
    reading = predict.Reading(predict.NOT_SURE, None, probabilities)
    assert draw_tab.status_text(reading, "en") == "🤔 Not sure: maybe **a 2**, or **an 8**."
    assert "%" not in draw_tab.status_text(reading, "zh") and "8" in draw_tab.status_text(reading, "zh")
