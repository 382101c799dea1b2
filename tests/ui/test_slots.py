"""The server-wide training limiter: capacity, first-come first-served, nothing leaks."""

import threading

import pytest

from ui.slots import TrainingSlots


def test_capacity_and_queue_positions():
    slots = TrainingSlots(2)
    for t in "abcd":
        slots.join(t)
    assert slots.try_start("a") == 0 and slots.try_start("b") == 0
    assert slots.try_start("c") == 1 and slots.try_start("d") == 2  # "2 ahead of you"
    assert slots.running == 2 and slots.waiting == 2


def test_release_lets_the_first_waiter_start_and_order_is_kept():
    slots = TrainingSlots(1)
    for t in "abc":
        slots.join(t)
    assert slots.try_start("a") == 0
    assert slots.try_start("c") == 2  # c may not jump the queue
    slots.release("a")
    assert slots.try_start("c") == 1 and slots.try_start("b") == 0
    slots.release("b")
    assert slots.try_start("c") == 0


def test_leaving_the_queue_and_double_release_are_harmless():
    slots = TrainingSlots(1)
    slots.join("a")
    slots.join("b")
    assert slots.try_start("a") == 0
    slots.release("b")  # b closed its tab while waiting
    slots.release("a")
    slots.release("a")
    assert slots.running == 0 and slots.waiting == 0


def test_never_more_than_capacity_under_threads():
    slots = TrainingSlots(2)
    peak, now, lock = [0], [0], threading.Lock()

    def worker(i):
        slots.join(i)
        while slots.try_start(i):
            pass
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        with lock:
            now[0] -= 1
        slots.release(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert peak[0] <= 2 and slots.running == 0 and slots.waiting == 0


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        TrainingSlots(0)
