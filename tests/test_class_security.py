"""No one where they don't belong: the Class tab's dashboard handlers refuse a wrong key or a guessed code,
called directly and by number through /gradio_api on the running app; key tries and joins are
rate-limited; a student reads only their own drawings."""

from __future__ import annotations

import json
import types

import gradio as gr
import httpx
import numpy as np
import pytest

from mnist_demo import addresses
from mnist_demo.classroom import security, store
from mnist_demo.classroom.service import Classroom, Student
from mnist_demo.classroom.store import ClassStore
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session


def request(address: str = "10.0.0.1", query: dict | None = None) -> types.SimpleNamespace:
    """What the handlers read from a gr.Request."""
    return types.SimpleNamespace(client=types.SimpleNamespace(host=address), headers={},
                                 query_params=query or {}, session_hash="s")


def desk(code: object, key: object, r=None, session: object = None, lang: str = "en", model: str = "digitnet"):
    """What a dashboard call carries, as the page (or a script) sends it."""
    from mnist_demo.ui.class_desk import Desk

    return Desk.read(code, key, model, session, lang, r if r is not None else request())


def digit_image(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 10 + value:14 + value] = 255
    return image


def dashboard_calls(ui, code: str, key: str):
    """Every dashboard handler, called as a client could call it (any inputs it likes)."""
    session = Session()
    select = gr.SelectData(None, {"index": [1, 2], "value": 0})
    return {
        "open": lambda r: ui.on_open(desk(code, key, r, session)),
        "tick": lambda r: ui.on_tick(desk(code, key, r, session), None, False),
        "projector": lambda r: ui.on_project(desk(code, key, r, session)),
        "card": lambda r: ui.on_card(desk(code, key, r, session)),
        "cell": lambda r: ui.on_cell(desk(code, key, r, session), select),
        "remove": lambda r: ui.on_remove(desk(code, key, r, session), 1),
        "remove_nickname": lambda r: ui.on_remove_nickname(desk(code, key, r, session), "Ada"),
        "export": lambda r: ui.on_export(desk(code, key, r, session)),
        "renew": lambda r: ui.on_renew(desk(code, key, r, session)),
        "delete": lambda r: ui.on_delete(desk(code, key, r, session), True),
    }


def refused(call, r) -> bool:
    try:
        result = call(r)
    except gr.Error:
        return True
    # The timer's tick does not raise (it would show a toast every few seconds): it stops itself and shows nothing.
    return isinstance(result, dict) and len(result) == 2 and None in result.values()


@pytest.mark.parametrize("which", ["wrong_key", "other_class_key", "guessed_code", "empty", "malformed"])
def test_every_dashboard_handler_refuses_without_the_right_key(class_db, class_ui, a_class, which):
    info, key = a_class
    other, other_key = class_db.create_class("other")
    code, attempt = {
        "wrong_key": (info.code, key[:-2] + "xx"),
        "other_class_key": (info.code, other_key),
        "guessed_code": (security.new_code(), key),
        "empty": (info.code, ""),
        "malformed": ("'; DROP TABLE classes; --", None),
    }[which]
    for number, (name, call) in enumerate(dashboard_calls(class_ui, code, attempt).items()):
        assert refused(call, request(f"10.1.{number}.1")), name  # a new address each: not the rate limit
    assert class_db.count(info.code) == 2 and class_db.get_class(info.code) is not None  # nothing removed, nothing deleted


def test_the_right_key_opens_everything(class_db, class_ui, a_class, tmp_path):
    info, key = a_class
    calls = dashboard_calls(class_ui, info.code.lower(), key)
    opened, p = calls["open"](request()), class_ui.p
    assert opened[p.dash]["visible"] is True and "7B" in opened[p.header]
    assert "#1" in opened[p.wall] and "Ada" in opened[p.wall]
    export = calls["export"](request())
    assert export["value"].endswith(".zip") and export["visible"] is True
    calls["remove"](request())
    assert class_db.count(info.code) == 1
    calls["delete"](request())
    assert class_db.get_class(info.code) is None


def test_refusal_does_not_tell_a_wrong_key_from_an_unknown_code(class_db, class_ui, a_class):
    info, key = a_class
    messages = set()
    for code in (info.code, security.new_code()):
        with pytest.raises(gr.Error) as error:
            class_ui.on_open(desk(code, "not-the-key", request(f"10.2.{len(messages)}.1"), Session()))
        messages.add(error.value.message)
    assert len(messages) == 1


def test_key_tries_are_rate_limited_per_address_and_per_class(class_db, class_ui, a_class):
    info, key = a_class
    for _ in range(security.KEY_FAILURES_PER_WINDOW):
        with pytest.raises(gr.Error):
            class_ui.on_open(desk(info.code, "guess", request("10.3.0.1"), Session()))
    with pytest.raises(gr.Error, match="Too many tries"):  # even the right key, from this address, for a while
        class_ui.on_open(desk(info.code, key, request("10.3.0.1"), Session()))
    class_ui.on_open(desk(info.code, key, request("10.3.0.2"), Session()))  # the teacher elsewhere
    for n in range(security.KEY_FAILURES_PER_CLASS):  # many addresses on one class
        try:
            class_ui.on_open(desk(info.code, "guess", request(f"10.4.{n}.1"), Session()))
        except gr.Error:
            pass
    with pytest.raises(gr.Error, match="Too many tries"):
        class_ui.on_open(desk(info.code, "guess", request("10.5.0.1"), Session()))


def test_joins_with_guessed_codes_are_rate_limited(class_db, class_ui, a_class):
    info, _ = a_class
    for _ in range(security.JOIN_FAILURES_PER_WINDOW):
        with pytest.raises(gr.Error, match="no open class"):
            class_ui.on_join(security.new_code(), None, "en", request("10.6.0.1"))
    with pytest.raises(gr.Error, match="Too many tries"):
        class_ui.on_join(info.code, None, "en", request("10.6.0.1"))
    joined = class_ui.on_join(info.code, None, "en", request("10.6.0.2"))  # a right code from elsewhere
    assert isinstance(joined[class_ui.p.student], Student) and joined[class_ui.p.student].code == info.code
    assert security.CODE_SPACE / store.MAX_CLASSES / 2 > 4e8  # tries for an even chance, with every class open


def test_students_see_only_their_own_drawings(class_db, class_ui, a_class):
    info, _ = a_class
    ada = Student(info.code, "", "digitnet", "student-a")
    stranger = Student(info.code, "", "digitnet", "someone-new")
    assert [caption for _, caption in class_ui.my_drawings(ada, "en")] == ["#1: 1 (network: 1)"]
    assert class_ui.my_drawings(stranger, "en") == []
    assert class_ui.my_drawings(None, "en") == []


def test_giving_a_drawing_needs_a_joined_class(class_db, class_ui, a_class):
    payload = json.dumps({"w": 4, "h": 4, "data": "AAAAAAAAAAAAAAAAAAAAAA==", "final": True})
    with pytest.raises(gr.Error, match="Join a class first"):
        class_ui.give(3, payload, None, "", "en")
    info, _ = a_class
    me = Student(info.code, "", "digitnet", "me")
    with pytest.raises(gr.Error, match="Draw a digit first"):  # blank
        class_ui.give(3, payload, me, "", "en")
    class_db.delete_class(info.code)
    ink = np.zeros((112, 112), np.uint8)
    ink[20:90, 50:60] = 255
    import base64
    drawn = json.dumps({"w": 112, "h": 112, "data": base64.b64encode(ink.tobytes()).decode(), "final": True})
    with pytest.raises(gr.Error, match="closed"):
        class_ui.give(1, drawn, me, "", "en")


def test_every_refusal_of_the_service_has_a_message():
    import inspect
    import re

    from mnist_demo.classroom import service
    from mnist_demo.ui.class_refusals import MESSAGES

    raised = set(re.findall(r'Refused\("(\w+)"', inspect.getsource(service)))
    limits = {"class_full", "student_full", "too_many_students", "too_many_classes", "not_drawn",
              "server_full"}  # the store's, passed on
    assert len(raised) > 8 and raised | limits == set(MESSAGES)


def test_a_page_load_with_a_class_link_joins(class_db, class_ui, a_class):
    info, _ = a_class
    out = class_ui.on_join_link("en", None, request(query={"class": security.pretty_code(info.code)}))
    assert out[class_ui.p.student].code == info.code and out[class_ui.p.student_view]["visible"] is True
    assert class_ui.p.tabs in out  # the Class tab is selected
    assert class_ui.on_join_link("en", None, request()) == gr.skip()


# ---------------------------------------------------------------------------------------------
# Through /gradio_api on the running app, by event number, with a session hash of our own


def _events(base: str) -> dict[str, int]:
    """fn_index of each click/select/tick whose trigger has an elem_id starting with class-."""
    config = httpx.get(base + "config", timeout=30).json()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    found = {}
    for number, dependency in enumerate(config["dependencies"]):
        for target, event in dependency.get("targets", []):
            elem = ids.get(target)
            if elem and elem.startswith("class-"):
                found.setdefault(f"{elem}.{event}", dependency.get("id", number))
    timer = [c["id"] for c in config["components"] if c.get("type") == "timer"]
    for number, dependency in enumerate(config["dependencies"]):
        if any(target in timer and event == "tick" for target, event in dependency.get("targets", [])):
            if "class-dash-code" in {ids.get(i) for i in dependency["inputs"]}:  # the wall's, then the leaderboard's
                found["board.tick" if "timer.tick" in found else "timer.tick"] = dependency.get("id", number)
    return found, config


def _page_load(client: httpx.Client, session_hash: str) -> None:
    """What a script can do first, as the page does: the page-load event, so the request gate lets it through
    and the refusal tested is the dashboard's own key check."""
    config = client.get("../config").json()
    (load,) = [d for d in config["dependencies"] if d.get("api_name") == "on_page_load"]
    answer = client.post("run/predict", json={"data": [], "fn_index": load["id"], "session_hash": session_hash})
    assert answer.status_code == 200, answer.text


def _call(base: str, fn_index: int, data: list, session_hash: str, event_data: dict | None = None) -> dict:
    """The page load, then queue/join and read the event stream until the event completes."""
    with httpx.Client(base_url=base + "gradio_api/", timeout=60) as client:
        _page_load(client, session_hash)
        joined = client.post("queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session_hash,
                                                 "event_data": event_data, "trigger_id": None})
        assert joined.status_code == 200, joined.text
        with client.stream("GET", "queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
    raise AssertionError("no answer")


def _inputs(config: dict, fn_index: int, values: dict[str, object]) -> list:
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    dependency = config["dependencies"][fn_index]
    return [values.get(ids.get(i)) for i in dependency["inputs"]]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The real app served in this process, on a classroom of its own: (its address, the classroom)."""
    from tests.harness import serve_in_process

    room = Classroom(ClassStore(tmp_path_factory.mktemp("state")))
    with serve_in_process(classroom=room) as app:
        yield app.url, room
    room.store.close()


def test_dashboard_events_by_number_refuse_a_guessed_code_or_a_wrong_key(served):
    app_url, room = served
    class_db = room.store
    info, key = class_db.create_class("api")
    class_db.add_drawing(info.code, "s1", digit_image(3), 3, nickname="Ada")
    events, config = _events(app_url)
    wanted = ["class-open.click", "class-remove.click", "class-remove-nickname.click", "class-export.click",
              "class-delete.click", "class-renew.click", "class-confusion.select", "class-train.click", "timer.tick",
              "board.tick"]
    assert set(wanted) <= set(events), sorted(events)
    attempts = [(security.new_code(), key), (info.code, "guessed-key"), (info.code, "")]
    for number, (code, attempt) in enumerate(attempts):
        for name in wanted:
            fn = events[name]
            data = _inputs(config, fn, {"class-dash-code": code, "class-dash-key": attempt, "class-remove-id": 1,
                                        "class-remove-nickname-pick": "Ada", "class-delete-confirm": True,
                                        "class-model": "digitnet"})
            room.guard = security.Guard()  # the same client address every time: test refusal, not the limit
            event = {"index": [8, 4], "value": 1} if name.endswith(".select") else None
            answer = _call(app_url, fn, data, f"attacker{number}{fn}", event)
            if name == "timer.tick":
                output = answer["output"]["data"]
                assert answer["success"] and output[0] is None and "Ada" not in json.dumps(output), output
            elif name == "board.tick":  # the leaderboard's tick: nothing shown, nothing changed
                output = answer["output"]["data"]
                assert answer["success"] and output == [{"__type__": "update"}], output
            else:
                assert answer["success"] is False, (name, answer)
                assert answer["output"]["error"] == t("class.msg.refused"), (name, answer)  # the key check's refusal
                assert "Ada" not in json.dumps(answer) and "api" not in json.dumps(answer.get("output", {}))
    assert class_db.count(info.code) == 1 and class_db.get_class(info.code) is not None
    # The right key through the same door works, so the refusals above are the key check's
    fn = events["class-open.click"]
    answer = _call(app_url, fn, _inputs(config, fn, {"class-dash-code": info.code, "class-dash-key": key,
                                                     "class-model": "digitnet"}), "teacher1")
    assert answer["success"] is True and "Ada" in json.dumps(answer["output"])


# ---------------------------------------------------------------------------------------------
# The limits themselves: atomic, bounded, keyed on the address the proxy saw, a budget for everyone


def test_parallel_tries_from_one_address_stay_within_its_limit():
    import threading

    guard = security.Guard()
    start, passed = threading.Barrier(40), []

    def key_try():
        start.wait()
        if guard.try_key("10.7.0.1", "ABCDEFGH") == 0:
            passed.append(1)

    threads = [threading.Thread(target=key_try) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == security.KEY_FAILURES_PER_WINDOW


def test_a_limiter_holds_a_bounded_number_of_keys_whatever_it_is_asked_about():
    limiter = security.RateLimiter(3, capacity=500)
    for n in range(20_000):
        limiter.take(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
        limiter.allow(f"fresh-{n}")  # asking does not make an entry
    assert len(limiter) <= 500
    guard = security.Guard()
    assert all(limiter.capacity <= security.LIMITER_KEYS for limiter in
               (guard.join_failures, guard.key_failures, guard.class_key_failures, guard.creates))


def test_a_success_gives_its_try_back():
    guard = security.Guard()
    for _ in range(100):
        assert guard.try_join("10.8.0.1") == 0
        guard.joined("10.8.0.1")  # 100 students of one school joining: never limited
    for _ in range(security.JOIN_FAILURES_PER_WINDOW):
        assert guard.try_join("10.8.0.1") == 0
    assert guard.try_join("10.8.0.1") > 0


def test_rotating_addresses_share_one_global_budget_that_spares_addresses_that_succeeded():
    guard = security.Guard()
    guard.try_join("192.0.2.5")
    guard.joined("192.0.2.5")  # a school whose students joined earlier
    tried = [guard.try_join(f"10.{n // 256}.{n % 256}.1") == 0 for n in range(security.GLOBAL_JOIN_FAILURES + 50)]
    assert sum(tried) == security.GLOBAL_JOIN_FAILURES
    assert guard.try_join("10.200.0.1") > 0  # a new address must wait
    assert guard.try_join("192.0.2.5") == 0  # the school still joins
    for n in range(security.GLOBAL_KEY_FAILURES + 20):
        guard.try_key(f"10.{n // 256}.{n % 256}.9", None)
    assert guard.try_key("10.201.0.1", None) > 0
    created = [guard.try_create(f"10.{n // 256}.{n % 256}.7") == 0 for n in range(security.GLOBAL_CREATES_PER_HOUR + 30)]
    assert sum(created) == security.GLOBAL_CREATES_PER_HOUR


@pytest.mark.parametrize("socket, forwarded, hops, expected", [
    ("127.0.0.1", [], 0, "127.0.0.1"),
    ("127.0.0.1", ["6.6.6.6"], 0, "127.0.0.1"),  # no trusted proxy: the header is the client's own words
    ("10.0.0.2", ["6.6.6.6, 198.51.100.9"], 1, "198.51.100.9"),  # the proxy's hop, not the forged first one
    ("10.0.0.2", ["6.6.6.6", "198.51.100.9"], 1, "198.51.100.9"),  # two header lines are one list
    ("10.0.0.2", ["6.6.6.6, 198.51.100.9, 10.0.0.3"], 2, "198.51.100.9"),  # two proxies: the outer one's
    ("10.0.0.2", ["198.51.100.9"], 2, "198.51.100.9"),
    ("10.0.0.2", [], 1, "10.0.0.2"),
    ("10.0.0.2", ["x, 2001:db8:1:2:3:4:5:6"], 1, "2001:db8:1:2::/64"),  # a whole /64 is one household
    ("10.0.0.2", ["[2001:db8::1]:443"], 1, "2001:db8::/64"),
    ("10.0.0.2", ["::ffff:198.51.100.9"], 1, "198.51.100.9"),
    ("10.0.0.2", ["198.51.100.9:5555"], 1, "198.51.100.9"),
    ("10.0.0.2", ["junk" * 40], 1, ("junk" * 40)[:64]),
])
def test_the_client_address_is_the_one_the_trusted_proxy_saw(socket, forwarded, hops, expected):
    assert addresses.resolve(socket, forwarded, hops) == expected


def test_trusted_proxies_come_from_the_environment(environment):
    environment(MNIST_DEMO_TRUSTED_PROXIES=None, SPACE_ID=None, MNIST_DEMO_TRUST_PROXY=None)
    assert addresses.trusted_proxies() == 0
    environment(SPACE_ID="me/app")
    assert addresses.trusted_proxies() == 1
    environment(MNIST_DEMO_TRUSTED_PROXIES=2)
    assert addresses.trusted_proxies() == 2
