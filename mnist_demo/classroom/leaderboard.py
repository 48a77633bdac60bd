"""Everyone trains: each student's "Train a network" run and the class's leaderboard it lands on.

A run is a class preset (`presets.spec`) trained as any browser training is, a `TrainingJob` in a process of
its own at low priority, waiting in the fair queue as one place per student (`slots`). A watcher thread
records it when it ends, whether or not the student's phone is still looking (phones sleep): a run that
trained to its end goes onto the class's leaderboard in the class store (`store.add_run`) with its test
accuracy, its accuracy on the class's own drawings, its size, its seconds, its curves and confusion matrix
(in its card) and its weights, so the leaderboard survives a restart and any entry can become the class's
model (`as_class_model`). A student whose tab closes while waiting gives the place back (`cancel`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import weights
from ..catalog import Entry
from ..training import teach as teaching
from ..training.job import TrainingJob
from ..training.slots import TrainingSlots
from . import evaluate, presets
from .store import ClassError, ClassStore, Run
from .tuning import ClassModel, model_key

MAX_RUNS = 400  # runs followed at once in one process (every class together); finished ones go first


@dataclass
class StudentRun:
    """One student's run: its job (poll `job.snapshot()`), and once recorded its leaderboard entry."""

    code: str
    student: str
    nickname: str
    choices: dict[str, str]
    job: TrainingJob
    entry_id: int | None = None  # its row on the leaderboard, once there
    problem: str | None = None  # why it is not there (the store's refusal), once recorded
    recorded: bool = False


def queue_key(code: str, student: str) -> str:
    """The fair queue's session of a student's runs: one place per student."""
    return f"class:{code}:{student}"


class ClassRuns:
    """The runs of every class's students in this process, and their recording onto the store's leaderboards."""

    def __init__(self, class_store: ClassStore, slots: TrainingSlots | None = None) -> None:
        self.store = class_store
        self.slots = slots
        self._runs: dict[tuple[str, str], StudentRun] = {}
        self._lock = threading.Lock()

    def start(self, code: str, student: str, nickname: str, choices: Mapping[str, object] | None,
              address: str | None = None) -> StudentRun:
        """Start a student's run with their choices (ValueError for choices outside the presets). The job says
        when the queue refused it (`job.snapshot().state == "failed"`, e.g. this student already has one)."""
        spec = presets.spec(choices, seed=secrets.randbelow(10_000))
        job = TrainingJob(spec, slots=self.slots, session=queue_key(code, student), address=address, group=code)
        run = StudentRun(code, student, nickname, presets.checked(choices), job)
        with self._lock:
            previous = self._runs.get((code, student))
            if previous is not None and not previous.job.snapshot().finished:
                job.start()  # refused by the queue: this student holds a place already
                return run
            self._runs[(code, student)] = run
            self._trim()
        job.start()
        threading.Thread(target=self._watch, args=(run,), name="class-run", daemon=True).start()
        return run

    def _trim(self) -> None:
        while len(self._runs) > MAX_RUNS:
            done = [k for k, r in self._runs.items() if r.recorded]
            if not done:
                break
            del self._runs[done[0]]

    def current(self, code: str, student: str) -> StudentRun | None:
        """The student's latest run in this process (None: none)."""
        with self._lock:
            return self._runs.get((code, student))

    def cancel(self, code: str, student: str) -> bool:
        """The student's tab closed: give a waiting place back (a run already training finishes and is recorded)."""
        run = self.current(code, student)
        return run is not None and run.job.slots.cancel_session(queue_key(code, student))

    def _watch(self, run: StudentRun) -> None:
        run.job.join()
        try:
            self.record(run)
        finally:
            run.recorded = True

    def record(self, run: StudentRun) -> int | None:
        """Put a run that trained to its end onto its class's leaderboard; its entry id (None: not recorded)."""
        snap = run.job.snapshot()
        if snap.state != "done" or snap.result is None or snap.result.stopped:
            run.problem = snap.error or snap.state
            return None
        result = snap.result
        drawings = self.store.all_drawings(run.code)
        class_accuracy = evaluate.confusion(result.model, drawings).accuracy if drawings else None
        card = {**result.card, "nickname": run.nickname, "choices": run.choices,
                "confusion": result.evaluation.confusion.tolist(),
                "curve": [[round(p.epoch, 4), round(p.loss, 4), round(p.train_acc, 4)] for p in snap.curve],
                "test_curve": [[epoch, round(acc, 4)] for epoch, acc in snap.test_curve],
                "class_accuracy": None if class_accuracy is None else round(class_accuracy, 4),
                "class_drawings": len(drawings),
                "command": "trained in the browser (Class tab: Train a network)"}
        try:
            run.entry_id = self.store.add_run(
                run.code, run.student, run.nickname, run.choices, test_accuracy=result.evaluation.accuracy,
                class_accuracy=class_accuracy, parameters=int(card["parameters"]),
                seconds=float(card["train_seconds"]), weights=weights.to_bytes(result.model, card), card=card)
        except ClassError as exc:
            run.problem = exc.reason
        return run.entry_id


def as_class_model(code: str, run: Run, class_name: str) -> ClassModel:
    """A leaderboard entry (with its weights) as the class's model: what the students' phones then answer with."""
    model, card = weights.load_bytes_checked(run.weights, Path(f"run-{run.id}.safetensors"), run.card)
    title = f"{card.get('title') or card.get('model')} · {run.nickname or '#' + str(run.id)} · class {class_name}"
    taught = {"trained_on": 0, "held_out": int(card.get("class_drawings") or 0), "mine_before": None,
              "mine_after": run.class_accuracy, "mnist_before": run.test_accuracy, "mnist_after": run.test_accuracy,
              "seconds": run.seconds, "stopped": False, "measured_on": "all the class's drawings",
              "leaderboard_entry": run.id}
    card = {**card, "title": title, "taught": taught, "test_accuracy": round(run.test_accuracy, 4)}
    result = teaching.TeachResult(model, **{k: v for k, v in taught.items()
                                            if k not in ("measured_on", "leaderboard_entry")})
    return ClassModel(code, Entry(model_key(code), model, card), card.get("model", ""), str(card.get("title")),
                      result, [], 0.0)
