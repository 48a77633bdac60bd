"""The global cap on simultaneous trainings: first come, first served, with visible positions."""

import threading

import pytest

from mnist_demo.training.slots import TrainingSlots


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
