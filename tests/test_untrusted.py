"""What a script can send, handler by handler: pictures of any format and size, values of any type,
and no session at all. Every answer is a message (in the user's language), never a traceback or a
server path; the global torch generator is left alone."""

from __future__ import annotations

import dataclasses
import io

import gradio as gr
import pytest
import torch
from PIL import Image

from mnist_demo.reading import files, predict
from mnist_demo.reading.files import PictureError, load_picture
from mnist_demo.ui import draw_tab, train_tab, visualize_tab
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session
from tests.harness import run_coroutine


def _bytes(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


# --- pictures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_the_allowed_formats_open(fmt):
    image = Image.new("RGB", (40, 30), "white")
    assert load_picture(_bytes(image, fmt)).size == (40, 30)


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PPM", "PCX", "TGA"])
def test_other_formats_are_not_even_opened(fmt):
    with pytest.raises(PictureError, match="PNG, JPEG, GIF, BMP or WebP"):
        load_picture(_bytes(Image.new("RGB", (40, 30), "white"), fmt))


def test_the_pixel_limit_holds_for_a_png():
    data = _bytes(Image.new("L", (5000, 4000)), "PNG")  # 20 MP, a few KB compressed
    with pytest.raises(PictureError, match="5000 x 4000 pixels"):
        load_picture(data)


def test_a_large_jpeg_is_decoded_reduced_and_a_huge_one_refused(monkeypatch):
    data = _bytes(Image.new("RGB", (6000, 4000), "white"), "JPEG", quality=50)
    image = load_picture(data)
    assert image.size[0] <= 3000 and image.size[1] <= 2000  # the draft decoded it at a reduced scale
    monkeypatch.setattr(files, "MAX_DECLARED_PIXELS", 20_000_000)
    with pytest.raises(PictureError, match="6000 x 4000 pixels"):
        load_picture(data)


def test_picture_messages_never_show_a_server_path(tmp_path):
    path = tmp_path / "deep" / "folder" / "digit.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(_bytes(Image.new("RGB", (40, 30)), "PNG")[:60])  # cut short
    for source in (path, tmp_path / "nothing.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50):
        reading = predict.read_picture(source, torch.nn.Identity())
        assert reading.outcome == predict.UNREADABLE and str(tmp_path) not in reading.detail


# --- no session: a script's fresh session hash (or a tab closed meanwhile) -------------------------


def test_draw_handlers_without_a_session_ask_to_reload():
    reload = t("common.reload", "zh")
    assert draw_tab.on_upload({"path": "/etc/passwd"}, "digitnet", None, "zh", 0)[1] == reload
    assert draw_tab.on_refresh("digitnet", None, "zh")[1] == reload
    assert draw_tab.on_clear(None, "zh", 0)[1] == reload
    picker, _ = draw_tab.on_models_changed(None, "digitnet", "zh")
    assert "value" not in picker and "digitnet" in [k for _, k in picker["choices"]]  # the pick stays as it is
    with pytest.raises(gr.Error, match="Reload the page"):  # the live canvas: a notice, nothing stored
        draw_tab.on_drawing("", "digitnet", None, "en", 0)
    closed = Session()
    closed.close()
    with pytest.raises(gr.Error, match="Reload the page"):
        draw_tab.on_drawing("", "digitnet", closed, "en", 0)


def _values(tab, session, **settings):
    values = {tab.session: session, tab.lang: "en", tab.models_changed: 0}
    good = dataclasses.replace(GOOD, **settings)
    values.update({getattr(tab, f.name): getattr(good, f.name) for f in dataclasses.fields(good)})
    return values


GOOD = train_tab.Settings("fastnet", "mnist", "fast", "adamw", 0.01, 0.9, 128, 1, 2000, "digits", 0)


def _tab() -> train_tab.TrainTab:
    return train_tab.TrainTab(**{f.name: object() for f in dataclasses.fields(train_tab.TrainTab)})


def _collect(gen) -> list:
    async def go():
        return [update async for update in gen]

    return run_coroutine(go())


def test_train_handlers_without_a_session_ask_to_reload():
    tab = _tab()
    (update,) = _collect(train_tab.run(tab, _values(tab, None)))
    assert update[tab.message] == t("common.reload")
    assert train_tab.request_stop(None, "zh") == t("common.reload", "zh")
    assert train_tab.on_weights_upload(["x.safetensors"], None, "en", 2) == (t("common.reload"), 2)


@pytest.mark.parametrize("files_sent", [[None], [5], {"path": "x"}, ["a.safetensors"] * 50])
def test_weights_upload_of_anything_answers_with_a_message(files_sent):
    message, changed = train_tab.on_weights_upload(files_sent, Session(), "en", 0)
    assert message.startswith("Upload rejected") and changed == 0 and "Traceback" not in message


@pytest.mark.parametrize("name", [None, 5, ["fastnet"], {"a": 1}, "x" * 10_000])
def test_pickers_sent_anything_give_a_friendly_error(name):
    for handler in (train_tab.on_model, train_tab.on_preset):
        with pytest.raises(gr.Error) as error:
            handler(None, name, ["en"])  # the tab's components are not reached
        assert len(str(error.value)) < 600
    described = train_tab.on_language("en", name, name)
    assert isinstance(described[1], type(gr.skip())) and isinstance(described[3], type(gr.skip()))


def test_messages_in_any_language_value_fall_back_to_english():
    for lang in (None, 5, ["zh"], {"zh": 1}, "xx"):
        assert t("common.reload", lang) == t("common.reload", "en")


@pytest.mark.parametrize("junk", [
    {}, {"padding": None, "stride": None}, {"padding": 99, "stride": 0, "index": 1e300, "position": -5},
    {"kernel": "learned:abc", "target": "x", "speed": float("nan"), "source": ["drawing"]},
    {"model": ["digitnet"], "kernel": 12, "image": "not an array", "index": "7"},
])
def test_visualize_views_sent_anything_are_made_usable(junk):
    view = visualize_tab.checked(visualize_tab.View(**junk))
    assert view.padding in (0, 1, 2) and view.stride in (1, 2, 3) and 0 <= view.index and 0 <= view.position
    figures = visualize_tab.Figures(*(object() for _ in dataclasses.fields(visualize_tab.Figures)))
    out = visualize_tab.update_all(figures, view, None, "en")
    assert len(out) > 5


# --- randomness -------------------------------------------------------------------------------------


def test_a_training_leaves_the_global_generator_alone():
    from mnist_demo.models import build_model
    from mnist_demo.training.engine import train
    from mnist_demo.training.recipes import RECIPES

    torch.manual_seed(1234)
    state = torch.get_rng_state()
    recipe = RECIPES["s1"].with_changes(epochs=1, train_subset=512, test_subset=256, batch_size=64)
    model = build_model("digitnet", seed=0)  # digitnet has dropout
    for _ in train(model, recipe, "mnist", seed=3, device="cpu"):
        pass
    build_model("s2-numpy-cnn", seed=5)
    assert torch.equal(torch.get_rng_state(), state)

    def weights_after(seed: int):
        torch.manual_seed(999)  # whatever the global generator holds does not matter
        m = build_model("digitnet", seed=0)
        for _ in train(m, recipe, "mnist", seed=seed, device="cpu"):
            pass
        return m.state_dict()

    first, again = weights_after(3), weights_after(3)
    assert all(torch.equal(first[k], again[k]) for k in first)  # its own seed still decides every draw
