"""The issue-18 probes: class mode as a hostile script attacks it, through /gradio_api by event number with fresh
session hashes and forged headers, against the real app served with the proxy trusted (as on a Space). Each probe
returns its figures; bench/class_attack.py runs them all and writes the before/after table, and
tests/test_class_attack.py runs them and asserts what they must show.

On a Space the proxy appends the address it saw to X-Forwarded-For; everything left of it was written by the
client. Here the script plays both: `via(forged, real)` is the header a client forging `forged` sends
through a proxy that saw `real`.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mnist_demo.handwriting import render_payload
from tests.harness import DIGITS, ROOT, Script, answer_of

ATTACKER = "203.0.113.7"  # the address the proxy sees for the script
SCHOOL = "198.51.100.9"
FLOODER = "203.0.113.50"  # the flood's and the class creations' own addresses (each probe's limits its own)
CREATOR = "203.0.113.60"  # a school's NAT address
PROXY_ENV = {"MNIST_DEMO_TRUST_PROXY": "1"}
def limited(answer: str) -> bool:
    """A rate limit's answer (the failed-tries limits, the per-minute pace, the gate's per-address limits)."""
    return any(words in answer for words in ("Too many", "Many drawings or joins", "429"))
PAYLOADS = {d: render_payload(DIGITS[d]) for d in range(10)}


def via(*hops: str) -> dict[str, str]:
    """The X-Forwarded-For header of a request whose hops are these, the proxy's own (the real one) last."""
    return {"X-Forwarded-For": ", ".join(hops)}


def hash_() -> str:
    return secrets.token_hex(8)


def parallel(tasks, threads: int = 4) -> list:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda task: task(), tasks))


class Classroom:
    """The Class tab's events as a script calls them."""

    def __init__(self, script: Script) -> None:
        self.s = script
        self.create_dep = script.trigger("class-create")
        self.join_dep = script.trigger("class-join-go")
        self.give_deps = [script.trigger(f"class-teach-{d}") for d in range(10)]
        self.open_dep = script.trigger("class-open")
        self.export_dep = script.trigger("class-export")

    def create(self, session_hash: str, headers: dict, title: str = "probe") -> tuple[str, str | None, str | None]:
        """(outcome, code, key) of opening a class."""
        message = self.s.queued(self.create_dep, self.s.inputs(self.create_dep, {"class-title": title}, {"radio": "en"}),
                                session_hash, headers)
        answer = answer_of(message)
        if answer != "ok":
            return answer, None, None
        data = message["output"]["data"]
        strings = [v for v in data if isinstance(v, str)]
        code = next(v for v in strings if len(v) == 9 and v[4] == "-")
        key = data[-1]
        return answer, code, key

    def join(self, code: str, session_hash: str, headers: dict) -> tuple[str, dict]:
        """(outcome, what the browser would store from the answer: input type -> value)."""
        message = self.s.queued(self.join_dep, self.s.inputs(self.join_dep, {"class-join": code}, {"radio": "en"}),
                                session_hash, headers)
        return answer_of(message), self.stored(self.join_dep, message)

    def stored(self, dep: dict, message) -> dict:
        """Browser-storage outputs of an answer (what a page would keep across reloads)."""
        if not isinstance(message, dict) or not message.get("success"):
            return {}
        kept = {}
        for output, value in zip(dep["outputs"], message["output"]["data"], strict=False):
            if self.s.types[output] == "browserstate" and isinstance(value, str):
                kept["browserstate"] = value
        return kept

    def give(self, digit: int, session_hash: str, headers: dict, payload: str | None = None,
             stored: dict | None = None) -> str:
        dep = self.give_deps[digit]
        data = self.s.inputs(dep, {"class-canvas": payload or PAYLOADS[digit]}, {"radio": "en", "textbox": "",
                                                                                **(stored or {})})
        return answer_of(self.s.queued(dep, data, session_hash, headers))

    def give_answer(self, digit: int, session_hash: str, headers: dict, stored: dict | None = None) -> dict | None:
        dep = self.give_deps[digit]
        data = self.s.inputs(dep, {"class-canvas": PAYLOADS[digit]}, {"radio": "en", "textbox": "", **(stored or {})})
        return self.s.queued(dep, data, session_hash, headers)

    def student(self, code: str, address: str) -> tuple[str, dict]:
        """A page opened, then joined: (session hash, browser storage)."""
        session_hash = hash_()
        self.s.open_page(session_hash, via(address))
        answer, stored = self.join(code, session_hash, via(address))
        assert answer == "ok", answer
        return session_hash, stored


def guessed_code() -> str:
    from mnist_demo.classroom.security import new_code, pretty_code

    return pretty_code(new_code())


# --- the probes ------------------------------------------------------------------------------------


def forged_guesses(room: Classroom, tries: int = 60) -> dict:
    """Wrong class codes, each with a new forged first X-Forwarded-For hop, all from one real address."""
    def guess(i: int):
        def task():
            session_hash = hash_()
            headers = via(f"10.{i // 250}.{i % 250}.1", ATTACKER)
            room.s.page_load(session_hash, headers)
            return room.join(guessed_code(), session_hash, headers)[0]
        return task

    started = time.monotonic()
    answers = parallel([guess(i) for i in range(tries)])
    seconds = time.monotonic() - started
    unlimited = sum(not limited(a) for a in answers)
    return {"tries": tries, "not_rate_limited": unlimited, "seconds": round(seconds, 1),
            "guesses_per_s": round(unlimited / seconds, 1)}


def lockout(room: Classroom, code: str) -> dict:
    """30 failed joins naming the school's address as the first hop; then a student at the school joins."""
    for _ in range(30):
        session_hash = hash_()
        room.s.page_load(session_hash, via(SCHOOL, ATTACKER))
        room.join(guessed_code(), session_hash, via(SCHOOL, ATTACKER))
    session_hash = hash_()
    room.s.page_load(session_hash, via(SCHOOL))
    return {"school_student_join": room.join(code, session_hash, via(SCHOOL))[0]}


def rotating_guesses(room: Classroom, tries: int = 400) -> dict:
    """Wrong codes from many real addresses (a botnet): the proxy's hop itself rotates."""
    def guess(i: int):
        def task():
            session_hash = hash_()
            headers = via(f"10.77.{i // 250}.{i % 250}")
            room.s.page_load(session_hash, headers)
            return room.join(guessed_code(), session_hash, headers)[0]
        return task

    answers = parallel([guess(i) for i in range(tries)])
    return {"tries": tries, "not_rate_limited": sum(not limited(a) for a in answers)}


def creations(room: Classroom, count: int = 60, rotate_real: bool = False) -> dict:
    """Classes opened by one script, each with a new forged first hop (or a new real address)."""
    def create(i: int):
        def task():
            session_hash = hash_()
            address = f"10.88.{i // 250}.{i % 250}"
            headers = via(address) if rotate_real else via(address, CREATOR)
            room.s.page_load(session_hash, headers)
            return room.create(session_hash, headers)[0]
        return task

    answers = parallel([create(i) for i in range(count)])
    return {"tries": count, "created": answers.count("ok")}


def eviction(room: Classroom, code: str, loads: int = 210, rotate_real: bool = False) -> dict:
    """A joined student saves, a script makes `loads` page loads, the student saves again; if told to reload,
    the student's page reloads (with what the browser stored) and saves again."""
    student = "192.0.2.44"
    session_hash, stored = room.student(code, student)
    first = room.give(3, session_hash, via(student), stored=stored)

    def load(i: int):
        def task():
            address = f"10.99.{i // 250}.{i % 250}" if rotate_real else ATTACKER
            return room.s.page_load(hash_(), via(address)).status_code
        return task

    started = time.monotonic()
    statuses = parallel([load(i) for i in range(loads)])
    seconds = time.monotonic() - started
    after = room.give(7, session_hash, via(student), stored=stored)
    result = {"loads": loads, "loads_served": statuses.count(200), "seconds": round(seconds, 1),
              "first_save": first, "save_after_loads": after}
    if after != "ok":  # the page says "reload": the student reloads and tries again
        session_hash = hash_()
        room.s.open_page(session_hash, via(student), stored)
        message = room.give_answer(7, session_hash, via(student), stored)
        result["save_after_reload"] = answer_of(message)
        result["count_line_after_reload"] = (message or {}).get("output", {}).get("data", [None, None])[1] \
            if answer_of(message) == "ok" else None
    return result


def flood(room: Classroom, code: str, pairs: int = 208, address: str = FLOODER) -> dict:
    """Join+save pairs from one address (a new student each), then a real student from elsewhere."""
    def pair(i: int):
        def task():
            session_hash = hash_()
            room.s.page_load(session_hash, via(address))
            joined, stored = room.join(code, session_hash, via(address))
            if joined != "ok":
                return joined
            return room.give(i % 10, session_hash, via(address), stored=stored)
        return task

    started = time.monotonic()
    answers = parallel([pair(i) for i in range(pairs)])
    seconds = time.monotonic() - started
    real, stored = room.student(code, "192.0.2.77")
    return {"pairs": pairs, "saved": answers.count("ok"), "seconds": round(seconds, 1),
            "refusals": sorted({a[:60] for a in answers if a != "ok"}),
            "real_student_save": room.give(4, real, via("192.0.2.77"), stored=stored)}


def school_class(room: Classroom, code: str, students: int = 200, address: str = "198.51.100.200",
                 wait_s: float = 61.0) -> dict:
    """A real class behind one school NAT address: every student opens the page and joins at once, those asked to
    wait a minute press Join again a minute later (as the message says), then each gives one drawing."""
    def open_and_join(i: int):
        def task():
            session_hash = hash_()
            loaded = room.s.open_page(session_hash, via(address))[0]
            if getattr(loaded, "status_code", 200) != 200:
                return i, session_hash, f"page load: HTTP {loaded.status_code}", {}
            return (i, session_hash, *room.join(code, session_hash, via(address)))
        return task

    def join_again(i: int, session_hash: str):
        return lambda: (i, session_hash, *room.join(code, session_hash, via(address)))

    started = time.monotonic()
    answers = parallel([open_and_join(i) for i in range(students)], threads=8)
    rounds = 1
    while (waiting := [a for a in answers if a[2] != "ok"]) and rounds < 4:
        if any("Many drawings or joins" not in answer for _, _, answer, _ in waiting):
            break  # anything but the pace (a lockout, a refused page) is a failure: say it
        time.sleep(max(0.0, started + rounds * wait_s - time.monotonic()))
        answers = [a for a in answers if a[2] == "ok"] + parallel([join_again(i, h) for i, h, _, _ in waiting], 8)
        rounds += 1
    joined = [a for a in answers if a[2] == "ok"]
    joined_s = time.monotonic() - started
    saves = parallel([lambda i=i, h=h, stored=stored: room.give(i % 10, h, via(address), stored=stored)
                      for i, h, _, stored in joined], threads=8)
    return {"students": students, "joined": len(joined), "join_rounds": rounds, "joined_s": round(joined_s, 1),
            "saved": saves.count("ok"), "distinct_places": len({stored.get("browserstate") for *_, stored in joined}),
            "refusals": sorted({a[2][:60] for a in answers if a[2] != "ok"} | {a[:60] for a in saves if a != "ok"}),
            "seconds": round(time.monotonic() - started, 1)}


def noise_ink(room: Classroom, code: str) -> dict:
    """A save of random ink (the largest payload the canvas sends)."""
    import base64

    import numpy as np

    from mnist_demo.reading.files import MAX_PAYLOAD_SIDE

    ink = np.random.default_rng(0).integers(0, 256, (MAX_PAYLOAD_SIDE, MAX_PAYLOAD_SIDE), dtype=np.uint8)
    payload = json.dumps({"w": MAX_PAYLOAD_SIDE, "h": MAX_PAYLOAD_SIDE, "data": base64.b64encode(ink.tobytes()).decode(),
                          "final": True})
    session_hash, stored = room.student(code, "192.0.2.88")
    return {"noise_save": room.give(5, session_hash, via("192.0.2.88"), payload, stored)}


def gate(room: Classroom, code: str, key: str) -> dict:
    """Requests the gate should refuse: escaped keys, duplicate keys, a fresh hash with its heartbeat open,
    a private event by name without fn_index; the export without a session (temporary folders left)."""
    import httpx

    s = room.s
    known = hash_()
    s.page_load(known)
    dep = room.open_dep
    data = s.inputs(dep, {"class-dash-code": code, "class-dash-key": key, "class-model": "digitnet"}, {"radio": "en"})
    payload = json.dumps(data)

    def join_raw(body: str) -> str:
        answer = s.post("/gradio_api/queue/join", content=body.encode(), headers={"content-type": "application/json"})
        return "passed" if answer.status_code == 200 else f"refused {answer.status_code}"

    fresh = hash_()
    escaped = join_raw(f'{{"data": {payload}, "fn\\u005findex": {dep["id"]}, "session_hash": "{fresh}", '
                       '"event_data": null}')
    duplicate = join_raw(f'{{"data": {payload}, "fn_index": {dep["id"]}, "session_hash": "{known}", '
                         f'"session_hash": "{hash_()}", "event_data": null}}')
    results = {"escaped_fn_index": escaped, "duplicate_session_hash": duplicate}

    beating = hash_()
    with httpx.Client(base_url=s.url, timeout=30) as other, other.stream("GET", f"/gradio_api/heartbeat/{beating}"):
        time.sleep(0.3)
        results["fresh_hash_with_heartbeat"] = join_raw(json.dumps(
            {"data": data, "fn_index": dep["id"], "session_hash": beating, "event_data": None}))
    by_name = [d for d in s.deps if d.get("queue") is False and d.get("api_name") not in ("on_page_load", None)
               and d.get("api_visibility") != "public"]
    if by_name:
        name = by_name[0]["api_name"]
        answer = s.post(f"/gradio_api/run/{name}", json={"data": [None] * len(by_name[0]["inputs"]),
                                                          "session_hash": hash_()})
        results["private_event_by_name_without_fn_index"] = f"{name}: HTTP {answer.status_code}"
    before = set(Path(tempfile.gettempdir()).glob("mnist-demo-class-*"))
    exports = []
    for _ in range(5):  # a fresh hash with its heartbeat open: no page load, so no session
        fresh = hash_()
        with httpx.Client(base_url=s.url, timeout=30) as other, other.stream("GET", f"/gradio_api/heartbeat/{fresh}"):
            time.sleep(0.2)
            exports.append(answer_of(s.queued(room.export_dep, s.inputs(room.export_dep, {
                "class-dash-code": code, "class-dash-key": key}, {"radio": "en"}), fresh)))
    left = set(Path(tempfile.gettempdir()).glob("mnist-demo-class-*")) - before
    results["sessionless_exports"] = f"{sum(a == 'ok' for a in exports)} of 5 answered, {len(left)} temporary folders left"
    return results


def heartbeat_eviction(room: Classroom, code: str, count: int = 210, threads: int = 32) -> dict:
    """A joined student saves; a script opens and closes `count` heartbeat streams of fresh hashes (Gradio
    runs the unload event for each, which makes it a session); the student saves again."""
    import httpx

    student = "192.0.2.45"
    session_hash, stored = room.student(code, student)
    first = room.give(2, session_hash, via(student), stored=stored)

    def beat():
        with httpx.Client(base_url=room.s.url, timeout=10) as other:
            try:
                with other.stream("GET", f"/gradio_api/heartbeat/{hash_()}", headers=via(ATTACKER)) as stream:
                    next(stream.iter_lines(), None)
                    return stream.status_code
            except httpx.HTTPError:
                return 0

    started = time.monotonic()
    statuses = parallel([beat] * count, threads=threads)
    seconds = time.monotonic() - started
    time.sleep(1)  # the unload events run after the streams end
    return {"heartbeats": count, "streamed": statuses.count(200), "seconds": round(seconds, 1), "first_save": first,
            "save_after": room.give(2, session_hash, via(student), stored=stored)}


def uploads(room: Classroom, count: int = 20) -> dict:
    started = time.monotonic()
    accepted = 0
    for i in range(count):
        answer = room.s.http.post("/gradio_api/upload", files={"files": (f"x{i}.png", b"\0" * 1_000_000)})
        accepted += answer.status_code == 200
    return {"uploads_1mb": count, "accepted": accepted, "seconds": round(time.monotonic() - started, 1)}


def queue_fill(room: Classroom, events: int = 400, address: str = "203.0.113.80") -> dict:
    """One session sends `events` queued calls at once (a join with a wrong code): how many the queue takes."""
    session_hash = hash_()
    room.s.page_load(session_hash, via(address))
    dep = room.join_dep
    data = room.s.inputs(dep, {"class-join": "ABCD-EFGH"}, {"radio": "en"})

    def join():
        return room.s.post("/gradio_api/queue/join", headers=via(address), json={
            "data": data, "fn_index": dep["id"], "session_hash": session_hash, "event_data": None}).status_code

    statuses = parallel([join] * events, threads=32)
    return {"sent_from_one_session": events, "queued": statuses.count(200),
            "refused": {str(c): statuses.count(c) for c in sorted(set(statuses)) if c != 200}}


def uploads_in_one_request(room: Classroom, files: int = 50, size: int = 1_000_000) -> dict:
    """Many files in one /gradio_api/upload request (Gradio takes up to 1,000 of max_file_size each): what a
    per-request count of uploads does not see."""
    started = time.monotonic()
    answer = room.s.http.post("/gradio_api/upload", files=[("files", (f"x{i}.png", b"\0" * size)) for i in range(files)])
    stored = len(answer.json()) if answer.status_code == 200 else 0
    return {"files": files, "mb_sent": round(files * size / 1e6), "status": answer.status_code, "files_stored": stored,
            "seconds": round(time.monotonic() - started, 1)}


def config_paths(script: Script) -> dict:
    """Absolute server paths in the page's /config (the repository's, the state folder's, /tmp's)."""
    text = script.http.get("/config").text
    found = [p for p in (str(ROOT), "/tmp/", "/data/", tempfile.gettempdir()) if p in text]
    return {"absolute_paths_in_config": found}
