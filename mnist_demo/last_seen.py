"""When each key was last seen, for a bounded number of keys: the least recently seen go first. Held by what must
remember visitors without growing for a script that makes up new ones (the addresses that recently got in, the
session hashes the request gate heard from)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LastSeen:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[object, float] = OrderedDict()
        self._lock = threading.Lock()

    def see(self, key: object, when: float) -> None:
        with self._lock:
            self._seen[key] = when
            self._seen.move_to_end(key)
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)

    def get(self, key: object, default: float | None = None) -> float | None:
        with self._lock:
            return self._seen.get(key, default)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
