"""Benchmark: what one live canvas update costs the server, and how many it sustains.

    python -m bench.live_route                      # this checkout
    python -m bench.live_route --app-dir ../old     # another checkout's app.py, for a before/after pair

Sends the canvas's own request (`/gradio_api/run/predict` with the live event's fn_index, the ink
of a real UNIPEN digit mid-stroke) on keep-alive connections: first one client in sequence (server
CPU milliseconds per update, bytes per answer), then a closed loop of `--clients` clients (updates
per second and the server's cores). With `--profile`, py-spy records the server meanwhile, holding
the interpreter lock only (`--gil`), and the top frames are printed: where the time goes.
Results: bench/results/live_route.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.classroom import drawings, find_events
from tests.harness import ROOT, Connection, default_inputs, process_cpu_seconds, serve_subprocess, write_results


async def _client(port: int, config: dict, events: dict, payloads: list[str], count: int | None,
                  until: float | None) -> tuple[int, int]:
    """Send live updates one after another; (updates answered, bytes received)."""
    conn = Connection("127.0.0.1", port)
    session = secrets.token_hex(6)
    for fn in events["load"]:
        body = json.dumps({"data": default_inputs(config, fn), "fn_index": fn, "session_hash": session}).encode()
        await conn.request("POST", "/gradio_api/run/predict", body)
    rest = default_inputs(config, events["canvas"])[1:]
    done = size = 0
    try:
        while (count is None or done < count) and (until is None or time.perf_counter() < until):
            body = json.dumps({"data": [payloads[done % len(payloads)], *rest], "fn_index": events["canvas"],
                               "session_hash": session}).encode()
            status, raw = await conn.request("POST", "/gradio_api/run/predict", body)
            if status != 200 or b'"data"' not in raw:
                raise RuntimeError(f"update refused: {status} {raw[:200]!r}")
            done, size = done + 1, size + len(raw)
    finally:
        conn.close()
    return done, size


SHOWN = ("(mnist_demo/", "(gradio/", "(torch/nn/", "(anyio/")  # the frames that say where the time goes


def _top_frames(raw: Path, count: int = 25) -> list[tuple[float, str]]:
    """py-spy's raw output folded into (share of samples, frame) with each frame counted once per stack;
    only this project's, Gradio's, torch's modules and anyio's thread hops (the web server's layers
    wrap everything and say nothing)."""
    total, inclusive = 0, collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        total += int(n)
        names = {frame.split(" (")[0] + " (" + frame.split(" (", 1)[1].split("site-packages/")[-1].split(":")[0] + ")"
                 for frame in stack.split(";") if any(part in frame for part in SHOWN)}
        for name in names:
            inclusive[name] += int(n)
    return [(round(100 * n / max(total, 1), 1), name) for name, n in inclusive.most_common(count)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--app-dir", default=str(ROOT))
    p.add_argument("--sequential", type=int, default=400, help="updates sent one after another")
    p.add_argument("--clients", type=int, default=8, help="clients of the closed loop")
    p.add_argument("--seconds", type=float, default=15.0, help="length of the closed loop")
    p.add_argument("--profile", action="store_true", help="py-spy the server during the closed loop")
    p.add_argument("--name", default="live_route")
    args = p.parse_args(argv)

    payloads = [frames[len(frames) // 2] for frames in (d["frames"] for d in drawings(20))]  # mid-stroke ink
    with serve_subprocess(cwd=args.app_dir) as app:
        config = json.loads(urllib.request.urlopen(app.url + "config").read())
        events = find_events(config)
        asyncio.run(_client(app.port, config, events, payloads, 50, None))  # warm up
        cpu0, wall0 = process_cpu_seconds(app.pid), time.perf_counter()
        done, size = asyncio.run(_client(app.port, config, events, payloads, args.sequential, None))
        sequential = {"updates": done, "server_cpu_ms": round(1000 * (process_cpu_seconds(app.pid) - cpu0) / done, 2),
                      "wall_ms": round(1000 * (time.perf_counter() - wall0) / done, 2), "bytes": size // done}

        spy, raw = None, ROOT / "bench" / "out" / f"{args.name}-pyspy.txt"
        if args.profile and shutil.which("py-spy"):
            raw.parent.mkdir(parents=True, exist_ok=True)
            spy = subprocess.Popen(["py-spy", "record", "-p", str(app.pid), "-d", str(int(args.seconds) - 2), "-f",
                                    "raw", "-o", str(raw), "--nonblocking", "--gil"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        async def loop() -> list[tuple[int, int]]:
            until = time.perf_counter() + args.seconds
            return await asyncio.gather(*[_client(app.port, config, events, payloads, None, until)
                                          for _ in range(args.clients)])

        cpu0, gen0, wall0 = process_cpu_seconds(app.pid), time.process_time(), time.perf_counter()
        answered = sum(n for n, _ in asyncio.run(loop()))
        wall = time.perf_counter() - wall0
        closed = {"clients": args.clients, "updates_per_s": round(answered / wall, 1),
                  "server_cores": round((process_cpu_seconds(app.pid) - cpu0) / wall, 2),
                  "generator_cores": round((time.process_time() - gen0) / wall, 3)}
        profile = []
        if spy is not None:
            spy.wait()
            profile = _top_frames(raw)

    lines = ["# One live canvas update", "", f"App: `{args.app_dir}`.", "",
             "| measure | value |", "|---|---:|",
             f"| server CPU per update, one client in sequence | {sequential['server_cpu_ms']} ms |",
             f"| wall time per update, one client | {sequential['wall_ms']} ms |",
             f"| answer size | {sequential['bytes']:,} bytes |",
             f"| updates per second, {args.clients} clients in a closed loop | {closed['updates_per_s']} |",
             f"| server cores meanwhile | {closed['server_cores']} |",
             f"| load generator's cores | {closed['generator_cores']} |"]
    if profile:
        lines += ["", "py-spy (`--gil`: the threads holding the interpreter lock), share of samples per frame:", "",
                  "| share | frame |", "|---:|---|"] + [f"| {share}% | `{name}` |" for share, name in profile]
    write_results(args.name, {"app_dir": args.app_dir, "sequential": sequential, "closed_loop": closed,
                              "profile": profile}, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
