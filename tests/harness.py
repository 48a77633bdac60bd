"""The one harness shared by the tests and the benchmarks: Chromium, the app on a free port, a throwaway
PostgreSQL server, pen strokes on the canvas, machine info, one percentile, and writing results.

Tests import it as `tests.harness` (pytest runs from the repository root, `tests` being a package);
bench scripts run as modules from the repository root (`python -m bench.x`), which imports it the same
way. It lives under tests/ because the
tests are its main user and CI runs them, so a broken helper fails there first. Nothing here imports
gradio, torch or Playwright at import time: a bench script pays only for what it uses.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# --- Chromium ------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's; never a browser Playwright downloads
# Without the networking flags Chromium stalls on lookups of outside hosts.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def launch_chromium(playwright):
    """Debian's Chromium started headless by a `sync_playwright()` object, with the flags above."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# --- the app on a free port ----------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(port: int) -> dict[str, str]:
    """What both ways of starting the app set: local only, this port, no analytics."""
    return {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}


def _wait_until_serving(url: str, timeout_s: float, alive=lambda: True) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer on {url} within {timeout_s:.0f} s")


class App:
    """The real app listening on 127.0.0.1:`port`; `stop()` (or leaving a `with` block) ends it."""

    def __init__(self, port: int, stop, pid: int | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.pid = pid or os.getpid()  # the server's process: benchmarks read its CPU time and memory
        self.log: Path | None = None  # the server's output, for a subprocess
        self.returncode: int | None = None  # its exit status once stopped
        self._stop = stop

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_process(port: int | None = None, **build) -> App:
    """`build_app(**build).launch(...)` in this process (prevent_thread_lock), with app.py's launch options."""
    from mnist_demo.ui.app import build_app, launch_options

    port = port or free_port()
    demo = build_app(**build)
    options = {**launch_options(demo), "server_name": "127.0.0.1", "server_port": port}
    demo.launch(**options, prevent_thread_lock=True, quiet=True)
    app = App(port, demo.close)
    _wait_until_serving(app.url, 60)
    return app


def serve_subprocess(port: int | None = None, timeout_s: float = 120, cwd: Path | str = ROOT,
                     log_path: Path | str | None = None, env: dict[str, str] | None = None) -> App:
    """`python app.py` as a child process with the same options, stopped by its PID (SIGTERM, then SIGKILL).

    `cwd`: another checkout's app.py, to measure a benchmark before and after a change. `log_path`: keep
    the server's output there (else a temporary file, removed after a clean stop). `env`: more variables.
    After `stop()`, `app.returncode` is the server's exit status."""
    port = port or free_port()
    keep = log_path is not None
    log = open(log_path, "wb") if keep else tempfile.NamedTemporaryFile(prefix="mnist-demo-app-", suffix=".log",
                                                                       delete=False)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=cwd,
                               env={**os.environ, **(env or {}), **_environment(port)},
                               stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        app.returncode = process.returncode
        log.close()
        if not keep:
            Path(log.name).unlink(missing_ok=True)

    app = App(port, stop, process.pid)
    app.log = Path(log.name)
    try:
        _wait_until_serving(app.url, timeout_s, alive=lambda: process.poll() is None)
    except RuntimeError as exc:
        log.flush()
        tail = Path(log.name).read_text(errors="replace")[-2000:]
        app.stop()
        raise RuntimeError(f"{exc} (exit status {process.returncode}); its output ends:\n{tail}") from None
    return app


SETTLE_S = 8.0  # after a server answers, Gradio's launch still checks its own address (HEAD /, 3 s timeout)


@contextlib.contextmanager
def serve_subprocesses(count: int, **options):
    """`count` app servers (serve_subprocess, the same `options`), started one after another: each gets
    SETTLE_S to pass Gradio's own start-up check before the next one's start takes the cores (on a busy machine
    that check times out and the server exits). Yields the list; all are stopped on leaving."""
    with contextlib.ExitStack() as stack:
        servers = []
        for number in range(count):
            if number:
                time.sleep(SETTLE_S)
            servers.append(stack.enter_context(serve_subprocess(**options)))
        yield servers


# --- a throwaway PostgreSQL server ---------------------------------------------------------------
# The class store's second engine is tested and measured on a real server: Debian's PostgreSQL, a cluster in a
# temporary folder, listening on 127.0.0.1 only, stopped and removed afterwards. As root (CI here) the server
# runs as the `postgres` user, which the package creates: PostgreSQL refuses to run as root.


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine (apt-get install postgresql), or they would not start."""


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs: $PG_BIN, else Debian's newest /usr/lib/postgresql/N/bin, else
    where `pg_ctl` is on the PATH."""
    candidates = [Path(os.environ["PG_BIN"])] if os.environ.get("PG_BIN") else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                         if p.parent.name.isdigit() else 0, reverse=True)
    if shutil.which("pg_ctl"):
        candidates.append(Path(shutil.which("pg_ctl")).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable("no PostgreSQL server programs (initdb, pg_ctl) here: apt-get install -y postgresql")


@contextlib.contextmanager
def postgres_server(port: int | None = None, durable: bool = False):
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port` (default: a free one) with trust authentication for
    the user `postgres`; yields the URL of its `postgres` database. Stopped and deleted on leaving (and at
    exit, should the caller never leave). Tests skip fsync; `durable` (benchmarks) keeps the server's defaults."""
    bin_dir = postgres_bin()
    port = port or free_port()
    folder = Path(tempfile.mkdtemp(prefix="mnist-demo-pg-"))
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    def run(*command: str) -> None:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)] if as_root else list(command)
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        except OSError as exc:  # no `su` here
            raise PostgresUnavailable(f"{argv[0]} could not run: {exc}") from None
        if done.returncode:
            log = folder / "log"
            tail = log.read_text(errors="replace")[-1500:] if log.is_file() else ""
            raise PostgresUnavailable(f"{command[0]} failed: {done.stdout[-1500:]}{tail}")

    if as_root:
        try:
            shutil.chown(folder, "postgres")  # the package's user: PostgreSQL refuses to run as root
        except (LookupError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(f"no postgres user to run the server as: {exc}") from None
    data = str(folder / "data")
    stopped = []

    def stop() -> None:
        if not stopped:
            stopped.append(True)
            with contextlib.suppress(Exception):
                run(str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
            shutil.rmtree(folder, ignore_errors=True)

    try:
        run(str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D", data)
        atexit.register(stop)
        run(str(bin_dir / "pg_ctl"), "-D", data, "-l", str(folder / "log"), "-w", "-t", "60", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
            + ("" if durable else " -c fsync=off"), "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop()


def new_database(server_url: str) -> str:
    """A new empty database on the server at `server_url`; returns its URL (drop it with drop_database)."""
    import psycopg

    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    import psycopg

    server_url, name = url.rsplit("/", 1)
    with psycopg.connect(server_url + "/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- talking to the app as a page does ----------------------------------------------------------
# Load generators share the machine with the server they measure, so requests are pre-encoded bytes on
# plain keep-alive connections (a few hundred microseconds of client CPU each; gradio_client costs ~70 ms).


class Connection:
    """One client's keep-alive HTTP/1.1 connection (a student, an API user); requests are pre-encoded bytes."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())  # e.g. a proxy's
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      content_type: str = "application/json") -> tuple[int, bytes]:
        """(status, body) of one request; the whole answer is read, chunked or not."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n{self.extra}Connection: keep-alive\r\n\r\n").encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        data = b""
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            data += await self.reader.readexactly(size + 2)
            if size == 0:
                return status, data
            data = data[:-2]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def default_inputs(config: dict, dep_index: int, **overrides) -> list:
    """The data list a page sends for an event: each input component's current value (states: null)."""
    by_id = {c["id"]: c for c in config["components"]}
    data = []
    for cid in config["dependencies"][dep_index]["inputs"]:
        comp = by_id[cid]
        elem_id = comp.get("props", {}).get("elem_id")
        value = None if comp.get("type") == "state" else comp.get("props", {}).get("value")
        data.append(overrides.get(elem_id, value))
    return data


def run_coroutine(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop running in the
    main thread once it has started, and an async handler called from a test needs one of its own."""
    outcome = {}

    def work():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- a script against the running app ------------------------------------------------------------
# What a hostile script (or a page) sends, by event number as /config lists them, with any session hash
# and any headers: the soak test, the class-mode probes (bench/class_attack.py) and their tests use it.


class Script:
    """The requests a script (or the page) sends, by event number as /config lists them."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=120, headers=headers or {},
                                 limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
        self.config = self.http.get("/config").json()
        self.deps = self.config["dependencies"]
        self.types = {c["id"]: c["type"] for c in self.config["components"]}
        self.elem_ids = {c["id"]: c.get("props", {}).get("elem_id") for c in self.config["components"]}
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def fn(self, api_name: str) -> dict:
        (dep,) = [d for d in self.deps if d.get("api_name") == api_name]
        return dep

    def trigger(self, elem_id: str, event: str = "click") -> dict:
        """The event a page sends when component `elem_id` fires `event` (its first listener)."""
        for dep in self.deps:
            if any(self.elem_ids.get(target) == elem_id and name == event for target, name in dep.get("targets", [])):
                return dep
        raise KeyError(f"{elem_id}.{event}")

    def inputs(self, dep: dict, values: dict[str, object], by_type: dict[str, object] | None = None) -> list:
        """The data list for `dep`: each input by its elem_id in `values`, else by its type in `by_type`
        (states travel as null and are filled in on the server)."""
        by_type = by_type or {}
        return [values.get(self.elem_ids.get(i), by_type.get(self.types[i])) for i in dep["inputs"]]

    def post(self, path: str, **kwargs):
        response = self.http.post(path, **kwargs)
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def run(self, dep: dict, data: list, session_hash: str, headers: dict | None = None):
        """A direct call (the route of the page's queue=False events)."""
        return self.post("/gradio_api/run/predict", headers=headers,
                         json={"data": data, "fn_index": dep["id"], "session_hash": session_hash})

    def queued(self, dep: dict, data: list, session_hash: str, headers: dict | None = None) -> dict | None:
        """Join the queue and read the session's stream until this event completes (its last message);
        a refused join gives {"refused": status, "detail": ...}."""
        joined = self.post("/gradio_api/queue/join", headers=headers,
                           json={"data": data, "fn_index": dep["id"], "session_hash": session_hash,
                                 "event_data": None})
        if joined.status_code != 200:
            return {"refused": joined.status_code, "detail": joined.json().get("detail")}
        event_id = joined.json()["event_id"]
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    return message
                if message.get("msg") == "close_stream":
                    return None
        return None

    def call(self, dep: dict, data: list, session_hash: str, headers: dict | None = None):
        if dep.get("queue") is False:
            return self.run(dep, data, session_hash, headers)
        return self.queued(dep, data, session_hash, headers)

    def page_load(self, session_hash: str, headers: dict | None = None):
        """The page's own load event, as a page (or a script) sends it first: it creates the tab's session."""
        return self.run(self.fn("on_page_load"), [], session_hash, headers)

    def open_page(self, session_hash: str, headers: dict | None = None, stored: dict | None = None) -> list:
        """Every load event of the page, as a browser opening it sends them (the page's own first), with what
        the browser keeps in its storage (`stored`: input type -> value, e.g. {"browserstate": token})."""
        loads = [d for d in self.deps if any(name == "load" for _, name in d.get("targets", []))]
        loads.sort(key=lambda d: d.get("api_name") != "on_page_load")
        by_type = {"radio": "en", **(stored or {})}
        return [self.call(d, self.inputs(d, {}, by_type), session_hash, headers) for d in loads]

    def drawing(self, payload: str, session_hash: str):
        dep = self.fn("on_drawing")
        values = {"html": payload, "dropdown": "digitnet", "radio": "en", "state": None}
        return self.run(dep, [values[self.types[i]] for i in dep["inputs"]], session_hash)

    def upload(self, name: str, content: bytes) -> dict:
        response = self.post("/gradio_api/upload", files={"files": (name, content, "application/octet-stream")})
        assert response.status_code == 200, response.text
        (path,) = response.json()
        return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def upload_weights(self, files: list[dict], session_hash: str) -> dict | None:
        dep = self.fn("on_weights_upload")
        values = {"file": files, "radio": "en", "state": None}
        return self.queued(dep, [values[self.types[i]] for i in dep["inputs"]], session_hash)


def answer_of(message) -> str:
    """A queued or direct answer as one word or message: "ok", the error shown to the user, or the refusal."""
    if message is None:
        return "no answer"
    if hasattr(message, "status_code"):  # a direct call's response
        body = message.json()
        return "ok" if message.status_code == 200 else str(body.get("error") or body.get("detail"))
    if "refused" in message:
        return f"{message['refused']}: {message['detail']}"
    return "ok" if message.get("success") else str(message.get("output", {}).get("error"))


# --- pen strokes ---------------------------------------------------------------------------------
# Pen paths for the digits 0-9 as a person might draw them, in canvas coordinates from 0 to 1 (y down).
# Each digit is a list of strokes, each stroke a list of (x, y) points dense enough to draw with mouse moves.

Point = tuple[float, float]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, step: float = 12) -> list[Point]:
    """Points on an ellipse from angle `start` to `end` in degrees (0 = right, 90 = down, either direction)."""
    count = max(2, int(abs(end - start) / step) + 1)
    angles = [math.radians(start + (end - start) * i / (count - 1)) for i in range(count)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def line(*points: Point, spacing: float = 0.03) -> list[Point]:
    """A polyline through `points`, with intermediate points every `spacing`."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        count = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
        out += [(x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)]
    return out


def eight() -> list[Point]:
    """A figure of eight crossing in the middle: lower loop, then upper loop."""
    ts = [2 * math.pi * i / 48 for i in range(49)]
    return [(0.5 + 0.17 * math.sin(2 * t), 0.5 + 0.31 * math.sin(t)) for t in ts]


DIGITS: dict[int, list[list[Point]]] = {
    0: [arc(0.5, 0.5, 0.2, 0.31, -90, -470)],
    1: [line((0.53, 0.16), (0.48, 0.84))],
    2: [arc(0.5, 0.34, 0.18, 0.15, 200, 390) + line((0.656, 0.415), (0.3, 0.8), (0.72, 0.8))],
    3: [arc(0.5, 0.33, 0.17, 0.14, 210, 450) + arc(0.5, 0.64, 0.19, 0.17, -90, 150)],
    4: [line((0.36, 0.18), (0.3, 0.56), (0.74, 0.56)), line((0.62, 0.22), (0.62, 0.84))],
    5: [line((0.68, 0.2), (0.38, 0.2), (0.35, 0.47)) + arc(0.5, 0.63, 0.19, 0.17, -125, 150)],
    6: [line((0.64, 0.17), (0.5, 0.27), (0.4, 0.42), (0.34, 0.62)) + arc(0.5, 0.65, 0.16, 0.16, 180, -170)],
    7: [line((0.28, 0.2), (0.7, 0.2), (0.44, 0.84))],
    8: [eight()],
    9: [arc(0.5, 0.34, 0.16, 0.15, 0, -360) + line((0.66, 0.34), (0.63, 0.84))],
}

CANVAS = "#sketchpad canvas.ink"  # the Draw tab's drawing surface


def to_page(box: dict, point: Point) -> tuple[float, float]:
    """A canvas point (0-1) in page pixels, for an element's bounding box."""
    return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]


def draw_strokes(page, box: dict, strokes: Sequence[Sequence[Point]], pause_ms: float = 4) -> None:
    """Draw with the mouse: per stroke, press, move through the points `pause_ms` apart, and release at
    once after the last move, as a hand lifts."""
    for stroke in strokes:
        page.mouse.move(*to_page(box, stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            if pause_ms:
                page.wait_for_timeout(pause_ms)
            page.mouse.move(*to_page(box, point))
        page.mouse.up()


def pen_strokes(digit, max_points: int = 40) -> list[list[Point]]:
    """A UNIPEN digit's strokes placed on the canvas (handwriting.to_canvas), at most `max_points` a stroke:
    enough for the shape, few enough mouse moves to replay quickly."""
    import numpy as np

    from mnist_demo.handwriting import to_canvas

    out = []
    for stroke in to_canvas(digit.strokes):
        keep = np.unique(np.linspace(0, len(stroke) - 1, min(len(stroke), max_points)).round().astype(int))
        out.append([tuple(map(float, p)) for p in stroke[keep]])
    return out


def touch_strokes(page, box: dict, strokes: Sequence[Sequence[Point]], pause_ms: float = 10) -> None:
    """Draw with one finger (Chrome DevTools touch events; the page's context needs has_touch=True)."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, point: Point | None = None) -> None:
        points = [] if point is None else [{"x": point[0], "y": point[1], "id": 1, "radiusX": 6, "radiusY": 6}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    for stroke in strokes:
        touch("touchStart", to_page(box, stroke[0]))
        for point in stroke[1:]:
            touch("touchMove", to_page(box, point))
            page.wait_for_timeout(pause_ms)
        touch("touchEnd")
    cdp.detach()


# --- the screens people see ----------------------------------------------------------------------

# Pairs of visible things that overlap on screen under `root`: text (each line box of each text node) and
# pictures, fields, canvases and Gradio's icon buttons (a field's copy button over its label). Overlapping text is what a person sees as a broken layout (a label run into a
# box's own text, a button over a heading); nested boxes are not pairs (one element's own lines never are).
OVERLAPS_JS = r"""(rootSelector) => {
  const root = document.querySelector(rootSelector);
  // Gradio's "working" overlay (a timer over a component while an event runs) comes and goes: not layout.
  const transient = '[data-testid=status-tracker], .wrap.default, .meta-text, .meta-text-center, .progress-text, .eta-bar';
  const shown = (el) => { if (el.closest(transient)) return false;
    for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false; } return true; };
  const items = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    if (!node.textContent.trim() || !shown(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects())
      if (r.width > 1 && r.height > 1) items.push({ r, what: node.textContent.trim().slice(0, 40), el: node.parentElement });
  }
  const things = 'input:not([type=checkbox]):not([type=radio]):not([type=file]), textarea, img, canvas, .icon-button';
  for (const el of root.querySelectorAll(things)) {
    const r = el.getBoundingClientRect();
    if (r.width > 1 && r.height > 1 && shown(el))
      items.push({ r, what: el.tagName.toLowerCase() + ' in #' + (el.closest('[id]')?.id || '?'), el });
  }
  const found = [];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = items[i].r, b = items[j].r;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 2 && h > 2 && items[i].el !== items[j].el) found.push([items[i].what, items[j].what]);
  }
  return found;
}"""

# Everything of an element a person could read off the screen: its text and the values of its fields.
READABLE_JS = """(selector) => { const el = document.querySelector(selector); if (!el) return '';
  return el.innerText + ' ' + [...el.querySelectorAll('input, textarea')].map(i => i.value).join(' '); }"""


def overlaps(page, root: str) -> list:
    """The overlapping pairs (OVERLAPS_JS) of what is visible under `root`."""
    return page.evaluate(OVERLAPS_JS, root)


def readable(page, selector: str) -> str:
    return page.evaluate(READABLE_JS, selector)


def field(page, elem_id: str):
    """A Gradio text field of the page by its elem_id (its textarea or input)."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def teacher_opens_a_class(page, title: str, dashboard: bool = False) -> tuple[str, str]:
    """What a teacher does first, on `page` (the app loaded, in any language): the Class tab, a new class `title`,
    its key alone in a private step, then the class's screen (code, link, QR); with `dashboard`, the dashboard
    opened too. (the join link, the teacher key)"""
    page.locator("#tabs button[role=tab]").nth(3).click()  # the Class tab, whatever the page's language
    field(page, "class-title").fill(title)
    page.locator("#class-create").click()
    page.wait_for_function("() => document.querySelector('#class-teacher-key input, #class-teacher-key textarea')"
                           "?.value.length > 10", timeout=60_000)
    key = field(page, "class-teacher-key").input_value()
    page.locator("#class-show-screen").click()
    page.wait_for_selector("#class-qr svg", timeout=60_000)
    link = field(page, "class-link").input_value()
    if dashboard:
        page.locator("#class-open").click()
        page.wait_for_selector("#class-dashboard", state="visible", timeout=60_000)
    return link, key


def seed_class(class_store, code: str, per_digit: int = 3) -> None:
    """UNIPEN digits (unipen-dev, drawn through the canvas path) given into the class as five students would,
    with the default model's answers."""
    import numpy as np
    import torch

    from mnist_demo import handwriting as hw
    from mnist_demo.catalog import DEFAULT_MODEL, shipped
    from mnist_demo.models import evaluating, probabilities

    model = shipped()[DEFAULT_MODEL].model
    digits = hw.load_unipen()
    names = ["Ada", "Bo", "Cy", "Dee", ""]
    rows = []
    for n in range(per_digit):
        for label in range(10):
            digit = [d for d in digits if d.label == label and d.source in ("ibm", "syn")][n * 7]
            rows.append((label, hw.prepared_canvas(digit), hw.render_ink(hw.to_canvas(digit.strokes))))
    x = torch.from_numpy(np.stack([r[1] for r in rows]).astype(np.float32) / 255).unsqueeze(1)
    with torch.inference_mode(), evaluating(model):
        conf, answer = probabilities(model, model(x)).max(1)
    for i, ((label, image, ink), a, c) in enumerate(zip(rows, answer.tolist(), conf.tolist(), strict=True)):
        class_store.add_drawing(code, f"student-{i % 5}", image, label, ink=ink, answer=a, confidence=c,
                                nickname=names[i % 5], model=DEFAULT_MODEL)


# --- measuring -----------------------------------------------------------------------------------

PERCENTILE_DEFINITION = "the measured value at index round(q/100*(n-1)) of the sorted values, numpy's method='nearest'"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) as one of the measured values: the sorted value at index
    round(q/100 * (n-1)), half to even, exactly numpy.percentile(values, q, method="nearest")."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))])


def process_cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time (user + system) a process has used so far, with its waited-for children's (a training's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A process's resident memory (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the system has none)."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def cpu_name() -> str:
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    """What a figure depends on: CPU, cores, load average now, OS, Python, torch and gradio versions
    (read from the installed metadata, so nothing heavy is imported)."""
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "load_avg_1_5_15": load_average(),
            "platform": platform.platform(), "python": platform.python_version(),
            "torch": _version("torch"), "gradio": _version("gradio")}


def describe_machine(machine: dict) -> str:
    """One line for a results file: 'AMD EPYC ..., 2 cores, load 7.1 9.5 9.8, Python 3.11.7, torch 2.14.1'."""
    load = " ".join(str(x) for x in machine.get("load_avg_1_5_15", []))
    return (f"{machine['cpu']}, {machine['cores']} cores, load average {load or 'n/a'} (1, 5, 15 min), "
            f"Python {machine['python']}, torch {machine['torch']}")


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this script was run, as a reader would type it: `python -m bench.x --flag value`."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    if script.is_relative_to(ROOT) and script.suffix == ".py":  # run as `python -m bench.x`: argv[0] is its file
        return shlex.join(["python", "-m", ".".join(script.relative_to(ROOT).with_suffix("").parts), *argv[1:]])
    return shlex.join(["python", argv[0], *argv[1:]])


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_results(name: str, results: dict, markdown: str, out_dir: Path | str = RESULTS) -> Path:
    """Write `name`.json (the results with date, command and machine added where missing) and `name`.md
    (the markdown plus a last line naming the command and the machine) into out_dir; returns the .md path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = {"date": now(), "command": command_line(), "machine": machine_info(), **results}
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    footer = f"Written {results['date']} by `{results['command']}` on {describe_machine(results['machine'])}."
    (out / f"{name}.md").write_text(markdown.rstrip("\n") + "\n\n" + footer + "\n")
    return out / f"{name}.md"


# --- data ----------------------------------------------------------------------------------------

def data_folder() -> Path:
    """The data folder the tests use: $MNIST_DEMO_DATA, else ./data (as the app)."""
    from mnist_demo.data import resolve_data_dir

    return resolve_data_dir()


def needs_dataset(folder: str, why: str = ""):
    """A pytest mark that skips a test, saying so, when the data folder lacks the optional `folder`
    (e.g. "unipen-dev"); only for data that is genuinely optional."""
    import pytest

    where = data_folder() / folder
    return pytest.mark.skipif(not where.is_dir(), reason=f"{where} is missing{': ' + why if why else ''}")


# --- the page's own answers (ui/device.py) -------------------------------------------------------

def parity_inks(count: int, seed: int = 0):
    """`count` ink maps (N x 112 x 112 uint8) as the canvas sends them: half UNIPEN pen digits rendered as
    the canvas draws them (handwriting.render_ink), half MNIST test digits redrawn by a user and sent as the
    canvas would (tests/test_rerendered_mnist.py), in a seeded random choice."""
    import numpy as np

    from mnist_demo import handwriting
    from mnist_demo.data import load_split
    from tests.test_rerendered_mnist import browser_ink, render_like_a_user

    rng = np.random.default_rng(seed)
    pens = handwriting.load_unipen()
    inks = [handwriting.render_ink(handwriting.to_canvas(pens[i].strokes))
            for i in rng.choice(len(pens), count // 2, replace=False)]
    mnist = load_split("mnist", "test").images.numpy()
    for i in rng.choice(len(mnist), count - count // 2, replace=False):
        inks.append(np.round(browser_ink(render_like_a_user(mnist[i], rng)) * 255).astype(np.uint8))
    return np.stack(inks).astype(np.uint8)


# Runs in a page of the app once its device runtime is ready: each ink (base64 of its bytes) through the
# page's own geometry and the model `key`'s ONNX graph; returns base64 float32 inputs (784 each, zeros when
# blank) and probabilities (10 each, NaN when blank), and the milliseconds each took.
DEVICE_PARITY_JS = """async ([inks, key, side]) => {
  const D = globalThis.MnistDevice, entry = D.config.models[key];
  const session = await ort.InferenceSession.create(new URL(entry.url, document.baseURI).href);
  const inputs = new Float32Array(inks.length * 784), probs = new Float32Array(inks.length * 10).fill(NaN);
  const ms = [];
  for (let i = 0; i < inks.length; i++) {
    const bytes = Uint8Array.from(atob(inks[i]), (c) => c.charCodeAt(0));
    const started = performance.now();
    const x = MnistGeometry.prepare(bytes, side);
    if (x) {
      const out = await session.run({ x: new ort.Tensor('float32', x, [1, 1, 28, 28]) });
      probs.set(out.p.data, i * 10);
      inputs.set(x, i * 784);
    }
    ms.push(performance.now() - started);
  }
  const b64 = (a) => { let s = ''; const u = new Uint8Array(a.buffer);
    for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode.apply(null, u.subarray(i, i + 4096)); return btoa(s); };
  return { inputs: b64(inputs), probs: b64(probs), ms };
}"""

DEVICE_READY_JS = "(pad) => !!(globalThis.MnistDevice && MnistDevice.canAnswer && MnistDevice.canAnswer(pad))"


def device_model_of(page, pad: str, sessions):
    """(key, PyTorch model) the page's canvas `pad` answers with on the device, found by its file among the
    models of the open sessions of the app served in this process (`sessions`: its `session.Sessions`)."""
    from mnist_demo import device_models

    key, url = page.evaluate("(pad) => [MnistDevice.keys[pad], MnistDevice.config.models[MnistDevice.keys[pad]].url]",
                             pad)
    digest = url.rsplit("/", 1)[1].removesuffix(".onnx")
    for session in sessions.all():
        for entry in list(session.trained.values()):
            if entry.key == key and device_models.device_file(entry.model).digest == digest:
                return key, entry.model
    raise LookupError(f"no open session holds the model {key} ({digest})")


def device_parity(page, inks, key: str, batch: int = 250, model=None) -> dict:
    """The page's inputs and probabilities for `inks` (see DEVICE_PARITY_JS), against the server's
    (reading.geometry.from_ink and the PyTorch model: `model`, else the shipped one named `key`): the figures
    the README's parity targets name."""
    import base64

    import numpy as np
    import torch

    from mnist_demo.catalog import resolve
    from mnist_demo.models import probabilities
    from mnist_demo.reading.geometry import from_ink

    side = inks.shape[1]
    page_inputs, page_probs, ms = [], [], []
    for start in range(0, len(inks), batch):
        chunk = [base64.b64encode(ink.tobytes()).decode() for ink in inks[start:start + batch]]
        out = page.evaluate(DEVICE_PARITY_JS, [chunk, key, side])
        page_inputs.append(np.frombuffer(base64.b64decode(out["inputs"]), np.float32).reshape(-1, 784))
        page_probs.append(np.frombuffer(base64.b64decode(out["probs"]), np.float32).reshape(-1, 10))
        ms += out["ms"]
    page_inputs, page_probs = np.concatenate(page_inputs), np.concatenate(page_probs)
    prepared = [from_ink(ink) for ink in inks]
    server_inputs = np.stack([p.image.reshape(784) for p in prepared]).astype(np.float32)
    drawn = np.array([not p.blank for p in prepared])
    model = model if model is not None else resolve(key).model
    with torch.inference_mode():
        server_probs = probabilities(model, model(torch.from_numpy(server_inputs[drawn]).view(-1, 1, 28, 28))).numpy()
    page_drawn = ~np.isnan(page_probs[:, 0])
    diff = np.abs(page_inputs - server_inputs)
    both = drawn & page_drawn
    return {
        "drawings": len(inks), "blank_agree": bool((drawn == page_drawn).all()),
        "input_diff_p999": float(np.percentile(diff, 99.9)), "input_diff_max": float(diff.max()),
        "top1_agree": float((page_probs[both].argmax(1) == server_probs[both[drawn]].argmax(1)).mean()),
        "prob_diff_max": float(np.abs(page_probs[both] - server_probs[both[drawn]]).max()),
        "page_ms_median": float(np.median(ms)),
    }
