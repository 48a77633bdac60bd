"""The engine as the Train tab uses it: stopping midway, limits on hyperparameters, determinism,
and models that belong to one browser session only."""

from __future__ import annotations

import pytest
import torch

from mnist_demo.models import build_model
from mnist_demo.training.engine import train
from mnist_demo.training.recipes import RECIPES, custom_recipe, recipe_for

SMALL = RECIPES["fast"].with_changes(epochs=1, train_subset=640, batch_size=64, test_subset=500)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small runs are fastest on one thread, and stay so on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_stop_midway_ends_with_done_event_and_keeps_the_learning():
    model = build_model("fastnet", seed=0)
    before = _weights(model)
    steps = 0

    def should_stop() -> bool:
        nonlocal steps
        steps += 1
        return steps > 3  # three training steps, then stop

    events = list(train(model, SMALL.with_changes(epochs=3), "mnist", seed=0, device="cpu",
                        should_stop=should_stop, report_seconds=0.0))
    done = events[-1]
    assert done.kind == "done" and done.stopped
    assert done.step == 3 and done.total_steps == 30
    assert not any(e.kind == "epoch" for e in events)
    assert done.test_acc is not None and 0.0 <= done.test_acc <= 1.0
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "stopping threw the learning away"


def test_a_full_run_is_not_marked_stopped():
    model = build_model("fastnet", seed=0)
    events = list(train(model, SMALL, "mnist", seed=0, device="cpu"))
    assert [e.kind for e in events][-2:] == ["epoch", "done"]
    assert not events[-1].stopped and events[-1].step == events[-1].total_steps == 10


def test_progress_counts_the_test_set_evaluations_as_work():
    """The training line paces a run by its share of work: an epoch's evaluation of the test set moves it
    (here 500 test images after 10 steps of 64 images, a quarter of each epoch's forward passes), the steps alone
    do not reach the end, and the run ends at all of it."""
    events = list(train(build_model("fastnet", seed=0), SMALL.with_changes(epochs=2), "mnist", seed=0, device="cpu",
                        report_seconds=0.0))
    works = [e.work for e in events]
    assert works == sorted(works) and works[-1] == 1.0
    epoch_end = next(i for i, e in enumerate(events) if e.kind == "epoch")
    last_step = events[epoch_end - 1]
    assert last_step.fraction == 0.5 and last_step.work == pytest.approx(10 * 3 * 64 / (2 * (10 * 3 * 64 + 500)))
    assert events[epoch_end].work == pytest.approx(0.5)  # the evaluation done: half the run's work


def test_a_short_run_reports_enough_points_for_its_curve():
    """A class preset ends in about a second: reports a quarter of a second apart would draw its loss curve from
    three points. Each CURVE_POINTS-th of the run reports too, the losses averaged over the steps between."""
    from mnist_demo.training.engine import CURVE_POINTS

    recipe = SMALL.with_changes(train_subset=5120, batch_size=32)  # 160 steps
    events = list(train(build_model("fastnet-small", seed=0), recipe, "mnist", seed=0, device="cpu",
                        report_seconds=3600.0))
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == CURVE_POINTS and [e.step for e in steps] == list(range(4, 161, 4))
    assert all(0 < e.loss < 5 for e in steps)


@pytest.mark.parametrize("changes, field", [
    ({"lr": 0.0}, "lr"), ({"lr": -0.1}, "lr"), ({"lr": float("nan")}, "lr"),
    ({"batch_size": 0}, "batch_size"), ({"epochs": 10000}, "epochs"), ({"epochs": 0}, "epochs"),
    ({"momentum": 1.5}, "momentum"), ({"train_subset": 0}, "train_subset"), ({"optimizer": "lbfgs"}, "optimizer"),
])
def test_out_of_range_hyperparameters_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        RECIPES["fast"].with_changes(**changes)


FORM = dict(optimizer="adamw", lr=0.004, momentum=0.0, batch_size=128, epochs=2, train_subset=60000, augment="none")


@pytest.mark.parametrize("changes, field", [
    ({"lr": 0}, "lr"), ({"batch_size": 0}, "batch_size"), ({"epochs": 10000}, "epochs"),
    ({"lr": None}, "lr is empty"), ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"train_subset": 0}, "train_subset"), ({"augment": "mirror"}, "augment"),
    ({"train_subset": 500, "epochs": 1}, "one-cycle schedule needs at least 5 training steps"),
])
def test_browser_form_values_are_checked(changes, field):
    with pytest.raises(ValueError, match=field):
        custom_recipe(RECIPES["fast"], **{**FORM, **changes})


def test_browser_form_fills_a_copy_of_the_preset():
    recipe = custom_recipe(recipe_for("s4-two-conv"), **{**FORM, "train_subset": 2000, "epochs": 1})
    assert (recipe.optimizer, recipe.lr, recipe.train_subset, recipe.epochs) == ("adamw", 0.004, 2000, 1)
    assert recipe.schedule == RECIPES["s4"].schedule and recipe.name == "s4"
    assert custom_recipe(RECIPES["s2"], **FORM).train_subset is None  # 60000 = the whole set


def test_same_seed_same_weights_different_seed_different_weights():
    def run(seed: int) -> dict[str, torch.Tensor]:
        model = build_model("fastnet", seed=seed)
        for _ in train(model, SMALL.with_changes(augment="digits"), "mnist", seed=seed, device="cpu"):
            pass
        return _weights(model)

    first, again, other = run(1), run(1), run(2)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_sessions_do_not_share_trained_models_and_close_clears():
    from mnist_demo.ui.session import Session, model_choices

    alice, bob = Session(), Session()
    entry = alice.add_trained(build_model("fastnet"), {"model": "fastnet", "title": "FastNet", "dataset": "mnist"})
    assert entry.key in alice.trained and not bob.trained
    assert entry.key in [key for _, key in model_choices(alice)]
    assert entry.key not in [key for _, key in model_choices(bob)]
    folder = alice.workdir()
    assert folder.is_dir() and folder != bob.workdir()

    import threading

    alice.run_stop, bob.run_stop = threading.Event(), threading.Event()
    alice.close()
    assert alice.run_stop.is_set() and alice.closed and not alice.trained and not folder.exists()
    assert not bob.run_stop.is_set() and not bob.closed
    bob.close()
