"""Per-browser-session state: models trained in this tab, its training, its current drawing.

A `Session` comes into being only from a page load (`open_session`, the page's private load
event, writes it into the `gr.State` whose default is None), so users never see each other's
models or drawings; shipped models are shared read-only through `catalog.shipped`. Handlers get
None for a session hash that never loaded the page (a script): `missing(session)` says so.

Every store is bounded: a session keeps its MAX_SESSION_MODELS newest models, all sessions
together at most MAX_HELD_MODELS (the oldest anywhere goes first: the app's `ModelLedger`), the
open-tab index (`Sessions`, one per app, built with it) holds sessions only weakly, and a session's
temporary folder is removed when it is closed or, if Gradio drops it without a word (its session LRU
evicts without calling delete_callback), when it is garbage collected.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from .. import settings
from ..addresses import client_address
from ..catalog import SESSION_PREFIX, Entry, shipped
from .guard import ConnectionWatch
from .i18n import entry_label

if TYPE_CHECKING:  # for the annotations only
    from ..my_digits import MyDigits
    from ..reading.geometry import Prepared
    from ..training.teach import TeachJob

MAX_SESSION_MODELS = settings.current().max_session_models
MAX_HELD_MODELS = settings.current().max_held_models  # ~5 MB each at most
UNLOAD_GRACE_SECONDS = 10.0  # an unload is acted on only if the tab shows no sign of life for this long


@dataclass
class Session:
    trained: dict[str, Entry] = field(default_factory=dict)  # key -> Entry, newest last
    current_input: Prepared | None = None  # the latest reading.geometry.Prepared from the Draw tab
    my_digits: MyDigits | None = None  # My digits (teach_panel makes it on first use)
    teach_job: TeachJob | None = None  # the teach panel's running teaching (its Stop button's)
    run_stop: threading.Event | None = None  # the running training's own stop flag (its Stop button's)
    training: bool = False
    closed: bool = False
    address: str | None = None  # the address that loaded the page (the training line's share per address)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _workdir: Path | None = None
    _files: dict[str, list[Path]] = field(default_factory=dict)  # model key -> its download files
    _lock: threading.Lock = field(default_factory=threading.Lock)
    ledger: ModelLedger | None = None  # the app's cap on models across sessions (None: this session's cap only)

    def workdir(self) -> Path:
        """A private temporary folder for this session's downloads; close() (or garbage collection) removes it."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="mnist-demo-session-"))
            weakref.finalize(self, shutil.rmtree, str(self._workdir), True)  # also when Gradio evicts silently
        return self._workdir

    def __deepcopy__(self, memo) -> Session:
        """Gradio may deep-copy state values; a session is one live object (an Event cannot be copied)."""
        return self

    def add_trained(self, model, card: dict) -> Entry:
        """Keep a model trained in this session; returns its entry (selectable at once)."""
        return self.keep(model, card)[0]

    def keep(self, model, card: dict) -> tuple[Entry, list[Entry]]:
        """Keep a model trained (or uploaded) in this session: its entry, selectable at once, and the
        entries dropped to make room (this session's oldest beyond MAX_SESSION_MODELS)."""
        number = next(self._counter)
        key = f"{SESSION_PREFIX}{number}-{card['model']}"
        entry = Entry(key, model, {**card, "title": f"{card.get('title', card['model'])} (this session, #{number})"})
        with self._lock:
            self.trained[key] = entry
            dropped = [self.trained.pop(k) for k in list(self.trained)[:-MAX_SESSION_MODELS or None]]
        for old in dropped:
            self._forget(old.key)
        if self.ledger is not None:
            self.ledger.add(self, key)
        return entry, dropped

    def keep_files(self, key: str, paths: list[Path]) -> None:
        """Remember a model's download files, removed with the model."""
        self._files[key] = paths
        if key not in self.trained:  # dropped already (the global cap): nothing to download
            self._forget(key)

    def drop(self, key: str) -> None:
        """Forget one model (the global cap made room)."""
        with self._lock:
            self.trained.pop(key, None)
        self._forget(key)

    def _forget(self, key: str) -> None:
        if self.ledger is not None:
            self.ledger.discard(self, key)
        for path in self._files.pop(key, []):
            Path(path).unlink(missing_ok=True)

    def stop_run(self) -> bool:
        """Ask the running training (if any) to stop; True if there was one."""
        stop = self.run_stop
        if stop is None:
            return False
        stop.set()
        return True

    def close(self) -> None:
        """The browser tab went away: stop its training and drop its models and files."""
        self.closed = True
        self.stop_run()
        with self._lock:
            keys = list(self.trained)
            self.trained.clear()
        for key in keys if self.ledger is not None else ():
            self.ledger.discard(self, key)
        self._files.clear()
        self.current_input = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


class ModelLedger:
    """Every session-held model, oldest first, across all sessions: at most `capacity` at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: OrderedDict[tuple[int, str], weakref.ref] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: Session, key: str) -> None:
        evicted = []
        with self._lock:
            self._held[(id(session), key)] = weakref.ref(session)
            while len(self._held) > self.capacity:
                (_, old_key), ref = self._held.popitem(last=False)
                evicted.append((ref(), old_key))
        for owner, old_key in evicted:
            if owner is not None:
                owner.drop(old_key)

    def discard(self, session: Session, key: str) -> None:
        with self._lock:
            self._held.pop((id(session), key), None)

    def __len__(self) -> int:
        with self._lock:
            self._held = OrderedDict((k, r) for k, r in self._held.items() if r() is not None)
            return len(self._held)


def model_choices(session: Session | None, dataset: str | None = None, lang: str = "en") -> list[tuple[str, str]]:
    """(label, key) for a picker, labelled in `lang`: shipped models, then this session's; optionally one dataset."""
    entries = list(shipped().values()) + list((session.trained if usable(session) else {}).values())
    return [(entry_label(e, lang), e.key) for e in entries if dataset is None or e.dataset == dataset]


def usable(session: object) -> bool:
    """A live Session (not None, not something a script made up, not closed)."""
    return isinstance(session, Session) and not session.closed


def trained_of(session: object) -> dict[str, Entry] | None:
    """A session's own models, for a handler that may be sent anything in its place (None then)."""
    return session.trained if isinstance(session, Session) else None


def close_session(session: Session) -> None:
    """gr.State delete_callback (Gradio calls it an hour after the tab closed, or on deletion)."""
    if isinstance(session, Session):
        session.close()


class Sessions:
    """The app's open tabs: Gradio session hash -> Session (held weakly: an entry goes when Gradio lets go of the
    session), the cap on models across them (`ledger`) and the delayed checks of unloads (`watch`: the request
    gate's view of which tabs are alive). One per app, built with it (`app.build_app`)."""

    def __init__(self, watch: ConnectionWatch | None = None, max_held_models: int = MAX_HELD_MODELS) -> None:
        self.watch = watch if watch is not None else ConnectionWatch()
        self.ledger = ModelLedger(max_held_models)
        self._open: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()
        self._pending_close: set[str] = set()
        self._closing: set[asyncio.Task] = set()  # the delayed checks under way (a reference keeps each alive)

    def is_open(self, session_hash: str) -> bool:
        """Did this session hash load the page, and is its session still held?"""
        return session_hash in self._open

    def get(self, session_hash: str) -> Session | None:
        return self._open.get(session_hash)

    def all(self) -> list[Session]:
        return list(self._open.values())

    def open_session(self, request: gr.Request | None = None) -> Session:
        """The page's load event (private): this tab's Session, remembered under its session hash."""
        session = Session(address=client_address(request) if request is not None else None, ledger=self.ledger)
        session_hash = getattr(request, "session_hash", None)
        if isinstance(session_hash, str) and session_hash:
            with self._lock:
                previous = self._open.get(session_hash)
                self._open[session_hash] = session
            if previous is not None and previous is not session:
                previous.close()  # the same hash loaded again (only a script does that)
        return session

    async def close_closed_tab(self, request: gr.Request) -> None:
        """demo.unload: Gradio fires it when the tab's heartbeat stream ends, which a dropped connection
        does as well as a closed tab. Close the session only if, a moment later, its tab shows no sign
        of life (no open stream, no request since the unload). The check runs in a task of its own:
        Gradio runs this handler inside the ending heartbeat response, which must be let go first."""
        session_hash = getattr(request, "session_hash", None)
        if not isinstance(session_hash, str) or session_hash in self._pending_close or session_hash not in self._open:
            return
        self._pending_close.add(session_hash)
        task = asyncio.get_running_loop().create_task(self._close_if_gone(session_hash, self.watch.now()))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_if_gone(self, session_hash: str, since: float) -> None:
        try:
            await asyncio.sleep(UNLOAD_GRACE_SECONDS)
            if self.watch.alive(session_hash, since):
                return
            with self._lock:
                session = self._open.pop(session_hash, None)
            if session is not None:
                session.close()
        finally:
            self._pending_close.discard(session_hash)
