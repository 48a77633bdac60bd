"""A class outlives its server: `python app.py` as a subprocess on a temporary state folder, a class opened and
two drawings given through /gradio_api as the page's events do, the server stopped and started again on the same
folder; the class, its drawings and its teacher key are still there (and a wrong key is still refused), and so is
the class's model stored meanwhile: a student who picks it is answered by it."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest

from mnist_demo.catalog import DEFAULT_MODEL, shipped
from mnist_demo.classroom import security, tuning
from mnist_demo.classroom.store import ClassStore
from mnist_demo.ui.i18n import t
from tests.harness import serve_subprocess
from tests.test_class_security import _call, _events, _inputs


def ink_payload(column: int) -> str:
    """A canvas payload: a vertical bar (a 1) on the 112x112 ink map."""
    ink = np.zeros((112, 112), np.uint8)
    ink[20:92, column:column + 10] = 255
    return json.dumps({"w": 112, "h": 112, "data": base64.b64encode(ink.tobytes()).decode(), "final": True})


def page_loads(base: str, config: dict, session_hash: str) -> None:
    """What a page does first for its session: the load events (a server may gate events on them)."""
    for number, dependency in enumerate(config["dependencies"]):
        if any(event == "load" for _, event in dependency.get("targets", [])):
            data = [None] * len(dependency["inputs"])
            httpx.post(base + "gradio_api/run/predict", json={"data": data, "fn_index": dependency.get("id", number),
                                                              "session_hash": session_hash}, timeout=60)


@pytest.mark.slow
def test_a_class_its_drawings_and_its_model_survive_a_restart_and_the_key_still_opens_it(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("MNIST_DEMO_STATE", str(state))
    with serve_subprocess() as app:
        base = app.url
        events, config = _events(base)
        page_loads(base, config, "teacher")
        fn = events["class-create.click"]
        created = _call(base, fn, _inputs(config, fn, {"class-title": "7B restart"}), "teacher")
        assert created["success"], created
        key, code = created["output"]["data"][2], created["output"]["data"][7]  # on_create: the key step, then the rest
        assert security.normalize_code(code) and len(key) > 16
        page_loads(base, config, "phone")
        fn = events["class-join-go.click"]
        assert _call(base, fn, _inputs(config, fn, {"class-join": code}), "phone")["success"]
        for digit, column in ((1, 50), (7, 40)):
            fn = events[f"class-teach-{digit}.click"]
            given = _call(base, fn, _inputs(config, fn, {"class-canvas": ink_payload(column), "class-nickname": "Ada"}),
                          "phone")
            assert given["success"], given
        assert "given **2 drawings**" in json.dumps(given["output"]["data"])
    pid = app.pid
    # The class's model, stored as "Train on our class" stores it (tuning.ClassModels.put), between the two runs
    db = ClassStore(state)
    base = shipped()[DEFAULT_MODEL]
    tuning.ClassModels(db).put(tuning.ClassModel(
        security.normalize_code(code), tuning.Entry(tuning.model_key(security.normalize_code(code)), base.model,
                                                    {**base.card, "title": "7B's model"}), DEFAULT_MODEL, "d", None, [], 0))
    db.close()

    with serve_subprocess() as app:  # a new process on the same state folder
        assert app.pid != pid
        base = app.url
        events, config = _events(base)
        page_loads(base, config, "teacher2")
        fn = events["class-open.click"]
        wrong = _call(base, fn, _inputs(config, fn, {"class-dash-code": code, "class-dash-key": key[:-2] + "zz",
                                                     "class-model": "digitnet"}), "teacher2")
        assert not wrong["success"] and wrong["output"]["error"] == t("class.msg.refused")
        opened = _call(base, fn, _inputs(config, fn, {"class-dash-code": code, "class-dash-key": key,
                                                      "class-model": "digitnet"}), "teacher2")
        assert opened["success"], opened
        shown = json.dumps(opened["output"]["data"])
        assert "7B restart" in shown and "2 drawings from 1 student" in shown and "Ada" in shown
        # ... and the class's model is still there: a student who picks it is answered by it
        page_loads(base, config, "phone2")
        fn = events["class-join-go.click"]
        assert _call(base, fn, _inputs(config, fn, {"class-join": code}), "phone2")["success"]
        fn = events["class-student-model.change"]
        picked = _call(base, fn, _inputs(config, fn, {"class-student-model": "class"}), "phone2")
        assert t("class.class_model_on") in json.dumps(picked["output"]["data"], ensure_ascii=False)
        fn = events["class-teach-1.click"]
        assert _call(base, fn, _inputs(config, fn, {"class-canvas": ink_payload(50)}), "phone2")["success"]
    db = ClassStore(state)
    assert db.count(security.normalize_code(code)) == 3 and db.check_key(code, key) is not None
    assert db.newest(security.normalize_code(code), 1)[0].model == tuning.model_key(security.normalize_code(code))
    db.close()
