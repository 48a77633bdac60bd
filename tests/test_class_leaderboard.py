"""Everyone trains: class presets, a student's own run through the fair queue, and the class's leaderboard, which
survives a restart with each run's weights, and whose runs can become the class's model."""

from __future__ import annotations

import time

import pytest
import torch

from mnist_demo.classroom import presets
from mnist_demo.classroom.service import Classroom, Refused
from mnist_demo.classroom.store import MAX_RUNS_PER_CLASS, ClassError, ClassStore
from mnist_demo.data import load_split, to_input
from mnist_demo.models import build_model
from mnist_demo.training.slots import TrainingSlots
from mnist_demo.weights import to_bytes

QUICK = {"size": "small", "images": "1000", "epochs": "1", "lr": "medium", "augment": "off"}


def test_presets_are_bounded_and_refuse_anything_else():
    assert presets.checked({}) == presets.DEFAULTS
    quick = presets.spec(QUICK, seed=3)
    assert (quick.model, quick.recipe.train_subset, quick.recipe.epochs, quick.seed) == ("fastnet-small", 1000, 1, 3)
    assert presets.spec({"augment": "on", "lr": "high"}).recipe.augment == "digits"
    for bad in ({"size": "huge"}, {"epochs": 50}, {"images": "60000"}, {"optimizer": "sgd"}):
        with pytest.raises(ValueError):
            presets.spec(bad)


def test_leaderboard_entries_persist_across_a_restart_with_their_weights(tmp_path):
    store = ClassStore(tmp_path / "state")
    info, _ = store.create_class("7B")
    model = build_model("fastnet-small", seed=1)
    blob = to_bytes(model, {"model": "fastnet-small"})
    before = store.bytes_used(info.code)
    first = store.add_run(info.code, "student-a", "Ada", {"size": "small"}, test_accuracy=0.95, class_accuracy=0.8,
                          parameters=8962, seconds=3.2, weights=blob, card={"model": "fastnet-small", "confusion": [[1]]})
    second = store.add_run(info.code, "student-b", "Bo", {"size": "large"}, test_accuracy=0.97, class_accuracy=None,
                           parameters=104938, seconds=9.5, weights=blob, card={"model": "fastnet-small"})
    assert store.bytes_used(info.code) == before + 2 * len(blob)  # the weights count toward the class's bytes
    store.close()

    reopened = ClassStore(tmp_path / "state")  # a restart
    runs = reopened.runs(info.code)
    assert [(r.id, r.nickname, r.choices, r.test_accuracy, r.class_accuracy, r.parameters) for r in runs] == [
        (first, "Ada", {"size": "small"}, 0.95, 0.8, 8962), (second, "Bo", {"size": "large"}, 0.97, None, 104938)]
    assert runs[0].weights is None  # the board's list leaves the weights in the database
    full = reopened.run(info.code, first)
    assert full.weights == blob and full.card["confusion"] == [[1]]
    other, _ = reopened.create_class("8C")
    assert reopened.run(other.code, first) is None  # an entry belongs to its own class only
    reopened.delete_class(info.code)
    assert reopened.runs(info.code) == [] and reopened.run(info.code, first) is None
    reopened.close()


def test_leaderboard_is_capped_per_class(tmp_path, monkeypatch):
    from mnist_demo.classroom import store as store_module

    monkeypatch.setattr(store_module, "MAX_RUNS_PER_CLASS", 2)
    store = ClassStore(tmp_path / "state")
    info, _ = store.create_class("7B")
    entry = dict(test_accuracy=0.9, class_accuracy=None, parameters=1, seconds=1.0, weights=b"x" * 10, card={})
    store.add_run(info.code, "a", "", {}, **entry), store.add_run(info.code, "b", "", {}, **entry)
    with pytest.raises(ClassError, match="leaderboard_full"):
        store.add_run(info.code, "c", "", {}, **entry)
    with pytest.raises(ClassError, match="model_too_big"):
        store.add_run(info.code, "c", "", {}, **{**entry, "weights": b"x" * (store_module.MAX_MODEL_BYTES + 1)})
    assert MAX_RUNS_PER_CLASS >= 60  # a class of thirty trains twice each
    store.close()


def _wait(run, seconds: float = 180.0):
    deadline = time.monotonic() + seconds
    while not run.recorded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.recorded, run.job.snapshot().state


def test_a_students_run_lands_on_the_leaderboard_survives_a_restart_and_becomes_the_class_model(tmp_path, a_class):
    info, key = a_class
    room = Classroom(ClassStore(tmp_path / "state"), slots=TrainingSlots(1))
    student, _ = room.join(info.code, "10.0.0.1")
    with pytest.raises(Refused, match="bad_choice"):
        room.start_run(student, {"epochs": "40"}, "Ada")
    run = room.start_run(student, QUICK, "Ada")
    assert room.start_run(student, QUICK, "Ada").job.snapshot().state == "failed"  # one place per student
    _wait(run)
    assert run.entry_id is not None, run.problem
    assert room.my_run(student) is run

    restarted = Classroom(ClassStore(tmp_path / "state"), slots=TrainingSlots(1))
    board = restarted.leaderboard(info.code, key, "10.0.0.2")
    assert [(r.id, r.nickname, r.choices["size"]) for r in board] == [(run.entry_id, "Ada", "small")]
    entry = board[0]
    card = run.job.snapshot().result.card
    assert entry.parameters == card["parameters"] and entry.seconds == pytest.approx(card["train_seconds"])
    assert entry.test_accuracy == pytest.approx(run.job.snapshot().result.evaluation.accuracy)
    assert entry.test_accuracy > 0.5
    assert entry.class_accuracy is not None  # measured on the class's two drawings
    detail = restarted.run_detail(info.code, key, "10.0.0.2", entry.id)
    assert len(detail.card["confusion"]) == 10 and detail.card["test_curve"] and detail.card["curve"]
    with pytest.raises(Refused):
        restarted.leaderboard(info.code, "wrong key", "10.0.0.3")

    adopted = restarted.adopt_run(info.code, key, "10.0.0.2", entry.id)
    phone = restarted.pick_model(restarted.join(info.code, "10.0.0.4")[0], True)[0]
    answering = restarted.student_entry(phone).model
    images = to_input(load_split("mnist", "test").images[:16])
    with torch.no_grad():
        assert torch.allclose(answering.eval()(images), run.job.snapshot().result.model.eval()(images), atol=1e-5)
    assert adopted.entry.card["taught"]["leaderboard_entry"] == entry.id


def _earlier_fastnet_weights() -> bytes:
    """Weights of fastnet as it was before 2026-12-05 (blocks of 32 and 64 channels), carded as today's fastnet."""
    from torch import nn

    from mnist_demo.models.layers import Normalize

    blocks = [nn.Conv2d(1, 16, 5, stride=2, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    for c_in, c_out in ((16, 32), (32, 64)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c_out), nn.ReLU()]
    earlier = nn.Sequential(Normalize(0.1307, 0.3081), *blocks, nn.Flatten(), nn.Linear(64 * 9, 10))
    return to_bytes(earlier, {"model": "fastnet"})


def test_a_run_or_class_model_kept_from_an_earlier_network_is_refused_kindly_and_the_class_answers(classroom, a_class,
                                                                                                  monkeypatch):
    """A school server's store outlives an upgrade that changed a network: an old leaderboard run cannot become the
    class's model (a message, not a crash), and an old class model leaves the students' phones on the default."""
    info, key = a_class
    store = classroom.store
    blob = _earlier_fastnet_weights()
    run_id = store.add_run(info.code, "student-a", "Ada", {"size": "medium"}, test_accuracy=0.99, class_accuracy=None,
                           parameters=29434, seconds=3.0, weights=blob, card={"model": "fastnet"})
    with pytest.raises(Refused, match="old_run"):
        classroom.adopt_run(info.code, key, "10.0.0.2", run_id)
    assert classroom.leaderboard(info.code, key, "10.0.0.2")[0].id == run_id  # the board still lists it

    store.save_class_model(info.code, blob, {"model": "fastnet", "title": "FastNet + class 7B"})
    from mnist_demo.classroom import tuning

    loads, real_load = [], tuning.load
    monkeypatch.setattr(tuning, "load", lambda stored: loads.append(stored) or real_load(stored))
    classroom.models.check_s = 0.0  # every answer asks the store again
    phone, has_class_model = classroom.pick_model(classroom.join(info.code, "10.0.0.4")[0], True)
    assert not has_class_model
    for _ in range(3):
        answering = classroom.student_entry(phone)
        assert answering is not None and answering.card.get("model") != "fastnet"  # the class's default answers
    assert len(loads) == 1  # the model that does not load is tried once, not at every answer

    from mnist_demo.ui.class_refusals import message

    for lang in ("en", "zh"):
        assert "earlier version" in message(Refused("old_run"), "en") and message(Refused("old_run"), lang)
