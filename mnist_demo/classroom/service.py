"""Class mode's operations: open a class, join it, give a drawing, the teacher's dashboard, moderation, export
and "Train on our class", with the teacher gate and the rate limits in front of them.

Plain arguments (a class code, a teacher key, the caller's address) and plain results; what is refused raises
`Refused(reason, **values)`, which the tab turns into a message in the page's language. No gradio: the tab
(`mnist_demo.ui.class_tab`) checks its inputs, calls one method and renders. Security does not rest on the page:
every dashboard method takes the code and key and checks them itself (`teacher`); a refusal says nothing about
whether the code exists, and failed tries are rate-limited per address and per class (`security.Guard`).

One `Classroom` per app, built with the app (its store, rate limits, class models and running class trainings
are its own, so a test builds one instead of patching globals).
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import weights
from ..catalog import DEFAULT_MODEL, Entry, resolve
from ..reading import predict
from ..reading.files import PictureError, decode_ink_payload
from ..training import teach as teaching
from ..training.slots import TrainingSlots
from . import evaluate, export, identity, leaderboard, security, store, tuning
from .store import ClassError, ClassInfo, ClassStore, Drawing, Run

WALL_SIZE = 48  # drawings on the live wall
MINE_SIZE = 30  # a student's own drawings shown back
GATE_REASONS = ("refused", "slow_down")  # the teacher gate's refusals (the others are about the request itself)


class Refused(Exception):
    """What a caller asked for and may not have: `reason` a short word (the tab's message key), `values` its
    placeholders (minutes to wait, a limit)."""

    def __init__(self, reason: str, **values) -> None:
        super().__init__(reason)
        self.reason, self.values = reason, values

    @property
    def by_gate(self) -> bool:
        return self.reason in GATE_REASONS


@dataclass(frozen=True)
class Student:
    """A joined student's place, kept server-side (the tab's gr.State): which class, and a random id for "mine"."""

    code: str
    title: str
    model: str
    student: str
    use_class_model: bool = False  # the student picked "Our class's model" (used once the teacher trained one)
    address: str | None = None  # the address it joined from (the training line's share per address); None: restored


@dataclass(frozen=True)
class Given:
    """A drawing kept: the model's answer and the student's count so far."""

    label: int
    answer: int
    count: int


@dataclass(frozen=True)
class Dashboard:
    """What the teacher's dashboard shows of a class whose key was checked."""

    info: ClassInfo
    newest: list[Drawing]  # the wall, newest first, with ink
    drawings: int
    students: int
    confusion: evaluate.Confusion  # of the picked model on every drawing
    nicknames: list[str]
    joining_open: bool = True


@dataclass
class ClassTraining:
    """One "Train on our class" run: its job (poll it), what it teaches with and the model it started from."""

    code: str
    entry: Entry
    split: tuning.ClassSplit
    job: teaching.TeachJob


def minutes(seconds: float) -> int:
    """A wait as whole minutes, at least one (what the slow-down message says)."""
    return max(1, int(seconds // 60) + 1)


class Classroom:
    """Class mode over one store, with its own rate limits, class models and running class trainings."""

    def __init__(self, class_store: ClassStore | None = None, guard: security.Guard | None = None,
                 models: tuning.ClassModels | None = None, slots: TrainingSlots | None = None) -> None:
        self.store = class_store if class_store is not None else ClassStore().migrate()
        self.guard = guard or security.Guard()
        self.models = models if models is not None else tuning.ClassModels(self.store)
        self.slots = slots  # None: the process's shared training slots
        self.runs = leaderboard.ClassRuns(self.store, slots)  # the students' own "Train a network" runs
        self._training: dict[str, ClassTraining] = {}  # class code -> its running training (one per class)
        self._training_lock = threading.Lock()

    # -- the teacher's gate: every dashboard method starts here ---------------------------------

    def teacher(self, code: object, key: object, address: str) -> ClassInfo:
        """The class if `key` is its teacher key; `Refused("refused")` otherwise, the same for an unknown code and
        a wrong key, and `Refused("slow_down")` once this address or this class has failed too often."""
        normalized = security.normalize_code(code)
        wait = self.guard.try_key(address, normalized)  # counted at once: parallel tries cannot all pass
        if wait:
            raise Refused("slow_down", minutes=minutes(wait))
        info = self.store.check_key(normalized, key) if normalized else None
        if info is None:
            raise Refused("refused")
        self.guard.key_ok(address, normalized)
        return info

    def create(self, title: str, address: str) -> tuple[ClassInfo, str]:
        """A new class and its teacher key (shown once), rate-limited per address."""
        if not self.guard.may_hold_more(address):
            raise Refused("many_classes_here", limit=security.CLASS_LIFETIMES_PER_ADDRESS, days=security.CLASS_DAYS)
        wait = self.guard.try_create(address)  # per address, and from everyone together
        if wait:
            raise Refused("slow_down", minutes=minutes(wait))
        try:
            return self.store.create_class(title or "", DEFAULT_MODEL)
        except ClassError:
            self.guard.create_failed(address)
            raise Refused("too_many_classes") from None

    # -- students --------------------------------------------------------------------------------

    def join(self, code: object, address: str, token: object = None) -> tuple[Student, str]:
        """The student's place in the class and the token their browser keeps for it (`identity`). A browser
        whose token names this class gets its place back (its drawings, its count, its caps); anyone else a
        new one, if the class is open to joining. Wrong codes are rate-limited per address and from everyone,
        joins per address and per class per minute."""
        normalized = security.normalize_code(code)
        kept = self.restore(token)
        if kept is not None and kept.code == normalized:
            return kept, str(token)
        wait = self.guard.try_join(address)  # counted as a failure until the code proves right
        if wait:
            raise Refused("slow_down", minutes=minutes(wait))
        info = self.store.get_class(normalized)
        if info is None:
            raise Refused("no_class")
        self.guard.joined(address)
        wait = self.guard.try_join_class(address, info.code)
        if wait:
            raise Refused("busy", minutes=minutes(wait))
        if not self.store.joining_open(info.code):
            raise Refused("joining_closed")
        student = Student(info.code, info.title, info.model or DEFAULT_MODEL, secrets.token_urlsafe(12), address=address)
        return student, identity.sign(identity.Place(info.code, student.student))

    def restore(self, token: object) -> Student | None:
        """The place a browser's token names, while its class is open (a reload, a lost session)."""
        place = identity.read(token)
        info = self.store.get_class(place.code) if place is not None else None
        if info is None:
            return None
        return Student(info.code, info.title, info.model or DEFAULT_MODEL, place.student)

    def student_count(self, student: Student) -> int:
        return self.store.student_count(student.code, student.student)

    def my_drawings(self, student: Student | None) -> list[Drawing]:
        """This student's own drawings, newest first: never anyone else's."""
        if not isinstance(student, Student):
            return []
        return self.store.student_drawings(student.code, student.student, MINE_SIZE)

    def student_entry(self, student: Student | None) -> Entry | None:
        """The model that reads a student's drawings: their class's class model when they picked it and the teacher
        has trained one, else the class's model."""
        if isinstance(student, Student) and student.use_class_model:
            found = self.models.get(student.code)
            if found is not None:
                return found.entry
        return resolve(student.model if isinstance(student, Student) else None)

    def pick_model(self, student: Student, use_class_model: bool) -> tuple[Student, bool]:
        """The student picks which network reads their drawings: (their new place, whether a class model exists)."""
        chosen = dataclasses.replace(student, use_class_model=use_class_model)
        return chosen, self.models.get(chosen.code) is not None

    def give(self, student: Student | None, digit: int, payload: str | None, nickname: str = "",
             address: str = "local") -> Given:
        """The student says the drawing is `digit`: read it with their model and keep it (saves limited per
        student, per address and per class per minute; noise-like ink refused by the store)."""
        if not isinstance(student, Student):
            raise Refused("not_joined")
        wait = self.guard.try_save(address, student.code, student.student)
        if wait:
            raise Refused("busy", minutes=minutes(wait))
        entry = self.student_entry(student)
        if entry is None:
            raise Refused("no_model")
        try:
            ink = decode_ink_payload(payload)
        except PictureError:
            raise Refused("bad_drawing") from None
        with predict.PREDICTING:
            reading = predict.read_drawing(payload, entry.model)
        if reading.outcome == predict.UNREADABLE:
            raise Refused("bad_drawing")
        if reading.prepared is None or reading.prepared.blank or reading.top is None:
            raise Refused("draw_first")
        answer, confidence = reading.top
        try:
            self.store.add_drawing(student.code, student.student, reading.prepared.image, int(digit), ink=ink,
                                   answer=int(answer), confidence=confidence, nickname=nickname or "",
                                   model=entry.key)
        except ClassError as exc:
            limits = {"class_full": store.MAX_DRAWINGS_PER_CLASS, "student_full": store.MAX_DRAWINGS_PER_STUDENT,
                      "too_many_students": store.MAX_STUDENTS_PER_CLASS}
            if exc.reason in limits:
                raise Refused(exc.reason, limit=limits[exc.reason]) from None
            if exc.reason in ("not_drawn", "server_full"):
                raise Refused(exc.reason) from None
            raise Refused("gone") from None
        return Given(int(digit), int(answer), self.student_count(student))

    # -- the teacher's dashboard: each method checks the key itself ------------------------------

    def dashboard(self, code: object, key: object, address: str, model: str | None,
                  trained: Mapping[str, Entry] | None = None) -> Dashboard:
        """The dashboard's data, `model` (a shipped key or one of `trained`, the caller's session models) judging."""
        return self.dashboard_of(self.teacher(code, key, address), model, trained)

    def dashboard_of(self, info: ClassInfo, model: str | None, trained: Mapping[str, Entry] | None) -> Dashboard:
        newest = self.store.newest(info.code, WALL_SIZE, with_ink=True)
        everything = self.store.all_drawings(info.code)
        entry = resolve(model, trained)
        result = evaluate.confusion(entry.model, everything) if entry is not None else evaluate.Confusion(
            np.zeros((10, 10), np.int64))
        names = [name for name, _ in self.store.nicknames(info.code)]
        return Dashboard(info, newest, len(everything), len({d.student for d in everything}), result, names,
                         self.store.joining_open(info.code))

    def changes(self, code: object, key: object, address: str) -> tuple[ClassInfo, tuple]:
        """The class, and what says whether its dashboard changed (the newest drawing, the count, the expiry):
        the timer's check."""
        info = self.teacher(code, key, address)
        return info, (info.code, self.store.latest_id(info.code), self.store.count(info.code), info.expires)

    def cell(self, code: object, key: object, address: str, model: str | None, trained: Mapping[str, Entry] | None,
             label: object, answer: object) -> list[Drawing]:
        """The drawings given as `label` that the model answers `answer` (a confusion cell), newest first, with ink;
        none for a cell that does not exist."""
        info = self.teacher(code, key, address)
        entry = resolve(model, trained)
        if entry is None or not all(isinstance(v, int) and 0 <= v <= 9 for v in (label, answer)):
            return []
        everything = self.store.all_drawings(info.code, with_ink=True)
        wanted = set(evaluate.confusion(entry.model, everything).cells.get((label, answer), []))
        return [d for d in reversed(everything) if d.id in wanted]

    def remove(self, code: object, key: object, address: str, drawing_id: object) -> int:
        """Remove one drawing by its number: how many went (0 or 1)."""
        info = self.teacher(code, key, address)
        if isinstance(drawing_id, (int, float)) and 1 <= drawing_id < 2**53:
            found = self.store.id_of_number(info.code, int(drawing_id))  # the number the class sees, in this class
            return 0 if found is None else int(self.store.remove_drawing(info.code, found))
        return 0

    def remove_nickname(self, code: object, key: object, address: str, nickname: str | None) -> int:
        """Remove every drawing under a nickname: how many went."""
        info = self.teacher(code, key, address)
        return self.store.remove_nickname(info.code, nickname or "")

    def export(self, code: object, key: object, address: str, folder: str | Path | None) -> Path:
        """The class dataset as a zip file in `folder`, the caller's private folder (its session's, removed with
        it); without one (a call from no page's session) nothing is written: Refused("no_session")."""
        info = self.teacher(code, key, address)
        if folder is None:
            raise Refused("no_session")
        data = export.dataset_zip(self.store.all_drawings(info.code), info.title)
        path = Path(folder) / f"class-{info.code}.zip"
        path.write_bytes(data)
        return path

    def remove_student(self, code: object, key: object, address: str, number: object) -> int:
        """Remove every drawing of the student who gave drawing #`number`: how many went."""
        info = self.teacher(code, key, address)
        if isinstance(number, (int, float)) and 1 <= number < 2**53:
            found = self.store.id_of_number(info.code, int(number))
            return 0 if found is None else self.store.remove_student_of(info.code, found)
        return 0

    def remove_anonymous(self, code: object, key: object, address: str, first_number: object) -> int:
        """Remove every drawing without a nickname from #`first_number` on (a flood): how many went."""
        info = self.teacher(code, key, address)
        if isinstance(first_number, (int, float)) and 1 <= first_number < 2**53:
            return self.store.remove_anonymous_since(info.code, int(first_number))
        return 0

    def set_joining(self, code: object, key: object, address: str, open_: object) -> bool:
        """Open or close joining (students who joined already go on drawing); returns whether it is open."""
        info = self.teacher(code, key, address)
        self.store.set_joining(info.code, open_ is not False)
        return self.store.joining_open(info.code)

    def renew(self, code: object, key: object, address: str) -> ClassInfo:
        """Another CLASS_DAYS for the class."""
        info = self.teacher(code, key, address)
        if not self.guard.try_renew(address):  # a renewal is one more class lifetime, as an opening is
            raise Refused("many_classes_here", limit=security.CLASS_LIFETIMES_PER_ADDRESS, days=security.CLASS_DAYS)
        return self.store.renew(info.code) or info

    def delete(self, code: object, key: object, address: str, confirmed: object) -> None:
        """The class and everything in it, its class model and its running training, once the box is ticked."""
        info = self.teacher(code, key, address)
        if confirmed is not True:
            raise Refused("unconfirmed")
        self.store.delete_class(info.code)
        self.models.drop(info.code)
        with self._training_lock:
            run = self._training.pop(info.code, None)
        if run is not None:
            run.job.stop.set()

    # -- Train on our class: a TeachJob (its own process, under the training cap); the model kept with the class -

    def start_training(self, code: object, key: object, address: str, model: str | None,
                       trained: Mapping[str, Entry] | None = None) -> ClassTraining:
        """Fine-tune the picked model on the class's drawings (every 5th of each digit held out to measure);
        poll the run's job, then `finish_training`. One run per class."""
        info = self.teacher(code, key, address)
        drawings = self.store.all_drawings(info.code)
        if len(drawings) < tuning.MIN_DRAWINGS:
            raise Refused("train_few", min=tuning.MIN_DRAWINGS, count=len(drawings))
        with self._training_lock:
            if info.code in self._training:
                raise Refused("train_busy")
            entry = resolve(model, trained)
            if entry is None:
                raise Refused("no_model")
            split = tuning.split_drawings(drawings)
            job = teaching.TeachJob(entry.model, entry.card["model"], split.taught, split.held, slots=self.slots,
                                    mnist_before=teaching.mnist_before(entry.card), address=address, group=info.code)
            run = self._training[info.code] = ClassTraining(info.code, entry, split, job)
        job.start()
        return run

    def finish_training(self, run: ClassTraining) -> tuning.ClassModel | None:
        """After the run: the class model (kept for the class's students) when it succeeded and the class still
        exists, else None; stops a run left unfinished (the page went away) and frees the class's place."""
        try:
            snap = run.job.snapshot()
            if snap.state == "done" and self.store.get_class(run.code) is not None:
                found = tuning.make_class_model(run.code, run.entry, snap.result, run.split,
                                                security.pretty_code(run.code))
                try:
                    self.models.put(found)  # kept with the class in the store
                except ClassError:  # the class was deleted meanwhile
                    return None
                return found
            return None
        finally:
            if not run.job.finished:
                run.job.stop.set()
            with self._training_lock:
                if self._training.get(run.code) is run:
                    del self._training[run.code]

    def stop_training(self, code: object, key: object, address: str) -> None:
        """Stop the class's training between steps (what it learned so far is kept)."""
        info = self.teacher(code, key, address)
        with self._training_lock:
            run = self._training.get(info.code)
        if run is not None:
            run.job.stop.set()

    # -- Everyone trains: a student's own run (a class preset) and the class's leaderboard ---------------------

    def start_run(self, student: Student | None, choices: Mapping[str, object] | None,
                  nickname: str = "") -> leaderboard.StudentRun:
        """Train the student's own network with their preset choices; it lands on the class's leaderboard."""
        if not isinstance(student, Student):
            raise Refused("not_joined")
        if self.store.get_class(student.code) is None:
            raise Refused("gone")
        try:
            return self.runs.start(student.code, student.student, store.clean_text(nickname, store.MAX_NICKNAME),
                                   choices, student.address)
        except ValueError:
            raise Refused("bad_choice") from None

    def my_run(self, student: Student | None) -> leaderboard.StudentRun | None:
        """The student's latest run (None: none yet)."""
        return self.runs.current(student.code, student.student) if isinstance(student, Student) else None

    def leaderboard(self, code: object, key: object, address: str) -> list[Run]:
        """The class's finished runs, oldest first."""
        return self.store.runs(self.teacher(code, key, address).code)

    def run_detail(self, code: object, key: object, address: str, run_id: object) -> Run | None:
        """One run with its card (confusion matrix, curves) and weights; None for a number not on this board."""
        info = self.teacher(code, key, address)
        if isinstance(run_id, bool) or not isinstance(run_id, (int, float)) or run_id < 1:
            return None
        return self.store.run(info.code, int(run_id))

    def adopt_run(self, code: object, key: object, address: str, run_id: object) -> tuning.ClassModel:
        """Make a leaderboard run the class's model: the students' phones answer with it from then on."""
        info = self.teacher(code, key, address)
        run = self.run_detail(code, key, address, run_id)
        if run is None:
            raise Refused("no_run")
        try:
            found = leaderboard.as_class_model(info.code, run, security.pretty_code(info.code))
        except weights.WeightsError:  # trained by an earlier version whose network has changed since
            raise Refused("old_run") from None
        try:
            self.models.put(found)
        except ClassError:
            raise Refused("gone") from None
        return self.models.get(info.code) or found
