"""How long a browser training takes to get going: start() to the first progress event, the wall
time of tests/test_training_job.py's SMALL run (or the fast preset), and the CPU time the server
process itself spent meanwhile, for the first job of a server process and for the jobs after it.

    MNIST_DEMO_DATA=../shared/data python -m bench.job_startup --runs 3 --jobs 3
    MNIST_DEMO_DATA=../shared/data python -m bench.job_startup --runs 3 --jobs 3 --warm-up 10
    MNIST_DEMO_DATA=../shared/data python -m bench.job_startup --runs 1 --jobs 1 --recipe fast --probe

Each run is a fresh Python process (like a freshly started server) that imports the app's
training job, then trains SMALL `--jobs` times one after another. Prints one line per job and
the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from mnist_demo.training import job as job_module
from mnist_demo.training.job import JobSpec, TrainingJob
from mnist_demo.training.recipes import RECIPES
from mnist_demo.training.slots import TrainingSlots
imported = time.perf_counter() - t0
warm = float(sys.argv[2])
if warm >= 0 and hasattr(job_module, "warm_up"):
    job_module.warm_up()  # as app.py does when the server starts
    time.sleep(warm)
recipe = {"small": None, "fast": RECIPES["fast"]}[sys.argv[3]]
probe = sys.argv[4] == "1"
if probe:  # a stand-in for the live path: the canvas's preprocessing and one forward pass, in this process
    import numpy as np
    import torch
    from mnist_demo.models import build_model
    from mnist_demo.reading.geometry import from_ink
    torch.set_num_threads(1)
    net = build_model("digitnet", seed=0).eval()
    ink = np.zeros((112, 112), np.float32)
    ink[20:90, 50:62] = 1.0
    ink[20:32, 30:62] = 1.0

    def live() -> float:
        t = time.perf_counter()
        prepared = from_ink(ink)
        with torch.no_grad():
            net(torch.from_numpy(prepared.image).view(1, 1, 28, 28))
        return time.perf_counter() - t

    def quantiles(seconds: float, until=None) -> dict:
        times, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end and not (until and until()):
            times.append(live())
            time.sleep(0.002)
        times.sort()
        return {"n": len(times), "p50_ms": 1000 * times[len(times) // 2], "p95_ms": 1000 * times[int(len(times) * .95)]}
    idle = quantiles(5)
SMALL = RECIPES["fast"].with_changes(epochs=2, train_subset=1000, batch_size=50, test_subset=1000)
out = []
for i in range(int(sys.argv[1])):
    started, cpu = time.perf_counter(), time.process_time()
    job = TrainingJob(JobSpec("fastnet", "mnist", recipe or SMALL, seed=0), slots=TrainingSlots(1), threads=1 if recipe is None else None,
                      device="cpu", report_seconds=0.0 if recipe is None else 0.25).start()
    first, busy = None, None
    while not job.snapshot().finished:
        if first is None and job.snapshot().latest is not None:
            first = time.perf_counter() - started
            if probe:
                busy = quantiles(1e9, lambda: job.snapshot().finished)
        time.sleep(0.005 if first is None else 0.25)  # the page polls a few times a second
    snap = job.snapshot()
    if probe:
        print(f"live path in the server process: idle {idle}, during the training {busy}", file=sys.stderr)
    assert snap.state == "done", snap.error
    out.append({"first_progress_s": first, "wall_s": time.perf_counter() - started,
                "server_cpu_s": time.process_time() - cpu,
                "accuracy": snap.result.evaluation.accuracy})
print(json.dumps({"import_s": imported, "jobs": out}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="fresh processes")
    p.add_argument("--jobs", type=int, default=2, help="trainings per process, one after another")
    p.add_argument("--warm-up", type=float, default=-1, metavar="SECONDS",
                   help="call job.warm_up() (as app.py does) this long before the first job (default: don't)")
    p.add_argument("--recipe", choices=["small", "fast"], default="small",
                   help="small: the tests' SMALL run on 1 thread; fast: the fast preset, all cores")
    p.add_argument("--probe", action="store_true",
                   help="meanwhile, time a stand-in for the live path (preprocessing + digitnet forward) in the "
                        "server process, idle and during the training (printed to stderr)")
    args = p.parse_args()
    firsts: dict[int, list[float]] = {}
    walls: dict[int, list[float]] = {}
    cpus: dict[int, list[float]] = {}
    for run in range(args.runs):
        done = subprocess.run([sys.executable, "-c", CHILD, str(args.jobs), str(args.warm_up), args.recipe,
                               "1" if args.probe else "0"], stdout=subprocess.PIPE, text=True,
                              check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        for i, job in enumerate(result["jobs"]):
            firsts.setdefault(i, []).append(job["first_progress_s"])
            walls.setdefault(i, []).append(job["wall_s"])
            cpus.setdefault(i, []).append(job["server_cpu_s"])
            print(f"run {run} job {i}: import {result['import_s']:.2f} s, first progress "
                  f"{job['first_progress_s']:.2f} s, wall {job['wall_s']:.2f} s, server CPU {job['server_cpu_s']:.2f} s, "
                  f"accuracy {job['accuracy']:.3f}")
    for i in firsts:
        print(f"job {i} (median of {args.runs}): first progress {statistics.median(firsts[i]):.2f} s, "
              f"wall {statistics.median(walls[i]):.2f} s, server CPU {statistics.median(cpus[i]):.2f} s")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t:.1f} s")
