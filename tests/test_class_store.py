"""The class store on its own, on both engines (SQLite, and PostgreSQL: the tests whose names say `postgres`,
on a throwaway server, see tests/conftest.py): caps, expiry, deletion, keys, many writers at once, migrations,
two servers on one database; WAL mode; and the rate limiter, the code space, the evaluation and the dataset zip."""

from __future__ import annotations

import io
import sqlite3
import threading
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from mnist_demo.classroom import evaluate, export, security, store
from mnist_demo.classroom.store import ClassError, ClassStore
from mnist_demo.data import read_idx


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def digit(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4 + value:10 + value, 8:20] = 200 + value
    return image


@pytest.fixture
def clock():
    return Clock()


ENGINES = ["sqlite", "postgres"]


def database(request, tmp_path) -> dict:
    """ClassStore's arguments for the engine a test runs on: a folder for SQLite, a new database's URL."""
    if request.param == "postgres":
        return {"folder": tmp_path / "state", "url": request.getfixturevalue("postgres_url")}
    return {"folder": tmp_path / "state"}


@pytest.fixture(params=ENGINES)
def where(request, tmp_path):
    return database(request, tmp_path)


@pytest.fixture
def db(where, clock):
    s = ClassStore(**where, clock=clock)
    yield s
    s.close()


def test_a_class_survives_a_restart_of_its_store(where, clock):
    first = ClassStore(**where, clock=clock)
    info, key = first.create_class("7B")
    first.add_drawing(info.code, "s1", digit(3), 3, answer=3, confidence=0.9, nickname="Ada", ink=stroke_ink())
    first.close()
    again = ClassStore(**where, clock=clock)
    assert again.check_key(info.code, key) == info
    [drawing] = again.newest(info.code, with_ink=True)
    assert (drawing.label, drawing.answer, drawing.confidence, drawing.nickname) == (3, 3, 0.9, "Ada")
    assert np.array_equal(drawing.input, digit(3)) and drawing.ink_png.startswith(b"\x89PNG")
    assert drawing.created == clock.now  # a double on both engines: a timestamp keeps its fraction
    assert again._one("SELECT MAX(version) FROM schema_version")[0] == len(store.MIGRATIONS)
    again.close()


def test_state_folder_created_on_first_use_in_wal_mode(tmp_path, clock):
    folder = tmp_path / "not-yet"
    first = ClassStore(folder, clock=clock)
    assert not folder.exists()  # nothing until used
    first.create_class("7B")
    assert first.engine.journal_mode() == "wal" and first.where() == f"SQLite {store.DB_NAME}"
    first.close()
    assert sqlite3.connect(folder / store.DB_NAME).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_sqlite_file_from_before_migrations_is_brought_up_to_date(tmp_path, clock):
    """A file written by the store before it kept a schema version: its classes stay, the new tables come."""
    folder = tmp_path / "old"
    folder.mkdir()
    old = sqlite3.connect(folder / store.DB_NAME)
    old.executescript(store.MIGRATIONS[0].format(**store.engines.SQLiteEngine.types))
    old.execute("INSERT INTO classes VALUES ('ABCDEFGH', 'old', x'00', x'00', '', 1, ?)", (clock.now + 86400,))
    old.commit()
    old.close()
    db = ClassStore(folder, clock=clock)
    assert db.get_class("ABCDEFGH").title == "old"
    assert db._one("SELECT MAX(version) FROM schema_version")[0] == len(store.MIGRATIONS)
    db.close()


def test_the_app_store_is_postgres_when_a_database_url_is_set(environment, tmp_path, postgres_url):
    environment(MNIST_DEMO_DATABASE_URL=postgres_url, MNIST_DEMO_STATE=tmp_path / "state")
    s = ClassStore()
    assert s.engine.name == "postgres" and s.where() == "PostgreSQL " + postgres_url.rsplit("/", 1)[1]
    s.create_class("x")
    assert not (tmp_path / "state").exists()  # nothing written beside the database
    s.close()
    environment(MNIST_DEMO_DATABASE_URL="mysql://x@y/z")
    with pytest.raises(ValueError, match="postgresql://"):
        ClassStore()


def test_two_servers_on_one_postgres_share_classes_and_their_caps_hold(postgres_url, clock, monkeypatch):
    """Two stores on one database (two app servers' pools): a class opened on one is open on the other, and
    writers through both at once still stop exactly at the caps (per class, per student, classes)."""
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_CLASS", 60)
    monkeypatch.setattr(store, "MAX_CLASSES", 5)
    servers = [ClassStore(url=postgres_url, clock=clock) for _ in range(2)]
    info, key = servers[0].create_class("shared")
    assert servers[1].check_key(info.code, key) == info
    refused: list[str] = []
    start = threading.Barrier(16)

    def student(number: int) -> None:
        start.wait()
        for _ in range(6):
            try:
                servers[number % 2].add_drawing(info.code, f"s{number}", digit(1), 1)
            except ClassError as exc:
                refused.append(exc.reason)

    def teacher(number: int) -> None:
        start.wait()
        for _ in range(3):
            try:
                servers[number % 2].create_class()
            except ClassError as exc:
                refused.append(exc.reason)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(12)]
    threads += [threading.Thread(target=teacher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert servers[1].count(info.code) == 60 and sorted(set(refused)) == ["class_full", "too_many_classes"]
    assert refused.count("class_full") == 12 * 6 - 60 and refused.count("too_many_classes") == 12 + 1 - 5
    assert servers[0]._one("SELECT COUNT(*) FROM classes")[0] == 5
    assert servers[0].delete_class(info.code) and servers[1].get_class(info.code) is None
    for server in servers:
        server.close()


def test_two_servers_starting_together_migrate_postgres_once(postgres_url, clock):
    servers = [ClassStore(url=postgres_url, clock=clock) for _ in range(4)]
    threads = [threading.Thread(target=server.get_class, args=("ABCDEFGH",)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert servers[0]._rows("SELECT version FROM schema_version ORDER BY version") == [
        (n + 1,) for n in range(len(store.MIGRATIONS))]
    for server in servers:
        server.close()


def test_state_dir_from_the_environment(environment, tmp_path):
    environment(MNIST_DEMO_STATE=tmp_path / "x")
    assert store.state_dir() == tmp_path / "x"
    environment(MNIST_DEMO_STATE=None)
    assert store.state_dir() in (store.Path("state"), store.Path("/data/mnist-demo"))


def test_teacher_key_is_stored_only_as_a_salted_hash_and_wrong_keys_are_refused(db, tmp_path):
    a, key_a = db.create_class("a")
    b, key_b = db.create_class("b")
    assert a.code != b.code and len(a.code) == security.CODE_LENGTH and key_a != key_b
    assert db.check_key(a.code, key_a) == a
    assert db.check_key(security.pretty_code(a.code).lower(), key_a) == a  # typed as shown, any case
    for wrong in (key_b, key_a[:-1], key_a + "x", "", None, 123, "x" * 1000):
        assert db.check_key(a.code, wrong) is None
    assert db.check_key("ZZZZZZZZ", key_a) is None and db.check_key("nope", key_a) is None
    stored = db._rows("SELECT * FROM classes")
    assert not any(key.encode() in bytes(v) if isinstance(v, (bytes, memoryview)) else key in str(v)
                   for key in (key_a, key_b) for row in stored for v in row)
    if db.engine.name == "sqlite":  # not even in the file's bytes
        raw = (tmp_path / "state" / store.DB_NAME).read_bytes() + (tmp_path / "state" / (store.DB_NAME + "-wal")).read_bytes()
        assert key_a.encode() not in raw and key_b.encode() not in raw
    salts = [r[0] for r in db._rows("SELECT salt FROM classes")]
    assert len(set(salts)) == 2


def test_expiry_and_renewal(db, clock):
    info, key = db.create_class()
    clock.now += (store.CLASS_DAYS - 1) * 86400
    assert db.get_class(info.code) is not None
    db.renew(info.code)  # 30 more days from now
    clock.now += (store.CLASS_DAYS - 1) * 86400
    assert db.check_key(info.code, key) is not None
    clock.now += 2 * 86400
    assert db.get_class(info.code) is None and db.check_key(info.code, key) is None
    with pytest.raises(ClassError, match="no_class"):
        db.add_drawing(info.code, "s", digit(1), 1)
    assert db.renew(info.code) is None  # too late to renew
    assert db.purge_expired() == 1


def test_caps_per_student_per_class_and_students(db, monkeypatch):
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_STUDENT", 3)
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_CLASS", 7)
    monkeypatch.setattr(store, "MAX_STUDENTS_PER_CLASS", 3)
    info, _ = db.create_class()
    for _ in range(3):
        db.add_drawing(info.code, "s1", digit(1), 1)
    with pytest.raises(ClassError) as refused:
        db.add_drawing(info.code, "s1", digit(1), 1)
    assert refused.value.reason == "student_full"
    for student in ("s2", "s2", "s3", "s3"):
        db.add_drawing(info.code, student, digit(2), 2)
    with pytest.raises(ClassError) as refused:
        db.add_drawing(info.code, "s3", digit(2), 2)
    assert refused.value.reason == "class_full" and db.count(info.code) == 7
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_CLASS", 100)
    with pytest.raises(ClassError) as refused:
        db.add_drawing(info.code, "s4", digit(2), 2)
    assert refused.value.reason == "too_many_students"


def test_bad_drawings_are_refused(db):
    info, _ = db.create_class()
    for kwargs in ({"label": 10}, {"label": -1}, {"label": "3"}, {"image": np.zeros((10, 10))}, {"student": ""}):
        args = {"code": info.code, "student": "s", "image": digit(1), "label": 1, **kwargs}
        with pytest.raises(ClassError):
            db.add_drawing(**args)
    assert db.count(info.code) == 0


def test_class_limit(db, monkeypatch):
    monkeypatch.setattr(store, "MAX_CLASSES", 2)
    db.create_class()
    db.create_class()
    with pytest.raises(ClassError, match="too_many_classes"):
        db.create_class()


def test_a_full_server_gives_a_class_nobody_uses_to_a_new_one(db, clock, monkeypatch):
    """A script rotating addresses opens classes and draws once in each (so none expires early) until every place
    is taken: a teacher's new class then takes the place of the script's least used one, idle an hour, never of
    a class in use (students drawing in it, or anything in the last hour)."""
    monkeypatch.setattr(store, "MAX_CLASSES", 4)
    lesson, _ = db.create_class("a real lesson, a week ago")
    for i in range(store.RECLAIM_STUDENTS):
        db.add_drawing(lesson.code, f"pupil{i}", digit(i), i)
    scripted = []
    for _ in range(3):
        clock.now += 60
        info, _ = db.create_class("script")
        db.add_drawing(info.code, "bot", digit(1), 1)
        scripted.append(info.code)
    with pytest.raises(ClassError, match="too_many_classes"):
        db.create_class("a teacher, minutes later")  # the script's classes are not idle yet
    clock.now += store.RECLAIM_IDLE_HOURS * 3600
    db.add_drawing(scripted[0], "bot", digit(2), 2)  # kept busy: the next idle one goes instead
    teacher, key = db.create_class("a teacher, an hour later")
    assert db.check_key(teacher.code, key) == teacher
    assert db.get_class(scripted[1]) is None and db.count(scripted[1]) == 0  # the least used, idle longest
    assert all(db.get_class(code) for code in (lesson.code, scripted[0], scripted[2]))
    clock.now += 7 * 86400  # a week later the lesson is idle too, but five students drew in it
    for _ in range(3):
        db.create_class("more teachers")  # the script's last two places, and the empty class's (expired early)
    assert db.get_class(lesson.code) is not None and not any(db.get_class(code) for code in scripted)
    with pytest.raises(ClassError, match="too_many_classes"):
        db.create_class()


def test_queries_students_see_only_their_own(db):
    info, _ = db.create_class()
    other, _ = db.create_class()
    for i in range(6):
        db.add_drawing(info.code, "alice" if i % 2 else "bob", digit(i), i, nickname="A" if i % 2 else "B")
    db.add_drawing(other.code, "alice", digit(9), 9)
    assert [d.label for d in db.newest(info.code, limit=4)] == [5, 4, 3, 2]
    assert [d.label for d in db.student_drawings(info.code, "alice")] == [5, 3, 1]
    assert {d.student for d in db.student_drawings(info.code, "alice")} == {"alice"}
    assert db.student_count(info.code, "alice") == 3 and db.count(other.code) == 1
    assert db.nicknames(info.code) == [("A", 3), ("B", 3)]
    assert [d.label for d in db.all_drawings(info.code)] == list(range(6))
    assert db.latest_id(info.code) == db.newest(info.code, 1)[0].id


def test_remove_one_a_nickname_and_the_class(db):
    info, key = db.create_class()
    other, _ = db.create_class()
    ids = [db.add_drawing(info.code, f"s{i % 3}", digit(i), i, nickname=["Ada", "Bo", ""][i % 3]) for i in range(9)]
    kept = db.add_drawing(other.code, "s0", digit(1), 1, nickname="Ada")
    assert db.remove_drawing(other.code, ids[0]) is False  # another class's id: nothing happens
    assert db.remove_drawing(info.code, ids[0]) is True and db.remove_drawing(info.code, ids[0]) is False
    assert db.remove_own_drawing(info.code, "s2", ids[1]) is False  # not s2's
    assert db.remove_own_drawing(info.code, "s1", ids[1]) is True
    assert db.remove_nickname(info.code, "Bo") == 2 and db.remove_nickname(info.code, "") == 0
    assert db.remove_nickname(info.code, "Ada") == 2
    assert db.count(info.code) == 3
    assert db.delete_class(info.code) is True
    assert db.get_class(info.code) is None and db.check_key(info.code, key) is None and db.count(info.code) == 0
    assert [d.id for d in db.newest(other.code)] == [kept]


def test_fifty_threads_writing_at_once(db):
    info, _ = db.create_class()
    errors: list[BaseException] = []
    start = threading.Barrier(50)

    def student(number: int) -> None:
        try:
            start.wait()
            for i in range(20):
                db.add_drawing(info.code, f"student-{number}", digit(i % 10), i % 10, nickname=f"n{number}",
                               answer=i % 10, confidence=0.5, ink=np.zeros((112, 112), np.uint8))
                if i % 5 == 0:
                    db.newest(info.code, limit=10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.count(info.code) == 1000
    assert all(db.student_count(info.code, f"student-{n}") == 20 for n in range(50))
    assert sorted(d.number for d in db.all_drawings(info.code)) == list(range(1, 1001))  # each number once


def test_drawings_are_numbered_per_class_and_a_number_is_never_given_twice(db):
    first, _ = db.create_class("a")
    second, _ = db.create_class("b")
    for n in range(3):
        db.add_drawing(first.code, "s", digit(n), n)
    db.add_drawing(second.code, "s", digit(5), 5)
    assert [d.number for d in db.newest(second.code)] == [1]  # a new class's first drawing is #1
    assert [d.number for d in db.all_drawings(first.code)] == [1, 2, 3]
    assert db.id_of_number(second.code, 2) is None and db.id_of_number(first.code, 2) is not None
    db.remove_drawing(first.code, db.id_of_number(first.code, 3))
    db.add_drawing(first.code, "s", digit(7), 7)
    assert [d.number for d in db.newest(first.code)] == [4, 2, 1]  # #3 is not given again


def test_drawings_stored_before_numbers_are_numbered_per_class_by_the_migration(tmp_path, clock):
    folder = tmp_path / "old"
    folder.mkdir()
    old = sqlite3.connect(folder / store.DB_NAME)
    old.executescript("CREATE TABLE schema_version (version INTEGER NOT NULL);" + ";".join(
        m.format(**store.engines.SQLiteEngine.types) for m in store.MIGRATIONS[:3]))
    old.execute("INSERT INTO schema_version VALUES (3)")
    for code in ("AAAAAAAA", "BBBBBBBB"):
        old.execute("INSERT INTO classes (code, title, salt, key_hash, model, created, expires)"
                    " VALUES (?, '', x'00', x'00', '', 1, ?)", (code, clock.now + 86400))
    for code in ("AAAAAAAA", "BBBBBBBB", "AAAAAAAA", "BBBBBBBB", "BBBBBBBB"):
        old.execute("INSERT INTO drawings (code, student, input, label, created) VALUES (?, 's', ?, 1, 1)",
                    (code, bytes(784)))
    old.commit()
    old.close()
    db = ClassStore(folder, clock=clock)
    assert [d.number for d in db.all_drawings("AAAAAAAA")] == [1, 2]
    assert [d.number for d in db.all_drawings("BBBBBBBB")] == [1, 2, 3]
    db.add_drawing("BBBBBBBB", "t", digit(1), 1)
    assert db.newest("BBBBBBBB")[0].number == 4
    db.close()


def test_caps_hold_under_concurrent_writers(db, monkeypatch):
    monkeypatch.setattr(store, "MAX_DRAWINGS_PER_CLASS", 100)
    info, _ = db.create_class()
    refused = []

    def student(number: int) -> None:
        for _ in range(10):
            try:
                db.add_drawing(info.code, f"s{number}", digit(1), 1)
            except ClassError as exc:
                refused.append(exc.reason)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.count(info.code) == 100 and len(refused) == 100 and set(refused) == {"class_full"}


def test_nicknames_and_titles_are_cleaned():
    assert store.clean_text("  Ada\x00\n  L. ", 24) == "Ada L."
    assert store.clean_text("x" * 50, 24) == "x" * 24
    assert store.clean_text(None, 24) == ""


def test_codes():
    codes = {security.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and set(c) <= set(security.CODE_ALPHABET) for c in codes)
    assert security.CODE_SPACE == 31 ** 8 > 8e11
    assert security.normalize_code(" abcd-efgh ") == "ABCDEFGH"
    for bad in ("ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI", None, 5, "A" * 100):
        assert security.normalize_code(bad) is None


def test_rate_limiter_counts_per_key_and_forgets_after_the_window():
    clock = Clock(0.0)
    limiter = security.RateLimiter(3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.allow("1.2.3.4")
        limiter.hit("1.2.3.4")
    assert not limiter.allow("1.2.3.4") and limiter.allow("5.6.7.8")
    assert 0 < limiter.retry_after("1.2.3.4") <= 60
    clock.now += 61
    assert limiter.allow("1.2.3.4") and limiter.retry_after("1.2.3.4") == 0
    limiter.hit("x")
    clock.now += 200
    limiter.hit("y")  # sweeps keys with no recent events
    assert "1.2.3.4" not in limiter._events


def test_guard_limits_key_tries_per_address_and_per_class():
    guard = security.Guard(clock=Clock(0.0))
    for _ in range(security.KEY_FAILURES_PER_WINDOW):
        assert guard.try_key("a", "CODE") == 0  # each try counted as it starts, a failure until key_ok
    assert guard.try_key("a", "OTHER") > 0  # this address is out of tries
    for n in range(security.KEY_FAILURES_PER_CLASS - security.KEY_FAILURES_PER_WINDOW):
        assert guard.try_key(f"addr{n}", "CODE") == 0  # many addresses on one class
    assert guard.try_key("fresh", "CODE") > 0 and guard.try_key("fresh", "OTHER") == 0


class Fixed(nn.Module):
    """Answers the brightest row band's digit: label i images have rows 4+i.. lit (see digit())."""

    def forward(self, x):
        rows = x.squeeze(1).sum(dim=2)  # (N, 28)
        first = (rows > 0).float().argmax(dim=1) - 4
        return torch.nn.functional.one_hot(first.clamp(0, 9), 10).float() * 10


def test_confusion_and_cached_answers(db):
    info, _ = db.create_class()
    for i in range(10):
        db.add_drawing(info.code, "s", digit(i), i)
    db.add_drawing(info.code, "s", digit(3), 8)  # labelled 8, looks like 3
    answers = evaluate.Answers()
    drawings = db.all_drawings(info.code)
    first = Fixed()
    result = evaluate.confusion(first, drawings, answers)
    assert result.total == 11 and result.correct == 10 and result.accuracy == pytest.approx(10 / 11)
    assert result.matrix[8, 3] == 1 and result.cells[(8, 3)] == [drawings[-1].id]
    assert len(answers) == 11
    model = Fixed()
    evaluate.confusion(model, drawings, answers)  # another model object: its own answers
    assert len(answers) == 22
    del model
    import gc
    gc.collect()
    assert len(answers) == 11  # gone with its model


def test_dataset_zip(db):
    """The class's export is My digits' zip format, with the class's own columns: it uploads back into My digits."""
    info, _ = db.create_class("7B")
    for i in range(12):
        db.add_drawing(info.code, "s", digit(i % 10), i % 10, answer=(i + 1) % 10, confidence=0.25, nickname="Ada")
    drawings = db.all_drawings(info.code)
    data = export.dataset_zip(drawings, "7B")
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert sum(n.startswith("images/") for n in names) == 12 and "labels.csv" in names
    lines = archive.read("labels.csv").decode().splitlines()
    assert lines[0].startswith("file,label,source,ink,answer,confidence,model,nickname,created")
    assert lines[1].startswith("images/00001-0.png,0,drawing,,1,0.2500")
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as folder:
        archive.extractall(folder)
        images = read_idx(Path(folder) / "train-images-idx3-ubyte")
        labels = read_idx(Path(folder) / "train-labels-idx1-ubyte")
    assert images.shape == (12, 28, 28) and np.array_equal(images[3], digit(3))
    assert labels.tolist() == [i % 10 for i in range(12)]
    from PIL import Image
    assert np.array_equal(np.array(Image.open(io.BytesIO(archive.read("images/00004-3.png")))), digit(3))
    from mnist_demo.my_digits import MyDigits
    back = MyDigits.from_zip(data)
    assert [d.label for d in back] == [i % 10 for i in range(12)] and np.array_equal(back.digits()[3].image, digit(3))


def test_a_class_model_is_kept_with_its_class_and_every_server_serves_the_newest(where, clock):
    """"Our class's model" in the store: weights, card and comparison survive a restart; a second server (its
    own store and in-memory models) serves the same network, and a newer training or the class's deletion
    on one reaches the other within tuning.CHECK_S; the ONNX export attaches to the model it was made from."""
    from mnist_demo import device_models
    from mnist_demo.catalog import DEFAULT_MODEL, shipped
    from mnist_demo.classroom import tuning

    base = shipped()[DEFAULT_MODEL]
    ticks = Clock(0.0)
    first_store, second_store = ClassStore(**where, clock=clock), ClassStore(**where, clock=clock)
    first = tuning.ClassModels(store=first_store, clock=ticks)
    second = tuning.ClassModels(store=second_store, clock=ticks)
    info, _ = first_store.create_class("7B")
    assert second.get(info.code) is None and first_store.class_model(info.code) is None
    card = {**base.card, "title": "DigitNet + class", "taught": {"trained_on": 50, "held_out": 10, "mine_before": 0.5,
                                                                  "mine_after": 0.9, "mnist_before": 0.99,
                                                                  "mnist_after": 0.98, "seconds": 3.0, "stopped": False}}
    made = tuning.ClassModel(info.code, tuning.Entry(tuning.model_key(info.code), base.model, card), DEFAULT_MODEL,
                             "DigitNet", None, [5, 10], 0.0)
    first.put(made)
    assert second.get(info.code) is None  # its "none" is rechecked only after CHECK_S ...
    ticks.now += tuning.CHECK_S
    served = second.get(info.code)  # ... then the other server serves it
    assert served.entry.key == f"class:{info.code}" and served.entry.card["title"] == "DigitNet + class"
    assert (served.base_key, served.held_ids, served.result.mine_after, served.result.held_out) == (
        DEFAULT_MODEL, [5, 10], 0.9, 10)
    x = torch.rand(4, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(served.entry.model(x), base.model.eval()(x))

    stored = first_store.class_model(info.code)  # with its ONNX export, which the other server serves as is
    assert stored.weights[:8] and stored.trained == clock.now
    assert stored.onnx == device_models.device_file(base.model).data == device_models.device_file(served.entry.model).data
    assert not first_store.save_class_model_onnx(info.code, stored.trained - 1, b"stale")  # not this model's export
    assert first_store.save_class_model_onnx(info.code, stored.trained, b"onnx bytes")
    with pytest.raises(ClassError, match="model_too_big"):
        first_store.save_class_model(info.code, b"x" * (store.MAX_MODEL_BYTES + 1), card)
    first_store.close()
    restarted = ClassStore(**where, clock=clock)  # a restart: the model is still there, with its export
    assert restarted.class_model(info.code).onnx == b"onnx bytes"
    assert tuning.ClassModels(store=restarted).get(info.code).entry.card["title"] == "DigitNet + class"

    clock.now += 60  # trained again on the restarted server: the export of the old one goes with it
    restarted.save_class_model(info.code, stored.weights, {**card, "title": "again"})
    assert restarted.class_model(info.code).onnx is None
    assert second.get(info.code).entry.card["title"] == "DigitNet + class"  # within CHECK_S: its own copy
    ticks.now += tuning.CHECK_S
    assert second.get(info.code).entry.card["title"] == "again"
    restarted.delete_class(info.code)
    ticks.now += tuning.CHECK_S
    assert second.get(info.code) is None and restarted.class_model(info.code) is None
    with pytest.raises(ClassError, match="no_class"):
        tuning.ClassModels(store=restarted).put(made)
    restarted.close()
    second_store.close()


# --- issue 18: a class nobody can flood ---------------------------------------------------------------


def stroke_ink(value: int = 1) -> np.ndarray:
    """Ink as the canvas's round brush leaves it: a thick stroke."""
    ink = np.zeros((112, 112), np.float32)
    ink[20:90, 50 + value:58 + value] = 1.0
    return ink


def test_noise_like_ink_is_refused_and_real_strokes_kept(db):
    info, _ = db.create_class()
    rng = np.random.default_rng(0)
    for noise in (rng.random((112, 112)).astype(np.float32), (rng.random((112, 112)) < 0.1).astype(np.float32),
                  (rng.random((112, 112)) < 0.6).astype(np.float32)):
        with pytest.raises(ClassError, match="not_drawn"):
            db.add_drawing(info.code, "s", digit(1), 1, ink=noise)
    db.add_drawing(info.code, "s", digit(1), 1, ink=stroke_ink())
    assert db.count(info.code) == 1


def test_bytes_are_capped_per_class_and_per_server_and_kept_by_removals(db, monkeypatch):
    a, _ = db.create_class()
    b, _ = db.create_class()
    first = db.add_drawing(a.code, "s", digit(1), 1, ink=stroke_ink())
    one = db.bytes_used(a.code)
    assert 784 < one < 3000 and db.bytes_used() == one
    monkeypatch.setattr(store, "MAX_CLASS_BYTES", 2 * one + 10)
    db.add_drawing(a.code, "s", digit(1), 1, ink=stroke_ink())
    with pytest.raises(ClassError, match="class_full"):
        db.add_drawing(a.code, "s", digit(1), 1, ink=stroke_ink())
    monkeypatch.setattr(store, "MAX_STORE_BYTES", 3 * one + 10)
    db.add_drawing(b.code, "t", digit(1), 1, ink=stroke_ink())
    with pytest.raises(ClassError, match="server_full"):
        db.add_drawing(b.code, "t", digit(1), 1, ink=stroke_ink())
    db.remove_drawing(a.code, first)
    assert db.bytes_used(a.code) == one and db.bytes_used() == 2 * one
    db.add_drawing(b.code, "t", digit(1), 1, ink=stroke_ink())


def test_the_teacher_removes_a_student_or_a_flood_and_closes_joining(db):
    info, _ = db.create_class()
    ada = [db.add_drawing(info.code, "ada", digit(1), 1, nickname=name) for name in ("Ada", "A", "")]
    bo = db.add_drawing(info.code, "bo", digit(2), 2, nickname="Bo")
    other, _ = db.create_class()
    db.add_drawing(other.code, "elsewhere", digit(3), 3)  # another class's numbers are its own
    flood = [db.add_drawing(info.code, f"bot{n}", digit(3), 3) for n in range(5)]
    assert db.remove_student_of(info.code, ada[1]) == 3  # every drawing of that student, any nickname
    assert db.remove_anonymous_since(info.code, 5) == 5  # #5 on: the flood, shown as #5 to #9
    assert db.count(other.code) == 1
    assert [d.id for d in db.all_drawings(info.code)] == [bo] and flood
    assert db.remove_student_of(info.code, 10_000) == 0
    assert db.joining_open(info.code)
    db.set_joining(info.code, False)
    assert not db.joining_open(info.code)
    db.set_joining(info.code, True)
    assert db.joining_open(info.code) and not db.joining_open("ABCDEFGH")


def test_an_empty_class_expires_early_a_class_in_use_does_not(db, clock):
    empty, _ = db.create_class()
    used, _ = db.create_class()
    db.add_drawing(used.code, "s", digit(1), 1)
    clock.now += store.EMPTY_CLASS_HOURS * 3600 + 60
    db.create_class()  # creating a class purges
    assert db.get_class(empty.code) is None and db.get_class(used.code) is not None


def test_a_students_token_names_their_place_and_cannot_be_made_up(tmp_path, monkeypatch, environment):
    from mnist_demo.classroom import identity

    secret = b"k" * 32
    place = identity.Place("ABCDEFGH", "student-1")
    token = identity.sign(place, secret, now=1_000_000)
    assert identity.read(token, secret, now=1_000_100) == place
    payload, mac = token.split(".")
    other = identity.sign(identity.Place("ABCDEFGH", "student-2"), secret, now=1_000_000)
    for forged in (f"{other.split('.')[0]}.{mac}", token + "x", token.replace(".", ""), None, 5, "x" * 400,
                   identity.sign(place, b"another server" * 3, now=1_000_000)):
        assert identity.read(forged, secret, now=1_000_100) is None
    assert identity.read(token, secret, now=1_000_000 + identity.TOKEN_DAYS * 86400 + 1) is None  # too old
    monkeypatch.setattr(identity, "_secret", None)
    environment(MNIST_DEMO_SECRET=None, MNIST_DEMO_STATE=tmp_path)
    kept = identity.server_secret()
    assert len(kept) == 32 and (tmp_path / identity.SECRET_FILE).stat().st_mode & 0o077 == 0
    monkeypatch.setattr(identity, "_secret", None)
    assert identity.server_secret() == kept  # the same after a restart
    monkeypatch.setattr(identity, "_secret", None)
    environment(MNIST_DEMO_SECRET="shared by every server")
    assert identity.server_secret() != kept
    monkeypatch.setattr(identity, "_secret", None)
