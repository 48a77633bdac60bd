"""Class codes, teacher keys and the rate limiter: what keeps people out of classes that are not theirs.

* A class code is CODE_LENGTH characters from an alphabet of CODE_ALPHABET_SIZE letters and digits
  that cannot be confused when read off a projector (no 0/O, 1/I/L, ...), drawn with `secrets`:
  31**8 ~ 8.5e11 codes. With ACTIVE_CLASS_LIMIT classes open at once a random guess finds one with
  probability at most 1e3 / 8.5e11, so a brute force needs ~4e8 tries for an even chance; at
  JOIN_FAILURES_PER_WINDOW failed joins per address per window that is ~260 years per address.
  A code only lets you *draw into* a class: it never opens the dashboard.
* A teacher key is 128 random bits (`secrets.token_urlsafe(16)`), shown once and stored only as
  sha256(per-class 16-byte salt + key); it is compared with `hmac.compare_digest`. A random
  128-bit key needs no slow password hash: nobody can try 2**127 keys, and a fast hash keeps the
  dashboard's timed refresh (which re-checks the key every few seconds) cheap.
* `RateLimiter`: sliding windows in memory, per client address and per class, for failed joins,
  failed key tries and class creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0 O 1 I L
CODE_ALPHABET_SIZE = len(CODE_ALPHABET)
CODE_LENGTH = 8
CODE_SPACE = CODE_ALPHABET_SIZE ** CODE_LENGTH  # 852,891,037,441
KEY_BYTES = 16  # 128 bits
SALT_BYTES = 16
MAX_KEY_CHARS = 100  # anything longer is not one of our keys; refused before hashing

WINDOW_S = 600.0  # ten minutes
JOIN_FAILURES_PER_WINDOW = 30  # per address: typos by a whole class behind one school NAT fit
KEY_FAILURES_PER_WINDOW = 10  # per address
KEY_FAILURES_PER_CLASS = 20  # per class, from all addresses together
CREATES_PER_WINDOW = 10  # classes one address may open per window
ACTIVE_CLASS_LIMIT = 1000  # classes open at once on one server (store.MAX_CLASSES)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: object) -> str | None:
    """What a person typed ("abcd-efgh", " ABCD EFGH ") as a code, or None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    code = "".join(ch for ch in text.upper() if ch not in " -_\t")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def pretty_code(code: str) -> str:
    """ABCDEFGH -> ABCD-EFGH, easier to read aloud and to type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def hash_key(key: str, salt: bytes) -> bytes:
    return hashlib.sha256(salt + key.encode("utf-8")).digest()


def key_matches(key: object, salt: bytes, stored: bytes) -> bool:
    """True only for the class's own key; constant-time comparison of the hashes."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
        return False
    return hmac.compare_digest(hash_key(key.strip(), salt), stored)


class RateLimiter:
    """At most `limit` events per `window_s` seconds for each key (an address, a class, ...), in memory.

    `allow(key)` says whether one more is allowed now without counting it; `hit(key)` counts one.
    Keys with no recent events are dropped, so memory follows the active clients.
    """

    def __init__(self, limit: int, window_s: float = WINDOW_S, clock=time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._events: dict[object, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def _recent(self, key: object, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def allow(self, key: object) -> bool:
        with self._lock:
            now = self.clock()
            return len(self._recent(key, now)) < self.limit

    def hit(self, key: object) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)
            if now - self._last_sweep > self.window_s:
                self._sweep(now)

    def retry_after(self, key: object) -> float:
        """Seconds until `allow(key)` is true again (0 if it is now)."""
        with self._lock:
            now = self.clock()
            events = self._recent(key, now)
            if len(events) < self.limit:
                return 0.0
            return max(0.0, events[len(events) - self.limit] + self.window_s - now)

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, events in self._events.items() if not events or events[-1] <= now - self.window_s]:
            del self._events[key]


class Guard:
    """The app's limits together: failed joins and key tries, per address and per class, and class creation."""

    def __init__(self, clock=time.monotonic) -> None:
        self.join_failures = RateLimiter(JOIN_FAILURES_PER_WINDOW, clock=clock)
        self.key_failures = RateLimiter(KEY_FAILURES_PER_WINDOW, clock=clock)
        self.class_key_failures = RateLimiter(KEY_FAILURES_PER_CLASS, clock=clock)
        self.creates = RateLimiter(CREATES_PER_WINDOW, clock=clock)

    def may_join(self, address: str) -> bool:
        return self.join_failures.allow(address)

    def failed_join(self, address: str) -> None:
        self.join_failures.hit(address)

    def may_try_key(self, address: str, code: str | None) -> bool:
        return self.key_failures.allow(address) and (code is None or self.class_key_failures.allow(code))

    def failed_key(self, address: str, code: str | None) -> None:
        self.key_failures.hit(address)
        if code is not None:
            self.class_key_failures.hit(code)

    def may_create(self, address: str) -> bool:
        return self.creates.allow(address)

    def created(self, address: str) -> None:
        self.creates.hit(address)
