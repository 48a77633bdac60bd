"""A global cap on simultaneous trainings, with a first-come queue whose positions users can see.

A few CPU cores can serve many people's predictions but only one or two trainings at a time;
further requests wait in line. The cap is $MNIST_DEMO_MAX_TRAININGS (default 1); the line holds
at most $MNIST_DEMO_MAX_QUEUED (default 8) waiting trainings, beyond which `join` raises `QueueFull`
(the page says "busy, try again").
"""

from __future__ import annotations

import os
import threading
import time

MAX_TRAININGS_ENV = "MNIST_DEMO_MAX_TRAININGS"
MAX_QUEUED_ENV = "MNIST_DEMO_MAX_QUEUED"
DEFAULT_MAX_QUEUED = 8


class QueueFull(RuntimeError):
    """Every slot is busy and the line is full: try again later."""

    def __init__(self, running: int, waiting: int) -> None:
        super().__init__(f"The server is busy: {running} training(s) running and {waiting} waiting, the most "
                         f"it takes. Try again in a few minutes.")
        self.running, self.waiting = running, waiting


class Ticket:
    """One place in line. `wait` until it runs, then `release`."""

    def __init__(self, slots: TrainingSlots) -> None:
        self._slots = slots

    def position(self) -> int:
        """0 while running (or released), else 1 for the first in line, 2 for the next, ..."""
        return self._slots.position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this ticket may train (True) or `timeout` seconds pass (False)."""
        return self._slots.wait(self, timeout)

    def release(self) -> None:
        """Give the slot (or the place in line) back; safe to call twice."""
        self._slots.release(self)


class TrainingSlots:
    """At most `capacity` tickets run at once; the others (at most `max_waiting`, None: no limit)
    wait in the order they joined."""

    def __init__(self, capacity: int = 1, max_waiting: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 (got {capacity})")
        if max_waiting is not None and max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more (got {max_waiting})")
        self.capacity = capacity
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._running: list[Ticket] = []
        self._waiting: list[Ticket] = []

    def join(self) -> Ticket:
        """Take a place at the end of the line (it may start at once); QueueFull if the line is full."""
        ticket = Ticket(self)
        with self._cond:
            if (self.max_waiting is not None and len(self._running) >= self.capacity
                    and len(self._waiting) >= self.max_waiting):
                raise QueueFull(len(self._running), len(self._waiting))
            self._waiting.append(ticket)
            self._promote()
        return ticket

    def _promote(self) -> None:
        while self._waiting and len(self._running) < self.capacity:
            self._running.append(self._waiting.pop(0))
        self._cond.notify_all()

    def position(self, ticket: Ticket) -> int:
        with self._cond:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket not in self._running:
                if ticket not in self._waiting:
                    return False  # released while waiting
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._promote()

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


_shared: TrainingSlots | None = None
_shared_lock = threading.Lock()


def shared_slots() -> TrainingSlots:
    """The process-wide slots every browser session's training goes through."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TrainingSlots(max(1, int(os.environ.get(MAX_TRAININGS_ENV, "1"))),
                                    max(0, int(os.environ.get(MAX_QUEUED_ENV, str(DEFAULT_MAX_QUEUED)))))
        return _shared
