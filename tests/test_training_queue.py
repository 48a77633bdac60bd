"""The fair training queue: a cap on simultaneous trainings, one place per session served oldest first,
a line bounded by the seconds of work it holds, estimated starts that follow the work, and places given
back when a tab closes."""

import threading

import pytest

from mnist_demo.settings import Settings
from mnist_demo.training.slots import (
    PACE_WINDOW,
    SHARE,
    AlreadyQueued,
    QueueFull,
    ShareFull,
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


def test_queue_estimates_follow_each_jobs_pace_not_its_process_start():
    clock = Clock()
    slots = TrainingSlots(1, clock=clock)
    first = slots.join("a", cost=10.0)
    second, third = slots.join("b", cost=10.0), slots.join("c", cost=20.0)
    assert (first.estimated_start(), second.estimated_start(), third.estimated_start()) == (0.0, 10.0, 20.0)
    clock.now = 4.0  # no progress reported yet: the declared cost less the time spent
    assert second.estimated_start() == pytest.approx(6.0)
    clock.now = 5.0
    first.report(0.1)  # a slow process start (5 s), then its first steps
    clock.now = 10.0
    first.report(0.35)  # 5 s for a quarter of the work: 20 s for all of it, 13 s to go (not 10 * 0.65 / 0.35)
    assert second.estimated_start() == pytest.approx(13.0)
    # the machine's pace as it is now (the one sample): 5 s of start + 18 s of work for 10 declared seconds
    assert third.estimated_start() == pytest.approx(13.0 + 10.0 * 2.3)
    clock.now = 12.0  # no new report: its time goes on
    assert second.estimated_start() == pytest.approx(11.0)
    clock.now = 23.0
    first.report(1.0)
    clock.now = 24.0
    first.release()  # took 24 s of slot for 10 declared: measured, every declared second counts 2.4 s
    assert slots.speed == pytest.approx(2.4)
    assert third.estimated_start() == pytest.approx(10.0 * 2.4)
    second.release()  # stopped before its end: teaches nothing about the machine's pace
    assert slots.speed == pytest.approx(2.4) and third.wait(0)


def test_queue_dates_a_report_read_late_by_when_it_was_sent():
    """A busy server reads a training's reports late, several at once: dated by their arrival, a job that
    reported 10% then 35% in 5 s would look as if it did a quarter of its work in no time."""
    clock = Clock()
    slots = TrainingSlots(1, clock=clock)
    first, second = slots.join("a", cost=10.0), slots.join("b", cost=10.0)
    clock.now = 10.0  # both reports arrive now, sent at 5 s and at 10 s
    first.report(0.1, ago=5.0)
    first.report(0.35)
    assert second.estimated_start() == pytest.approx(13.0)  # 20 s for all of it, as above, not 0 s
    first.report(0.4, ago=-3.0)  # a clock that looks ahead counts as now
    assert first.latest == (10.0, 0.4)


def test_queue_pace_is_measured_on_the_latest_trainings_of_this_machine():
    """The pace is the median slot-seconds per declared second of the last PACE_WINDOW finished trainings: the
    lesson's slow first training (the fork server still warming) does not hold it up, and old runs drop out."""
    clock = Clock()
    slots = TrainingSlots(1, clock=clock)

    def finish(cost: float, seconds: float) -> None:
        ticket = slots.join(cost=cost)
        clock.now += seconds
        ticket.report(1.0)
        ticket.release()

    finish(2.0, 12.0)  # the first one, 6x its declared cost
    assert slots.speed == pytest.approx(6.0)
    finish(4.0, 3.0), finish(4.0, 4.0), finish(8.0, 8.0)
    assert slots.speed == pytest.approx(1.0)  # the median of 6, 0.75, 1 and 1
    for _ in range(PACE_WINDOW):
        finish(4.0, 3.0)
    assert slots.speed == pytest.approx(0.75)
    blocker = slots.join(cost=4.0)
    waiting = [slots.join(f"s{i}", cost=4.0) for i in range(3)]
    assert [t.estimated_start() for t in waiting] == pytest.approx([3.0, 6.0, 9.0])
    clock.now += 9.0  # running far past its measured 3 s without a report: due any moment, one slow run is no trend
    assert [t.estimated_start() for t in waiting] == pytest.approx([0.0, 3.0, 6.0])
    blocker.release()


def test_queue_estimates_count_the_measured_time_after_the_last_step():
    """After its last step a training still evaluates and sends its weights back: the line measures that time on
    the trainings that finished and adds it to a running one's seconds to go."""
    clock = Clock()
    slots = TrainingSlots(1, clock=clock)
    first = slots.join("a", cost=4.0)
    first.report(0.0)
    clock.now = 4.0
    first.report(1.0)
    clock.now = 6.0  # 2 s after its last step
    first.release()
    second, third = slots.join("b", cost=4.0), slots.join("c", cost=4.0)
    clock.now = 7.0
    second.report(0.0)
    clock.now = 9.0
    second.report(0.5)  # 2 s of work to go, then 2 s of evaluation
    assert third.estimated_start() == pytest.approx(4.0)
    second.release(), third.release()


def test_queue_estimates_with_parallel_slots_and_progress():
    clock = Clock()
    slots = TrainingSlots(2, clock=clock)
    a, b = slots.join("a", cost=10.0), slots.join("b", cost=10.0)
    waiting = [slots.join(f"w{i}", cost=10.0) for i in range(3)]
    assert [t.estimated_start() for t in waiting] == [10.0, 10.0, 20.0]
    a.report(0.0)
    clock.now = 2.0
    b.report(0.1)
    clock.now = 4.0
    a.report(0.5)  # a at half its work in 4 s: 4 s to go
    b.report(0.2)  # b at a tenth per 2 s: 16 s to go
    # the pace now: a's 8 s and b's 2 + 18 s for 20 declared seconds, 1.4 s a declared second
    assert [t.estimated_start() for t in waiting] == pytest.approx([4.0, 16.0, 18.0])


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


def test_queue_one_address_holds_a_few_places_outside_class_mode():
    """A script rotating session hashes from one address: each hash a new session, but the address holds
    `per_address` places of the Train tab's line; other addresses (and a class) keep theirs."""
    slots = TrainingSlots(1, max_waiting=200, horizon=900.0, clock=Clock(), per_address=4)
    script = [slots.join(f"hash{i}", cost=5.0, address="203.0.113.9") for i in range(4)]
    for i in range(4, 10):
        with pytest.raises(ShareFull, match="address"):
            slots.join(f"hash{i}", cost=5.0, address="203.0.113.9")
    others = [slots.join(f"tab{i}", cost=5.0, address=f"198.51.100.{i}") for i in range(3)]
    school = [slots.join(f"class:A:{i}", cost=3.0, address="203.0.113.9", group="A") for i in range(30)]
    assert (slots.running, slots.waiting) == (1, 4 + 3 + 30 - 1)
    script[0].release()
    assert slots.join("hash4", cost=5.0, address="203.0.113.9").position() == slots.waiting  # a freed place
    for ticket in script + others + school:
        ticket.release()


def test_queue_one_class_or_one_address_holds_at_most_its_share():
    """Half the line's places (and seconds) at most per class and per address: a script joining 100 students a
    minute to its own classes cannot fill the line; a real class elsewhere still gets in."""
    slots = TrainingSlots(2, max_waiting=200, horizon=900.0, clock=Clock(), per_address=4)
    share = int(SHARE * (200 + 2))
    script = [slots.join(f"class:X:{i}", cost=0.5, address="203.0.113.9", group="X") for i in range(share)]
    with pytest.raises(ShareFull, match="class"):
        slots.join("class:X:late", cost=0.5, address="203.0.113.9", group="X")
    with pytest.raises(ShareFull, match="address"):  # a second class from the same address: the address's share
        slots.join("class:Y:0", cost=0.5, address="203.0.113.9", group="Y")
    real = [slots.join(f"class:R:{i}", cost=3.0, address="192.0.2.7", group="R") for i in range(30)]
    assert all(t.position() > 0 for t in real[2:])
    for ticket in script + real:
        ticket.release()
    # seconds too: one class's long runs take at most half the horizon
    long = [slots.join(f"class:L:{i}", cost=100.0, group="L") for i in range(4)]  # 400 s of 450
    with pytest.raises(ShareFull, match="class"):
        slots.join("class:L:4", cost=100.0, group="L")
    assert slots.join("class:M:0", cost=100.0, group="M").position() == len(long) - 2 + 1
