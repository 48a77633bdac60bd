"""Benchmark: how many pictures per second the `/predict` API sustains.

    python -m bench.predict_api [--clients 8] [--seconds 20]

Real UNIPEN digits rendered as 280 px pictures (dark ink on white, as a screenshot would be) are
uploaded once through `/gradio_api/upload`; then `--clients` clients in a closed loop call the
documented endpoint as any REST client does (`POST /gradio_api/call/predict`, then read its event
stream), on keep-alive connections with pre-encoded requests, so the load generator stays far
from being the bottleneck (its CPU is reported). Answers are checked against the digits' labels.
Results: bench/results/predict_api.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time

from tests.harness import Connection, percentile, process_cpu_seconds, serve_subprocess, write_results


def pictures(count: int) -> list[tuple[int, bytes]]:
    """(label, PNG bytes) of `count` UNIPEN digits drawn as pictures."""
    import random

    from PIL import Image

    from mnist_demo.handwriting import load_unipen, render_picture, to_canvas

    digits = load_unipen()
    random.Random(0).shuffle(digits)
    out = []
    for digit in digits[:count]:
        buffer = io.BytesIO()
        Image.fromarray(render_picture(to_canvas(digit.strokes))).save(buffer, format="PNG")
        out.append((digit.label, buffer.getvalue()))
    return out


async def upload(conn: Connection, name: str, data: bytes) -> str:
    """The server-side path of an uploaded file (multipart/form-data, field "files")."""
    boundary = "----mnistdemo" + str(time.perf_counter_ns())
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, raw = await conn.request("POST", "/gradio_api/upload", body,
                                     content_type=f"multipart/form-data; boundary={boundary}")
    if status != 200:
        raise RuntimeError(f"upload refused: {status} {raw[:200]!r}")
    return json.loads(raw)[0]


async def call(conn: Connection, body: bytes) -> dict:
    status, raw = await conn.request("POST", "/gradio_api/call/predict", body)
    if status != 200:
        raise RuntimeError(f"call refused: {status} {raw[:200]!r}")
    event = json.loads(raw)["event_id"]
    status, raw = await conn.request("GET", f"/gradio_api/call/predict/{event}")
    for block in raw.decode().split("\n\n"):
        if block.startswith("event: complete"):
            return json.loads(block.split("data:", 1)[1])[0]
    raise RuntimeError(f"no answer: {raw[-300:]!r}")


async def run(port: int, pid: int, pool: list[tuple[int, bytes]], clients: int, seconds: float) -> dict:
    setup = Connection("127.0.0.1", port)
    bodies = []
    for n, (label, png) in enumerate(pool):
        path = await upload(setup, f"digit-{n}.png", png)
        file = {"path": path, "orig_name": f"digit-{n}.png", "meta": {"_type": "gradio.FileData"}}
        bodies.append((label, json.dumps({"data": [file]}).encode()))
    setup.close()
    latencies, right, errors = [], 0, 0

    async def client(offset: int, until: float) -> None:
        nonlocal right, errors
        conn = Connection("127.0.0.1", port)
        n = offset
        while time.perf_counter() < until:
            label, body = bodies[n % len(bodies)]
            n += clients
            start = time.perf_counter()
            try:
                answer = await call(conn, body)
            except (RuntimeError, ValueError, ConnectionError, OSError, asyncio.IncompleteReadError):
                errors += 1
                conn.close()
                conn = Connection("127.0.0.1", port)
                continue
            latencies.append(1000 * (time.perf_counter() - start))
            right += str(answer.get("label")) == str(label)
        conn.close()

    await asyncio.gather(*[client(0, time.perf_counter() + 3) for _ in range(2)])  # warm up
    latencies.clear()
    right = errors = 0
    cpu0, gen0, wall0 = process_cpu_seconds(pid), time.process_time(), time.perf_counter()
    await asyncio.gather(*[client(i, time.perf_counter() + seconds) for i in range(clients)])
    wall = time.perf_counter() - wall0
    return {"clients": clients, "pictures": len(latencies), "pictures_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
            "correct": round(right / max(len(latencies), 1), 4), "errors": errors,
            "server_cores": round((process_cpu_seconds(pid) - cpu0) / wall, 2),
            "generator_cores": round((time.process_time() - gen0) / wall, 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--pictures", type=int, default=40)
    args = p.parse_args(argv)
    pool = pictures(args.pictures)
    rows = []
    with serve_subprocess() as app:
        for clients in args.clients:
            rows.append(asyncio.run(run(app.port, app.pid, pool, clients, args.seconds)))
            print(json.dumps(rows[-1]), flush=True)
    header = list(rows[0])
    lines = ["# The /predict API: pictures per second", "",
             f"{args.pictures} UNIPEN digits rendered as 280 px PNGs, uploaded once; each call is "
             "`POST /gradio_api/call/predict` and its event stream, clients in a closed loop.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[h]) for h in header) + " |" for row in rows]
    write_results("predict_api", {"rows": rows}, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
