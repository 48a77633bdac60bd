"""Issue 18's probes against the real app (`python app.py`, the proxy trusted as on a Space), each sent as a hostile
script sends it: through /gradio_api by event number, fresh session hashes, forged X-Forwarded-For hops. Each test
asserts what its probe must show now; bench/results/class_attack_before.md has what the same probes showed before.
"""

from __future__ import annotations

import pytest

from mnist_demo.classroom import security
from tests import class_probes as probes
from tests.harness import Script, serve_subprocess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    state = tmp_path_factory.mktemp("attack-state")
    with serve_subprocess(env={**probes.PROXY_ENV, "MNIST_DEMO_STATE": str(state)}, timeout_s=240) as app:
        yield probes.Classroom(Script(app.url))


@pytest.fixture(scope="module")
def classes(room):
    """Two classes opened by a teacher (code, key) each."""
    teacher = probes.hash_()
    room.s.page_load(teacher, probes.via("192.0.2.1"))
    opened = [room.create(teacher, probes.via("192.0.2.1"), title) for title in ("class A", "class B")]
    assert all(answer == "ok" for answer, _, _ in opened), opened
    return [(code, key) for _, code, key in opened]


def test_the_gate_refuses_what_gradio_would_read_otherwise(room, classes):
    (code, key), _ = classes
    found = probes.gate(room, code, key)
    assert found["escaped_fn_index"].startswith("refused 403")
    assert found["duplicate_session_hash"].startswith("refused 400")
    assert found["fresh_hash_with_heartbeat"].startswith("refused 403")
    assert found["private_event_by_name_without_fn_index"].endswith("HTTP 403")
    assert found["sessionless_exports"] == "0 of 5 answered, 0 temporary folders left"
    assert probes.config_paths(room.s)["absolute_paths_in_config"] == []
    assert probes.uploads_in_one_request(room)["status"] == 413  # 50 files of 1 MB in one request
    filled = probes.queue_fill(room)  # before: 262 of 400 queued, the queue of 256 full
    assert filled["queued"] < 100 and filled["refused"], filled


def test_forged_first_hops_neither_multiply_guesses_nor_lock_a_school_out(room, classes):
    (code, _), _ = classes
    assert probes.forged_guesses(room, 40)["not_rate_limited"] == security.JOIN_FAILURES_PER_WINDOW
    assert probes.lockout(room, code)["school_student_join"] == "ok"


def test_page_loads_from_one_address_push_no_student_out(room, classes):
    (code, _), _ = classes
    found = probes.eviction(room, code, loads=210)
    assert found["first_save"] == "ok" and found["save_after_loads"] == "ok", found


def test_a_student_whose_session_is_lost_keeps_their_drawings(room, classes):
    """Page loads from more addresses than Gradio keeps sessions: the student's tab is pushed out; its reload
    brings the same student back (the browser's token), who saves and sees both drawings."""
    (code, _), _ = classes
    found = probes.eviction(room, code, loads=520, rotate_real=True)
    assert found["first_save"] == "ok", found
    if found["save_after_loads"] != "ok":  # pushed out: the page asks for a reload
        assert "Reload the page" in found["save_after_loads"]
        assert found["save_after_reload"] == "ok", found
        assert "**2 drawings**" in found["count_line_after_reload"], found


def test_heartbeats_of_hashes_that_never_loaded_the_page_make_no_session(room, classes):
    (code, _), _ = classes
    found = probes.heartbeat_eviction(room, code, count=16, threads=16)
    assert found["streamed"] == 0 and found["save_after"] == "ok", found


def test_a_flood_from_one_address_leaves_room_for_the_class(room, classes):
    _, (code_b, _) = classes
    assert "does not look like a handwritten digit" in probes.noise_ink(room, code_b)["noise_save"]
    found = probes.flood(room, code_b, pairs=security.JOINS_PER_ADDRESS_PER_MINUTE + 20)
    assert found["saved"] <= security.JOINS_PER_ADDRESS_PER_MINUTE, found
    assert found["real_student_save"] == "ok", found


def test_a_class_of_200_behind_one_school_address_works_through_the_app(room):
    """docs/class_mode.md's limits let a real class work: 200 students behind one NAT address open the page, join
    (those over the per-minute pace press Join again a minute later) and each give a drawing."""
    teacher = probes.hash_()
    room.s.page_load(teacher, probes.via("192.0.2.2"))
    answer, code, _ = room.create(teacher, probes.via("192.0.2.2"), "class of 200")
    assert answer == "ok", answer
    found = probes.school_class(room, code, students=200)
    assert found["joined"] == found["saved"] == found["distinct_places"] == 200, found
    assert found["join_rounds"] <= 3, found


def test_rotating_real_addresses_share_one_budget(room, classes):
    """Last: once everyone's budget of failed joins is spent, new addresses wait (docs/class_mode.md)."""
    found = probes.rotating_guesses(room, security.GLOBAL_JOIN_FAILURES + 20)
    assert found["not_rate_limited"] <= security.GLOBAL_JOIN_FAILURES
    assert probes.creations(room, 20)["created"] == security.CREATES_PER_WINDOW  # forged hops: one address
    assert probes.creations(room, security.GLOBAL_CREATES_PER_HOUR + 10, rotate_real=True)["created"] <= (
        security.GLOBAL_CREATES_PER_HOUR - security.CREATES_PER_WINDOW)
