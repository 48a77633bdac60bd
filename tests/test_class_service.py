"""Class mode's operations without a page (`classroom.service.Classroom`): plain codes, keys and addresses in,
plain results out, refusals as `Refused` with a reason; the addresses read from a request's headers."""

from __future__ import annotations

import base64
import json
import types
import zipfile

import numpy as np
import pytest

from mnist_demo.addresses import client_address, join_link
from mnist_demo.classroom import security, store
from mnist_demo.classroom.service import Classroom, Refused


def ink_payload() -> str:
    """A vertical bar on the canvas: a 1."""
    ink = np.zeros((112, 112), np.uint8)
    ink[20:90, 50:60] = 255
    return json.dumps({"w": 112, "h": 112, "data": base64.b64encode(ink.tobytes()).decode(), "final": True})


def refusal(call) -> Refused:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value


def test_a_lesson_through_the_service(classroom: Classroom, tmp_path):
    info, key = classroom.create("7B", "10.0.0.1")
    student = classroom.join(security.pretty_code(info.code).lower(), "10.0.0.2")
    assert student.code == info.code and student.title == "7B"
    given = classroom.give(student, 1, ink_payload(), "Ada")
    assert given.label == 1 and given.count == 1 and 0 <= given.answer <= 9
    assert [d.label for d in classroom.my_drawings(student)] == [1]
    classroom.give(classroom.join(info.code, "10.0.0.3"), 7, ink_payload(), "Bo")

    board = classroom.dashboard(info.code, key, "10.0.0.1", "digitnet")
    assert (board.drawings, board.students, sorted(board.nicknames)) == (2, 2, ["Ada", "Bo"])
    assert board.confusion.total == 2 and [d.nickname for d in board.newest] == ["Bo", "Ada"]
    answer = board.newest[-1].answer
    assert [d.nickname for d in classroom.cell(info.code, key, "10.0.0.1", "digitnet", None, 1, answer)] == ["Ada"]
    assert classroom.cell(info.code, key, "10.0.0.1", "digitnet", None, 1, 10) == []  # no such cell

    path = classroom.export(info.code, key, "10.0.0.1", tmp_path)
    assert path.parent == tmp_path and "labels.csv" in zipfile.ZipFile(path).namelist()
    assert classroom.remove_nickname(info.code, key, "10.0.0.1", "Bo") == 1
    assert classroom.remove(info.code, key, "10.0.0.1", 999) == 0 and classroom.store.count(info.code) == 1
    assert classroom.renew(info.code, key, "10.0.0.1").expires >= info.expires

    assert refusal(lambda: classroom.delete(info.code, key, "10.0.0.1", False)).reason == "unconfirmed"
    classroom.delete(info.code, key, "10.0.0.1", True)
    assert classroom.store.get_class(info.code) is None
    assert refusal(lambda: classroom.give(student, 1, ink_payload())).reason == "gone"


def test_the_gate_refuses_alike_and_slows_down_guessers(classroom: Classroom):
    info, key = classroom.create("", "10.0.0.1")
    reasons = {refusal(lambda c=code: classroom.dashboard(c, "guess", "10.1.0.1", "digitnet")).reason
               for code in (info.code, security.new_code(), "not a code")}
    assert reasons == {"refused"}
    for _ in range(security.KEY_FAILURES_PER_WINDOW - 3):
        refusal(lambda: classroom.teacher(info.code, "guess", "10.1.0.1"))
    slowed = refusal(lambda: classroom.teacher(info.code, key, "10.1.0.1"))  # even the right key, from there
    assert slowed.reason == "slow_down" and slowed.by_gate and slowed.values["minutes"] >= 1
    assert classroom.teacher(info.code, key, "10.1.0.2").code == info.code


def test_students_and_requests_refused_with_a_reason(classroom: Classroom, monkeypatch):
    info, _ = classroom.create("", "10.0.0.1")
    assert refusal(lambda: classroom.join(security.new_code(), "10.2.0.1")).reason == "no_class"
    assert refusal(lambda: classroom.give(None, 1, ink_payload())).reason == "not_joined"
    student = classroom.join(info.code, "10.2.0.2")
    assert refusal(lambda: classroom.give(student, 1, "not json")).reason == "bad_drawing"
    blank = json.dumps({"w": 4, "h": 4, "data": "AAAAAAAAAAAAAAAAAAAAAA==", "final": True})
    assert refusal(lambda: classroom.give(student, 1, blank)).reason == "draw_first"
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_STUDENT", 1)
    classroom.give(student, 1, ink_payload())
    full = refusal(lambda: classroom.give(student, 1, ink_payload()))
    assert (full.reason, full.values) == ("student_full", {"limit": 1})
    for n in range(security.CREATES_PER_WINDOW - 1):
        classroom.create(str(n), "10.0.0.1")
    assert refusal(lambda: classroom.create("one more", "10.0.0.1")).reason == "slow_down"


def test_training_refuses_too_few_drawings_and_a_wrong_key(classroom: Classroom):
    info, key = classroom.create("", "10.0.0.1")
    few = refusal(lambda: classroom.start_training(info.code, key, "10.0.0.1", "digitnet"))
    assert (few.reason, few.values, few.by_gate) == ("train_few", {"min": 10, "count": 0}, False)
    assert refusal(lambda: classroom.start_training(info.code, "x", "10.0.0.2", "digitnet")).by_gate
    assert refusal(lambda: classroom.stop_training(info.code, "", "10.0.0.3")).reason == "refused"


def test_the_callers_address_and_the_join_link(environment):
    environment(SPACE_ID=None, MNIST_DEMO_TRUST_PROXY=None, MNIST_DEMO_PUBLIC_URL=None)
    request = types.SimpleNamespace(client=types.SimpleNamespace(host="10.9.0.1"),
                                    headers={"X-Forwarded-For": "1.2.3.4", "Host": "class.example:7860"})
    assert client_address(request) == "10.9.0.1" and client_address(None) == "local"  # a forged header is ignored
    environment(MNIST_DEMO_TRUST_PROXY=1)
    assert client_address(request) == "1.2.3.4"
    assert join_link("ABCDEFGH", request) == "http://class.example:7860/?class=ABCDEFGH"
    environment(MNIST_DEMO_PUBLIC_URL="https://demo.example/app")
    assert join_link("ABCDEFGH", request) == "https://demo.example/app/?class=ABCDEFGH"
