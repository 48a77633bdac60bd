"""The HTTP gate in front of Gradio: request bodies bounded before they are parsed, and which tabs are alive.

`Guard` is plain ASGI middleware, passed to Gradio as `launch(app_kwargs={"middleware": [...]})`.

* Every POST under /gradio_api (the events' `run/*`, `queue/join`, `call/*`, ...) except file
  uploads (bounded by Gradio's own `max_file_size`) may carry at most MAX_REQUEST_BYTES: a
  larger Content-Length is refused with 413 at once, and a body streamed without one is cut off
  at the limit, before Gradio or JSON sees a byte of it. The largest legitimate body is a canvas
  update (~17 KB, `reading.files.MAX_PAYLOAD_CHARS`).
* The event a call names and its session hash are read from the parsed body, as Gradio will read them
  (`read_call`): escaped keys count, a body with a key twice (Gradio would keep the last) or of the wrong
  types is refused, and a call without `fn_index` is judged by the event name in its path (`/run/NAME`,
  `/call/NAME`), which Gradio falls back on.
* A heartbeat stream for a hash that never loaded the page is refused once its load has had time to land:
  Gradio runs the unload event when a heartbeat ends, which makes a session for any hash.
* Per client address (`addresses.resolve`: the one the trusted proxy saw), per 10 minutes:
  at most PAGE_LOADS_PER_WINDOW page loads of new session hashes (Gradio keeps `app.MAX_SESSIONS` sessions
  and drops the least recently used without a word, so loads are what a script would evict real tabs with;
  the app keeps MAX_SESSIONS at twice this, so one address cannot push anyone out) and UPLOADS_PER_WINDOW
  file uploads (anyone may upload; Gradio keeps the files until its cache sweep).
* Uploads' bytes: one upload request carries at most MAX_UPLOAD_REQUEST_BYTES (its Content-Length, required;
  Gradio alone takes up to 1,000 files of `max_file_size` in one request), one address sends at most
  UPLOAD_MB_PER_WINDOW and everyone together GLOBAL_UPLOAD_MB_PER_WINDOW per 10 minutes, so the files Gradio
  keeps until its sweep (at most 40 minutes, `app.CACHE_CLEANUP`) stay within a few GB of disk.
* `bound_queue`: Gradio's queue takes at most MAX_EVENTS_PER_SESSION waiting or running events of one
  session and `per_address` of one address (the app passes half the queue), so one tab or one script
  cannot fill the queue for everyone.
* A `ConnectionWatch` notes, per Gradio session hash, its open streams (the heartbeat and `queue/data`)
  and the time of its latest request, so the unload handler can tell a closed tab from a
  dropped connection (see `session.Sessions.close_closed_tab`).
* What the gate knows of the app (its events, which are open to anyone, which hashes loaded the page, the
  watch) is the app's own `Gate`, built with the app (`app.build_app`) and handed to the middleware at launch.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from .. import settings
from ..addresses import resolve
from ..classroom.security import RateLimiter
from ..last_seen import LastSeen
from ..reading.files import MAX_PICTURE_BYTES
from .common import reload_notice

MAX_REQUEST_BYTES = settings.current().max_request_bytes
API = "/gradio_api/"
_HEARTBEAT = re.compile(r"/gradio_api/heartbeat/([^/?]{1,128})$")
_BY_NAME = re.compile(r"/gradio_api/(?:run|api|call|call/v2)/([^/]+)/?$")
UNKNOWN_WAIT_SECONDS = 0.3
WINDOW_S = 600.0
# A class of 200 behind one school address opens its pages (and reloads some) within the window.
PAGE_LOADS_PER_WINDOW = settings.current().page_loads_per_window
UPLOADS_PER_WINDOW = settings.current().uploads_per_window
MB = 1_000_000
# The largest file Gradio takes (app's max_file_size, a picture's limit) and a second, small one (a weights
# file's card) with the multipart's own bytes.
MAX_UPLOAD_REQUEST_BYTES = MAX_PICTURE_BYTES + MB
UPLOAD_MB_PER_WINDOW = 250  # one person's pictures, weights and zips: 25 files of the largest size
GLOBAL_UPLOAD_MB_PER_WINDOW = 2_000  # kept <= 40 minutes: at most ~8 GB of uploads on disk at once
TOO_MANY = ("Too many requests from your network right now. Wait a few minutes and reload the page. / "
            "你所在网络的请求过多。请等几分钟后刷新页面。")
MAX_EVENTS_PER_SESSION = 8  # a page has one or two events in flight (a save, the dashboard's refresh, a training)
BUSY = ("Too many of your requests are waiting already. Wait for them to finish. / "
        "你的请求已有太多在等待处理。请等它们完成。")
HEARTBEAT_WAIT_SECONDS = 5.0  # a page opens its heartbeat beside its load event; this long for the load to land
MAX_WAITING = 64  # requests waiting for their page load at once; beyond that, refused at once
RELOAD = reload_notice()


class ConnectionWatch:
    """Per session hash: open streams and the latest request, for at most `capacity` hashes."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._open: dict[str, int] = {}
        self._heartbeats: dict[str, int] = {}
        self._seen = LastSeen(capacity)
        self._lock = threading.Lock()

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def touch(self, session_hash: str) -> None:
        self._seen.see(session_hash, self.now())

    def opened(self, session_hash: str, heartbeat: bool = False) -> None:
        with self._lock:
            for counts in (self._open, self._heartbeats) if heartbeat else (self._open,):
                counts[session_hash] = counts.get(session_hash, 0) + 1
        self.touch(session_hash)

    def closed(self, session_hash: str, heartbeat: bool = False) -> None:
        """A stream ended (no sign of life: a closing tab ends its streams)."""
        with self._lock:
            for counts in (self._open, self._heartbeats) if heartbeat else (self._open,):
                left = counts.get(session_hash, 0) - 1
                if left > 0:
                    counts[session_hash] = left
                else:
                    counts.pop(session_hash, None)

    def has_heartbeat(self, session_hash: str) -> bool:
        with self._lock:
            return self._heartbeats.get(session_hash, 0) > 0

    def alive(self, session_hash: str, since: float) -> bool:
        """An open stream now, or a request after `since` (a monotonic time)?"""
        with self._lock:
            if self._open.get(session_hash, 0) > 0:
                return True
        return self._seen.get(session_hash, -1.0) > since


@dataclass
class Gate:
    """What the gate knows of the app it guards, filled in when the app is built (`app.build_app`)."""

    # The app's event numbers: a call naming any other is refused here, before Gradio looks it up (it answers an
    # unknown one with a traceback). Empty: no event check (a gate in front of something else).
    events: set[int] = field(default_factory=set)
    # The events anyone may call: the page's load event (it creates the tab's session) and the public API.
    # Every other event is answered only for a session hash that loaded the page (`known_session`) or
    # holds its heartbeat stream open (a page opens it before its first event; the tab-select event
    # races the load event), so a script's fresh hashes cost the server nothing (Gradio keeps ~0.2 MB
    # of state for every hash it sees). A hash that is neither waits up to UNKNOWN_WAIT_SECONDS for
    # its page load to land, then gets 403 with a "reload the page" notice.
    open_events: set[int] = field(default_factory=set)
    event_names: dict[str, int] = field(default_factory=dict)  # api_name -> number, for calls naming it in the path
    page_load: int | None = None  # the page's own load event (it makes the tab's session)
    known_session: Callable[[str], bool] | None = None  # did this hash load the page? (None: every hash did)
    watch: ConnectionWatch = field(default_factory=ConnectionWatch)


class BadCall(ValueError):
    """A body Gradio might read differently from the gate: not JSON, not an object, a key twice, odd types."""


def _unique(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise BadCall("a key appears twice")
    return dict(pairs)


def read_call(body: bytes, path: str, names: dict[str, int] | None = None) -> tuple[int | None, str | None]:
    """(event number, session hash) a POST under /gradio_api will act on, read as Gradio reads them (json,
    then the path's event name, looked up in `names`, when the body names no number); BadCall where the gate and Gradio could
    read it differently. An empty body names nothing (Gradio refuses it)."""
    if not body.strip():
        return None, None
    try:
        parsed = json.loads(body, object_pairs_hook=_unique)
    except (ValueError, RecursionError) as exc:  # BadCall is a ValueError
        raise BadCall(str(exc)) from None
    if not isinstance(parsed, dict):
        raise BadCall("not a JSON object")
    fn_index, session_hash = parsed.get("fn_index"), parsed.get("session_hash")
    if fn_index is not None and type(fn_index) is not int:  # pydantic would turn "5", 5.0 and true into numbers
        raise BadCall("fn_index is not a whole number")
    if session_hash is not None and not isinstance(session_hash, str):
        raise BadCall("session_hash is not text")
    if fn_index is None and (match := _BY_NAME.search(path)):
        fn_index = (names or {}).get(match.group(1), -1)
    return fn_index, session_hash


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "error": detail}).encode()  # Gradio's clients read one or the other
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # the rest of the body is never read
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: bounded request bodies for Gradio's API, and the connection watch (`gate`: the app's)."""

    def __init__(self, app, gate: Gate | None = None, max_body: int | None = None) -> None:
        self.app = app
        self.gate = gate if gate is not None else Gate()
        self.max_body = MAX_REQUEST_BYTES if max_body is None else max_body
        self.watch = self.gate.watch
        self._waiting = 0
        self.page_loads = RateLimiter(PAGE_LOADS_PER_WINDOW, window_s=WINDOW_S)
        self.uploads = RateLimiter(UPLOADS_PER_WINDOW, window_s=WINDOW_S)
        self.upload_mb = RateLimiter(UPLOAD_MB_PER_WINDOW, window_s=WINDOW_S)
        self.all_upload_mb = RateLimiter(GLOBAL_UPLOAD_MB_PER_WINDOW, window_s=WINDOW_S, capacity=1)

    @staticmethod
    def address(scope) -> str:
        """The client's address as the trusted proxy saw it (else the socket's)."""
        forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
        return resolve((scope.get("client") or ("unknown", 0))[0], forwarded)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or API not in scope["path"]:
            return await self.app(scope, receive, send)
        path = scope["path"]
        if scope["method"] == "POST" and path.rstrip("/").endswith("/upload"):
            return await self._upload(scope, receive, send)
        if scope["method"] == "POST":
            return await self._bounded(scope, receive, send)
        stream_of, heartbeat = None, False
        if match := _HEARTBEAT.search(path):
            stream_of, heartbeat = match.group(1), True
        elif path.endswith("/queue/data"):
            stream_of = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash") or [None])[0]
        if not stream_of:
            return await self.app(scope, receive, send)
        self.watch.opened(stream_of, heartbeat)  # while it waits too: the page's first events wait as long
        try:
            if heartbeat and not self._known(stream_of) and not await self._becomes_known(stream_of,
                                                                                         HEARTBEAT_WAIT_SECONDS):
                return await _reply(send, 404, RELOAD)
            await self.app(scope, receive, send)
        finally:
            self.watch.closed(stream_of, heartbeat)

    async def _upload(self, scope, receive, send) -> None:
        """An upload within its bounds: its declared size (the server reads no more than that), then the
        address's count and megabytes and everyone's megabytes, each counted only if all allow it."""
        declared = [value for name, value in scope.get("headers", []) if name == b"content-length"]
        try:
            size = int(declared[0]) if len(declared) == 1 else None
        except ValueError:
            size = None
        if size is None or size < 0:
            return await _reply(send, 411, "An upload must state its size (Content-Length).")
        if size > MAX_UPLOAD_REQUEST_BYTES:
            return await _reply(send, 413, f"Upload too large (at most {MAX_UPLOAD_REQUEST_BYTES // MB} MB at once).")
        address, megabytes = self.address(scope), -(-size // MB)
        if not self.uploads.take(address):
            return await _reply(send, 429, TOO_MANY)
        if not self.upload_mb.take(address, megabytes):
            self.uploads.give_back(address)
            return await _reply(send, 429, TOO_MANY)
        if not self.all_upload_mb.take("*", megabytes):
            self.uploads.give_back(address)
            for _ in range(megabytes):
                self.upload_mb.give_back(address)
            return await _reply(send, 429, TOO_MANY)
        return await self.app(scope, receive, send)

    def _known(self, session_hash: str | None) -> bool:
        """Did this hash load the page? (An open heartbeat proves nothing: anyone can open one.)"""
        check = self.gate.known_session
        return check is None or bool(session_hash) and check(session_hash)

    async def _becomes_known(self, session_hash: str | None, wait_s: float | None = None) -> bool:
        """Wait a moment for the page load of this hash (it may be in flight beside this request); longer
        while its heartbeat is open (a page's first events race its load event)."""
        if not session_hash or self._waiting >= MAX_WAITING:
            return False
        if wait_s is None:
            wait_s = HEARTBEAT_WAIT_SECONDS if self.watch.has_heartbeat(session_hash) else UNKNOWN_WAIT_SECONDS
        self._waiting += 1
        try:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                if self._known(session_hash):
                    return True
            return False
        finally:
            self._waiting -= 1

    async def _bounded(self, scope, receive, send) -> None:
        limit = self.max_body
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _reply(send, 400, "Bad Content-Length.")
                if declared > limit:
                    return await _reply(send, 413, f"Request body too large (at most {limit} bytes).")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _reply(send, 413, f"Request body too large (at most {limit} bytes).")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            fn_index, session_hash = read_call(body, scope["path"], self.gate.event_names)
        except BadCall as exc:
            return await _reply(send, 400, f"Bad request body ({exc}).")
        if session_hash:
            self.watch.touch(session_hash)
        # Gradio makes a session for the hash of a component_server call as for an event's
        gate = self.gate
        needs_session = fn_index not in gate.open_events if fn_index is not None else scope["path"].rstrip(
            "/").endswith("/component_server")
        if gate.events and fn_index is not None and fn_index not in gate.events:
            return await _reply(send, 404, "No such event.")
        if (gate.page_load is not None and fn_index == gate.page_load and not self._known(session_hash)
                and not self.page_loads.take(self.address(scope))):
            return await _reply(send, 429, TOO_MANY)
        if gate.events and needs_session and not self._known(session_hash) and not await self._becomes_known(
                session_hash):
            return await _reply(send, 403, RELOAD)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def request_address(request) -> str:
    """The client's address of a Starlette request (as `Guard.address` reads a scope)."""
    headers = getattr(request, "headers", None)
    forwarded = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else []
    return resolve(getattr(getattr(request, "client", None), "host", None), forwarded)


def _event_address(event) -> str:
    """A queued event's client address, worked out once (every push counts the whole queue's)."""
    address = getattr(event, "_client_address", None)
    if address is None:
        address = request_address(event.request)
        try:
            event._client_address = address
        except AttributeError:  # an object that takes no new attributes: work it out each time
            pass
    return address


def bound_queue(queue, per_session: int = MAX_EVENTS_PER_SESSION, per_address: int = 128) -> None:
    """Wrap Gradio's `Queue.push` (what /queue/join calls): refuse, as Gradio refuses a full queue, an event of
    a session or an address that has `per_session` / `per_address` events waiting or running already."""
    push = queue.push

    async def bounded(body, request, username):
        events = [e for line in queue.event_queue_per_concurrency_id.values() for e in line.queue]
        events += [e for job in queue.active_jobs if job for e in job]
        if body.session_hash and sum(e.session_hash == body.session_hash for e in events) >= per_session:
            return False, BUSY, "queue_full"
        address = request_address(request)
        if sum(_event_address(e) == address for e in events) >= per_address:
            return False, TOO_MANY, "queue_full"
        return await push(body, request, username)

    queue.push = bounded


def middleware(gate: Gate) -> list:
    """For `launch(app_kwargs={"middleware": middleware(gate)})`: the gate in front of the app `gate` knows."""
    from starlette.middleware import Middleware

    return [Middleware(Guard, gate=gate)]
