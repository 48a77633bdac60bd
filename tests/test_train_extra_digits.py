"""The Train tab's "plus My digits" upload: the zip is checked, travels to the training process as
plain bytes, is trained on besides MNIST, and the card records it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mnist_demo.data import load_split
from mnist_demo.my_digits import MyDigits
from mnist_demo.training.job import ExtraDigits, TrainingJob, check_length
from mnist_demo.training.recipes import RECIPES
from mnist_demo.training.slots import TrainingSlots
from mnist_demo.training.worker import extra_split
from mnist_demo.ui import train_tab

GOOD = train_tab.Settings("fastnet", "mnist", "fast", "adamw", 0.01, 0.9, 100, 1, 500, "digits", 0)


def _zip(tmp_path, count: int = 20):
    digits = MyDigits()
    test = load_split("mnist", "test")
    for i in range(count):
        digits.add(test.images[i].numpy(), int(test.labels[i]))
    path = tmp_path / "my-digits.zip"
    digits.to_zip(path)
    return path, test.images[:count], test.labels[:count]


def test_the_zip_becomes_plain_bytes_and_back(tmp_path):
    path, images, labels = _zip(tmp_path)
    spec = train_tab.job_spec(dataclasses.replace(GOOD, extra=str(path)))
    assert isinstance(spec.extra, ExtraDigits) and len(spec.extra) == 20
    assert isinstance(spec.extra.images, bytes) and isinstance(spec.extra.labels, bytes)
    assert spec.extra.info["digits"] == 20 and spec.extra.info["file"] == "my-digits.zip"
    back = extra_split({"images": spec.extra.images, "labels": spec.extra.labels, "info": {}})
    assert torch.equal(back.labels, labels) and back.images.shape == (20, 28, 28)
    assert train_tab.job_spec(GOOD).extra is None


@pytest.mark.parametrize("bad", ["not-a-zip.txt", 42, ["a", "b"]])
def test_what_is_not_a_digits_zip_is_refused_with_words(tmp_path, bad):
    if bad == "not-a-zip.txt":
        (tmp_path / bad).write_text("hello")
        bad = str(tmp_path / bad)
    with pytest.raises(ValueError, match="extra digits"):
        train_tab.job_spec(dataclasses.replace(GOOD, extra=bad))


def test_digits_are_not_for_fashion(tmp_path):
    path, _, _ = _zip(tmp_path)
    with pytest.raises(ValueError, match="mnist"):
        train_tab.job_spec(dataclasses.replace(GOOD, dataset="fashion", extra=str(path)))


def test_bytes_that_are_not_digits_are_refused_in_the_process():
    for images, labels in [(b"\0" * 783, b"\1"), (b"\0" * 784, b"\x0a"), (b"", b"")]:
        with pytest.raises(ValueError):
            extra_split({"images": images, "labels": labels, "info": {}})


def test_the_length_check_counts_the_extra_digits(environment):
    environment(MNIST_DEMO_MAX_TRAIN_STEPS=100)
    recipe = RECIPES["fast"].with_changes(train_subset=1000, batch_size=10, epochs=1)
    check_length(recipe, "fastnet", "cpu")  # 100 steps
    with pytest.raises(ValueError, match="101 steps"):
        check_length(recipe, "fastnet", "cpu", extra_images=10)


def test_a_browser_training_with_my_digits_records_them_in_the_card(tmp_path):
    path, _, _ = _zip(tmp_path)
    spec = train_tab.job_spec(dataclasses.replace(GOOD, extra=str(path)))
    spec = dataclasses.replace(spec, recipe=spec.recipe.with_changes(test_subset=500))
    job = TrainingJob(spec, slots=TrainingSlots(1), threads=1, device="cpu").start()
    job.join(180)
    snap = job.snapshot()
    assert snap.state == "done", snap.error
    card = snap.result.card
    assert card["extra_data"]["digits"] == 20 and card["extra_data"]["file"] == "my-digits.zip"
    assert card["extra_data"]["sha256"] == spec.extra.info["sha256"]
    assert snap.latest.total_steps == int(np.ceil((500 + 20) / 100))  # the engine trained on both
