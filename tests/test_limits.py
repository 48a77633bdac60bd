"""Bounded stores and work: models per session and across sessions, temporary files, the open-tab
index, the request gate, the unload that waits for a sign of life, and trainings that never run
on unwatched (the cancel race, each run's own stop flag)."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
import weakref
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from torch import nn

from mnist_demo.ui import guard, session, train_tab
from mnist_demo.ui.app import build_app, launch_options
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import ModelLedger, Session, Sessions
from tests.harness import run_coroutine

CARD = {"model": "s5-lenet", "title": "LeNet", "dataset": "mnist"}


# --- models, files, sessions ------------------------------------------------------------------------


def test_a_session_keeps_its_newest_models_and_names_the_dropped(tmp_path):
    s = Session()
    entries = [s.keep(nn.Linear(1, 1), CARD) for _ in range(session.MAX_SESSION_MODELS)]
    assert all(not dropped for _, dropped in entries)
    files = [tmp_path / "old.safetensors"]
    files[0].write_bytes(b"x")
    s.keep_files(entries[0][0].key, files)
    newest, dropped = s.keep(nn.Linear(1, 1), CARD)
    assert [e.key for e in dropped] == [entries[0][0].key] and not files[0].exists()
    assert list(s.trained) == [e.key for e, _ in entries[1:]] + [newest.key]
    message = train_tab.dropped_note(dropped, "zh")
    assert dropped[0].card["title"] in message and message.startswith("为腾出空间")


def test_all_sessions_together_hold_at_most_the_global_cap():
    ledger = ModelLedger(4)
    alice, bob = Session(ledger=ledger), Session(ledger=ledger)
    a1, _ = alice.keep(nn.Linear(1, 1), CARD)
    a2, _ = alice.keep(nn.Linear(1, 1), CARD)
    for _ in range(3):
        bob.keep(nn.Linear(1, 1), CARD)
    assert a1.key not in alice.trained and a2.key in alice.trained  # the oldest anywhere went first
    assert len(ledger) == 4 and len(bob.trained) == 3
    alice.close()
    assert len(ledger) == 3


def test_the_app_holds_its_sessions_under_its_own_cap():
    tabs = Sessions(max_held_models=2)
    first, second = (tabs.open_session(SimpleNamespace(session_hash=h)) for h in ("one", "two"))
    kept = [first.keep(nn.Linear(1, 1), CARD)[0], second.keep(nn.Linear(1, 1), CARD)[0]]
    second.keep(nn.Linear(1, 1), CARD)
    assert first.ledger is tabs.ledger and kept[0].key not in first.trained and len(tabs.ledger) == 2


def test_a_session_gradio_drops_silently_takes_its_files_and_index_entry_with_it():
    request, tabs = SimpleNamespace(session_hash="evicted-tab"), Sessions()
    s = tabs.open_session(request)
    folder = s.workdir()
    (folder / "model.safetensors").write_bytes(b"x")
    assert tabs.is_open("evicted-tab")
    ref = weakref.ref(s)
    del s  # Gradio's session LRU evicts without calling delete_callback: the last reference goes
    gc.collect()
    assert ref() is None and not folder.exists() and not tabs.is_open("evicted-tab")


def test_loading_the_same_hash_again_closes_the_earlier_session():
    request, tabs = SimpleNamespace(session_hash="reused"), Sessions()
    first = tabs.open_session(request)
    second = tabs.open_session(request)
    assert first.closed and not second.closed and tabs.is_open("reused")


# --- the unload: only a tab that went away ----------------------------------------------------------


def _unload(tabs: Sessions, session_hash: str, during_grace=None) -> None:
    async def go():
        await tabs.close_closed_tab(SimpleNamespace(session_hash=session_hash))  # returns at once
        await asyncio.sleep(0.01)
        if during_grace:
            during_grace()
        await asyncio.gather(*set(tabs._closing))

    run_coroutine(go())


def test_an_unload_closes_a_tab_that_shows_no_sign_of_life(monkeypatch):
    monkeypatch.setattr(session, "UNLOAD_GRACE_SECONDS", 0.1)
    tabs = Sessions()
    s = tabs.open_session(SimpleNamespace(session_hash="gone"))
    _unload(tabs, "gone")
    assert s.closed and not tabs.is_open("gone")


@pytest.mark.parametrize("sign", ["request", "stream"])
def test_an_unload_from_a_dropped_connection_leaves_a_live_tab_open(monkeypatch, sign):
    monkeypatch.setattr(session, "UNLOAD_GRACE_SECONDS", 0.1)
    tabs = Sessions()  # its watch: what the request gate sees of the tab
    s = tabs.open_session(SimpleNamespace(session_hash=f"alive-{sign}"))
    if sign == "stream":  # e.g. a heartbeat opened again
        _unload(tabs, f"alive-{sign}", lambda: tabs.watch.opened(f"alive-{sign}", heartbeat=True))
        tabs.watch.closed(f"alive-{sign}", heartbeat=True)
    else:  # it sent a request after the unload: the tab is still there
        _unload(tabs, f"alive-{sign}", lambda: tabs.watch.touch(f"alive-{sign}"))
    assert not s.closed and tabs.is_open(f"alive-{sign}")


# --- the request gate -------------------------------------------------------------------------------


@pytest.fixture
def gated():
    gate = guard.Gate(events={0, 1, 2}, open_events={0}, event_names={"predict": 0, "on_secret": 1},
                      known_session=lambda h: h in ("loaded", "tab"))
    watch = gate.watch

    async def echo(request):
        return JSONResponse({"size": len(await request.body())})

    async def heartbeat(request):
        async def beat():
            yield b"data: ALIVE\n\n"
            assert watch.alive("tab", since=watch.now())  # the stream is open while it streams
        return StreamingResponse(beat(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/gradio_api/run/{name}", echo, methods=["POST"]),
                            Route("/gradio_api/call/{name}", echo, methods=["POST"]),
                            Route("/gradio_api/component_server", echo, methods=["POST"]),
                            Route("/gradio_api/queue/join", echo, methods=["POST"]),
                            Route("/gradio_api/upload", echo, methods=["POST"]),
                            Route("/gradio_api/heartbeat/{h}", heartbeat)],
                    middleware=[Middleware(guard.Guard, gate=gate, max_body=1000)])
    return TestClient(app), gate


def test_the_gate_bounds_bodies_before_they_are_parsed(gated):
    client, _ = gated
    assert client.post("/gradio_api/run/predict", content=b"x" * 2000).status_code == 413
    assert client.post("/gradio_api/queue/join", content=iter([b"x" * 600, b"x" * 600])).status_code == 413
    assert client.post("/gradio_api/run/predict", content=b"{}").json() == {"size": 2}
    assert client.post("/gradio_api/upload", content=b"x" * 2000).status_code == 200  # Gradio's own limit


def test_the_gate_refuses_unknown_events_and_hashes_that_never_loaded_the_page(gated):
    client, gate = gated
    watch = gate.watch

    def call(fn, session_hash):
        return client.post("/gradio_api/run/predict",
                           content=f'{{"data": [], "fn_index": {fn}, "session_hash": "{session_hash}"}}').status_code

    assert call(7, "loaded") == 404 and call(-1, "loaded") == 404
    assert call(1, "fresh") == 403 and call(1, "loaded") == 200
    assert call(0, "fresh") == 200  # the page load (and the public API) are open to anyone
    assert watch.alive("fresh", since=watch.now() - 5)  # every request is a sign of life
    assert client.post("/gradio_api/run/predict", content=b"x" * 2000).json()["error"]  # clients read "error"


def test_the_gate_sees_open_streams(gated):
    client, gate = gated
    watch = gate.watch
    assert client.get("/gradio_api/heartbeat/tab").status_code == 200
    assert not watch.alive("tab", since=watch.now())  # closed again


# --- the app's limits -------------------------------------------------------------------------------


def test_only_the_page_load_creates_sessions_and_only_predict_is_public():
    demo = build_app()
    states = [block for block in demo.blocks.values() if block.__class__.__name__ == "State"]
    assert states and not any(callable(s.value) for s in states)  # no session factory becomes an endpoint
    public = [fn.name for fn in demo.fns.values() if fn.api_visibility == "public"]
    assert public == ["predict_api"]
    assert demo._queue.max_size and demo.api_open is False and demo.delete_cache
    options = launch_options(demo)
    assert options["state_session_capacity"] <= 1000 and options["max_file_size"] <= 20_000_000
    (gate,) = [m.kwargs["gate"] for m in options["app_kwargs"]["middleware"] if m.cls is guard.Guard]
    assert gate is demo.gate and gate.known_session == demo.sessions.is_open and gate.watch is demo.sessions.watch
    assert gate.events == set(demo.fns) and gate.open_events == {gate.page_load, *[
        i for i, fn in demo.fns.items() if fn.api_visibility == "public"]}


# --- the Train tab: a cancel at any point stops the job; each run has its own flag ------------------


class FakeJob:
    """Stands in for TrainingJob: records its stop flag, finishes when told."""

    made: list[FakeJob] = []

    def __init__(self, spec, stop, session=None, address=None):
        self.stop, self.done = stop, threading.Event()
        FakeJob.made.append(self)

    def start(self):
        return self

    def snapshot(self):
        state = "cancelled" if self.done.is_set() else "running"
        return SimpleNamespace(state=state, version=int(self.done.is_set()), queue_position=0, queue_seconds=0.0,
                               trainings_running=1,
                               latest=None, images_per_sec=0.0, curve=(), test_curve=(), result=None, error=None,
                               finished=self.done.is_set())


GOOD = train_tab.Settings("fastnet", "mnist", "fast", "adamw", 0.01, 0.9, 128, 1, 2000, "digits", 0)


@pytest.fixture
def fake_jobs(monkeypatch):
    FakeJob.made = []
    monkeypatch.setattr(train_tab, "TrainingJob", FakeJob)
    monkeypatch.setattr(train_tab, "UPDATE_SECONDS", 0.01)
    return FakeJob.made


def _start(tab, s):
    values = {tab.session: s, tab.lang: "en", tab.models_changed: 0}
    values.update({getattr(tab, f.name): getattr(GOOD, f.name) for f in dataclasses.fields(GOOD)})
    return train_tab.run(tab, values)


def _tab():
    return train_tab.TrainTab(**{f.name: object() for f in dataclasses.fields(train_tab.TrainTab)})


def test_a_cancel_at_the_first_update_stops_the_job(fake_jobs):
    tab, s = _tab(), Session()

    async def go():
        run = _start(tab, s)
        first = await run.__anext__()  # the job exists; the page is told it started
        assert first[tab.stop]["interactive"] is True
        await run.aclose()  # Gradio cancels the event here (the tab went away, the user cancelled)

    run_coroutine(go())
    (job,) = fake_jobs
    assert job.stop.is_set() and not s.training and s.run_stop is None


def test_a_cancel_while_streaming_stops_the_job(fake_jobs, monkeypatch):
    monkeypatch.setattr(train_tab, "UPDATE_SECONDS", 1.0)  # the cancel comes while it waits to poll
    tab, s = _tab(), Session()

    async def go():
        run = _start(tab, s)
        await run.__anext__()
        task = asyncio.ensure_future(run.__anext__())  # polling, waiting for the next snapshot
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_coroutine(go())
    assert fake_jobs[0].stop.is_set() and not s.training


def test_each_run_has_its_own_stop_flag_and_a_restart_never_unstops_an_earlier_one(fake_jobs):
    tab, s = _tab(), Session()

    async def go():
        first = _start(tab, s)
        await first.__anext__()
        assert train_tab.request_stop(s, "en") == t("train.stopping")
        fake_jobs[0].done.set()  # it ends (cancelled while queued)
        async for _ in first:
            pass
        second = _start(tab, s)
        await second.__anext__()
        assert fake_jobs[0].stop is not fake_jobs[1].stop
        assert fake_jobs[0].stop.is_set() and not fake_jobs[1].stop.is_set()  # the restart left run 1 stopped
        assert s.run_stop is fake_jobs[1].stop  # Stop now addresses the second run only
        s.close()  # closing the tab stops the current run
        assert fake_jobs[1].stop.is_set()
        await second.aclose()

    run_coroutine(go())


def test_an_open_heartbeat_alone_does_not_make_a_hash_known(gated, monkeypatch):
    _, app_gate = gated
    gate, watch = guard.Guard(None, app_gate), app_gate.watch
    watch.opened("racing-tab", heartbeat=True)  # anyone can open one: it is no proof of a page load
    assert not gate._known("racing-tab")
    monkeypatch.setattr(guard, "HEARTBEAT_WAIT_SECONDS", 0.3)
    assert not run_coroutine(gate._becomes_known("racing-tab"))
    loaded = set()
    app_gate.known_session = lambda h: h in loaded

    async def load_lands_soon():  # a real page: its load event lands while its first event waits
        waiting = asyncio.ensure_future(gate._becomes_known("racing-tab"))
        await asyncio.sleep(0.1)
        loaded.add("racing-tab")
        return await waiting

    assert run_coroutine(load_lands_soon())


def test_the_gate_reads_the_call_as_gradio_will(gated, monkeypatch):
    client, _ = gated

    def post(body: str, path: str = "/gradio_api/queue/join") -> int:
        return client.post(path, content=body.encode(), headers={"content-type": "application/json"}).status_code

    assert post('{"data": [], "fn\\u005findex": 1, "session_hash": "fresh"}') == 403  # an escaped key is the key
    assert post('{"data": [], "fn_index": 1, "session_hash": "loaded", "session_hash": "fresh"}') == 400  # twice
    assert post('{"data": [], "fn_index": 1, "fn_index": 0, "session_hash": "fresh"}') == 400
    for odd in ('"1"', "1.0", "true", "[1]"):  # pydantic turns some of these into 1
        assert post(f'{{"data": [], "fn_index": {odd}, "session_hash": "loaded"}}') == 400, odd
    assert post('{"data": [], "fn_index": 1, "session_hash": 5}') == 400
    assert post('[1, 2]') == 400 and post("{not json") == 400 and post("[" * 990) == 400
    # No fn_index: Gradio finds the event by the name in the path
    assert post('{"data": [], "session_hash": "fresh"}', "/gradio_api/run/on_secret") == 403
    assert post('{"data": [], "session_hash": "loaded"}', "/gradio_api/run/on_secret") == 200
    assert post('{"data": []}', "/gradio_api/call/on_secret") == 403
    assert post('{"data": []}', "/gradio_api/run/predict") == 200  # the public API stays open
    assert post('{"data": []}', "/gradio_api/run/no_such_thing") == 404
    # Gradio makes a session for a component_server call's hash too
    assert post('{"session_hash": "fresh", "component_id": 1, "fn_name": "x", "data": null}',
                "/gradio_api/component_server") == 403
    assert post('{"data": [], "fn_index": 1, "session_hash": "loaded"}') == 200


def test_a_heartbeat_of_a_hash_that_never_loads_the_page_is_refused(gated, monkeypatch):
    client, _ = gated
    monkeypatch.setattr(guard, "HEARTBEAT_WAIT_SECONDS", 0.2)
    assert client.get("/gradio_api/heartbeat/fresh").status_code == 404  # its end would make a Gradio session
    assert client.get("/gradio_api/heartbeat/tab").status_code == 200


def test_page_loads_and_uploads_are_limited_per_address_the_proxy_saw(gated, monkeypatch, environment):
    client, gate = gated
    gate.page_load = 0
    monkeypatch.setattr(guard, "PAGE_LOADS_PER_WINDOW", 5)
    monkeypatch.setattr(guard, "UPLOADS_PER_WINDOW", 3)
    environment(MNIST_DEMO_TRUSTED_PROXIES=1)

    def load(session_hash: str, forwarded: str) -> int:
        return client.post("/gradio_api/run/predict", headers={"x-forwarded-for": forwarded},
                           content=f'{{"data": [], "fn_index": 0, "session_hash": "{session_hash}"}}').status_code

    assert [load(f"new{i}", f"6.6.6.{i}, 198.51.100.9") for i in range(7)] == [200] * 5 + [429] * 2
    assert load("another", "198.51.100.10") == 200  # another address
    assert load("loaded", "198.51.100.9") == 200  # the same tab again is no new session
    uploads = [client.post("/gradio_api/upload", headers={"x-forwarded-for": f"7.7.7.{i}, 198.51.100.9"},
                           content=b"x").status_code for i in range(4)]
    assert uploads == [200] * 3 + [429]


def test_uploads_are_bounded_in_bytes_per_request_per_address_and_for_everyone(gated, monkeypatch, environment):
    """Gradio takes up to 1,000 files of max_file_size in one upload request: the gate bounds the bytes, not only
    the requests (issue 18's probe: 50 files of 1 MB in one request were all kept)."""
    client, _ = gated
    environment(MNIST_DEMO_TRUSTED_PROXIES=1)
    monkeypatch.setattr(guard, "UPLOAD_MB_PER_WINDOW", 5)
    monkeypatch.setattr(guard, "GLOBAL_UPLOAD_MB_PER_WINDOW", 8)

    def upload(body, address: str = "198.51.100.9") -> int:
        return client.post("/gradio_api/upload", headers={"x-forwarded-for": address}, content=body).status_code

    assert upload(b"x" * (guard.MAX_UPLOAD_REQUEST_BYTES + 1)) == 413  # one request of many files
    assert upload(iter([b"x" * 10])) == 411  # a streamed body that does not say its size
    assert [upload(b"x" * 2 * guard.MB) for _ in range(3)] == [200, 200, 429]  # 4 of the address's 5 MB
    assert upload(b"x" * guard.MB) == 200  # a smaller one still fits
    assert [upload(b"x" * guard.MB, f"10.0.0.{i}") for i in range(4)] == [200, 200, 200, 429]  # everyone's 8 MB


def test_one_address_cannot_open_as_many_sessions_as_gradio_keeps():
    from mnist_demo.ui import app

    assert app.MAX_SESSIONS >= 2 * guard.PAGE_LOADS_PER_WINDOW


def test_one_session_or_one_address_cannot_fill_the_queue(monkeypatch, environment):
    environment(MNIST_DEMO_TRUSTED_PROXIES=1)

    def request(address: str):
        return SimpleNamespace(client=SimpleNamespace(host="10.0.0.1"),
                               headers=SimpleNamespace(getlist=lambda name: [f"6.6.6.6, {address}"]))

    def event(session_hash: str, address: str):
        return SimpleNamespace(session_hash=session_hash, request=request(address))

    pushed = []

    async def push(body, req, username):
        pushed.append(body.session_hash)
        line.queue.append(event(body.session_hash, req.headers.getlist("")[0].split(", ")[1]))
        return True, "id", "success"

    line = SimpleNamespace(queue=[])
    queue = SimpleNamespace(event_queue_per_concurrency_id={"x": line}, active_jobs=[None], push=push)
    guard.bound_queue(queue, per_session=3, per_address=5)

    def join(session_hash: str, address: str) -> str:
        return run_coroutine(queue.push(SimpleNamespace(session_hash=session_hash), request(address), None))[2]

    assert [join("tab", "198.51.100.9") for _ in range(4)] == ["success"] * 3 + ["queue_full"]
    assert [join(f"tab{n}", "198.51.100.9") for n in range(3)] == ["success"] * 2 + ["queue_full"]
    assert join("elsewhere", "198.51.100.10") == "success"
    line.queue.clear()  # the events ran
    assert join("tab", "198.51.100.9") == "success"


def test_the_app_bounds_its_queue_per_session_and_address():
    demo = build_app()
    assert demo._queue.push.__name__ == "bounded"
