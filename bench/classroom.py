"""Benchmark: a class drawing at once on the real app, through the very requests the page's canvas sends.

    python -m bench.classroom                       # 10, 25, 50, 100, 150 students, with and without a training
    python -m bench.classroom --students 50 --seconds 40 --training-only
    python -m bench.classroom --road device --students 300 --training-only --own-addresses --name classroom_device
    python -m bench.classroom --class-mode --students 50 --seconds 60   # one class: bench/results/classroom_class.*
    python -m bench.classroom --class-mode --postgres --servers 2 --classes 2 --students 100 --seconds 30 \
        --name classroom_two_servers                   # two app servers sharing one PostgreSQL

Each simulated student draws real UNIPEN digits (unipen-dev, pen strokes of writers outside
MNIST) as the canvas would: a 1.2 s stroke whose ink grows along the pen's path, the newest ink
sent at most every 70 ms with one request in flight (Gradio's `always_last`), the final ink at
the stroke's end, then a 2 s pause. Measured per stroke: stroke end -> final answer, the updates
that arrived during the stroke, and whether the final answer was right. With `--training` one
fast-recipe training is started through the Train tab's own event (as a browser's Start does)
and its wall time compared with the command line's.

The load generator shares the 2 cores with the server, so it is kept cheap: requests are
pre-encoded bytes written to plain keep-alive connections (asyncio streams), a few hundred
microseconds of client CPU each; its own CPU time is reported beside every result, and so are
the server's CPU and the load average. Results: bench/results/classroom.{json,md}.

`--class-mode`: the students join one class instead (Class tab): a class is opened in a fresh state folder
(MNIST_DEMO_STATE of the served app), each student runs the page-load events, joins with the code
(`class-join-go` click), draws into the class canvas's live event (`#class-canvas` input, unqueued, the
same strokes and pacing) and at each stroke's end saves the drawing as the page does: the `class-teach-N`
click of the drawing's label through the queue (`queue/join`, then `queue/data` until it completes), so a
save is measured from the press to the stored answer. One teacher session opens the dashboard and calls the
wall's timer tick every 3 s. The class joins first, then draws: the timed phase starts once every student and
teacher has joined (`join_s` says how long that took). Reported: p50/p95 of the live answer (stroke end -> final answer) and of the
save, the tick's p95, errors, and the drawings in the class afterwards (counted in its database).
Results: bench/results/classroom_class.{json,md}. `--classes K` splits the students over K classes, one teacher
each; `--servers N --postgres` serves them from N app servers sharing a throwaway PostgreSQL server (the
students of each class spread over the servers, its teacher's wall on another server than its first students').
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.harness import (
    PERCENTILE_DEFINITION,
    ROOT,
    Connection,
    default_inputs,
    percentile,
    process_cpu_seconds,
    rss_mb,
    serve_subprocess,
    write_results,
)

STROKE_SECONDS = 1.2
PAUSE_SECONDS = 2.0
SEND_EVERY = 0.070
FRAME_STEP = 0.03  # ink frames pre-rendered every 30 ms of the stroke
CACHE = ROOT / "bench" / "out" / "classroom_frames.json"


# ---------------------------------------------------------------------------------------------
# Drawings: UNIPEN digits as the canvas sends them while they are being drawn


def _partial(strokes: list, fraction: float) -> list:
    """The strokes as drawn after `fraction` of the pen's path (by length)."""
    import numpy as np

    lengths = [float(np.linalg.norm(np.diff(s, axis=0), axis=1).sum()) if len(s) > 1 else 0.0 for s in strokes]
    budget = fraction * sum(lengths)
    out = []
    for stroke, length in zip(strokes, lengths, strict=True):
        if budget <= 0:
            break
        if length <= budget:
            out.append(stroke)
        else:
            steps = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
            out.append(stroke[: max(1, int(np.searchsorted(steps, budget)) + 1)])
        budget -= length
    return out


def drawings(count: int, seed: int = 0) -> list[dict]:
    """`count` UNIPEN digits (all sites, shuffled), each as its label and the payload frames of its stroke."""
    if CACHE.is_file():
        cached = json.loads(CACHE.read_text())
        if len(cached) >= count:
            return cached[:count]
    from mnist_demo.handwriting import load_unipen, render_payload, to_canvas

    digits = load_unipen()
    random.Random(seed).shuffle(digits)
    frames_per_stroke = round(STROKE_SECONDS / FRAME_STEP)
    out = []
    for digit in digits[:count]:
        strokes = to_canvas(digit.strokes)
        frames = []
        for i in range(frames_per_stroke):  # as the canvas's JSON.stringify writes them, "final" true at the release
            message = json.loads(render_payload(_partial(strokes, (i + 1) / frames_per_stroke)))
            frames.append(json.dumps({**message, "final": i == frames_per_stroke - 1}, separators=(",", ":")))
        out.append({"label": digit.label, "frames": frames})
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(out))
    return out


# ---------------------------------------------------------------------------------------------
# The page's events, and one student


def find_events(config: dict) -> dict[str, int]:
    """fn_index of the canvas's live event (and of its stroke-end event where there is one), of the page-load
    events and of the Train tab's Start."""
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    events = {"load": []}
    for index, dep in enumerate(config["dependencies"]):
        targets = [tuple(t) for t in dep.get("targets", [])]
        if (ids.get("sketchpad"), "input") in targets:  # the live event (the server road)
            events["canvas"] = index
        if (ids.get("sketchpad"), "stop") in targets:  # the stroke's end when the page answers itself
            events["device_end"] = index
        if (ids.get("sketchpad"), "submit") in targets:
            events["stroke_end"] = index
        if (ids.get("train-start"), "click") in targets:
            events["train"] = index
        if any(t[1] == "load" for t in targets):
            events["load"].append(index)
    # The page's own load event (it creates the session) first, as the request gate wants it before the others.
    events["load"].sort(key=lambda index: config["dependencies"][index].get("api_name") != "on_page_load")
    return events




async def draw_stroke(frames: list[str], send) -> tuple[float, int, int]:
    """One 1.2 s stroke as the canvas sends it: the newest ink at most every SEND_EVERY, one request in flight
    (`send(frame)` -> (arrival time, answer or None)); returns (the stroke's end, updates that arrived during
    it, errors) once the stroke is over, the final ink still to send."""
    start = time.perf_counter()
    end = start + STROKE_SECONDS
    updates, errors, last_sent = 0, 0, -1.0
    while True:
        now = time.perf_counter()
        if now - last_sent < SEND_EVERY:
            await asyncio.sleep(SEND_EVERY - (now - last_sent))
            now = time.perf_counter()
        if now >= end:
            break
        last_sent = now
        received, answer = await send(frames[min(len(frames) - 2, int((now - start) / FRAME_STEP))])
        errors += answer is None
        updates += answer is not None and received < end
    now = time.perf_counter()
    if now < end:
        await asyncio.sleep(end - now)
    return end, updates, errors


async def student(url_host: str, port: int, config: dict, events: dict, pool: list[dict], until: list[float],
                  results: list, rng: random.Random, road: str = "server", address: str | None = None) -> None:
    # address: the student's own, as the app's trusted proxy reports it (else all come from the bench's socket)
    conn = Connection(url_host, port, {"X-Forwarded-For": address} if address else None)
    session = secrets.token_hex(6)
    inputs = default_inputs(config, events["canvas"])  # the canvas's own value comes first
    end_inputs = default_inputs(config, events["stroke_end"]) if "stroke_end" in events else None
    device_inputs = default_inputs(config, events["device_end"]) if road == "device" else None

    async def send(payload: str, fn: int = events["canvas"], rest: list = inputs[1:]) -> tuple[float, dict | None]:
        """One canvas event; (arrival time, the answer or None for an error)."""
        body = (json.dumps({"fn_index": fn, "session_hash": session})[:-1] + ', "data": '
                + json.dumps([payload, *rest]) + "}").encode()
        status, raw = await conn.request("POST", "/gradio_api/run/predict", body)
        answer = json.loads(raw) if status == 200 else {}
        return time.perf_counter(), answer if "data" in answer else None

    try:
        for fn in events["load"]:  # what a page load does first
            body = json.dumps({"data": default_inputs(config, fn), "fn_index": fn, "session_hash": session}).encode()
            await conn.request("POST", "/gradio_api/run/predict", body)
        await asyncio.sleep(rng.uniform(0, PAUSE_SECONDS + STROKE_SECONDS))  # students don't start in step
        while time.perf_counter() < until[0]:  # a training still running pushes the end back
            drawing = rng.choice(pool)
            frames = drawing["frames"]
            if road == "device":  # the page answers itself while drawing: only the stroke's end reaches the server
                end = time.perf_counter() + STROKE_SECONDS
                await asyncio.sleep(STROKE_SECONDS)
                received, answer = await send(frames[-1], events["device_end"], device_inputs[1:])
                results.append({"latency": received - end, "end": end, "updates": None, "errors": int(answer is None),
                                "correct": None})
                await asyncio.sleep(PAUSE_SECONDS)
                continue
            end, updates, errors = await draw_stroke(frames, send)
            received, answer = await send(frames[-1])
            label = None
            if answer is None:
                errors += 1
            else:
                label = (answer["data"][0] or {}).get("label")
            if end_inputs is not None:  # the page's stroke-end event: the preprocessing panel
                _, answer = await send(frames[-1], events["stroke_end"], end_inputs[1:])
                errors += answer is None
            results.append({"latency": received - end, "end": end, "updates": updates, "errors": errors,
                            "correct": str(label) == str(drawing["label"])})
            await asyncio.sleep(PAUSE_SECONDS)
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        results.append({"latency": float("nan"), "updates": 0, "errors": 1, "correct": False, "failure": repr(exc)})
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Class mode: students of one class, as the Class tab's page does


KEEP_ALIVE_S = 4.0  # uvicorn closes an idle keep-alive connection after 5 s; a browser then opens a new one


class FreshConnection(Connection):
    """A Connection that reconnects after KEEP_ALIVE_S idle, as a browser does, instead of writing into a socket
    the server is closing (a student is idle on it while a save goes through the queue and during the pause)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.last = time.perf_counter()

    async def request(self, method: str, path: str, body: bytes = b"", **options) -> tuple[int, bytes]:
        if self.writer is not None and time.perf_counter() - self.last > KEEP_ALIVE_S:
            self.close()
            self.reader = self.writer = None
        try:
            return await super().request(method, path, body, **options)
        finally:
            self.last = time.perf_counter()


def find_class_events(config: dict) -> dict:
    """fn_index of the Class tab's events the bench drives, and of the page-load events."""
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    timers = {c["id"] for c in config["components"] if c.get("type") == "timer"}
    events = {"load": [], "teach": {}}
    for index, dep in enumerate(config["dependencies"]):
        for target, event in dep.get("targets", []):
            elem = ids.get(target)
            if event == "load":
                events["load"].append(index)
            elif (elem, event) == ("class-join-go", "click"):
                events["join"] = index
            elif (elem, event) == ("class-canvas", "input"):  # the live event (the server road)
                events["live"] = index
            elif (elem, event) == ("class-open", "click"):
                events["open"] = index
            elif event == "click" and elem and elem.startswith("class-teach-"):
                events["teach"][int(elem.rsplit("-", 1)[1])] = index
            elif target in timers and event == "tick" and "class-dash-code" in {ids.get(i) for i in dep["inputs"]}:
                events["tick"] = index
    events["load"].sort(key=lambda index: config["dependencies"][index].get("api_name") != "on_page_load")
    return events


async def page_load(conn: Connection, config: dict, events: dict, session: str) -> None:
    for fn in events["load"]:  # what a page load does first
        body = json.dumps({"data": default_inputs(config, fn), "fn_index": fn, "session_hash": session}).encode()
        await conn.request("POST", "/gradio_api/run/predict", body)


async def run_event(conn: Connection, fn: int, data: list, session: str) -> dict | None:
    """One event through /gradio_api/run/predict (as the page's unqueued events): its answer, or None on an error."""
    body = json.dumps({"data": data, "fn_index": fn, "session_hash": session}).encode()
    status, raw = await conn.request("POST", "/gradio_api/run/predict", body)
    answer = json.loads(raw) if status == 200 else {}
    return answer if "data" in answer else None


async def queued_event(host: str, port: int, conn: Connection, fn: int, data: list, session: str) -> bool:
    """One queued event as the page sends it: queue/join, then queue/data until it completes; True on success."""
    body = json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    status, raw = await conn.request("POST", "/gradio_api/queue/join", body)
    if status != 200:
        return False
    reader, writer = await asyncio.open_connection(host, port, limit=8 * 1024 * 1024)  # the wall's answers are large
    writer.write(f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    try:
        while True:
            line = await reader.readline()
            if not line:
                return False
            if line.startswith(b"data:") and b'"process_completed"' in line:
                return bool(json.loads(line[5:]).get("success"))
    finally:
        writer.close()


class Lesson:
    """A class joins first, then draws: once every student and teacher has loaded the page and joined (or failed
    to), the `seconds` of drawing begin for all of them; `join_s` says how long the joining took."""

    def __init__(self, people: int, seconds: float) -> None:
        self.pending, self.seconds = people, seconds
        self.started = time.perf_counter()
        self.begun = asyncio.Event()
        self.until = self.join_s = 0.0

    def arrived(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.join_s = time.perf_counter() - self.started
            self.until = time.perf_counter() + self.seconds
            self.begun.set()

    async def begin(self) -> None:
        self.arrived()
        await self.begun.wait()


async def class_student(host: str, port: int, config: dict, events: dict, code: str, pool: list[dict],
                        lesson: Lesson, results: list, rng: random.Random) -> None:
    conn = FreshConnection(host, port)
    session = secrets.token_hex(6)
    live_rest = default_inputs(config, events["live"])[1:]  # the student's state (server-side) and the language
    arrived = False
    try:
        await page_load(conn, config, events, session)
        joined = await queued_event(host, port, conn, events["join"],  # a queued event, as the page sends it
                                    default_inputs(config, events["join"], **{"class-join": code}), session)
        if not joined:
            raise ConnectionError("the join was refused")
        arrived = True
        await lesson.begin()
        await asyncio.sleep(rng.uniform(0, PAUSE_SECONDS + STROKE_SECONDS))  # students don't start in step
        while time.perf_counter() < lesson.until:
            drawing = rng.choice(pool)
            frames = drawing["frames"]

            async def live_update(frame: str) -> tuple[float, dict | None]:
                answer = await run_event(conn, events["live"], [frame, *live_rest], session)
                return time.perf_counter(), answer

            end, updates, errors = await draw_stroke(frames, live_update)
            answer = await run_event(conn, events["live"], [frames[-1], *live_rest], session)
            live = time.perf_counter() - end
            errors += answer is None
            text = str((answer or {}).get("data", [""])[0])
            fn = events["teach"][int(drawing["label"])]
            pressed = time.perf_counter()
            saved = await queued_event(host, port, conn, fn, default_inputs(config, fn, **{"class-canvas": frames[-1]}),
                                       session)
            results.append({"live": live, "save": time.perf_counter() - pressed if saved else float("nan"),
                            "updates": updates, "errors": errors + (not saved),
                            "correct": re.search(rf"\*\*(an? )?{drawing['label']}\*\*", text) is not None})
            await asyncio.sleep(PAUSE_SECONDS)
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        results.append({"live": float("nan"), "save": float("nan"), "updates": 0, "errors": 1, "correct": False,
                        "failure": repr(exc)})
    finally:
        conn.close()
        if not arrived:
            lesson.arrived()


async def class_teacher(host: str, port: int, config: dict, events: dict, code: str, key: str, lesson: Lesson,
                        ticks: list) -> None:
    """The teacher's wall: the dashboard opened once, then the timer's tick every REFRESH_S (3 s)."""
    conn = FreshConnection(host, port)
    session = secrets.token_hex(6)
    values = {"class-dash-code": code, "class-dash-key": key, "class-model": "digitnet"}
    arrived = False
    try:
        await page_load(conn, config, events, session)
        # Queued events, as the page sends them (direct POSTs of queued events are refused).
        if not await queued_event(host, port, conn, events["open"], default_inputs(config, events["open"], **values),
                                  session):
            ticks.append(float("nan"))
            return
        arrived = True
        await lesson.begin()
        while time.perf_counter() < lesson.until:
            await asyncio.sleep(3.0)
            started = time.perf_counter()
            ok = await queued_event(host, port, conn, events["tick"], default_inputs(config, events["tick"], **values),
                                    session)
            ticks.append(time.perf_counter() - started if ok else float("nan"))
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
        ticks.append(float("nan"))
    finally:
        conn.close()
        if not arrived:
            lesson.arrived()


async def class_phase(host: str, servers: list, config: dict, events: dict, pool: list[dict], students: int,
                      seconds: float, classes: list[tuple[str, str]]) -> dict:
    """One phase: `students` split over the classes and, within each class, over the servers; each class's teacher
    on the next server after its first students' (with two servers: a student on one, the teacher on the other)."""
    results: list[dict] = []
    ticks: list[float] = []
    rng = random.Random(students)
    lesson = Lesson(students + len(classes), seconds)
    pids = [server.pid for server in servers]
    mark = {}

    async def drawing_begins() -> None:  # the figures cover the drawing, not the joining before it
        await lesson.begun.wait()
        mark.update(cpu=sum(map(process_cpu_seconds, pids)), gen=time.process_time(), wall=time.perf_counter(),
                    load=os.getloadavg()[0])

    tasks = [asyncio.create_task(drawing_begins())]
    for number in range(students):
        code, _ = classes[number % len(classes)]
        port = servers[(number // len(classes)) % len(servers)].port
        tasks.append(asyncio.create_task(class_student(host, port, config, events, code, pool, lesson, results,
                                                       random.Random(rng.random()))))
    for number, (code, key) in enumerate(classes):
        port = servers[(number + 1) % len(servers)].port
        tasks.append(asyncio.create_task(class_teacher(host, port, config, events, code, key, lesson, ticks)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - mark["wall"]
    live = [1000 * r["live"] for r in results if r["live"] == r["live"]]
    save = [1000 * r["save"] for r in results if r["save"] == r["save"]]
    tick = [1000 * x for x in ticks if x == x]
    q = lambda values, p: round(percentile(values, p), 1) if values else None  # noqa: E731
    return {
        "students": students, "servers": len(servers), "classes": len(classes), "strokes": len(results),
        "live_p50_ms": q(live, 50), "live_p95_ms": q(live, 95), "save_p50_ms": q(save, 50), "save_p95_ms": q(save, 95),
        "saves": len(save), "tick_p95_ms": q(tick, 95), "ticks": len(tick),
        "updates_per_stroke_median": statistics.median(r["updates"] for r in results) if results else 0,
        "errors": sum(r["errors"] for r in results) + (len(ticks) - len(tick)),
        "failures": sorted({r["failure"] for r in results if "failure" in r})[:5],
        "correct": round(sum(r["correct"] for r in results) / max(len(results), 1), 4),
        "server_cpu_cores": round((sum(map(process_cpu_seconds, pids)) - mark["cpu"]) / wall, 2),
        "generator_cpu_cores": round((time.process_time() - mark["gen"]) / wall, 3),
        "load_average_1min": round(max(mark["load"], os.getloadavg()[0]), 2),
        "wall_s": round(wall, 1), "join_s": round(lesson.join_s, 1),
    }


def class_mode(args, pool: list[dict]) -> int:
    import contextlib
    import tempfile
    import urllib.request

    from mnist_demo.classroom.store import ClassStore
    from tests.harness import new_database, postgres_server, serve_subprocesses

    state = Path(tempfile.mkdtemp(prefix="mnist-demo-bench-state-"))
    # The served apps' state folder, and one secret for all of them (a student's place is signed with it)
    environment = {"MNIST_DEMO_STATE": str(state), "MNIST_DEMO_SECRET": secrets.token_hex(16)}
    rows = []
    with contextlib.ExitStack() as stack:
        if args.postgres:  # a throwaway server with PostgreSQL's default durability, one database for all servers
            environment["MNIST_DEMO_DATABASE_URL"] = new_database(stack.enter_context(postgres_server(durable=True)))
        db = ClassStore(state, url=environment.get("MNIST_DEMO_DATABASE_URL"))
        stack.callback(db.close)
        classes = [db.create_class(f"bench {n + 1}", "digitnet") for n in range(args.classes)]
        classes = [(info.code, key) for info, key in classes]
        servers = stack.enter_context(serve_subprocesses(args.servers, cwd=args.app_dir, env=environment))
        config = json.loads(urllib.request.urlopen(servers[0].url + "config").read())
        events = find_class_events(config)
        for students in args.students:
            before = sum(db.count(code) for code, _ in classes)
            row = asyncio.run(class_phase("127.0.0.1", servers, config, events, pool, students, args.seconds,
                                          classes))
            row["database"] = db.engine.name
            row["drawings_in_class"] = sum(db.count(code) for code, _ in classes)
            row["saved_once"] = row["drawings_in_class"] - before == row["saves"]  # each save stored, none twice
            rows.append(row)
            print(json.dumps(row), flush=True)
            time.sleep(3)
    header = ["students", "servers", "database", "classes", "strokes", "live_p50_ms", "live_p95_ms", "save_p50_ms",
              "save_p95_ms", "saves", "errors", "tick_p95_ms", "saved_once", "drawings_in_class", "server_cpu_cores",
              "generator_cpu_cores", "load_average_1min", "join_s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if row.get(h) is None else str(row[h]) for h in header) + " |" for row in rows]
    note = (f"N students joined {args.classes} class(es) on {args.servers} app server(s) "
            f"({'one PostgreSQL database' if args.postgres else 'SQLite'}), all at once (page load, then the join; "
            f"join_s: until the last had joined), and then drew real UNIPEN digits for {args.seconds:.0f} s: {STROKE_SECONDS} s strokes through the class canvas's live event (updates at most "
            f"every {SEND_EVERY * 1000:.0f} ms, one in flight), then the drawing saved with its label's \"It's a N\" "
            f"button through the queue, then a {PAUSE_SECONDS} s pause; each class's teacher's wall ticking every 3 s "
            "on another server than its first students'. live: stroke end to the final answer; save: the press to the "
            "stored drawing's answer (queue/join to process_completed); errors: failed events of any kind (live, save, "
            "join, tick); saved_once: the drawings stored equal the saves that succeeded. server_cpu_cores: all app "
            "servers together (PostgreSQL's own processes not counted). Percentiles: " + PERCENTILE_DEFINITION + ".")
    write_results(args.name, {"class_mode": True, "app_dir": args.app_dir, "rows": rows},
                  "\n".join(["# Classroom, class mode: many students drawing into their classes at once", "", note, "",
                             *lines]))
    return 0


# ---------------------------------------------------------------------------------------------
# A training started as a browser's Start does


async def browser_training(host: str, port: int, config: dict, events: dict) -> tuple[float, float]:
    """(when Start was pressed, seconds to the results) for fastnet's fast recipe, over the Train tab's own event."""
    session = secrets.token_hex(6)
    conn = Connection(host, port)
    for fn in events["load"]:
        body = json.dumps({"data": default_inputs(config, fn), "fn_index": fn, "session_hash": session}).encode()
        await conn.request("POST", "/gradio_api/run/predict", body)
    data = default_inputs(config, events["train"])
    started = time.perf_counter()
    body = json.dumps({"data": data, "fn_index": events["train"], "session_hash": session,
                       "event_data": None, "trigger_id": None}).encode()
    status, raw = await conn.request("POST", "/gradio_api/queue/join", body)
    if status != 200:
        raise RuntimeError(f"queue/join answered {status}: {raw[:200]!r}")
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    try:
        while True:
            line = await reader.readline()
            if not line:
                raise RuntimeError("the training's stream closed early")
            if line.startswith(b"data:") and b'"process_completed"' in line:
                message = json.loads(line[5:])
                if not message.get("success", True):
                    raise RuntimeError(f"the training failed: {str(message)[:300]}")
                return started, time.perf_counter() - started
    finally:
        writer.close()
        conn.close()


def cli_training_seconds() -> float:
    """The same training on the command line, nothing else running: the card's train_seconds."""
    out = ROOT / "bench" / "out" / "classroom-cli"
    subprocess.run([sys.executable, "-m", "mnist_demo.train", "--model", "fastnet", "--recipe", "fast",
                    "--out", str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.with_suffix(".json").read_text())["train_seconds"]


# ---------------------------------------------------------------------------------------------
# A run


async def phase(host: str, port: int, pid: int, config: dict, events: dict, pool: list[dict], students: int,
                seconds: float, training: bool, road: str = "server", own_addresses: bool = False) -> dict:
    results: list[dict] = []
    rng = random.Random(students)
    until = [time.perf_counter() + seconds]
    cpu0, gen0, wall0 = process_cpu_seconds(pid), time.process_time(), time.perf_counter()
    load0 = os.getloadavg()[0]
    tasks = [asyncio.create_task(student(host, port, config, events, pool, until, results, random.Random(rng.random()),
                                         road, f"10.{i // 250}.{i % 250}.7" if own_addresses else None))
             for i in range(students)]
    train_start = train_seconds = None
    if training:  # the phase lasts as long as the training, and only the strokes ending meanwhile count
        train_start, train_seconds = await browser_training(host, port, config, events)
        until[0] = max(until[0], train_start + train_seconds + 1)
    await asyncio.gather(*tasks)
    if training:
        results = [r for r in results if "end" not in r or train_start <= r["end"] <= train_start + train_seconds]
    wall = time.perf_counter() - wall0
    ok = [r for r in results if r["latency"] == r["latency"]]
    latencies = [1000 * r["latency"] for r in ok]
    device = road == "device"
    rss = rss_mb(pid)
    return {
        "road": road, "students": students, "training": training, "strokes": len(results),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "updates_per_stroke_median": None if device else statistics.median(r["updates"] for r in ok) if ok else 0,
        "errors": sum(r["errors"] for r in results),
        "correct": None if device else round(sum(r["correct"] for r in ok) / max(len(ok), 1), 4),
        "server_rss_mb": round(rss, 1),
        "training_seconds": round(train_seconds, 1) if train_seconds else None,
        "server_cpu_cores": round((process_cpu_seconds(pid) - cpu0) / wall, 2),
        "generator_cpu_cores": round((time.process_time() - gen0) / wall, 3),
        "load_average_1min": round(max(load0, os.getloadavg()[0]), 2),
        "wall_s": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, nargs="+", default=[10, 25, 50, 100, 150])
    p.add_argument("--seconds", type=float, default=30.0, help="length of each phase without a training")
    p.add_argument("--training-only", action="store_true", help="only the phases with a training running")
    p.add_argument("--no-training", action="store_true", help="only the phases without a training")
    p.add_argument("--drawings", type=int, default=60, help="distinct UNIPEN digits the class draws")
    p.add_argument("--app-dir", default=str(ROOT), help="the checkout whose app.py is served (before/after runs)")
    p.add_argument("--name", default=None, help="results file name in bench/results (classroom, classroom_class)")
    p.add_argument("--class-mode", action="store_true", help="the students join a class (Class tab) and save")
    p.add_argument("--classes", type=int, default=1, help="class mode: classes the students are split into")
    p.add_argument("--servers", type=int, default=1, help="class mode: app servers sharing the classes")
    p.add_argument("--road", choices=["server", "device"], default="server",
                   help="device: the page answers while drawing (issue 19), only each stroke's end reaches the server")
    p.add_argument("--postgres", action="store_true",
                   help="class mode: the servers share a throwaway PostgreSQL server (else SQLite; one server only)")
    p.add_argument("--own-addresses", action="store_true",
                   help="each student its own address behind a trusted proxy (MNIST_DEMO_TRUST_PROXY=1): more "
                        "students than one address's page-load limit (250 per 10 minutes) lets in")
    args = p.parse_args(argv)

    if args.servers > 1 and not args.postgres:
        p.error("several servers share their classes through PostgreSQL: add --postgres")
    pool = drawings(args.drawings)
    if args.class_mode:
        args.name = args.name or "classroom_class"
        return class_mode(args, pool)
    args.name = args.name or "classroom"
    cli_seconds = None if args.no_training else cli_training_seconds()
    rows = []
    with serve_subprocess(cwd=args.app_dir, env={"MNIST_DEMO_TRUST_PROXY": "1"} if args.own_addresses else None) as app:
        import urllib.request

        config = json.loads(urllib.request.urlopen(app.url + "config").read())
        events = find_events(config)
        for students in args.students:
            for training in ([False] if args.no_training else [True] if args.training_only else [False, True]):
                row = asyncio.run(phase("127.0.0.1", app.port, app.pid, config, events, pool, students,
                                        args.seconds, training, args.road, args.own_addresses))
                if training and row["training_seconds"] and cli_seconds:
                    row["training_slowdown"] = round(row["training_seconds"] / cli_seconds, 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
                time.sleep(3)  # let the server settle between phases
    header = ["road", "students", "training", "p50_ms", "p95_ms", "updates_per_stroke_median", "errors", "correct",
              "training_seconds", "training_slowdown", "server_cpu_cores", "server_rss_mb", "generator_cpu_cores",
              "load_average_1min"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if row.get(h) is None else str(row[h]) for h in header) + " |" for row in rows]
    note = ("Road device: the page answers while drawing, the stroke's end event (the preprocessing panel, kept on "
            "the server) is what is timed. " if args.road == "device" else "")
    note += ("Each student has an address of its own, as the app's trusted proxy reports it "
             "(MNIST_DEMO_TRUST_PROXY=1). " if args.own_addresses else "")
    note += (f"Stroke end to final answer, {STROKE_SECONDS} s strokes of real UNIPEN digits, {PAUSE_SECONDS} s pauses, "
            f"updates at most every {SEND_EVERY * 1000:.0f} ms with one in flight. Command-line time of the same "
            f"training (fastnet, fast recipe), alone: {cli_seconds} s.")
    write_results(args.name, {"cli_training_seconds": cli_seconds, "app_dir": args.app_dir, "rows": rows},
                  "\n".join(["# Classroom: many students drawing at once", "", note, "", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
