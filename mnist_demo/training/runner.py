"""One runtime for the work the server hands to a process of its own: a browser training (`job.TrainingJob`), a
teaching of My digits and a class's "Train on our class" (`teach.TeachJob`). Each is an entry function that runs
in the child plus plain-data parameters; `Job` does the rest, the same way for all of them.

* **Slot**: `start()` takes a place in the training line (`slots`; the shared one unless given): the line's
  cap, its bound and its one-place-per-session rule hold for every kind of job. A job the line refuses
  (`QueueFull`, `AlreadyQueued`, or the job's own `refuse()`, e.g. a training too long) is "failed" at once,
  `refusal` holds why, and it holds no place. The slot API used here is small on purpose (a fairer line can
  replace it): `slots.join(session, cost, address=, group=) -> Ticket`, `Ticket.wait(timeout)`, `.position()`,
  `.estimated_start()`, `.report(fraction)`, `.cancelled`, `.release()`.
* **Process**: when its turn comes, a watcher thread starts `child_main(entry, params)` in multiprocessing's
  "forkserver" context (its server has imported torch and the worker once, `preload`, so a job starts in well
  under a second; $MNIST_DEMO_TRAIN_START=spawn for a fresh interpreter per job). The child lowers its CPU
  priority and torch's thread count before anything else, then runs the entry, which reports engine
  `Progress` events and returns its result as plain data; one pipe carries ``("progress", fields, sent)``
  (`sent`: the child's monotonic clock, shared by the machine's processes, so a report read late under a
  busy server still dates its progress right),
  ``("result", payload)`` or ``("error", "a short message")`` (the traceback goes to the log only). The
  server only decodes the result (`decode`, the job kind's), so a job's Python work never takes the server's
  interpreter lock.
* **Snapshot**: `snapshot()` is what the page shows (state, place in line, latest progress, curves, result,
  error, a version that grows with every change).
* **Stop**: `stop` (a `threading.Event`) while queued, or before the process has reported progress, cancels
  (the process is terminated; a kind may pass it on even then, `stop_cancels_until_progress`); after that it
  is passed on to the child, which ends between steps and keeps what was learned, within STOP_GRACE_SECONDS.
* **Crash and cleanup**: the watcher waits on the pipe and the process's sentinel, so a process that dies
  (killed, out of memory) leaves the job "failed" with a short message; whatever happens the process is
  joined, terminated or killed, the pipe closed and the slot released; a child whose server is gone exits.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import settings
from ..addresses import limit_key
from ..errors import friendly_error
from .engine import Progress
from .slots import AlreadyQueued, QueueFull, TrainingSlots, shared_slots

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 120.0  # after a stop, how long the process may take to finish and report
EXIT_SECONDS = 10.0  # after its result, how long the process may take to exit
POLL_SECONDS = 0.2  # the watcher's wait for the line, the pipe and the process
FINISHED = ("done", "cancelled", "failed")

# An entry: entry(report, should_stop, params) -> result payload (plain data), in the child; `report` sends one
# engine Progress to the server, `should_stop` says whether the job was asked to stop (check it between steps).
Entry = Callable[[Callable[[Progress], None], Callable[[], bool], dict], dict]


def default_threads() -> int:
    """Torch threads for one job: $MNIST_DEMO_TRAIN_THREADS, else every core this process may use."""
    configured = settings.current().train_threads
    if configured is not None:
        return max(1, configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_context_lock = threading.Lock()
_context = None


def process_context():
    """The multiprocessing context for job processes (never plain fork: the server has threads)."""
    global _context
    with _context_lock:
        if _context is None:
            method = settings.current().train_start
            if method not in ("forkserver", "spawn") or method not in multiprocessing.get_all_start_methods():
                method = "spawn"
            _context = multiprocessing.get_context(method)
            if method == "forkserver":  # torch, the worker and MNIST loaded once in the fork server, not per job
                _context.set_forkserver_preload([f"{__package__}.preload"])
                _start_fork_server()
        return _context


def _start_fork_server() -> None:
    """Start the fork server with the memory and thread settings for training processes
    (`settings.TRAINING_PROCESS_TUNING`: the processes it forks keep them)."""
    from multiprocessing import forkserver

    with settings.training_processes_environment():
        forkserver.ensure_running()


def warm_up(wait: bool = False) -> None:
    """Start the fork server now (it imports torch in the background, ~3 s of its own CPU) so that the first
    job starts as fast as the later ones. Cheap for the caller; safe to call twice. `wait`: return only once
    the server has loaded everything (it forks a process that does nothing), as in an app that has been up a while."""
    ctx = process_context()  # starts the fork server
    if ctx.get_start_method() == "forkserver":
        if wait:
            process = ctx.Process(target=os.getpid, daemon=True)
            process.start()
            process.join()


def crash_message(exitcode: int | None) -> str:
    how = f"it was killed (signal {-exitcode})" if exitcode is not None and exitcode < 0 else \
        f"exit code {exitcode}"
    return f"The training process stopped unexpectedly ({how}; out of memory?). Please try again."


# ---------------------------------------------------------------------------------------------
# The child


def lower_priority(threads: int, nice: int) -> None:
    """Before torch starts its worker threads (they inherit the priority of the thread that starts them)."""
    torch.set_num_threads(max(1, threads))
    if nice > 0:
        try:
            os.nice(nice)
        except OSError as exc:  # not permitted on some systems: run at normal priority
            log.warning("could not lower the job's priority: %s", exc)


def child_main(conn, stop, entry: Entry, params: dict, threads: int, nice: int) -> None:
    """The job's process: run `entry` and report through `conn` (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it ends us
    parent = os.getppid()

    def should_stop() -> bool:
        if os.getppid() != parent:  # the server (or its fork server) is gone: nobody will read the result
            os._exit(3)
        return stop.is_set()

    try:
        lower_priority(threads, nice)
        result = entry(lambda event: conn.send(("progress", dataclasses.asdict(event), time.monotonic())),
                       should_stop, params)
        conn.send(("result", result))
    except (BrokenPipeError, EOFError):  # the server went away
        pass
    except Exception as exc:
        log.exception("job failed")
        try:
            conn.send(("error", friendly_error(exc)))
        except OSError:
            pass
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The server's side


@dataclass(frozen=True)
class CurvePoint:
    epoch: float  # fractional epochs done, the x axis of the curves
    loss: float
    train_acc: float


@dataclass(frozen=True)
class Snapshot:
    """What the page shows right now."""

    state: str  # queued, running, evaluating, done, cancelled, failed
    version: int  # grows with every change; equal versions mean nothing new
    queue_position: int  # 1 = next in line; 0 once running
    queue_seconds: float  # estimated seconds until it starts (0 once running)
    trainings_running: int
    latest: Progress | None
    images_per_sec: float  # the latest measured speed (the final report has none of its own)
    curve: tuple[CurvePoint, ...]
    test_curve: tuple[tuple[int, float], ...]  # (epoch, test accuracy) after each epoch
    result: object | None  # the job kind's decoded result
    error: str | None
    refusal: Exception | None = None  # why the line refused it (QueueFull, ShareFull, AlreadyQueued, ValueError)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class _Cancelled(Exception):
    pass


class Job:
    """One job: `entry` with `params` in a process of its own once the line lets it run. `start()`, then poll
    `snapshot()`; set `stop` to end it early. A kind of job overrides `params` (worked out when its turn comes),
    `decode` (the result payload -> what `snapshot().result` holds) and `refuse` (a check before it queues)."""

    entry: Entry
    # A stop before the process has reported progress cancels (nothing learned: no point in finishing); a kind
    # whose result is worth having even then (a teaching's copy of a trained model) passes the stop on instead.
    stop_cancels_until_progress = True

    def __init__(self, *, name: str, stop: threading.Event | None = None, slots: TrainingSlots | None = None,
                 session=None, cost: float | None = None, threads: int | None = None, nice: int | None = None,
                 address: str | None = None, group=None) -> None:
        self.name = name
        self.stop = stop or threading.Event()
        self.slots = slots or shared_slots()
        self.session = session  # whose job: one place in line per session
        # the caller's address (None: not from a page) and the class it trains for: their shares of the line
        self.address = None if address is None else limit_key(address)
        self.group = group
        self.cost = cost  # declared seconds of machine time (None: the line's default)
        self.threads = threads or default_threads()
        self.nice = settings.current().train_nice if nice is None else nice
        self.refusal: Exception | None = None  # why start() did not start it
        self._lock = threading.Lock()
        self._state = "queued"
        self._version = 0
        self._ticket = None
        self._process = None
        self._receiver = None
        self._latest: Progress | None = None
        self._images_per_sec = 0.0
        self._curve: list[CurvePoint] = []
        self._test_curve: list[tuple[int, float]] = []
        self._result = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # -- what a kind of job says

    def refuse(self) -> None:
        """Raise (an exception a user may read) if this job must not even queue."""

    def params(self) -> dict:
        raise NotImplementedError

    def decode(self, payload: dict):
        return payload

    # -- its life

    def start(self) -> Job:
        """Take a place in line and begin (see the module's docstring for a refused job)."""
        try:
            self.refuse()
            self._ticket = self.slots.join(self.session, self.cost, address=self.address, group=self.group)
        except (ValueError, QueueFull, AlreadyQueued) as exc:
            self.refusal = exc
            self._update(state="failed", error=str(exc))
            return self
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)

    @property
    def pid(self) -> int | None:
        """The job's process id once started (it may have ended since)."""
        process = self._process
        return None if process is None else process.pid

    @property
    def finished(self) -> bool:
        return self._state in FINISHED

    @property
    def ticket(self):
        """Its place in line (None before `start` or when refused): when it joined and started, on the line's clock."""
        return self._ticket

    def snapshot(self) -> Snapshot:
        ticket = self._ticket
        position = ticket.position() if ticket is not None else 0
        seconds = ticket.estimated_start() if position else 0.0
        running = self.slots.running
        with self._lock:
            return Snapshot(self._state, self._version, position, seconds, running, self._latest,
                            self._images_per_sec, tuple(self._curve), tuple(self._test_curve), self._result,
                            self._error, self.refusal)

    def _update(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
            self._version += 1

    def _record(self, event: Progress, ago: float = 0.0) -> None:
        if self._ticket is not None:
            self._ticket.report(1.0 if event.kind == "done" else event.work, ago)
        with self._lock:
            self._latest = event
            if event.kind == "step":
                self._images_per_sec = event.images_per_sec
            if event.kind == "step" or (event.kind == "epoch" and not self._curve):
                self._curve.append(CurvePoint(event.fraction * event.epochs, event.loss, event.train_acc))
            if event.kind == "epoch" and event.test_acc is not None:
                self._test_curve.append((event.epoch, event.test_acc))
            if event.kind == "done":
                self._state = "evaluating"
            self._version += 1

    def _run(self) -> None:
        ticket = self._ticket
        try:
            while not ticket.wait(POLL_SECONDS):
                if self.stop.is_set() or ticket.cancelled:
                    raise _Cancelled
                self._update()  # the place in line (and its estimate) may have moved
            if self.stop.is_set():
                raise _Cancelled
            params = self.params()
            self._update(state="running")
            self._watch(params)
        except _Cancelled:
            self._update(state="cancelled")
        except Exception as exc:  # shown to the user; the server keeps serving
            log.exception("%s failed", self.name)
            self._update(state="failed", error=friendly_error(exc))
        finally:
            self._end_process()
            ticket.release()

    def _watch(self, params: dict) -> None:
        ctx = process_context()
        receiver, sender = ctx.Pipe(duplex=False)
        child_stop = ctx.Event()
        process = ctx.Process(target=child_main, args=(sender, child_stop, type(self).entry, params, self.threads,
                                                       self.nice), daemon=True, name=self.name)
        self._process, self._receiver = process, receiver
        try:
            if self.stop.is_set():
                raise _Cancelled
            process.start()
        finally:
            sender.close()  # the child's end: once it exits, reading ours says so
        heard, stop_sent = False, None
        while True:
            if self.stop.is_set():
                if not heard and self.stop_cancels_until_progress:
                    raise _Cancelled
                if stop_sent is None:
                    child_stop.set()
                    stop_sent = time.monotonic()
                elif time.monotonic() - stop_sent > STOP_GRACE_SECONDS:
                    raise RuntimeError("the training did not stop in time")
            ready = multiprocessing.connection.wait([receiver, process.sentinel], timeout=POLL_SECONDS)
            if not ready:
                continue
            if receiver not in ready and not receiver.poll(0):
                raise RuntimeError(crash_message(process.exitcode))
            try:
                kind, payload, *sent = receiver.recv()
            except (EOFError, OSError):
                process.join(1)
                raise RuntimeError(crash_message(process.exitcode)) from None
            if kind == "progress":
                heard = True
                self._record(Progress(**payload), ago=max(0.0, time.monotonic() - sent[0]))
            elif kind == "error":
                self._update(state="failed", error=str(payload))
                return
            elif kind == "result":
                self._update(state="done", result=self.decode(payload))
                return

    def _end_process(self) -> None:
        """Join the job's process, or end it: no job leaves one behind."""
        process = self._process
        if process is None:
            return
        try:
            if process.pid is not None:  # started
                process.join(EXIT_SECONDS if self._state in ("done", "failed") else 0)
                if process.is_alive():
                    process.terminate()
                    process.join(2)
                if process.is_alive():
                    process.kill()
                    process.join()
        finally:
            if self._receiver is not None:
                self._receiver.close()
