"""The fair training queue: a cap on simultaneous trainings, one place per session served oldest first,
a line bounded by the seconds of work it holds, estimated starts that follow the work, and places given
back when a tab closes."""

import threading

import pytest

from mnist_demo.settings import Settings
from mnist_demo.training.slots import (
    AlreadyQueued,
    QueueFull,
    TrainingSlots,
)


class Clock:
    """A clock the test moves by hand, so estimates can be checked exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_queue_cap_and_positions():
    slots = TrainingSlots(1)
    first, second, third = slots.join(), slots.join(), slots.join()
    assert first.wait(0) and first.position() == 0
    assert not second.wait(0.05) and (second.position(), third.position()) == (1, 2)
    assert (slots.running, slots.waiting) == (1, 2)

    first.release()
    assert second.wait(0) and third.position() == 1
    second.release()
    assert third.wait(0)
    third.release()
    assert (slots.running, slots.waiting) == (0, 0)


def test_queue_serves_oldest_first_one_place_per_session():
    slots = TrainingSlots(1)
    running = slots.join("ann")
    bob, cat = slots.join("bob"), slots.join("cat")
    with pytest.raises(AlreadyQueued):
        slots.join("bob")  # a second place for bob: refused, his first one kept
    with pytest.raises(AlreadyQueued):
        slots.join("ann")  # running counts as holding a place
    assert (bob.position(), cat.position(), slots.waiting) == (1, 2, 2)
    dan = slots.join("dan")
    running.release()
    assert bob.wait(0) and (cat.position(), dan.position()) == (1, 2)
    again = slots.join("ann")  # ann's training ended: she may queue again, at the back
    assert again.position() == 3
    anonymous = [slots.join(), slots.join()]  # no session: never limited to one
    assert [t.position() for t in anonymous] == [4, 5]


def test_queue_leaving_the_line_moves_the_others_up():
    slots = TrainingSlots(1)
    running, leaving, staying = slots.join(), slots.join(), slots.join()
    leaving.release()
    assert staying.position() == 1 and not leaving.wait(0) and leaving.cancelled
    running.release()
    assert staying.wait(0)


def test_queue_cancellation_when_a_tab_closes():
    slots = TrainingSlots(1)
    running, gone, other = slots.join("a"), slots.join("gone"), slots.join("b")
    woke = threading.Event()
    waiter = threading.Thread(target=lambda: gone.wait(5) or woke.set())  # wait() ends False: cancelled
    waiter.start()
    assert slots.cancel_session("gone")
    waiter.join(5)
    assert woke.is_set() and gone.cancelled and gone.position() == 0
    assert other.position() == 1 and slots.waiting == 1
    assert not slots.cancel_session("gone") and not slots.cancel_session("a")  # a running one stops via its job
    assert slots.join("gone").position() == 2  # the same session, a fresh tab: a new place at the back
    running.release()
    assert other.wait(0)


def test_queue_two_slots_and_a_waiter_woken_by_release():
    slots = TrainingSlots(2)
    a, b, c = slots.join(), slots.join(), slots.join()
    assert a.wait(0) and b.wait(0) and c.position() == 1
    woke = threading.Event()
    waiter = threading.Thread(target=lambda: c.wait(5) and woke.set())
    waiter.start()
    b.release()
    waiter.join(5)
    assert woke.is_set()


def test_queue_capacity_and_horizon_must_be_positive():
    with pytest.raises(ValueError):
        TrainingSlots(0)
    with pytest.raises(ValueError):
        TrainingSlots(1, horizon=0)


def test_queue_is_bounded_by_seconds_of_work_not_a_small_count():
    """Two slots, 120 s of work at most: forty 6-second class presets fit, one more does not; a
    training longer than the whole horizon waits only for an idle machine."""
    slots = TrainingSlots(2, horizon=120.0, clock=Clock())
    tickets = [slots.join(f"student{i}", cost=6.0) for i in range(40)]
    assert (slots.running, slots.waiting) == (2, 38)
    assert slots.pending_seconds() == pytest.approx(120.0)
    with pytest.raises(QueueFull, match="busy"):
        slots.join("student40", cost=6.0)
    with pytest.raises(QueueFull):
        slots.join("long", cost=500.0)
    tickets[-1].release()  # one leaves the line: room for one more small one
    late = slots.join("student40", cost=6.0)
    assert late.position() == 38
    for ticket in tickets + [late]:
        ticket.release()
    long = slots.join("long", cost=500.0)  # an idle machine takes anything check_length allows
    assert long.wait(0)


def test_queue_count_bound_still_stops_scripts():
    slots = TrainingSlots(1, max_waiting=2)
    running, first, second = slots.join(), slots.join(cost=0.1), slots.join(cost=0.1)
    with pytest.raises(QueueFull, match="busy"):
        slots.join(cost=0.1)
    first.release()
    third = slots.join()
    assert third.position() == 2
    running.release(), second.release(), third.release()
    assert (slots.running, slots.waiting) == (0, 0)
    none_waiting = TrainingSlots(1, max_waiting=0)
    busy = none_waiting.join()
    with pytest.raises(QueueFull):
        none_waiting.join()
    busy.release()
    assert none_waiting.join().wait(0)


def test_queue_estimates_follow_progress_and_learned_speed():
    clock = Clock()
    slots = TrainingSlots(1, clock=clock)
    first = slots.join("a", cost=10.0)
    second, third = slots.join("b", cost=10.0), slots.join("c", cost=20.0)
    assert (first.estimated_start(), second.estimated_start(), third.estimated_start()) == (0.0, 10.0, 20.0)
    clock.now = 4.0  # no progress reported yet: the declared cost less the time spent
    assert second.estimated_start() == pytest.approx(6.0)
    clock.now = 10.0
    first.report(0.25)  # slower than declared: 10 s for a quarter, 30 s to go, and the machine's pace is 4x
    assert second.estimated_start() == pytest.approx(30.0) and third.estimated_start() == pytest.approx(30.0 + 40.0)
    clock.now = 40.0
    first.report(1.0)
    first.release()  # took 40 s for 10 declared: every declared second now counts for more
    assert slots.speed == pytest.approx(0.7 + 0.3 * 4.0)
    assert third.estimated_start() == pytest.approx(10.0 * slots.speed)
    second.release()  # stopped before its end: teaches nothing about speed
    assert slots.speed == pytest.approx(1.9) and third.wait(0)


def test_queue_two_slots_estimate_the_earliest_free_slot():
    clock = Clock()
    slots = TrainingSlots(2, clock=clock)
    slots.join(cost=10.0), slots.join(cost=30.0)
    a, b, c = slots.join(cost=5.0), slots.join(cost=5.0), slots.join(cost=5.0)
    assert [t.estimated_start() for t in (a, b, c)] == [10.0, 15.0, 20.0]


def test_queue_shared_line_is_bounded_by_the_environment(monkeypatch, environment):
    from mnist_demo.training import slots as slots_module

    monkeypatch.setattr(slots_module, "_shared", None)
    environment(MNIST_DEMO_MAX_QUEUED=3, MNIST_DEMO_QUEUE_SECONDS=240)
    shared = slots_module.shared_slots()
    assert (shared.max_waiting, shared.horizon) == (3, 240.0)
    monkeypatch.setattr(slots_module, "_shared", None)
    environment(MNIST_DEMO_MAX_QUEUED=None, MNIST_DEMO_QUEUE_SECONDS=None)
    shared = slots_module.shared_slots()
    assert (shared.max_waiting, shared.horizon) == (Settings().max_queued, Settings().queue_seconds)
    monkeypatch.setattr(slots_module, "_shared", None)
