"""A browser training in its worker thread: curves, results and card, stopping, waiting in line."""

from __future__ import annotations

import threading
import time

import pytest

from mnist_demo.training.job import JobSpec, TrainingJob
from mnist_demo.training.recipes import RECIPES
from mnist_demo.training.slots import TrainingSlots

SMALL = RECIPES["fast"].with_changes(epochs=2, train_subset=1000, batch_size=50, test_subset=1000)
CLI_CARD_FIELDS = {"model", "title", "parameters", "dataset", "data_checksum", "recipe", "seed", "test_accuracy",
                   "per_class_accuracy", "epochs_run", "history", "train_seconds", "device", "machine", "date",
                   "command"}


def _finish(job: TrainingJob, seconds: float = 120):
    job.join(seconds)
    snap = job.snapshot()
    assert snap.finished, f"job still {snap.state} after {seconds} s"
    return snap


def test_a_run_streams_curves_and_ends_with_results_and_a_card():
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL, seed=0), slots=TrainingSlots(1), threads=1,
                      device="cpu", report_seconds=0.0).start()
    snap = _finish(job)
    assert snap.state == "done", snap.error
    assert len(snap.curve) >= 10 and snap.curve[-1].epoch == pytest.approx(2.0)
    assert [epoch for epoch, _ in snap.test_curve] == [1, 2]
    result = snap.result
    assert not result.stopped and not result.model.training
    assert CLI_CARD_FIELDS <= set(result.card)
    assert result.card["test_accuracy"] == round(result.evaluation.accuracy, 4)
    assert result.card["epochs_run"] == 2 and result.card["recipe"]["train_subset"] == 1000
    assert result.evaluation.count == 1000 == result.card["test_images"] and result.evaluation.confusion.sum() == 1000
    assert result.evaluation.accuracy > 0.5  # 1,000 images, two epochs: far above chance (10%)
    confidences = [m.confidence for m in result.evaluation.mistakes]
    assert confidences == sorted(confidences, reverse=True) and all(m.true != m.predicted
                                                                    for m in result.evaluation.mistakes)


def test_stop_keeps_what_was_learned():
    stop = threading.Event()
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL.with_changes(epochs=50), seed=0), stop,
                      slots=TrainingSlots(1), threads=1, device="cpu", report_seconds=0.0).start()
    while job.snapshot().latest is None or job.snapshot().latest.step < 5:
        time.sleep(0.05)
    stop.set()
    snap = _finish(job)
    assert snap.state == "done" and snap.result.stopped
    assert snap.result.card["stopped_early"] and 0 < snap.result.card["epochs_run"] < 50
    assert snap.latest.step < snap.latest.total_steps


def test_waits_in_line_shows_its_place_and_can_be_cancelled():
    slots = TrainingSlots(1)
    busy = slots.join()  # someone else is training
    first = TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots, threads=1).start()
    stop = threading.Event()
    second = TrainingJob(JobSpec("fastnet", "mnist", SMALL), stop, slots=slots).start()
    time.sleep(0.3)
    assert (first.snapshot().state, first.snapshot().queue_position) == ("queued", 1)
    assert second.snapshot().queue_position == 2 and second.snapshot().trainings_running == 1

    stop.set()
    assert _finish(second, 5).state == "cancelled"
    assert first.snapshot().queue_position == 1 and slots.waiting == 1
    first.stop.set()
    busy.release()
    _finish(first)
    assert slots.running == 0 and slots.waiting == 0


def test_a_failure_is_reported_not_raised():
    job = TrainingJob(JobSpec("fastnet", "no-such-dataset", SMALL), slots=TrainingSlots(1)).start()
    snap = _finish(job, 30)
    assert snap.state == "failed" and "no-such-dataset" in snap.error
