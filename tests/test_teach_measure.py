"""The teach panel's before/after: which digits are kept apart, and that a figure never rests on a handful."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_demo.training import teach as teaching
from mnist_demo.training import teach_measure as measure
from mnist_demo.ui import teach_panel as panel
from mnist_demo.ui.i18n import t


@pytest.mark.parametrize("total", [0, 10, 50, 59, 60, 61, 99, 100, 101, 150, 499, 500])
def test_kept_apart_digits_are_enough_to_mean_something_and_most_are_taught(total):
    labels = np.arange(total) % 10
    taught, held = measure.measure_split(labels)
    assert sorted([*taught, *held]) == list(range(total))  # every digit once
    if total < measure.MIN_COLLECTION:
        assert len(held) == 0  # too few to measure: all taught
    else:
        assert len(held) >= measure.MIN_MEASURED  # one digit moves a figure 5 points at most
        assert len(taught) >= 2 * len(held)  # ... and at least two thirds are taught
        assert set(labels[held]) == set(range(10))  # from every digit given
    assert measure.kept_apart_count(500) > measure.kept_apart_count(100)  # the count grows with the collection


def test_uneven_labels_are_spread_in_proportion_and_in_the_order_added():
    labels = np.array([1] * 100 + [7] * 50)
    taught, held = measure.measure_split(labels)
    assert len(held) == 30 and np.bincount(labels[held], minlength=8)[[1, 7]].tolist() == [20, 10]
    sevens = held[labels[held] == 7] - 100
    assert sevens.min() < 5 and sevens.max() > 45  # spread over the 7s, not the first or last ten


def result(held: int, taught: int, before: float | None, after: float | None) -> teaching.TeachResult:
    return teaching.TeachResult(None, taught, held, before, after, 0.9963, 0.996, 12.0, False)


def test_the_table_gives_counts_and_says_when_there_are_too_few():
    table = panel.result_table(result(20, 40, 0.85, 1.0), measure.Figure(51, 60), "en")
    assert "17 of 20 (85%)" in table and "20 of 20 (100%)" in table and "51 of 60 (85%)" in table
    assert "5 points" in table and "99.63%" in table
    few = panel.result_table(result(0, 50, None, None), measure.Figure(45, 50), "en")
    assert "not measured" in few and "45 of 50 (90%)" in few and "%" not in few.split("not measured")[1][:80]
    assert "50 个中对 45 个" in panel.result_table(result(0, 50, None, None), measure.Figure(45, 50), "zh")
    assert t("teach.table_unmeasured", "zh", total=1, min=2, measured=3, before_all="x", mnist_before="a",
             mnist_after="b") != few
