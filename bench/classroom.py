"""Benchmark: a class drawing at once on the real app, through the very requests the page's canvas sends.

    python bench/classroom.py                       # 10, 25, 50, 100, 150 students, with and without a training
    python bench/classroom.py --students 50 --seconds 40 --training-only

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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import (  # noqa: E402
    Connection,
    default_inputs,
    percentile,
    process_cpu_seconds,
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
        if (ids.get("sketchpad"), "change") in targets:
            events["canvas"] = index
        if (ids.get("sketchpad"), "submit") in targets:
            events["stroke_end"] = index
        if (ids.get("train-start"), "click") in targets:
            events["train"] = index
        if any(t[1] == "load" for t in targets):
            events["load"].append(index)
    return events




async def student(url_host: str, port: int, config: dict, events: dict, pool: list[dict], until: float,
                  results: list, rng: random.Random) -> None:
    conn = Connection(url_host, port)
    session = secrets.token_hex(6)
    inputs = default_inputs(config, events["canvas"])  # the canvas's own value comes first
    end_inputs = default_inputs(config, events["stroke_end"]) if "stroke_end" in events else None

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
        while time.perf_counter() < until:
            drawing = rng.choice(pool)
            frames = drawing["frames"]
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
                index = min(len(frames) - 2, int((now - start) / FRAME_STEP))
                last_sent = now
                received, answer = await send(frames[index])
                if answer is None:
                    errors += 1
                elif received < end:
                    updates += 1
            now = time.perf_counter()
            if now < end:
                await asyncio.sleep(end - now)
            received, answer = await send(frames[-1])
            label = None
            if answer is None:
                errors += 1
            else:
                label = (answer["data"][0] or {}).get("label")
            if end_inputs is not None:  # the page's stroke-end event: the preprocessing panel
                _, answer = await send(frames[-1], events["stroke_end"], end_inputs[1:])
                errors += answer is None
            results.append({"latency": received - end, "updates": updates, "errors": errors,
                            "correct": str(label) == str(drawing["label"])})
            await asyncio.sleep(PAUSE_SECONDS)
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        results.append({"latency": float("nan"), "updates": 0, "errors": 1, "correct": False, "failure": repr(exc)})
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# A training started as a browser's Start does


async def browser_training(host: str, port: int, config: dict, events: dict) -> float:
    """Seconds from pressing Start (fastnet, fast recipe) to the results, over the Train tab's own event."""
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
                return time.perf_counter() - started
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
                seconds: float, training: bool) -> dict:
    results: list[dict] = []
    rng = random.Random(students)
    until = time.perf_counter() + seconds
    cpu0, gen0, wall0 = process_cpu_seconds(pid), time.process_time(), time.perf_counter()
    load0 = os.getloadavg()[0]
    tasks = [asyncio.create_task(student(host, port, config, events, pool, until, results, random.Random(rng.random())))
             for _ in range(students)]
    train_task = asyncio.create_task(browser_training(host, port, config, events)) if training else None
    await asyncio.gather(*tasks)
    train_seconds = await train_task if train_task else None
    wall = time.perf_counter() - wall0
    ok = [r for r in results if r["latency"] == r["latency"]]
    latencies = [1000 * r["latency"] for r in ok]
    return {
        "students": students, "training": training, "strokes": len(results),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "updates_per_stroke_median": statistics.median(r["updates"] for r in ok) if ok else 0,
        "errors": sum(r["errors"] for r in results),
        "correct": round(sum(r["correct"] for r in ok) / max(len(ok), 1), 4),
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
    p.add_argument("--name", default="classroom", help="results file name in bench/results")
    args = p.parse_args(argv)

    pool = drawings(args.drawings)
    cli_seconds = None if args.no_training else cli_training_seconds()
    rows = []
    with serve_subprocess(cwd=args.app_dir) as app:
        import urllib.request

        config = json.loads(urllib.request.urlopen(app.url + "config").read())
        events = find_events(config)
        for students in args.students:
            for training in ([False] if args.no_training else [True] if args.training_only else [False, True]):
                row = asyncio.run(phase("127.0.0.1", app.port, app.pid, config, events, pool, students,
                                        args.seconds, training))
                if training and row["training_seconds"] and cli_seconds:
                    row["training_slowdown"] = round(row["training_seconds"] / cli_seconds, 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
                time.sleep(3)  # let the server settle between phases
    header = ["students", "training", "p50_ms", "p95_ms", "updates_per_stroke_median", "errors", "correct",
              "training_seconds", "training_slowdown", "server_cpu_cores", "generator_cpu_cores", "load_average_1min"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if row.get(h) is None else str(row[h]) for h in header) + " |" for row in rows]
    note = (f"Stroke end to final answer, {STROKE_SECONDS} s strokes of real UNIPEN digits, {PAUSE_SECONDS} s pauses, "
            f"updates at most every {SEND_EVERY * 1000:.0f} ms with one in flight. Command-line time of the same "
            f"training (fastnet, fast recipe), alone: {cli_seconds} s.")
    write_results(args.name, {"cli_training_seconds": cli_seconds, "app_dir": args.app_dir, "rows": rows},
                  "\n".join(["# Classroom: many students drawing at once", "", note, "", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
