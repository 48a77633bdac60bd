"""A script rotating session hashes cannot fill the training line: through the real app's /gradio_api, each
fresh hash loads the page (a new session) and presses the Train tab's Start by event number; its address holds
a few places, and a real class behind one school address still queues all its students' runs."""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest

from mnist_demo.classroom.service import Classroom
from mnist_demo.classroom.store import ClassStore
from mnist_demo.training import slots as slots_module
from mnist_demo.training.slots import TrainingSlots
from tests.harness import Script, default_inputs, serve_in_process

PER_ADDRESS = 4


@pytest.fixture
def busy_line(monkeypatch):
    """The process's shared training line with its one slot taken, so nothing queued here starts a process."""
    line = TrainingSlots(1, max_waiting=200, horizon=900.0, per_address=PER_ADDRESS)
    monkeypatch.setattr(slots_module, "_shared", line)
    blocker = line.join("blocker", cost=120.0)  # on time for the whole test: no sign of a slow machine
    yield line
    blocker.release()


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_queue_script_rotating_session_hashes_holds_its_address_share(busy_line, tmp_path):
    room = Classroom(ClassStore(tmp_path / "state"))
    with serve_in_process(classroom=room) as app:
        script = Script(app.url)
        start, stop = script.trigger("train-start"), script.trigger("train-stop")
        form = default_inputs(script.config, script.deps.index(start), **{"train-subset": 2000, "train-epochs": 1})
        hashes = [secrets.token_hex(8) for _ in range(10)]
        answers: dict[str, object] = {}

        def press_start(session_hash: str) -> None:
            script.page_load(session_hash)  # a fresh session, as a page (or a script) opens one
            answers[session_hash] = script.queued(start, form, session_hash)

        threads = [threading.Thread(target=press_start, args=(h,), daemon=True) for h in hashes]
        for thread in threads:
            thread.start()
        # The script's address keeps PER_ADDRESS places; every other hash is refused with why, at once
        wait_for(lambda: len(answers) == len(hashes) - PER_ADDRESS and busy_line.waiting == PER_ADDRESS)
        refusals = [json.dumps(answer) for answer in answers.values()]
        assert all("the most one address may have" in text for text in refusals), refusals[0][:500]

        # A real class of 30 behind one school address: every student's run takes its place in line
        info, _ = room.store.create_class("everyone trains")
        students = [room.join(info.code, "192.0.2.7")[0] for _ in range(30)]
        runs = [room.start_run(student, {}, f"s{i}") for i, student in enumerate(students)]
        assert [run.job.snapshot().state for run in runs] == ["queued"] * 30
        assert busy_line.waiting == PER_ADDRESS + 30

        for run in runs:
            room.runs.cancel(run.code, run.student)
        waiting = [h for h in hashes if h not in answers]
        for session_hash in waiting:  # the script's Stop button: its waiting trainings leave the line
            script.run(stop, default_inputs(script.config, script.deps.index(stop)), session_hash)
        wait_for(lambda: busy_line.waiting == 0 and len(answers) == len(hashes))
        for thread in threads:
            thread.join(10)
    room.store.close()
