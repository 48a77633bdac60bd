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
    student = classroom.join(security.pretty_code(info.code).lower(), "10.0.0.2")[0]
    assert student.code == info.code and student.title == "7B"
    given = classroom.give(student, 1, ink_payload(), "Ada")
    assert given.label == 1 and given.count == 1 and 0 <= given.answer <= 9
    assert [d.label for d in classroom.my_drawings(student)] == [1]
    classroom.give(classroom.join(info.code, "10.0.0.3")[0], 7, ink_payload(), "Bo")

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
    assert refusal(lambda: classroom.join(security.new_code(), "10.2.0.1")[0]).reason == "no_class"
    assert refusal(lambda: classroom.give(None, 1, ink_payload())).reason == "not_joined"
    student = classroom.join(info.code, "10.2.0.2")[0]
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


# --- issue 18: sessions a script cannot push out, a class nobody can flood -------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_class_of_200_behind_one_school_address_joins_and_saves(class_db):
    """One NAT address for the whole class: everyone gets in within a few minutes (those over the per-minute pace
    are asked to wait a minute and try again) and everyone's drawing is kept."""
    clock = Clock()
    room = Classroom(class_db, guard=security.Guard(clock=clock))
    info, _key = room.create("a big class", "192.0.2.1")
    waiting, students, minutes = list(range(store.MAX_STUDENTS_PER_CLASS)), {}, 0
    while waiting and minutes < 5:
        later = []
        for n in waiting:
            try:
                students[n] = room.join(info.code, "198.51.100.9")
            except Refused as exc:
                assert exc.reason == "busy", exc.reason  # the pace, never a lockout
                later.append(n)
        waiting, minutes = later, minutes + 1
        clock.now += 61
    assert not waiting and minutes <= 3
    for n, (student, _) in students.items():
        room.give(student, n % 10, ink_payload(), address="198.51.100.9")
    assert class_db.count(info.code) == store.MAX_STUDENTS_PER_CLASS
    assert len({student.student for student, _ in students.values()}) == store.MAX_STUDENTS_PER_CLASS


def test_one_address_cannot_fill_the_servers_classes_however_long_it_goes_on(class_db):
    """A script at one address opens classes as fast as it may, draws once into each (so none expires early) and
    renews them: it never holds more than a tenth of the server's places, and a school elsewhere still opens one."""
    clock = Clock()
    room = Classroom(class_db, guard=security.Guard(clock=clock))
    opened, refusals = [], set()
    for _ in range(6 * 24 * security.CLASS_DAYS - 1):  # every 10 minutes, for as long as its first class lives
        for _ in range(security.CREATES_PER_WINDOW):
            try:
                opened.append(room.create("script", "203.0.113.7"))
            except Refused as exc:
                refusals.add(exc.reason)
        clock.now += security.WINDOW_S
    assert len(opened) == security.CLASS_LIFETIMES_PER_ADDRESS < security.ACTIVE_CLASS_LIMIT
    assert refusals == {"many_classes_here"}
    info, key = opened[0]
    assert refusal(lambda: room.renew(info.code, key, "203.0.113.7")).reason == "many_classes_here"
    room.renew(info.code, key, "192.0.2.1")  # the teacher at school renews their class
    assert room.create("7B", "198.51.100.9")[0].code


def test_the_same_browser_stays_the_same_student(classroom: Classroom, monkeypatch):
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_STUDENT", 2)
    info, key = classroom.create("7B", "192.0.2.1")
    student, token = classroom.join(info.code, "10.0.0.1")
    classroom.give(student, 1, ink_payload(), address="10.0.0.1")
    again, same = classroom.join(security.pretty_code(info.code), "10.0.0.9", token)  # a reload, a new address
    assert again.student == student.student and same == token
    assert classroom.restore(token).student == student.student  # the page load brings them back
    classroom.give(again, 1, ink_payload(), address="10.0.0.9")
    assert refusal(lambda: classroom.give(again, 1, ink_payload(), address="10.0.0.9")).reason == "student_full"
    other, _ = classroom.create("8C", "192.0.2.1")
    elsewhere, other_token = classroom.join(other.code, "10.0.0.1", token)  # another class: another place
    assert elsewhere.student != student.student and other_token != token
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert classroom.join(info.code, "10.0.0.1", forged)[0].student != student.student
    assert classroom.restore(forged) is None and classroom.restore(None) is None
    classroom.delete(info.code, key, "192.0.2.1", True)
    assert classroom.restore(token) is None  # the class is gone


def test_the_teacher_closes_joining_and_cleans_up_a_flood(classroom: Classroom):
    info, key = classroom.create("7B", "192.0.2.1")
    ada, ada_token = classroom.join(info.code, "10.0.0.1")
    classroom.give(ada, 1, ink_payload(), "Ada", address="10.0.0.1")
    bots = [classroom.join(info.code, "203.0.113.7")[0] for _ in range(5)]
    first = [classroom.give(bot, 1, ink_payload(), address="203.0.113.7") for bot in bots]
    assert classroom.set_joining(info.code, key, "192.0.2.1", False) is False
    assert refusal(lambda: classroom.join(info.code, "203.0.113.7")).reason == "joining_closed"
    assert classroom.join(info.code, "10.0.0.1", ada_token)[0].student == ada.student  # joined already: welcome back
    board = classroom.dashboard(info.code, key, "192.0.2.1", None)
    assert board.joining_open is False and board.students == 6
    first_bot = min(d.number for d in classroom.store.all_drawings(info.code) if d.nickname == "")
    assert classroom.remove_anonymous(info.code, key, "192.0.2.1", first_bot) == len(first)
    ada_drawing = classroom.store.all_drawings(info.code)[0].number
    assert classroom.remove_student(info.code, key, "192.0.2.1", ada_drawing) == 1
    assert classroom.store.count(info.code) == 0
    assert refusal(lambda: classroom.remove_student(info.code, "wrong", "192.0.2.1", 1)).reason == "refused"


def test_saves_are_paced_per_student(classroom: Classroom):
    info, _ = classroom.create("7B", "192.0.2.1")
    student, _ = classroom.join(info.code, "10.0.0.1")
    for _ in range(security.SAVES_PER_STUDENT_PER_MINUTE):
        try:
            classroom.give(student, 1, ink_payload(), address="10.0.0.1")
        except Refused as exc:
            assert exc.reason == "student_full"
    assert refusal(lambda: classroom.give(student, 1, ink_payload(), address="10.0.0.1")).reason == "busy"


def test_an_export_without_a_session_writes_nothing(classroom: Classroom, tmp_path, monkeypatch):
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    info, key = classroom.create("7B", "192.0.2.1")
    assert refusal(lambda: classroom.export(info.code, key, "192.0.2.1", None)).reason == "no_session"
    assert list(temporary.iterdir()) == []


def test_parallel_wrong_keys_from_one_address_stay_within_its_limit(classroom: Classroom):
    import threading

    info, _ = classroom.create("7B", "192.0.2.1")
    start, reasons = threading.Barrier(30), []

    def guess():
        start.wait()
        try:
            classroom.teacher(info.code, "guess", "203.0.113.7")
        except Refused as exc:
            reasons.append(exc.reason)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reasons.count("refused") == security.KEY_FAILURES_PER_WINDOW and len(reasons) == 30


def test_the_address_is_the_one_the_proxy_saw(environment):
    from starlette.datastructures import Headers

    environment(MNIST_DEMO_TRUSTED_PROXIES=1)
    headers = Headers(raw=[(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.9")])
    request = types.SimpleNamespace(headers=headers, client=types.SimpleNamespace(host="10.0.0.2"))
    assert client_address(request) == "198.51.100.9"  # the proxy's own line, not the client's
    environment(MNIST_DEMO_TRUSTED_PROXIES=None, SPACE_ID=None, MNIST_DEMO_TRUST_PROXY=None)
    assert client_address(request) == "10.0.0.2"
