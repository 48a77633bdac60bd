"""Teaching a network one writer's handwriting: the hold-out, a real writer's digits learnt without
forgetting MNIST, and the browser's teaching job (its own process, under the training cap)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from mnist_demo import weights
from mnist_demo.catalog import WEIGHTS_DIR, Entry, shipped
from mnist_demo.data import Split
from mnist_demo.training import teach as T
from mnist_demo.training.slots import TrainingSlots
from tests.harness import needs_dataset

WRITER = "syn:data/1a/syn/syn1/rkt-dig19.dat"  # a UNIPEN writer the default model reads 96.1% of (99.3% once taught)


def test_hold_out_keeps_every_fifth_of_each_label():
    labels = np.array([3] * 12 + [7] * 4 + [1] * 5)
    taught, held = T.hold_out(labels)
    assert sorted(np.concatenate([taught, held]).tolist()) == list(range(len(labels)))
    assert held.tolist() == [4, 9, 20]  # the 5th and 10th 3, no 7 (only four), the 5th 1
    first, rest = T.first_per_class(labels, 5)
    assert len(first) == 14 and np.bincount(labels[first]).tolist()[3] == 5


def test_teaching_an_empty_collection_is_refused():
    with pytest.raises(ValueError, match="empty"):
        next(T.teach(torch.nn.Linear(1, 1), Split(torch.zeros((0, 28, 28), dtype=torch.uint8),
                                                   torch.zeros(0, dtype=torch.long))))


@functools.cache
def writer_case() -> tuple[Split, Split]:
    """The writer's first 5 digits of each label to teach with (50); the other 440 to measure on."""
    from mnist_demo import handwriting as hw

    digits = [d for d in hw.load_unipen() if d.writer == WRITER]
    images, labels = hw.canvas_images(digits)
    mine, rest = T.first_per_class(labels, 5)
    make = lambda idx: Split(torch.from_numpy(images[idx]), torch.from_numpy(labels[idx]))  # noqa: E731
    return make(mine), make(rest)


@needs_dataset("unipen-dev", "teaches with a UNIPEN writer's digits")
def test_teaching_improves_a_writers_unseen_digits_and_keeps_mnist():
    # The MNIST-only digitnet: the shipped one was fine-tuned on every unipen-dev writer, this one included.
    model, card = weights.load(WEIGHTS_DIR / "base" / "digitnet-mnist.safetensors")
    entry = Entry("digitnet-mnist", model, card)
    mine, unseen = writer_case()
    result = T.run_teach(entry.model, mine, held_out=unseen, mnist_before=entry.card["test_accuracy"])
    assert result.trained_on == 50 and result.held_out == len(unseen) and not result.stopped
    assert result.mine_after >= result.mine_before + 0.015, result.summary()
    assert result.mnist_after >= result.mnist_before - 0.004, result.summary()
    assert result.model is not entry.model  # a copy was taught; the shipped model is untouched
    assert T.mnist_accuracy(result.model) == result.mnist_after


@needs_dataset("unipen-dev", "teaches with a UNIPEN writer's digits")
def test_the_teaching_job_runs_in_its_own_process_and_stops():
    entry = shipped()["digitnet"]
    mine, unseen = writer_case()
    job = T.TeachJob(entry.model, "digitnet", mine, unseen, slots=TrainingSlots(1), mnist_before=0.9967).start()
    while job.snapshot().latest is None and not job.finished:
        job.join(0.1)
    job.stop.set()  # ends it between steps; what was learned so far is kept and measured
    job.join(120)
    snap = job.snapshot()
    assert snap.state == "done", snap.error
    assert snap.result.stopped and snap.result.held_out == len(unseen) and snap.result.mine_before is not None
    assert snap.result.mnist_after > 0.9


def test_a_job_waiting_for_a_slot_can_be_cancelled():
    slots = TrainingSlots(1)
    busy = slots.join()
    mine = Split(torch.zeros((3, 28, 28), dtype=torch.uint8), torch.tensor([1, 2, 3]))
    job = T.TeachJob(torch.nn.Linear(1, 1), "fastnet", mine, None, slots=slots, mnist_before=0.5).start()
    assert job.snapshot().state == "queued" and job.snapshot().queue_position == 1
    job.stop.set()
    job.join(5)
    assert job.snapshot().state == "cancelled" and slots.waiting == 0
    busy.release()
