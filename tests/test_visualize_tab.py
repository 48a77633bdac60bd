"""The Visualize tab's handlers for every model (the tab in Chromium: tests/browser/test_visualize_tab.py)."""

from __future__ import annotations

from dataclasses import fields, replace
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_demo.catalog import UNTRAINED_PREFIX
from mnist_demo.models import MODELS
from mnist_demo.ui import visualize_tab as tab
from mnist_demo.ui.i18n import STRINGS, t
from mnist_demo.ui.session import Session

OUT = tab.Figures(**{f.name: object() for f in fields(tab.Figures)})  # stand-ins: the updates key their answers


def run_all(key, session, lang="en", **changes) -> dict:
    return tab.update_all(OUT, tab.View(model=key, **changes), session, lang)


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
    out = run_all(UNTRAINED_PREFIX + name, session)
    assert list(out) == OUT.everything()
    filters, status, shown, probs, maps, fc, looks, image, conv, arithmetic = (
        out[OUT.filters], out[OUT.status], out[OUT.shown], out[OUT.probs], out[OUT.maps], out[OUT.fc],
        out[OUT.looks], out[OUT.image], out[OUT.conv], out[OUT.arithmetic])
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
    status = run_all(tab.default_key(), Session(), index=3)[OUT.status]
    assert t("viz.input.no_drawing") in status and "#3" in status


def test_a_session_trained_model_is_offered_and_used():
    from mnist_demo.models import build_model

    session = Session()
    entry = session.add_trained(build_model("s5-lenet", seed=3), {"model": "s5-lenet", "dataset": "mnist"})
    assert entry.key in dict((v, k) for k, v in tab.choices(session, "en"))
    assert tab.entry_for(entry.key, session) is entry
    assert "this session" in run_all(entry.key, session)[OUT.status]


def test_chinese_captions():
    out = run_all(UNTRAINED_PREFIX + "s5-lenet", Session(), lang="zh")
    assert t("viz.col.rf", "zh") in out[OUT.table].columns
    assert t("viz.filters.help", "zh") in out[OUT.filters]


def test_animation_tick_advances_and_stops_at_the_end():
    image = drawing().image
    view = tab.View(model=tab.default_key(), kernel="sobel-x", padding=0, stride=3, position=0, speed=2, image=image)
    out = tab.advance(OUT, view, None, "en")
    assert out[OUT.position]["value"] == 2 and OUT.animate not in out  # still running: the checkbox is left alone
    last = tab.step_count("sobel-x", None, 0, 3) - 1  # (28 - 3) // 3 + 1 = 9 per side
    assert last == 80
    out = tab.advance(OUT, replace(view, position=last - 1, speed=5), None, "en")
    assert out[OUT.position]["value"] == last and out[OUT.animate] is False


def test_learned_kernels_come_from_the_models_first_conv():
    model = tab.entry_for(UNTRAINED_PREFIX + "s5-lenet", None).model
    keys = [value for _, value in tab.kernel_choices(model, "en")]
    assert keys[-1] == f"{tab.LEARNED}5"  # six filters in LeNet's first layer
    np.testing.assert_array_equal(tab.kernel_for(f"{tab.LEARNED}5", model), model[1].weight[5, 0].detach().numpy())


def test_the_architecture_table_speaks_the_page_language():
    from mnist_demo.models import build_model

    model = build_model("s5-lenet", seed=0)
    en, zh = tab.architecture(model, "en"), tab.architecture(model, "zh")
    assert "1→6, kernel 5×5, stride 1, padding 0" in en.iloc[:, 2].tolist()
    assert "28×28 pixels in [0, 1]" == en.iloc[0, 2] and zh.iloc[0, 2] == "28×28 像素，取值 [0, 1]"
    assert not any(word in cell for cell in zh.iloc[:, 2] for word in ("kernel", "stride", "padding", "pixels",
                                                                        "predicting"))
