"""A server-wide limit on concurrent trainings, with a first-come, first-served queue.

All students share one process and its cores. Letting every Train press start at once would
oversubscribe the CPU and slow everyone down; instead at most ``capacity`` trainings run and
the others wait their turn, told how many are ahead of them. Plain Python (no streamlit), so
it is tested directly; ``ui.runner`` holds the one instance of the process.
"""

from __future__ import annotations

import threading


class TrainingSlots:
    """At most ``capacity`` holders at once; waiters start in the order they joined."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._running: set[object] = set()
        self._queue: list[object] = []

    def join(self, ticket: object) -> None:
        with self._lock:
            if ticket not in self._running and ticket not in self._queue:
                self._queue.append(ticket)

    def try_start(self, ticket: object) -> int:
        """0 if ``ticket`` holds a slot now; otherwise how many trainings are ahead of it."""
        with self._lock:
            if ticket in self._running:
                return 0
            position = self._queue.index(ticket)  # how many joined before it and still wait
            if position == 0 and len(self._running) < self.capacity:
                self._queue.pop(0)
                self._running.add(ticket)
                return 0
            return position + (1 if len(self._running) >= self.capacity else 0)

    def release(self, ticket: object) -> None:
        """Give the slot (or the place in the queue) back; safe to call more than once."""
        with self._lock:
            self._running.discard(ticket)
            if ticket in self._queue:
                self._queue.remove(ticket)

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)
