"""Per-browser-session state: models trained in this tab, its training, its current drawing.

Each browser session gets its own `Session` (through `gr.State(Session)`), so users never see
each other's models or drawings. Shipped models are shared read-only through `catalog.shipped`.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from ..catalog import SESSION_PREFIX, Entry, shipped


@dataclass
class Session:
    trained: dict[str, Entry] = field(default_factory=dict)  # key -> Entry, newest last
    current_input: object | None = None  # the latest preprocess.Prepared from the Draw tab
    stop_training: threading.Event = field(default_factory=threading.Event)
    training: bool = False
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _workdir: Path | None = None

    def workdir(self) -> Path:
        """A private temporary folder for this session's downloads; close() removes it."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="mnist-demo-session-"))
        return self._workdir

    def __deepcopy__(self, memo) -> Session:
        """gr.State deep-copies the value its factory returns (a new Session each time); an Event
        cannot be copied, and a fresh Session needs no copy."""
        return self

    def add_trained(self, model, card: dict) -> Entry:
        """Keep a model trained in this session; returns its entry (selectable at once)."""
        number = next(self._counter)
        key = f"{SESSION_PREFIX}{number}-{card['model']}"
        entry = Entry(key, model, {**card, "title": f"{card.get('title', card['model'])} (this session, #{number})"})
        self.trained[key] = entry
        return entry

    def close(self) -> None:
        """The browser tab went away: stop its training and drop its models."""
        self.stop_training.set()
        self.trained.clear()
        self.current_input = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def model_choices(session: Session | None, dataset: str | None = None) -> list[tuple[str, str]]:
    """(label, key) for a picker: shipped models, then this session's; optionally one dataset."""
    entries = list(shipped().values()) + list((session.trained if session else {}).values())
    return [(e.label, e.key) for e in entries if dataset is None or e.dataset == dataset]


def close_session(session: Session) -> None:
    """gr.State delete_callback. Gradio 6 calls it an hour after the tab closes, hence `close_closed_tab`."""
    if isinstance(session, Session):
        session.close()


_open_sessions: dict[str, Session] = {}  # Gradio session hash -> Session, while its tab is open
_open_lock = threading.Lock()


def close_closed_tab(request: gr.Request) -> None:
    """demo.unload: the tab was closed or reloaded; stop its training and free its models now."""
    with _open_lock:
        session = _open_sessions.pop(request.session_hash, None) if request is not None else None
    if session is not None:
        session.close()


def new_session(request: gr.Request | None = None) -> Session:
    """gr.State's initial value: Gradio calls it on page load (with the request), once per tab.

    The Session is remembered under the tab's session hash so that closing the tab can close it.
    """
    session = Session()
    if request is not None and request.session_hash:
        with _open_lock:
            _open_sessions[request.session_hash] = session
    return session
