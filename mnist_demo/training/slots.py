"""The fair training queue: a cap on simultaneous trainings and one line that never refuses a class.

A few CPU cores serve many people's predictions but only one or two trainings at a time; the others
wait in one line, fairly across browser sessions: each session holds at most one place (running or
waiting; a second `join` raises `AlreadyQueued`), and places are served oldest first.

Every place declares its cost, the seconds of machine time it expects to take (a class preset a few,
a full recipe minutes; `budget.training_seconds` works it out). The line is bounded by time, not by
a small count: a newcomer is admitted while the machine can finish everything in line, the newcomer
included, within `horizon` seconds ($MNIST_DEMO_QUEUE_SECONDS, default 900), so thirty small class
trainings fit where three long ones would not. A hard count ($MNIST_DEMO_MAX_QUEUED, default 200)
is a last bound against scripts; beyond either bound `join` raises `QueueFull`.

Each waiting place sees its position and an estimated start (`Ticket.estimated_start`), worked out
by playing the line forward over `capacity` slots ($MNIST_DEMO_MAX_TRAININGS, default 1): a running
training's remaining time comes from its own progress (`Ticket.report`), a waiting one's from its
declared cost times what declared seconds really take on this machine: the running trainings' own pace
while they have progress to show, else `speed`, learned from every finished training. So the estimates
correct themselves as the lesson goes on.
`cancel_session` (a tab closed) gives the session's place back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from .. import settings

DEFAULT_COST = 60.0  # seconds, for a place that declares none
MIN_REPORTED = 0.05  # below this fraction done, a running training's own progress says too little
SPEED_WEIGHT = 0.3  # how much each finished training moves the learned speed (an exponential average)


class QueueFull(RuntimeError):
    """The line holds all the machine can finish in its stated time (or its hard count): try later."""

    def __init__(self, running: int, waiting: int, seconds: float | None = None) -> None:
        wait = f" (about {seconds / 60:.0f} min of work)" if seconds is not None else ""
        super().__init__(f"The server is busy: {running} training(s) running and {waiting} waiting{wait}, the most "
                         f"it takes. Try again in a few minutes.")
        self.running, self.waiting = running, waiting


class AlreadyQueued(RuntimeError):
    """This session already has a training running or in line: one at a time each."""

    def __init__(self) -> None:
        super().__init__("You already have a training running or waiting: one at a time each.")


class Ticket:
    """One place in line. `wait` until it runs, `report` its progress while it runs, then `release`."""

    def __init__(self, slots: TrainingSlots, session: Hashable | None, cost: float, joined: float) -> None:
        self._slots = slots
        self.session = session
        self.cost = cost  # declared seconds of machine time
        self.joined = joined
        self.started: float | None = None  # the slots' clock when it began running
        self.fraction = 0.0  # how much of it is done, as it reports
        self.cancelled = False  # given back by `cancel_session` (or `release`) before it ran

    def position(self) -> int:
        """0 while running (or released), else 1 for the first in line, 2 for the next, ..."""
        return self._slots.position(self)

    def estimated_start(self) -> float:
        """Seconds from now until it should start (0 once running or released)."""
        return self._slots.estimated_start(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this ticket may train (True) or `timeout` seconds pass or it is cancelled (False)."""
        return self._slots.wait(self, timeout)

    def report(self, fraction: float) -> None:
        """How much of the training is done (0..1), for everyone's estimates."""
        self.fraction = min(max(float(fraction), 0.0), 1.0)

    def release(self) -> None:
        """Give the slot (or the place in line) back; safe to call twice."""
        self._slots.release(self)


class TrainingSlots:
    """At most `capacity` tickets run at once; the others wait oldest first, one per session, as long
    as everything in line can be finished within `horizon` seconds (None: no time bound) and at most
    `max_waiting` wait (None: no count bound)."""

    def __init__(self, capacity: int = 1, max_waiting: int | None = None, horizon: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 (got {capacity})")
        if max_waiting is not None and max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more (got {max_waiting})")
        if horizon is not None and horizon <= 0:
            raise ValueError(f"horizon must be positive (got {horizon})")
        self.capacity = capacity
        self.max_waiting = max_waiting
        self.horizon = horizon
        self.speed = 1.0  # real seconds per declared second, learned from finished trainings
        self._clock = clock
        self._cond = threading.Condition()
        self._running: list[Ticket] = []
        self._waiting: list[Ticket] = []

    def join(self, session: Hashable | None = None, cost: float | None = None) -> Ticket:
        """Take a place at the end of the line (it may start at once). `session`: whose it is (None: an
        anonymous caller, never limited to one); `cost`: its declared seconds of machine time.
        Raises AlreadyQueued if the session holds a place, QueueFull if the line is full."""
        cost = DEFAULT_COST if cost is None else max(float(cost), 0.1)
        with self._cond:
            if session is not None and any(t.session == session for t in self._running + self._waiting):
                raise AlreadyQueued
            busy = len(self._running) >= self.capacity or bool(self._waiting)
            if busy and self.max_waiting is not None and len(self._waiting) >= self.max_waiting:
                raise QueueFull(len(self._running), len(self._waiting))
            if busy and self.horizon is not None:
                free = self._forecast(self._clock())[1]
                finish = max(max(free), min(free) + cost * self.speed)  # all done, the newcomer included
                if finish > self.horizon:
                    raise QueueFull(len(self._running), len(self._waiting), finish)
            ticket = Ticket(self, session, cost, self._clock())
            self._waiting.append(ticket)
            self._promote()
        return ticket

    def _promote(self) -> None:
        while self._waiting and len(self._running) < self.capacity:
            ticket = self._waiting.pop(0)
            ticket.started = self._clock()
            self._running.append(ticket)
        self._cond.notify_all()

    def _remaining(self, ticket: Ticket, now: float, speed: float) -> float:
        """A running ticket's seconds to go: from its own progress once it has some, else its cost at `speed`."""
        elapsed = now - (ticket.started if ticket.started is not None else now)
        if ticket.fraction >= MIN_REPORTED:
            return elapsed * (1 - ticket.fraction) / ticket.fraction
        return max(ticket.cost * speed - elapsed, 0.0)

    def _forecast(self, now: float) -> tuple[dict[int, float], list[float]]:
        """Play the line forward: {id(waiting ticket): seconds until it starts}, and the seconds until
        each slot would be free once everything in line is done."""
        speed = self._speed_now(now)
        free = sorted(self._remaining(t, now, speed) for t in self._running)
        free += [0.0] * (self.capacity - len(free))
        starts = {}
        for ticket in self._waiting:
            free.sort()
            starts[id(ticket)] = free[0]
            free[0] += ticket.cost * speed
        return starts, free

    def _speed_now(self, now: float) -> float:
        """Real seconds per declared second as the machine runs now: the running trainings' own pace (what their
        progress says they will take, over what they declared) once they have some, else the learned speed."""
        paces = [(now - t.started) / t.fraction / t.cost for t in self._running
                 if t.started is not None and t.fraction >= MIN_REPORTED]
        if paces:
            return sum(paces) / len(paces)
        # Nothing to show yet (processes starting on a busy machine): at least as slow as they have been so far
        slowest = max(((now - t.started) / t.cost for t in self._running if t.started is not None), default=0.0)
        return max(self.speed, slowest)

    def position(self, ticket: Ticket) -> int:
        with self._cond:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def estimated_start(self, ticket: Ticket) -> float:
        with self._cond:
            if ticket not in self._waiting:
                return 0.0
            return self._forecast(self._clock())[0][id(ticket)]

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket not in self._running:
                if ticket not in self._waiting:
                    return False  # released or cancelled while waiting
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
                self._learn(ticket)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
                ticket.cancelled = True
            self._promote()

    def _learn(self, ticket: Ticket) -> None:
        """A training that ran to its end tells what a declared second really takes here."""
        if ticket.fraction < 1.0 or ticket.started is None:
            return
        measured = (self._clock() - ticket.started) / ticket.cost
        self.speed = (1 - SPEED_WEIGHT) * self.speed + SPEED_WEIGHT * measured

    def cancel_session(self, session: Hashable) -> bool:
        """The session's tab closed: give its waiting place back (True if it had one). A running training
        is stopped by its own job, which then releases its ticket."""
        with self._cond:
            mine = [t for t in self._waiting if t.session == session]
            for ticket in mine:
                self._waiting.remove(ticket)
                ticket.cancelled = True
            self._promote()
        return bool(mine)

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def pending_seconds(self) -> float:
        """Seconds until everything running and waiting now should be done."""
        with self._cond:
            return max(self._forecast(self._clock())[1])


_shared: TrainingSlots | None = None
_shared_lock = threading.Lock()


def shared_slots() -> TrainingSlots:
    """The process-wide slots every browser session's training goes through."""
    global _shared
    with _shared_lock:
        if _shared is None:
            configured = settings.current()
            _shared = TrainingSlots(max(1, configured.max_trainings), max(0, configured.max_queued),
                                    max(1.0, configured.queue_seconds))
        return _shared
