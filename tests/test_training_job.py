"""A browser training in its own process: curves, results and card, stopping, waiting in line,
no process left behind, crashes reported, limits on length and on the line."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
import time

import pytest

from mnist_demo import settings
from mnist_demo.errors import friendly_error
from mnist_demo.training import job as job_module
from mnist_demo.training import runner
from mnist_demo.training.job import (
    JobSpec,
    QueueFull,
    TrainingJob,
    TrainingTooLong,
    check_length,
    max_train_steps,
)
from mnist_demo.training.recipes import RECIPES, recipe_for
from mnist_demo.training.runner import Snapshot
from mnist_demo.training.slots import AlreadyQueued, ShareFull, TrainingSlots

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
    assert 0 < first.snapshot().queue_seconds < second.snapshot().queue_seconds  # estimated starts, in order

    stop.set()
    assert _finish(second, 5).state == "cancelled"
    assert first.snapshot().queue_position == 1 and slots.waiting == 1
    first.stop.set()
    busy.release()
    _finish(first)
    assert slots.running == 0 and slots.waiting == 0


def test_queue_one_job_per_session_and_a_closed_tab_cancels_its_place():
    slots = TrainingSlots(1)
    busy = slots.join()
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots, session="tab-1").start()
    again = TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots, session="tab-1").start()
    assert again.snapshot().state == "failed" and "one at a time" in again.snapshot().error
    assert job.snapshot().queue_position == 1
    slots.cancel_session("tab-1")  # the tab closed while it waited
    assert _finish(job, 5).state == "cancelled" and job.pid is None
    busy.release()
    assert (slots.running, slots.waiting) == (0, 0)


def test_a_failure_is_reported_not_raised():
    job = TrainingJob(JobSpec("fastnet", "no-such-dataset", SMALL), slots=TrainingSlots(1)).start()
    snap = _finish(job, 30)
    assert snap.state == "failed" and "no-such-dataset" in snap.error


def _alive(pid: int | None) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _no_training_process(job: TrainingJob) -> bool:
    return not _alive(job.pid) and not any(p.name.startswith("train-") for p in multiprocessing.active_children())


def _wait_for_step(job: TrainingJob, step: int = 1, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while job.snapshot().latest is None or job.snapshot().latest.step < step:
        assert time.monotonic() < deadline and not job.snapshot().finished, job.snapshot()
        time.sleep(0.02)


def test_stopped_right_after_start_leaves_no_process():
    slots = TrainingSlots(1)
    stop = threading.Event()
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL), stop, slots=slots, threads=1, device="cpu").start()
    stop.set()
    snap = _finish(job, 30)
    assert snap.state in ("cancelled", "done")
    assert _no_training_process(job) and slots.running == 0


def test_stopped_while_the_process_starts_leaves_no_process():
    slots = TrainingSlots(1)
    stop = threading.Event()
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL), stop, slots=slots, threads=1, device="cpu").start()
    deadline = time.monotonic() + 30
    while job.pid is None and time.monotonic() < deadline:
        time.sleep(0.001)
    stop.set()
    snap = _finish(job, 30)
    assert snap.state in ("cancelled", "done")
    assert _no_training_process(job) and slots.running == 0


def test_stopped_mid_run_keeps_the_learning_and_leaves_no_process():
    stop = threading.Event()
    slots = TrainingSlots(1)
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL.with_changes(epochs=50), seed=0), stop, slots=slots,
                      threads=1, device="cpu", report_seconds=0.0).start()
    _wait_for_step(job, 3)
    pid = job.pid
    assert _alive(pid)
    stop.set()
    snap = _finish(job)
    assert snap.state == "done" and snap.result.stopped
    assert _no_training_process(job) and slots.running == 0


def test_a_killed_process_fails_the_job_with_a_short_message_and_frees_the_slot():
    slots = TrainingSlots(1)
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL.with_changes(epochs=50)), slots=slots, threads=1,
                      device="cpu", report_seconds=0.0).start()
    _wait_for_step(job, 2)
    os.kill(job.pid, signal.SIGKILL)
    snap = _finish(job, 30)
    assert snap.state == "failed" and "stopped unexpectedly" in snap.error
    assert "Traceback" not in snap.error and "/" not in snap.error and len(snap.error) < 200
    assert _no_training_process(job) and slots.running == 0 and slots.waiting == 0


def test_an_error_inside_the_process_is_reported_without_a_traceback(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / stem).write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05not an idx file")
    slots = TrainingSlots(1)
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots, data_dir=str(tmp_path), threads=1,
                      device="cpu").start()
    snap = _finish(job, 60)
    assert snap.state == "failed" and snap.error
    assert "Traceback" not in snap.error and str(tmp_path) not in snap.error
    assert _no_training_process(job) and slots.running == 0


def test_friendly_errors_show_no_server_paths():
    message = friendly_error(RuntimeError("mnist data not found in /srv/app/data. Expected the files in "
                                          "/srv/app/data/mnist (or 'C:\\data\\MNIST\\raw')"))
    assert "/srv" not in message and "C:" not in message and message.startswith("mnist data not found in")
    assert len(friendly_error(ValueError("x" * 5000))) <= 300
    assert friendly_error(KeyError()) == "KeyError"


def test_too_long_a_training_is_refused_before_it_queues(environment):
    environment(MNIST_DEMO_MAX_TRAIN_STEPS=None)
    for model in ("fastnet", "digitnet", "fashionnet", "classic", "s1-bn-cnn", "s2-numpy-cnn", "s4-two-conv"):
        check_length(recipe_for(model), model, "cpu")  # every preset fits on the CPU
    check_length(RECIPES["fast"], "fastnet", "cpu")
    huge = RECIPES["fast"].with_changes(batch_size=1, epochs=10)
    with pytest.raises(TrainingTooLong, match="600,000 steps.*at most 20,000"):
        check_length(huge, "fastnet", "cpu")
    assert max_train_steps("cuda") > max_train_steps("cpu")
    slots = TrainingSlots(1)
    job = TrainingJob(JobSpec("fastnet", "mnist", huge), slots=slots).start()
    job.join(1)
    snap = job.snapshot()
    assert snap.finished and snap.state == "failed" and "600,000 steps" in snap.error
    assert isinstance(job.refusal, ValueError)  # TrainingTooLong: a form shows it with its other checks
    assert (slots.running, slots.waiting) == (0, 0) and job.pid is None
    environment(MNIST_DEMO_MAX_TRAIN_STEPS=30)
    with pytest.raises(TrainingTooLong, match="at most 30"):
        check_length(SMALL, "fastnet", "cpu")  # 40 steps


def test_a_full_line_refuses_the_job():
    slots = TrainingSlots(1, max_waiting=0)
    busy = slots.join()
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots).start()
    snap = _finish(job, 1)
    assert snap.state == "failed" and "busy" in snap.error and "try again" in snap.error.lower()
    assert isinstance(job.refusal, QueueFull) and (slots.running, slots.waiting) == (1, 0)
    busy.release()
    assert (slots.running, slots.waiting) == (0, 0)


def test_the_lines_refusals_reach_the_page_in_its_language():
    """A refused job's snapshot carries why (the line's own exception), and every tab words it in the page's
    language: the line full, one address's share full, a second training of one session."""
    from mnist_demo.ui.common import job_error

    slots = TrainingSlots(1, max_waiting=0, per_address=1)
    busy = slots.join("someone", address="10.0.0.9")

    def refused(**where) -> Snapshot:
        return _finish(TrainingJob(JobSpec("fastnet", "mnist", SMALL), slots=slots, **where).start(), 1)

    full = refused(session="a", address="10.0.0.1")
    assert isinstance(full.refusal, QueueFull) and "busy" in full.error
    assert job_error(full, "zh") == "服务器正忙：1 个训练在运行，0 个在排队，已到上限。请过几分钟再试。"
    assert job_error(full, "en").startswith("The server is busy: 1 training(s) running and 0 waiting")
    share = refused(session="b", address="10.0.0.9")
    assert isinstance(share.refusal, ShareFull)
    assert job_error(share, "zh").startswith("服务器正忙：你的网络地址已有 1 个训练")
    again = refused(session="someone")
    assert isinstance(again.refusal, AlreadyQueued) and job_error(again, "zh") == "你已有一个训练在运行或排队：每人一次一个。"
    busy.release()
    failed = Snapshot("failed", 1, 0, 0, 0, None, 0, (), (), None, "no file at /srv/app/weights/x.safetensors")
    assert job_error(failed, "zh") == "no file at […]"  # any other error: its own words, without server paths


def test_later_jobs_reuse_the_data_checksum():
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL.with_changes(epochs=1)), slots=TrainingSlots(1),
                      threads=1, device="cpu").start()
    snap = _finish(job)
    assert snap.state == "done", snap.error
    assert job_module._checksums[("mnist", job.params()["data_dir"])] == snap.result.card["data_checksum"]


def test_stopped_while_evaluating_still_finishes_and_leaves_no_process():
    stop = threading.Event()
    slots = TrainingSlots(1)
    job = TrainingJob(JobSpec("fastnet", "mnist", SMALL.with_changes(epochs=1)), stop, slots=slots, threads=1,
                      device="cpu", report_seconds=0.0).start()
    deadline = time.monotonic() + 60
    while job.snapshot().state not in ("evaluating", "done") and time.monotonic() < deadline:
        time.sleep(0.001)
    stop.set()
    snap = _finish(job)
    assert snap.state == "done" and snap.result.card["epochs_run"] == 1
    assert _no_training_process(job) and slots.running == 0


def test_the_card_is_the_one_the_command_line_builds_for_the_same_run():
    """The same run trained here (engine, evaluation and card as mnist_demo.train does them) and in
    a training process gives the same card, bar the command, the clock and the date."""
    import torch

    from mnist_demo.data import load_split
    from mnist_demo.models import build_model
    from mnist_demo.training.card import build_card, epoch_record
    from mnist_demo.training.engine import train
    from mnist_demo.training.metrics import evaluate_model

    recipe = SMALL.with_changes(epochs=1)
    job = TrainingJob(JobSpec("fastnet", "mnist", recipe, seed=3), slots=TrainingSlots(1), threads=1,
                      device="cpu").start()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_model("fastnet", seed=3)
        events = list(train(model, recipe, "mnist", seed=3, device="cpu"))
        evaluation = evaluate_model(model.cpu(), load_split("mnist", "test").first(recipe.test_subset))
        cli = build_card(model_name="fastnet", model=model, dataset="mnist", recipe=recipe, seed=3,
                         evaluation=evaluation, final=events[-1],
                         history=[epoch_record(e) for e in events if e.kind == "epoch"], seconds=1.0,
                         device=torch.device("cpu"), threads=1, command="cli")
    finally:
        torch.set_num_threads(threads)
    snap = _finish(job)
    assert snap.state == "done", snap.error
    browser = snap.result.card
    assert set(browser) == set(cli)
    for field in set(cli) - {"command", "train_seconds", "date", "history"}:
        assert browser[field] == cli[field], field
    assert [h["test_accuracy"] for h in browser["history"]] == [h["test_accuracy"] for h in cli["history"]]
    assert torch.equal(snap.result.evaluation.confusion, evaluation.confusion)
    state = model.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in snap.result.model.state_dict().items())


def test_training_processes_start_with_their_memory_and_thread_settings_and_the_server_keeps_its_own(tmp_path):
    """glibc and OpenMP read their settings only as a process starts: a training process must have been started
    with them (its /proc/self/environ), while the web server's environment stays as it was (its OpenMP threads
    sleep at once, the live answers' need)."""
    runner.warm_up(wait=True)
    copy = tmp_path / "environ"
    process = runner.process_context().Process(target=shutil.copyfile, args=("/proc/self/environ", copy))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    child = dict(item.split("=", 1) for item in copy.read_text().split("\0") if "=" in item)
    if runner.process_context().get_start_method() == "forkserver":
        assert {name: child.get(name) for name in settings.TRAINING_PROCESS_TUNING} == settings.TRAINING_PROCESS_TUNING
    assert child.get("OMP_WAIT_POLICY") == os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert not set(settings.TRAINING_PROCESS_TUNING) & set(os.environ)
