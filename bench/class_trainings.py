"""Benchmark: everyone trains. A class of `--students` starts its own class-preset trainings within `--within`
seconds while `--drawers` other students keep drawing; every training goes through the fair queue into a
process of its own, as on the page.

    python -m bench.class_trainings                      # 30 trainings within 30 s, 30 drawing, the app's line
    python -m bench.class_trainings --busy 1 --name class_trainings_busy   # another tenant keeps a core busy

One process plays the app's class mode (`Classroom` over a fresh class store, the real `TrainingJob`s, each a
training process from the fork server at nice 10 with `--threads` torch threads, `--slots` at once): each
training student joins, changes one or two of the five choices from the defaults (seeded), and starts; each
drawing student joins and gives a drawing every `--pause` seconds (`Classroom.give`: the model reads the ink
and the store keeps it, the server's work behind a drawing). Measured: trainings refused, finished, the time
from the first start until the last one is on the leaderboard, each waiting training's estimated start (read
when it joined the line, what the page shows first) against its real start (the line's own record of when the
ticket joined and when it got a slot), the estimate again as it updates while waiting (read every second), and
the drawings' p50/p95 while the trainings ran. Results:
bench/results/class_trainings.{json,md}.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from mnist_demo import settings
from mnist_demo.classroom import presets
from mnist_demo.classroom.service import Classroom, Refused
from mnist_demo.classroom.store import ClassStore
from mnist_demo.training.job import warm_up
from mnist_demo.training.slots import TrainingSlots
from tests.harness import RESULTS, load_average, percentile, write_results

UPDATE_EVERY = 1.0  # seconds between the bench's reads of the waiting trainings' estimates (the page's: 0.5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=30, help="students who start a training (default 30)")
    p.add_argument("--drawers", type=int, default=30, help="students who keep drawing meanwhile (default 30)")
    p.add_argument("--within", type=float, default=30.0, help="seconds over which the trainings start (default 30)")
    p.add_argument("--slots", type=int, default=1, help="trainings at once (MNIST_DEMO_MAX_TRAININGS; default 1, the app's)")
    p.add_argument("--threads", type=int, default=0, help="torch threads per training (default 0: every core, the app's)")
    p.add_argument("--nice", type=int, default=10, help="how much lower the trainings' priority is (MNIST_DEMO_TRAIN_NICE;"
                   " default 10, the app's)")
    p.add_argument("--pause", type=float, default=2.0, help="seconds between a drawer's drawings (default 2)")
    p.add_argument("--deadline", type=float, default=1800.0,
                   help="give up waiting this many seconds after the first start; the rest are reported unfinished")
    p.add_argument("--busy", type=int, default=0, help="processes that keep a core busy throughout, as another "
                   "tenant of a shared machine would (default 0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="class_trainings")
    return p.parse_args(argv)


def choices_for(rng: random.Random) -> dict[str, str]:
    """The defaults with one or two choices changed: what a student trying "what does this do?" picks."""
    chosen = dict(presets.DEFAULTS)
    for name in rng.sample(list(presets.CHOICES), rng.choice((1, 2))):
        chosen[name] = rng.choice([o for o in presets.CHOICES[name] if o != presets.DEFAULTS[name]])
    return chosen


def ink(rng: random.Random) -> str:
    """A canvas payload as the class page sends it (112x112 ink map, base64): a thick ring, a drawn 0."""
    side = 112
    yy, xx = np.mgrid[:side, :side]
    cx, cy, r = 56 + rng.uniform(-8, 8), 56 + rng.uniform(-8, 8), rng.uniform(22, 32)
    canvas = np.where(np.abs(np.hypot(xx - cx, yy - cy) - r) < 4, 255, 0).astype(np.uint8)
    return json.dumps({"w": side, "h": side, "data": base64.b64encode(canvas.tobytes()).decode(), "final": True})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = {"MNIST_DEMO_TRAIN_THREADS": str(args.threads)} if args.threads else {}
    settings.load({**os.environ, **threads, "MNIST_DEMO_TRAIN_NICE": str(args.nice)})
    rng = random.Random(args.seed)
    warm_up(wait=True)  # the fork server loaded, as in an app that has been up a while
    room = Classroom(ClassStore(Path(tempfile.mkdtemp(prefix="class-trainings-"))),
                     slots=TrainingSlots(args.slots, horizon=settings.current().queue_seconds))
    info, key = room.store.create_class("everyone trains")
    spin = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"  # ends with the bench, however it ends
    busy = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(args.busy)]
    load_before = load_average()
    stop = threading.Event()
    drawn: list[float] = []
    errors: list[str] = []

    def draw(i: int) -> None:
        student, _ = room.join(info.code, f"10.1.0.{i}")
        local = random.Random(i)
        while not stop.is_set():
            started = time.perf_counter()
            try:
                room.give(student, local.randrange(10), ink(local), f"d{i}")
                drawn.append(time.perf_counter() - started)
            except Refused as exc:
                errors.append(exc.reason)
            stop.wait(args.pause)

    drawers = [threading.Thread(target=draw, args=(i,), daemon=True) for i in range(args.drawers)]
    for thread in drawers:
        thread.start()
    time.sleep(3)  # the drawing is under way before the first training
    drawn_before = len(drawn)

    runs, estimates = [], []
    updates: list[tuple[int, float, float]] = []  # (run, when, estimated seconds to its start) as the page re-reads them
    done_joining = threading.Event()

    def read_estimates() -> None:
        while not stop.is_set() and not (done_joining.is_set() and all(r.job.ticket is None or r.job.ticket.started
                                                                            for r in runs)):
            for i, run in enumerate(list(runs)):
                snap = run.job.snapshot()
                if snap.state == "queued":
                    updates.append((i, time.monotonic(), snap.queue_seconds))
            stop.wait(UPDATE_EVERY)

    reader = threading.Thread(target=read_estimates, daemon=True)
    reader.start()
    t0 = time.monotonic()
    for i in range(args.students):
        time.sleep(max(0.0, t0 + i * args.within / args.students - time.monotonic()))
        student, _ = room.join(info.code, f"10.2.0.{i}")
        run = room.start_run(student, choices_for(rng), f"s{i}")
        snap = run.job.snapshot()
        runs.append(run)
        estimates.append(snap.queue_seconds if snap.state == "queued" else 0.0)  # what the page shows first
    done_joining.set()
    while not all(r.recorded for r in runs) and time.monotonic() - t0 < args.deadline:
        time.sleep(0.1)
    last = time.monotonic() - t0
    stop.set()
    unfinished = [r for r in runs if not r.recorded]
    for run in unfinished:
        run.job.stop.set()
    for thread in drawers:
        thread.join(10)

    refused = sum(r.job.snapshot().state == "failed" for r in runs)
    finished = sum(r.entry_id is not None for r in runs)
    # The real start on the line's own clock: when the ticket joined and when it was given a slot
    tickets = [r.job.ticket for r in runs]
    real = [t.started - t.joined if t is not None and t.started is not None else None for t in tickets]
    waits = [(estimates[i], real[i]) for i in range(len(runs)) if real[i] is not None and real[i] >= 5.0]
    errors_pct = [abs(est - real) / real for est, real in waits]
    within = sum(e <= 0.30 for e in errors_pct)
    share = within / len(waits) if waits else float("nan")
    median = f"{np.median(errors_pct):.0%}" if errors_pct else "none"
    # The estimate as it updates: every read while waiting, against the time that really remained (5 s or more)
    later = [(est, tickets[i].started - when) for i, when, est in updates
             if tickets[i] is not None and tickets[i].started is not None and tickets[i].started - when >= 5.0]
    later_within = sum(abs(est - real) / real <= 0.30 for est, real in later)
    later_share = later_within / len(later) if later else float("nan")
    during = drawn[drawn_before:]
    result = {
        "students": args.students, "drawers": args.drawers, "within_s": args.within, "slots": args.slots,
        "threads": args.threads, "nice": args.nice, "refused": refused, "unfinished": len(unfinished), "finished": finished, "last_finished_s": round(last, 1),
        "estimates": [{"estimated_s": round(e, 1), "real_s": round(r, 1)} for e, r in waits],
        # each training's declared cost against the seconds it held its slot (what the line's pace is measured on)
        # (and of those, its first progress report and the seconds it held the slot after its last one)
        "slot_seconds": [{"declared_s": round(t.cost, 2), "slot_s": round(t.ended - t.started, 2),
                          "first_report_s": round(t.first[0] - t.started, 2) if t.first else None,
                          "after_last_report_s": round(t.ended - t.latest[0], 2) if t.latest else None}
                         for t in tickets if t is not None and t.started is not None and t.ended is not None],
        "estimates_within_30pct": within, "estimates_judged": len(waits),
        "estimates_within_30pct_share": round(share, 3) if waits else None,
        "updated_estimates_judged": len(later), "updated_estimates_within_30pct": later_within,
        "updated_estimates_within_30pct_share": round(later_share, 3) if later else None,
        "median_estimate_error": round(float(np.median(errors_pct)), 3) if errors_pct else None,
        "drawings": len(during), "drawing_p50_ms": round(1000 * percentile(during, 50), 1) if during else None,
        "drawing_p95_ms": round(1000 * percentile(during, 95), 1) if during else None,
        "drawing_max_ms": round(1000 * max(during), 1) if during else None, "drawing_errors": errors,
        "leaderboard": [{"choices": r.choices, "test_accuracy": r.test_accuracy, "seconds": r.seconds}
                        for r in room.store.runs(info.code)],
        "load_before": load_before, "load_after": load_average(),
    }
    lines = [
        "# Everyone trains: a class's trainings through the fair queue while others draw",
        "",
        f"{args.students} students start a class-preset training within {args.within:.0f} s (each changes one or two "
        f"of the five choices from the defaults), {args.drawers} others give a drawing every {args.pause:.0f} s; "
        f"{args.slots} training(s) at once, {args.threads or 'every core as'} torch thread(s) each, at nice {args.nice}"
        + (f"; {args.busy} other process(es) keeping a core busy throughout." if args.busy else "."),
        f"Load average before: {load_before}; after: {result['load_after']} (2 cores, shared).",
        "",
        "| what | figure |", "| --- | --- |",
        f"| trainings refused | **{refused}** |",
        f"| trainings finished on the leaderboard | **{finished} / {args.students}** |",
        f"| first start → last on the leaderboard | **{last:.0f} s** (target: 240 s)"
        + (f"; {len(unfinished)} still unfinished at the --deadline, stopped |" if unfinished else " |"),
        f"| estimated start (shown when it joined the line) within 30% of the real start, trainings that waited "
        f"5 s or more | **{share:.0%}** ({within} / {len(waits)}; median error {median}) |",
        f"| the estimate as it updates (read every {UPDATE_EVERY:.0f} s while waiting) within 30% of the time that really "
        f"remained, reads 5 s or more before the start | **{later_share:.0%}** ({later_within} / {len(later)}) |",
        f"| a drawing given (read + kept) while the trainings ran, p50 / p95 / max | {result['drawing_p50_ms']} / "
        f"**{result['drawing_p95_ms']}** / {result['drawing_max_ms']} ms ({len(during)} drawings, {len(errors)} refused) |",
        "",
    ]
    print(write_results(args.name, result, "\n".join(lines), RESULTS).read_text())
    room.store.close()
    for process in busy:
        process.kill()
    return 0 if refused == 0 and finished == args.students else 1


if __name__ == "__main__":
    raise SystemExit(main())
