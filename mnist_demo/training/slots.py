"""The fair training queue: a cap on simultaneous trainings and one line that never refuses a class.

A few CPU cores serve many people's predictions but only one or two trainings at a time; the others
wait in one line, fairly across browser sessions: each session holds at most one place (running or
waiting; a second `join` raises `AlreadyQueued`), and places are served oldest first.

Every place declares its cost, the seconds of machine time it expects to take (a class preset a few,
a full recipe minutes; `budget.training_seconds` works it out). The line is bounded by time, not by
a small count: a newcomer is admitted while the machine can finish everything in line, the newcomer
included, within `horizon` seconds ($MNIST_DEMO_QUEUE_SECONDS, default 900), so thirty small class
trainings fit where three long ones would not. A hard count ($MNIST_DEMO_MAX_QUEUED, default 200)
is a last bound; beyond either bound `join` raises `QueueFull`.

Who may hold how much, against a script that rotates session hashes (each a new "session"):
* per session (a browser tab, a class's joined student): one place;
* per class (`group`, its students' runs and its teaching): at most SHARE of the line's places and seconds;
  a class's students are one each, and joins are rate-limited per address (classroom.security);
* per address (the caller's, `addresses.limit_key`): every training from one address together at most SHARE
  of the line's places and seconds, so one address never takes the whole line (a school's class of 200 behind
  one address gets half of it at once, its runs take seconds, the rest retry); trainings outside class mode
  (the Train tab, My digits) at most `per_address` places ($MNIST_DEMO_QUEUE_PER_ADDRESS, default 4): a
  family or a lab behind one address, while a class trains through class mode;
* per server: `max_waiting` places and `horizon` seconds of work.
Beyond a share `join` raises `ShareFull` (a `QueueFull`).

Each waiting place sees its position and an estimated start (`Ticket.estimated_start`), worked out
by playing the line forward over `capacity` slots ($MNIST_DEMO_MAX_TRAININGS, default 1), from what
this machine measures (`pace`): a running training's seconds to go come from its own progress (its
pace between its first and its latest report, so the process start is not taken for work, plus the
seconds the last finished ones held their slot after their last step), a waiting
one's from its declared cost times the machine's real seconds per declared second: the median of the
slot-seconds per declared second of the last trainings that finished here and of the running ones'
projected totals (the machine's pace as it is now, before they finish). The estimates correct
themselves as jobs progress.
`cancel_session` (a tab closed) gives the session's place back.
"""

from __future__ import annotations

import collections
import statistics
import threading
import time
from collections.abc import Callable, Hashable

from .. import settings

DEFAULT_COST = 60.0  # seconds, for a place that declares none
MIN_REPORTED = 0.05  # progress spans shorter than this fraction say too little about a training's pace
PACE_WINDOW = 8  # finished trainings the machine's pace is measured over (a lesson's load changes; old runs go)
SHARE = 0.5  # of the line's places and seconds, the most one class or one address may hold


class QueueFull(RuntimeError):
    """The line holds all the machine can finish in its stated time (or its hard count): try later."""

    def __init__(self, running: int, waiting: int, seconds: float | None = None) -> None:
        wait = f" (about {seconds / 60:.0f} min of work)" if seconds is not None else ""
        super().__init__(f"The server is busy: {running} training(s) running and {waiting} waiting{wait}, the most "
                         f"it takes. Try again in a few minutes.")
        self.running, self.waiting = running, waiting


class ShareFull(QueueFull):
    """One address (or one class) already holds its share of the line: the others keep theirs."""

    def __init__(self, running: int, waiting: int, held: int, whose: str) -> None:
        RuntimeError.__init__(self, f"The server is busy: your {whose} already has {held} training(s) running or "
                                    f"waiting, the most one {whose} may have. Try again when one of them has finished.")
        self.running, self.waiting, self.held, self.whose = running, waiting, held, whose


class AlreadyQueued(RuntimeError):
    """This session already has a training running or in line: one at a time each."""

    def __init__(self) -> None:
        super().__init__("You already have a training running or waiting: one at a time each.")


class Ticket:
    """One place in line. `wait` until it runs, `report` its progress while it runs, then `release`."""

    def __init__(self, slots: TrainingSlots, session: Hashable | None, cost: float, joined: float,
                 address: str | None = None, group: Hashable | None = None) -> None:
        self._slots = slots
        self.session = session
        self.address = address  # the caller's address key (None: not from a page, e.g. a command)
        self.group = group  # the class whose place it is (None: outside class mode)
        self.cost = cost  # declared seconds of machine time
        self.joined = joined
        self.started: float | None = None  # the slots' clock when it began running
        self.ended: float | None = None  # ... and when it gave its slot back
        self.fraction = 0.0  # how much of it is done, as it reports
        self.first: tuple[float, float] | None = None  # (clock, fraction) of its first report
        self.latest: tuple[float, float] | None = None  # (clock, fraction) of its latest report
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

    def report(self, fraction: float, ago: float = 0.0) -> None:
        """How much of the training is done (0..1), for everyone's estimates; `ago`: seconds since it was (a
        report read late, behind a busy server's other work)."""
        self._slots.report(self, fraction, ago)

    def release(self) -> None:
        """Give the slot (or the place in line) back; safe to call twice."""
        self._slots.release(self)


class TrainingSlots:
    """At most `capacity` tickets run at once; the others wait oldest first, one per session, as long
    as everything in line can be finished within `horizon` seconds (None: no time bound), at most
    `max_waiting` wait (None: no count bound), and no address or class holds more than its share
    (module docstring)."""

    def __init__(self, capacity: int = 1, max_waiting: int | None = None, horizon: float | None = None,
                 clock: Callable[[], float] = time.monotonic, per_address: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 (got {capacity})")
        if max_waiting is not None and max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more (got {max_waiting})")
        if horizon is not None and horizon <= 0:
            raise ValueError(f"horizon must be positive (got {horizon})")
        self.capacity = capacity
        self.max_waiting = max_waiting
        self.horizon = horizon
        self.per_address = per_address  # places one address may hold outside class mode (None: its share only)
        self._clock = clock
        self._cond = threading.Condition()
        self._running: list[Ticket] = []
        self._waiting: list[Ticket] = []
        # slot-seconds per declared second of the latest trainings that ran to their end here
        self._finished: collections.deque[float] = collections.deque(maxlen=PACE_WINDOW)
        self._tails: collections.deque[float] = collections.deque(maxlen=PACE_WINDOW)  # their seconds after the last step

    def join(self, session: Hashable | None = None, cost: float | None = None, *, address: str | None = None,
             group: Hashable | None = None) -> Ticket:
        """Take a place at the end of the line (it may start at once). `session`: whose it is (None: an
        anonymous caller, never limited to one); `cost`: its declared seconds of machine time; `address`: the
        caller's address key and `group` the class it trains for, for their shares (module docstring).
        Raises AlreadyQueued if the session holds a place, QueueFull (ShareFull) if the line (a share) is full."""
        cost = DEFAULT_COST if cost is None else max(float(cost), 0.1)
        with self._cond:
            held = self._running + self._waiting
            if session is not None and any(t.session == session for t in held):
                raise AlreadyQueued
            busy = len(self._running) >= self.capacity or bool(self._waiting)
            self._check_shares(held, address, group, cost, busy)
            if busy and self.max_waiting is not None and len(self._waiting) >= self.max_waiting:
                raise QueueFull(len(self._running), len(self._waiting))
            if busy and self.horizon is not None:
                free = self._forecast(self._clock())[1]
                finish = max(max(free), min(free) + cost * self._speed_now(self._clock()))  # the newcomer included
                if finish > self.horizon:
                    raise QueueFull(len(self._running), len(self._waiting), finish)
            ticket = Ticket(self, session, cost, self._clock(), address, group)
            self._waiting.append(ticket)
            self._promote()
        return ticket

    def _check_shares(self, held: list[Ticket], address: str | None, group: Hashable | None, cost: float,
                      busy: bool) -> None:
        """Raise ShareFull if the newcomer would take its address (or class) past its share of the line."""
        bounds = [("class", [t for t in held if t.group == group])] if group is not None else []
        if address is not None:
            bounds.append(("address", [t for t in held if t.address == address]))
            if group is None and self.per_address is not None:
                public = [t for t in held if t.address == address and t.group is None]
                if len(public) >= self.per_address:
                    raise ShareFull(len(self._running), len(self._waiting), len(public), "address")
        now = self._clock()
        speed = self._speed_now(now)
        for whose, mine in bounds:
            if self.max_waiting is not None and len(mine) >= max(1, int(SHARE * (self.max_waiting + self.capacity))):
                raise ShareFull(len(self._running), len(self._waiting), len(mine), whose)
            if busy and self.horizon is not None and mine:
                seconds = sum(self._remaining(t, now, speed) if t in self._running else t.cost * speed for t in mine)
                if seconds + cost * speed > SHARE * self.horizon:
                    raise ShareFull(len(self._running), len(self._waiting), len(mine), whose)

    def _promote(self) -> None:
        while self._waiting and len(self._running) < self.capacity:
            ticket = self._waiting.pop(0)
            ticket.started = self._clock()
            self._running.append(ticket)
        self._cond.notify_all()

    def report(self, ticket: Ticket, fraction: float, ago: float = 0.0) -> None:
        with self._cond:
            ticket.fraction = min(max(float(fraction), 0.0), 1.0)
            ticket.latest = (self._clock() - max(float(ago), 0.0), ticket.fraction)
            if ticket.first is None:
                ticket.first = ticket.latest

    @staticmethod
    def _own_pace(ticket: Ticket) -> float | None:
        """Seconds its whole work takes at the pace of its reports so far (None: too little progress yet)."""
        if ticket.first is None or ticket.latest is None:
            return None
        (t0, f0), (t1, f1) = ticket.first, ticket.latest
        return (t1 - t0) / (f1 - f0) if f1 - f0 >= MIN_REPORTED else None

    def _remaining(self, ticket: Ticket, now: float, speed: float) -> float:
        """A running ticket's seconds to go: from its own pace once it has some, else its cost at `speed`."""
        pace = self._own_pace(ticket)
        if pace is not None:
            return max((1 - ticket.fraction) * pace + self._tail() - (now - ticket.latest[0]), 0.0)
        elapsed = now - (ticket.started if ticket.started is not None else now)
        # One report only: later than expected, it is at least as slow as its start and its first steps together
        so_far = elapsed * (1 - ticket.fraction) / ticket.fraction if ticket.fraction >= MIN_REPORTED else 0.0
        return max(ticket.cost * speed - elapsed, so_far)

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

    @property
    def speed(self) -> float:
        """Real seconds per declared second, measured on the trainings that finished here (1.0 before any:
        the declared cost as `budget` guessed it)."""
        with self._cond:
            return self._measured_speed()

    def _tail(self) -> float:
        """Seconds a training holds its slot after its last step (its final evaluation, its weights sent back), as
        measured on the last ones that finished here."""
        return statistics.median(self._tails) if self._tails else 0.0

    def _measured_speed(self) -> float:
        return statistics.median(self._finished) if self._finished else 1.0

    def _speed_now(self, now: float) -> float:
        """Real seconds per declared second as the machine runs now: the median of the finished trainings' slot-seconds
        per declared second and the running ones' projected totals per declared second (their start so far plus their
        work at their own pace; one with no pace yet counts once it has run longer than expected, at least as slow as
        it has been). A median: the lesson's first trainings (the fork server still warming, the data paged in) take
        two or three times longer than the rest, and would hold an average up for the whole window."""
        measured = self._measured_speed()
        samples = list(self._finished)
        for ticket in self._running:
            if ticket.started is None:
                continue
            pace = self._own_pace(ticket)
            if pace is not None:
                projected = (ticket.first[0] - ticket.started) + pace * (1 - ticket.first[1]) + self._tail()
                samples.append(projected / ticket.cost)
            elif now - ticket.started > ticket.cost * measured:
                samples.append((now - ticket.started) / ticket.cost)
        return statistics.median(samples) if samples else 1.0

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
                ticket.ended = self._clock()
                if ticket.fraction >= 1.0 and ticket.started is not None:  # ran to its end: the machine's pace
                    self._finished.append((ticket.ended - ticket.started) / ticket.cost)
                    self._tails.append(ticket.ended - ticket.latest[0])
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
                ticket.cancelled = True
            self._promote()

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
                                    max(1.0, configured.queue_seconds), per_address=max(1, configured.queue_per_address))
        return _shared
