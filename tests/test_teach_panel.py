"""The Draw tab's teach panel without a browser: labelling the current input, My digits' view, the cap,
deleting, the zip out and back in, a bad zip, and a teaching that becomes a model in the session."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import zipfile

import numpy as np
import pytest

from mnist_demo import handwriting as hw
from mnist_demo.catalog import DEFAULT_MODEL
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture
from mnist_demo.ui import teach_panel as panel
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session


def drawn(seed: int = 0):
    """A drawing's Prepared input: a tall stroke (a 1) as the canvas's ink map."""
    ink = np.zeros((112, 112), np.uint8)
    ink[20:92, 52 + seed % 5: 62 + seed % 5] = 255
    return from_ink(ink)


def components() -> panel.Panel:
    """Stand-ins for the panel's components (the handlers key their answers by them)."""
    fields = {f.name: object() for f in dataclasses.fields(panel.Panel)}
    return panel.Panel(**{**fields, "cleared": {name: object() for name in panel.CLEARED}})


P = components()


def on_label(label, session, lang):
    return panel.on_label(P, label, session, lang)


def test_labelling_keeps_the_current_input_and_shows_it():
    session = Session()
    assert on_label(3, session, "en") == {P.message: t("teach.nothing", "en")}  # nothing drawn yet
    session.current_input = drawn()
    out = on_label(1, session, "en")
    message, view, pick = out[P.message], out[P.view], out[P.pick]
    assert message == t("teach.added", "en", label=1, count=1)
    # the input and the answer are cleared for the next digit, and pressing again keeps nothing more
    assert out[P.cleared["canvas"]] == "" and session.current_input is None
    assert on_label(1, session, "en")[P.message] == t("teach.nothing", "en")
    assert 'data-label="1"' in view and '<b class="md-count">1</b>' in view and view.count("<img") == 1
    assert pick["choices"] == [("1 · #1", 1)]
    digit = panel.my_digits(session).digits()[0]
    assert digit.source == "drawing" and digit.ink.shape == (112, 112)
    session.current_input = from_picture(hw.render_picture(hw.to_canvas([np.array([[0, 0], [0, 1.0]])])))
    on_label(7, session, "en")
    assert panel.my_digits(session).digits()[1].source == "picture"
    assert on_label(7, None, "en")[P.message] == t("teach.nothing", "en")  # a script without a session


def test_the_cap_and_deleting():
    session = Session()
    session.my_digits = panel.MyDigits(cap=2)
    session.current_input = drawn()
    for _ in range(2):
        session.current_input = drawn()
        on_label(1, session, "en")
    session.current_input = drawn()
    assert on_label(1, session, "en")[P.message] == t("teach.full", "en", cap=2)
    session.current_input = drawn()
    message, view, pick = panel.on_delete(1, session, "en")
    assert message == t("teach.deleted", "en") and len(panel.my_digits(session)) == 1
    assert panel.on_delete("not a number", session, "en")[0] == ""


def test_download_and_upload_round_trip(tmp_path):
    session = Session()
    assert panel.on_download(session, "en")[0] == t("teach.need_digits", "en")
    for label in (0, 4, 4):
        session.current_input = drawn(label)
        on_label(label, session, "en")
    message, update = panel.on_download(session, "en")
    path = update["value"]
    assert update["visible"]  # the file box shows once it has something
    with zipfile.ZipFile(path) as zf:
        assert {"labels.csv", "train-images-idx3-ubyte", "images/00002-4.png", "ink/00003-4.png"} <= set(zf.namelist())
    other = Session()
    message, view, pick = panel.on_digits_upload(path, other, "en")
    assert message == t("teach.uploaded", "en", count=3) and panel.my_digits(other).counts()[4] == 2
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("labels.csv", "file,label\nimages/00001-1.png,11\n")
    message, *_ = panel.on_digits_upload(str(bad), other, "en")
    assert message.startswith(t("teach.bad_zip", "en", detail="")) and len(panel.my_digits(other)) == 3
    session.close()


def collect(gen) -> list:
    async def run():
        return [update async for update in gen]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's loop may be running in this thread
        return pool.submit(asyncio.run, run()).result()


def test_teaching_with_nothing_and_while_busy():
    session = Session()
    assert collect(panel.on_teach(P, DEFAULT_MODEL, session, "en", 0))[-1][P.progress] == t("teach.need_digits", "en")
    session.current_input = drawn()
    on_label(1, session, "en")
    session.training = True
    assert collect(panel.on_teach(P, DEFAULT_MODEL, session, "en", 0))[-1][P.progress] == t("teach.busy", "en")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stopped_teaching_becomes_a_model_of_the_session(lang):
    session = Session()
    for i in range(12):
        session.current_input = drawn(i)
        on_label(1 if i % 2 else 7, session, lang)

    async def run():
        updates = []
        async for update in panel.on_teach(P, DEFAULT_MODEL, session, lang, 5):
            updates.append(update)
            if "%" in str(update[P.progress]) and len(updates) > 1:
                panel.on_stop(session)  # stop between steps: what was learned is kept and measured
        return updates

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        updates = pool.submit(asyncio.run, run()).result()
    last = updates[-1]
    message, table, bump, picker, back, before = (last[P.progress], last[P.result], last[P.models_changed],
                                                  last[P.model], last[P.back], last[P.before])
    assert bump == 6 and not session.training, message
    (entry,) = session.trained.values()
    assert " + my handwriting (this session" in entry.card["title"] and entry.card["taught"]["stopped"]
    # 12 digits are too few to measure: all taught, and the table says so instead of a percentage
    assert entry.card["taught"]["held_out"] == 0 and entry.card["taught"]["trained_on"] == 12
    assert picker["value"] == entry.key and back["visible"] and before == DEFAULT_MODEL  # picked, with a way back
    assert entry.label.startswith("DigitNet") and "+ my handwriting" in entry.label
    if lang == "en":
        assert "not measured" in table and "of 12 (" in table and "MNIST" in table
    else:  # the taught model and the one it was taught from by their names in the page's language, as in the picker
        assert "没有衡量" in table and "12 个中对" in table
        assert "我的笔迹" in message and "my handwriting" not in message, message
        assert "默认" in back["value"] and "default" not in back["value"], back
    assert panel.on_back(before, session)[0]["value"] == DEFAULT_MODEL
    texts = [str(u[P.progress]) for u in updates]
    assert any("%" in text and (" s" in text or "秒" in text) for text in texts)


def test_progress_keeps_saying_what_the_teaching_does_to_its_end():
    """The steps, then the tests (on the kept-apart digits when there are some), then the hand-over: no frozen
    "100% done" while the last seconds pass."""
    from mnist_demo.training.engine import Progress
    from mnist_demo.training.runner import Snapshot

    def snap(step: int, kind: str = "step") -> Snapshot:
        report = Progress(kind, step, 10, 1, 1, 0.5, 0.9, 0.01, 100.0, 1.0)
        return Snapshot("running", 1, 0, 0.0, 1, report, 100.0, (), (), None, None)

    for lang in ("en", "zh"):
        assert panel.progress_text(snap(5), 50, 20, 3.2, lang) == t("teach.running", lang, count=50, percent="50%",
                                                                   seconds="3")
        assert panel.progress_text(snap(10), 50, 20, 9.0, lang) == t("teach.testing", lang, held=20, seconds="9")
        assert panel.progress_text(snap(10), 12, 0, 9.0, lang) == t("teach.testing_mnist", lang, held=0, seconds="9")
        assert panel.progress_text(snap(10, "done"), 50, 20, 12.0, lang) == t("teach.handing_over", lang,
                                                                              seconds="12")
    assert t("teach.running", "en") != t("teach.testing", "en") != t("teach.handing_over", "en")
