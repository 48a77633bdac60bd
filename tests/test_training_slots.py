"""The global cap on simultaneous trainings: first come, first served, with visible positions and a
bounded line."""

import threading

import pytest

from mnist_demo.training.slots import DEFAULT_MAX_QUEUED, MAX_QUEUED_ENV, QueueFull, TrainingSlots


def test_cap_and_queue_positions():
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


def test_leaving_the_line_moves_the_others_up():
    slots = TrainingSlots(1)
    running, leaving, staying = slots.join(), slots.join(), slots.join()
    leaving.release()
    assert staying.position() == 1 and not leaving.wait(0)
    running.release()
    assert staying.wait(0)


def test_two_slots_and_a_waiter_woken_by_release():
    slots = TrainingSlots(2)
    a, b, c = slots.join(), slots.join(), slots.join()
    assert a.wait(0) and b.wait(0) and c.position() == 1
    woke = threading.Event()
    waiter = threading.Thread(target=lambda: c.wait(5) and woke.set())
    waiter.start()
    b.release()
    waiter.join(5)
    assert woke.is_set()


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        TrainingSlots(0)


def test_a_full_line_refuses_newcomers_until_someone_leaves():
    slots = TrainingSlots(1, max_waiting=2)
    running, first, second = slots.join(), slots.join(), slots.join()
    with pytest.raises(QueueFull, match="busy"):
        slots.join()
    assert (slots.running, slots.waiting) == (1, 2)
    first.release()
    third = slots.join()
    assert third.position() == 2
    running.release(), second.release(), third.release()
    assert (slots.running, slots.waiting) == (0, 0)


def test_no_line_at_all():
    slots = TrainingSlots(1, max_waiting=0)
    running = slots.join()
    with pytest.raises(QueueFull):
        slots.join()
    running.release()
    assert slots.join().wait(0)


def test_the_shared_line_is_bounded_by_the_environment(monkeypatch):
    from mnist_demo.training import slots as slots_module

    monkeypatch.setattr(slots_module, "_shared", None)
    monkeypatch.setenv(MAX_QUEUED_ENV, "3")
    assert slots_module.shared_slots().max_waiting == 3
    monkeypatch.setattr(slots_module, "_shared", None)
    monkeypatch.delenv(MAX_QUEUED_ENV)
    assert slots_module.shared_slots().max_waiting == DEFAULT_MAX_QUEUED
    monkeypatch.setattr(slots_module, "_shared", None)
