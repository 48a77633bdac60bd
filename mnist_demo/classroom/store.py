"""The class collections: classes, their teacher keys (hashed) and their students' drawings.

By default one SQLite file, `classes.sqlite3`, in the state folder (`state_dir()`), in WAL mode so that many
students' writes and the teacher's reads go on at once; with $MNIST_DEMO_DATABASE_URL (postgresql://...) a
PostgreSQL database that several app servers share. Either way it survives restarts, and `engine` is the one
place that knows which: this module writes one SQL for both. Every write is one short transaction
(`engine.write`) in which the caps are checked and the row written, so caps hold under any number of
concurrent writers, on one server or several. The schema is `MIGRATIONS`, applied on first use to an empty
or older database. Classes expire CLASS_DAYS after their creation or last renewal and are then deleted with
everything in them. No gradio here: the UI is `mnist_demo.ui.class_tab`.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .. import settings
from . import engine as engines
from . import security

CLASS_DAYS = security.CLASS_DAYS  # a class lives this long after its creation or its last renewal
MAX_CLASSES = security.ACTIVE_CLASS_LIMIT  # open classes in one store (a server's SQLite, or all servers' PostgreSQL)
MAX_DRAWINGS_PER_CLASS = 5000
MAX_DRAWINGS_PER_STUDENT = 300
MAX_STUDENTS_PER_CLASS = 200
MAX_NICKNAME = 24
MAX_TITLE = 60
# Bytes kept (the 784-byte input and the ink PNG of each drawing): a real drawing's ink is ~0.5-1.5 KB, so
# a full class of 5000 is ~10 MB; noise-like ink is refused (`looks_drawn`) and a PNG above MAX_INK_BYTES too.
MAX_INK_BYTES = 6 * 1024
MAX_CLASS_BYTES = settings.current().max_class_bytes
MAX_STORE_BYTES = settings.current().max_store_bytes
EMPTY_CLASS_HOURS = 12  # a class nobody has drawn in expires this long after its creation or last renewal
# With every place taken, a new class takes the place of one nobody uses: fewer than RECLAIM_STUDENTS students
# have drawn in it and nothing happened in it (a drawing, its creation or renewal) for RECLAIM_IDLE_HOURS. A script
# rotating addresses that opens classes and draws once in each can then fill the places but never hold them.
RECLAIM_STUDENTS = 5
RECLAIM_IDLE_HOURS = 1
MAX_MODEL_BYTES = 8 * 1024 * 1024  # a class model's weights (or its ONNX export); a DigitNet is ~1.3 MB
MAX_RUNS_PER_CLASS = 120  # leaderboard entries of one class (their weights count toward the class's bytes too)
DB_NAME = "classes.sqlite3"
FIELD = 28

# The schema, one migration after another (never edit one that has shipped: add the next). `{id}`, `{blob}`
# and `{real}` are the engine's types (engine.migrate).
MIGRATIONS = [
    """
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    salt {blob} NOT NULL,
    key_hash {blob} NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    created {real} NOT NULL,
    expires {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS drawings (
    id {id},
    code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE,
    student TEXT NOT NULL,
    nickname TEXT NOT NULL DEFAULT '',
    input {blob} NOT NULL,
    ink {blob},
    label INTEGER NOT NULL,
    answer INTEGER,
    confidence {real},
    model TEXT NOT NULL DEFAULT '',
    created {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS drawings_by_class ON drawings(code, id);
CREATE INDEX IF NOT EXISTS drawings_by_student ON drawings(code, student);
CREATE INDEX IF NOT EXISTS drawings_by_nickname ON drawings(code, nickname)
""",
    # "Our class's model": one per class, kept with it so that it survives restarts and every server serves it.
    """
CREATE TABLE IF NOT EXISTS class_models (
    code TEXT PRIMARY KEY REFERENCES classes(code) ON DELETE CASCADE,
    weights {blob} NOT NULL,
    card TEXT NOT NULL,
    onnx {blob},
    base TEXT NOT NULL DEFAULT '',
    base_title TEXT NOT NULL DEFAULT '',
    held_ids TEXT NOT NULL DEFAULT '[]',
    trained {real} NOT NULL
)
""",
    # Issue 18: the teacher can close joining; the bytes each class keeps (checked against the caps at every save).
    """
ALTER TABLE classes ADD COLUMN joining_closed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE classes ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0
""",
    # Issue 23: drawings numbered per class (#1 is a class's first drawing), so a class's numbers say nothing
    # about other classes; `numbered` counts the numbers given (never reused after a removal).
    """
ALTER TABLE drawings ADD COLUMN number INTEGER;
ALTER TABLE classes ADD COLUMN numbered INTEGER NOT NULL DEFAULT 0;
UPDATE drawings SET number = (SELECT COUNT(*) FROM drawings AS earlier WHERE earlier.code = drawings.code
                              AND earlier.id <= drawings.id);
UPDATE classes SET numbered = (SELECT COALESCE(MAX(number), 0) FROM drawings WHERE drawings.code = classes.code);
CREATE UNIQUE INDEX IF NOT EXISTS drawings_by_number ON drawings(code, number)
""",
    # Issue 20: the class's leaderboard, one row per finished "Train a network" run, its weights with it.
    """
CREATE TABLE IF NOT EXISTS leaderboard (
    id {id},
    code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE,
    student TEXT NOT NULL,
    nickname TEXT NOT NULL DEFAULT '',
    choices TEXT NOT NULL,
    test_accuracy {real} NOT NULL,
    class_accuracy {real},
    parameters INTEGER NOT NULL,
    seconds {real} NOT NULL,
    weights {blob} NOT NULL,
    card TEXT NOT NULL,
    created {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS leaderboard_by_class ON leaderboard(code, id)
""",
]


def database_url() -> str | None:
    """$MNIST_DEMO_DATABASE_URL: a postgresql:// URL shared by several app servers; unset: SQLite in state_dir()."""
    return settings.current().database_url


def state_dir() -> Path:
    """Where the app keeps what must outlive it: $MNIST_DEMO_STATE, else Spaces' persistent /data, else ./state."""
    configured = settings.current().state
    if configured:
        return Path(configured)
    data = Path("/data")
    if data.is_dir() and os.access(data, os.W_OK):
        return data / "mnist-demo"
    return Path("state")


@dataclass(frozen=True)
class StoredModel:
    """A class's own model as kept with the class: safetensors bytes, card, ONNX export (None until made)."""

    code: str
    weights: bytes
    card: dict
    onnx: bytes | None
    base: str  # the model it was tuned from
    base_title: str
    held_ids: list[int]  # the drawings held out to measure it
    trained: float  # when it was stored: a new training replaces it (and its export)


class ClassError(Exception):
    """Something a user asked for that the store refuses; `reason` is a short machine-readable word."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class ClassInfo:
    code: str
    title: str
    model: str
    created: float
    expires: float


@dataclass(frozen=True)
class Run:
    """One finished "Train a network" run on the class's leaderboard (weights and card only when asked for)."""

    id: int
    student: str
    nickname: str
    choices: dict
    test_accuracy: float
    class_accuracy: float | None  # on the class's own drawings (None: it had none)
    parameters: int
    seconds: float
    created: float
    weights: bytes | None = None
    card: dict | None = None


@dataclass
class Drawing:
    id: int
    nickname: str
    label: int
    answer: int | None
    confidence: float | None
    model: str
    created: float
    input: np.ndarray  # (28, 28) uint8, white ink on black: the model input
    ink_png: bytes | None = None  # the canvas's ink map as a PNG (white on black), when asked for
    student: str = ""
    number: int = 0  # its number in its class (#1 the class's first): what people see; `id` stays internal


def clean_text(text: object, limit: int) -> str:
    """A nickname or title as stored: printable characters only, trimmed to `limit`."""
    if not isinstance(text, str):
        return ""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "C")
    return " ".join(kept.split())[:limit]


def ink_png(ink: np.ndarray | None) -> bytes | None:
    if ink is None:
        return None
    array = np.asarray(ink)
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array, "L").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def looks_drawn(ink: np.ndarray) -> bool:
    """Ink drawn with the canvas's round brush, not noise: strokes cover at most half the canvas and most of
    their pixels lie inside a stroke (~75-80% for real digits; random dots have almost none)."""
    on = np.asarray(ink) > 0.5
    if (np.asarray(ink) > 0.05).mean() > 0.5:
        return False
    if on.sum() == 0:
        return True
    inner = on[1:-1, 1:-1] & on[:-2, 1:-1] & on[2:, 1:-1] & on[1:-1, :-2] & on[1:-1, 2:]
    return inner.sum() >= 0.3 * on.sum()


def input_bytes(image: np.ndarray) -> bytes:
    """A (28, 28) input, float in [0, 1] or uint8, as 784 bytes."""
    array = np.asarray(image)
    if array.shape != (FIELD, FIELD):
        raise ClassError("bad_input", f"expected a {FIELD}x{FIELD} input, got {array.shape}")
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    return array.tobytes()


class ClassStore:
    """The classes and drawings of one database; safe to use from any number of threads (and servers, on
    PostgreSQL). `url`: a postgresql:// URL; without one, the SQLite file `folder/classes.sqlite3`. With neither
    (the app's store), $MNIST_DEMO_DATABASE_URL if set, else SQLite in `state_dir()`."""

    def __init__(self, folder: str | Path | None = None, clock=time.time, url: str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else state_dir()
        self.path = self.folder / DB_NAME
        self.clock = clock
        self.engine = engines.open_engine(self.folder, DB_NAME, url if url is not None or folder is not None
                                          else database_url())
        self._lock = threading.Lock()
        self._ready = False

    def where(self) -> str:
        """Where the classes are kept, as the privacy note says it: the file, or the database (no password)."""
        return self.engine.where()

    def _migrated(self):
        if not self._ready:
            with self._lock:
                if not self._ready:
                    engines.migrate(self.engine, MIGRATIONS)
                    self._ready = True
        return self.engine

    def migrate(self) -> ClassStore:
        """Create the schema, or bring it up to date, now rather than on first use: the app does it as it starts, so
        a database it cannot reach fails the start, not a student's first drawing."""
        self._migrated()
        return self

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self._migrated().rows(sql, args)

    def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        return self._migrated().one(sql, args)

    def _write(self, scope: str = engines.GLOBAL):
        """One write transaction, serialized with the other writes of `scope` (a class code; "" for all)."""
        return self._migrated().write(scope)

    def close(self) -> None:
        self.engine.close()

    # -- classes -------------------------------------------------------------------------------

    def create_class(self, title: str = "", model: str = "") -> tuple[ClassInfo, str]:
        """A new class and its teacher key (returned once, stored only as a salted hash)."""
        key, salt = security.new_key(), security.new_salt()
        now = self.clock()
        self.purge_expired()
        with self._write() as db:
            if db.execute("SELECT COUNT(*) FROM classes").fetchone()[0] >= MAX_CLASSES:
                unused = self._unused_class(db, now)
                if unused is None:
                    raise ClassError("too_many_classes")
                self._delete_rows(db, unused)
            for _ in range(10):
                code = security.new_code()
                if db.execute("SELECT 1 FROM classes WHERE code = ?", (code,)).fetchone() is None:
                    break
            else:  # pragma: no cover - 10 collisions in 8.5e11 codes
                raise ClassError("no_code")
            info = ClassInfo(code, clean_text(title, MAX_TITLE), clean_text(model, 80), now, now + CLASS_DAYS * 86400)
            db.execute("INSERT INTO classes (code, title, salt, key_hash, model, created, expires) VALUES (?,?,?,?,?,?,?)",
                       (code, info.title, salt, security.hash_key(key, salt), info.model, info.created, info.expires))
        return info, key

    def get_class(self, code: object) -> ClassInfo | None:
        """The open class with this code; None for an unknown, malformed or expired code."""
        code = security.normalize_code(code)
        if code is None:
            return None
        row = self._one("SELECT code, title, model, created, expires FROM classes WHERE code = ?", (code,))
        if row is None or row[4] <= self.clock():
            return None
        return ClassInfo(*row)

    def check_key(self, code: object, key: object) -> ClassInfo | None:
        """The class if `key` is its teacher key, else None (unknown code, expired, or wrong key alike)."""
        code = security.normalize_code(code)
        if code is None:
            return None
        row = self._one("SELECT salt, key_hash, expires FROM classes WHERE code = ?", (code,))
        if row is None:
            security.key_matches(key, b"\0" * security.SALT_BYTES, b"\0" * 32)  # the same work either way
            return None
        if not security.key_matches(key, row[0], row[1]) or row[2] <= self.clock():
            return None
        return self.get_class(code)

    def renew(self, code: str, days: float = CLASS_DAYS) -> ClassInfo | None:
        with self._write(code) as db:
            db.execute("UPDATE classes SET expires = ? WHERE code = ? AND expires > ?",
                       (self.clock() + days * 86400, code, self.clock()))
        return self.get_class(code)

    def set_model(self, code: str, model: str) -> None:
        with self._write(code) as db:
            db.execute("UPDATE classes SET model = ? WHERE code = ?", (clean_text(model, 80), code))

    def delete_class(self, code: str) -> bool:
        """The class and every drawing in it, gone."""
        with self._write(code) as db:
            return self._delete_rows(db, code)

    @staticmethod
    def _delete_rows(db, code: str) -> bool:
        for table in ("drawings", "class_models", "leaderboard"):
            db.execute(f"DELETE FROM {table} WHERE code = ?", (code,))
        return db.execute("DELETE FROM classes WHERE code = ?", (code,)).rowcount > 0

    @staticmethod
    def _unused_class(db, now: float) -> str | None:
        """The class a new one may replace when every place is taken (RECLAIM_STUDENTS): the one with the fewest
        students who drew, then idle longest; None when every class is in use."""
        rows = db.execute("SELECT c.code, c.expires, COUNT(DISTINCT d.student), MAX(d.created) FROM classes AS c"
                          " LEFT JOIN drawings AS d ON d.code = c.code GROUP BY c.code, c.expires"
                          " HAVING COUNT(DISTINCT d.student) < ?", (RECLAIM_STUDENTS,)).fetchall()
        # the last thing that happened: a drawing, or the class's creation or last renewal
        idle = [(students, max(last or 0.0, expires - CLASS_DAYS * 86400), code) for code, expires, students, last in rows]
        idle = [row for row in idle if row[1] <= now - RECLAIM_IDLE_HOURS * 3600]
        return min(idle)[2] if idle else None

    def purge_expired(self) -> int:
        """Delete expired classes with their drawings; returns how many classes went."""
        now = self.clock()
        with self._write() as db:
            for table in ("drawings", "class_models", "leaderboard"):
                db.execute(f"DELETE FROM {table} WHERE code IN (SELECT code FROM classes WHERE expires <= ?)", (now,))
            gone = db.execute("DELETE FROM classes WHERE expires <= ?", (now,)).rowcount
            # Nobody drew in it since its creation (or last renewal) EMPTY_CLASS_HOURS ago: a class opened by a
            # script, or by mistake; it goes early, so a script cannot hold the server's places for a month.
            renewed_before = now - EMPTY_CLASS_HOURS * 3600 + CLASS_DAYS * 86400
            for table in ("class_models", "leaderboard"):
                db.execute(f"DELETE FROM {table} WHERE code IN (SELECT code FROM classes WHERE expires <= ? AND NOT"
                           " EXISTS (SELECT 1 FROM drawings WHERE drawings.code = classes.code))", (renewed_before,))
            return gone + db.execute("DELETE FROM classes WHERE expires <= ? AND NOT EXISTS (SELECT 1 FROM drawings"
                                     " WHERE drawings.code = classes.code)", (renewed_before,)).rowcount

    # -- the class's own model ------------------------------------------------------------------

    def save_class_model(self, code: str, weights: bytes, card: dict, *, base: str = "", base_title: str = "",
                         held_ids: list[int] | None = None) -> float:
        """Keep `weights` (safetensors bytes) and `card` as the class's model, replacing the one before (and its
        ONNX export); returns its `trained` stamp. ClassError("no_class") when the class is gone meanwhile."""
        if not isinstance(weights, bytes) or len(weights) > MAX_MODEL_BYTES:
            raise ClassError("model_too_big")
        now = self.clock()
        with self._write(code) as db:
            row = db.execute("SELECT expires FROM classes WHERE code = ?", (code,)).fetchone()
            if row is None or row[0] <= now:
                raise ClassError("no_class")
            db.execute("DELETE FROM class_models WHERE code = ?", (code,))
            db.execute("INSERT INTO class_models (code, weights, card, base, base_title, held_ids, trained)"
                       " VALUES (?,?,?,?,?,?,?)", (code, weights, json.dumps(card), clean_text(base, 80),
                                                   clean_text(base_title, 120), json.dumps(list(held_ids or [])), now))
        return now

    def save_class_model_onnx(self, code: str, trained: float, onnx: bytes) -> bool:
        """Attach an ONNX export to the class model stored at `trained` (not to a newer one that replaced it)."""
        if not isinstance(onnx, bytes) or len(onnx) > MAX_MODEL_BYTES:
            raise ClassError("model_too_big")
        with self._write(code) as db:
            return db.execute("UPDATE class_models SET onnx = ? WHERE code = ? AND trained = ?",
                              (onnx, code, trained)).rowcount > 0

    def class_model_trained(self, code: str) -> float | None:
        """When the class's model was stored (None: it has none): a cheap "is mine still the newest"."""
        row = self._one("SELECT trained FROM class_models WHERE code = ?", (code,))
        return None if row is None else row[0]

    def class_model(self, code: str) -> StoredModel | None:
        row = self._one("SELECT code, weights, card, onnx, base, base_title, held_ids, trained FROM class_models"
                        " WHERE code = ?", (code,))
        if row is None:
            return None
        return StoredModel(row[0], bytes(row[1]), json.loads(row[2]), None if row[3] is None else bytes(row[3]),
                           row[4], row[5], json.loads(row[6]), row[7])

    @staticmethod
    def _charge(db, code: str, size: int, now: float) -> None:
        """Inside a write: the class is open and `size` more bytes fit its cap and the store's; they are counted
        (a refusal later in the same write rolls the count back with the rest)."""
        row = db.execute("SELECT expires, bytes FROM classes WHERE code = ?", (code,)).fetchone()
        if row is None or row[0] <= now:
            raise ClassError("no_class")
        if row[1] + size > MAX_CLASS_BYTES:
            raise ClassError("class_full")
        if (db.execute("SELECT COALESCE(SUM(bytes), 0) FROM classes").fetchone()[0] + size) > MAX_STORE_BYTES:
            raise ClassError("server_full")
        db.execute("UPDATE classes SET bytes = bytes + ? WHERE code = ?", (size, code))

    # -- the leaderboard: finished "Train a network" runs --------------------------------------

    def add_run(self, code: str, student: str, nickname: str, choices: dict, *, test_accuracy: float,
                class_accuracy: float | None, parameters: int, seconds: float, weights: bytes, card: dict) -> int:
        """Put a finished run on the class's leaderboard; its id. ClassError("no_class" | "model_too_big" |
        "leaderboard_full" | "class_full" | "server_full")."""
        if not isinstance(weights, bytes) or len(weights) > MAX_MODEL_BYTES:
            raise ClassError("model_too_big")
        now = self.clock()
        with self._write(code) as db:
            self._charge(db, code, len(weights), now)
            if db.execute("SELECT COUNT(*) FROM leaderboard WHERE code = ?", (code,)).fetchone()[0] >= MAX_RUNS_PER_CLASS:
                raise ClassError("leaderboard_full")
            return db.execute(
                "INSERT INTO leaderboard (code, student, nickname, choices, test_accuracy, class_accuracy, parameters,"
                " seconds, weights, card, created) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                (code, clean_text(student, 64), clean_text(nickname, MAX_NICKNAME), json.dumps(choices),
                 float(test_accuracy), None if class_accuracy is None else float(class_accuracy), int(parameters),
                 float(seconds), weights, json.dumps(card), now)).fetchone()[0]

    def runs(self, code: str) -> list[Run]:
        """The class's leaderboard, oldest first, without weights or cards."""
        return [Run(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in self._rows(
            "SELECT id, student, nickname, choices, test_accuracy, class_accuracy, parameters, seconds, created"
            " FROM leaderboard WHERE code = ? ORDER BY id", (code,))]

    def run(self, code: str, run_id: int) -> Run | None:
        """One entry with its weights and card (None: no such entry in this class)."""
        r = self._one("SELECT id, student, nickname, choices, test_accuracy, class_accuracy, parameters, seconds,"
                      " created, weights, card FROM leaderboard WHERE code = ? AND id = ?", (code, int(run_id)))
        return None if r is None else Run(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8],
                                          bytes(r[9]), json.loads(r[10]))

    # -- drawings ------------------------------------------------------------------------------

    def add_drawing(self, code: str, student: str, image: np.ndarray, label: int, *, ink: np.ndarray | None = None,
                    answer: int | None = None, confidence: float | None = None, nickname: str = "",
                    model: str = "") -> int:
        """Store one drawing; raises ClassError("class_full" | "student_full" | "too_many_students" | ...)."""
        if not (isinstance(label, int) and 0 <= label <= 9):
            raise ClassError("bad_label")
        if not isinstance(student, str) or not student or len(student) > 64:
            raise ClassError("bad_student")
        data = input_bytes(image)
        if ink is not None and not looks_drawn(ink):
            raise ClassError("not_drawn")
        png = ink_png(ink)
        size = len(data) + len(png or b"")
        if png is not None and len(png) > MAX_INK_BYTES:
            raise ClassError("not_drawn")
        now = self.clock()
        with self._write(code) as db:
            self._charge(db, code, size, now)
            if db.execute("SELECT COUNT(*) FROM drawings WHERE code = ?", (code,)).fetchone()[0] >= MAX_DRAWINGS_PER_CLASS:
                raise ClassError("class_full")
            mine = db.execute("SELECT COUNT(*) FROM drawings WHERE code = ? AND student = ?",
                              (code, student)).fetchone()[0]
            if mine >= MAX_DRAWINGS_PER_STUDENT:
                raise ClassError("student_full")
            if mine == 0 and db.execute("SELECT COUNT(DISTINCT student) FROM drawings WHERE code = ?",
                                        (code,)).fetchone()[0] >= MAX_STUDENTS_PER_CLASS:
                raise ClassError("too_many_students")
            db.execute("UPDATE classes SET numbered = numbered + 1 WHERE code = ?", (code,))
            number = db.execute("SELECT numbered FROM classes WHERE code = ?", (code,)).fetchone()[0]
            return db.execute(
                "INSERT INTO drawings (code, student, nickname, input, ink, label, answer, confidence, model, created,"
                " number) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                (code, student, clean_text(nickname, MAX_NICKNAME), data, png, label,
                 None if answer is None else int(answer), None if confidence is None else float(confidence),
                 clean_text(model, 80), now, number)).fetchone()[0]

    def _drawings(self, where: str, args: tuple, limit: int | None, with_ink: bool, newest_first: bool = True):
        columns = "id, nickname, label, answer, confidence, model, created, input, student, number" + (
            ", ink" if with_ink else "")
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {columns} FROM drawings WHERE {where} ORDER BY id {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = []
        for row in self._rows(sql, args):
            image = np.frombuffer(row[7], np.uint8).reshape(FIELD, FIELD)
            out.append(Drawing(row[0], row[1], row[2], row[3], row[4], row[5], row[6], image,
                               row[10] if with_ink else None, row[8], row[9] or 0))
        return out

    def newest(self, code: str, limit: int = 60, with_ink: bool = False) -> list[Drawing]:
        """The class's newest drawings, newest first (the teacher's wall)."""
        return self._drawings("code = ?", (code,), limit, with_ink)

    def student_drawings(self, code: str, student: str, limit: int | None = 60, with_ink: bool = False) -> list[Drawing]:
        """One student's own drawings, newest first: all a student may ever read back."""
        return self._drawings("code = ? AND student = ?", (code, student), limit, with_ink)

    def all_drawings(self, code: str, with_ink: bool = False) -> list[Drawing]:
        """Every drawing of the class, oldest first (export, evaluation, training)."""
        return self._drawings("code = ?", (code,), None, with_ink, newest_first=False)

    def drawings_by_id(self, code: str, ids: list[int], with_ink: bool = False) -> list[Drawing]:
        ids = [int(i) for i in ids][:500]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self._drawings(f"code = ? AND id IN ({marks})", (code, *ids), None, with_ink)

    def count(self, code: str) -> int:
        return self._one("SELECT COUNT(*) FROM drawings WHERE code = ?", (code,))[0]

    def student_count(self, code: str, student: str) -> int:
        return self._one("SELECT COUNT(*) FROM drawings WHERE code = ? AND student = ?", (code, student))[0]

    def latest_id(self, code: str) -> int:
        """The newest drawing's id (0 if none): a cheap "did anything change" for the wall."""
        return self._one("SELECT COALESCE(MAX(id), 0) FROM drawings WHERE code = ?", (code,))[0]

    def nicknames(self, code: str) -> list[tuple[str, int]]:
        """(nickname, drawings) for every nickname used in the class, most drawings first."""
        return [tuple(row) for row in self._rows(
            "SELECT nickname, COUNT(*) AS n FROM drawings WHERE code = ? AND nickname != '' GROUP BY nickname"
            " ORDER BY n DESC, nickname", (code,))]

    def _remove(self, code: str, where: str, args: tuple) -> int:
        """Delete the class's drawings matching `where`, keeping the class's byte count; how many went."""
        with self._write(code) as db:
            gone = db.execute(f"DELETE FROM drawings WHERE code = ? AND {where}", (code, *args)).rowcount
            if gone:
                db.execute("UPDATE classes SET bytes = (SELECT COALESCE(SUM(LENGTH(input) + COALESCE(LENGTH(ink), 0)),"
                           " 0) FROM drawings WHERE code = ?) + (SELECT COALESCE(SUM(LENGTH(weights)), 0) FROM"
                           " leaderboard WHERE code = ?) WHERE code = ?", (code, code, code))
            return gone

    def id_of_number(self, code: str, number: int) -> int | None:
        """The drawing shown as #`number` in this class (None: no such drawing in it)."""
        row = self._one("SELECT id FROM drawings WHERE code = ? AND number = ?", (code, int(number)))
        return None if row is None else row[0]

    def remove_drawing(self, code: str, drawing_id: int) -> bool:
        return self._remove(code, "id = ?", (int(drawing_id),)) > 0

    def remove_own_drawing(self, code: str, student: str, drawing_id: int) -> bool:
        """A student takes back one of their own drawings (and only their own)."""
        return self._remove(code, "student = ? AND id = ?", (student, int(drawing_id))) > 0

    def remove_nickname(self, code: str, nickname: str) -> int:
        """Every drawing given under this nickname; returns how many went."""
        name = clean_text(nickname, MAX_NICKNAME)
        if not name:
            return 0
        return self._remove(code, "nickname = ?", (name,))

    def remove_student_of(self, code: str, drawing_id: int) -> int:
        """Every drawing of the student who gave drawing `drawing_id` (whatever nicknames they used)."""
        row = self._one("SELECT student FROM drawings WHERE code = ? AND id = ?", (code, int(drawing_id)))
        return 0 if row is None else self._remove(code, "student = ?", (row[0],))

    def remove_anonymous_since(self, code: str, first_number: int) -> int:
        """Every drawing without a nickname shown as #`first_number` or later (a flood the teacher noticed)."""
        return self._remove(code, "nickname = '' AND number >= ?", (int(first_number),))

    def set_joining(self, code: str, open_: bool) -> None:
        """Open or close joining: while closed, only students who joined already (their browsers) may draw."""
        with self._write(code) as db:
            db.execute("UPDATE classes SET joining_closed = ? WHERE code = ?", (0 if open_ else 1, code))

    def joining_open(self, code: str) -> bool:
        row = self._one("SELECT joining_closed FROM classes WHERE code = ?", (code,))
        return row is not None and not row[0]

    def bytes_used(self, code: str | None = None) -> int:
        """Bytes kept by one class, or by all of them."""
        if code is None:
            return self._one("SELECT COALESCE(SUM(bytes), 0) FROM classes")[0]
        row = self._one("SELECT bytes FROM classes WHERE code = ?", (code,))
        return 0 if row is None else row[0]

