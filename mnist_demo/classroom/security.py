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
  failed key tries and class creation. A try is counted when it starts (`take`, one atomic step) and
  given back when it succeeds, so parallel tries from one address cannot all pass one check; a limiter
  holds at most `capacity` keys, whatever addresses it is asked about.
* Global budgets (`Guard`): failed joins, failed key tries and class creations from all addresses
  together, so a script rotating addresses does not multiply its guesses. While a budget is spent, only
  addresses that recently succeeded (a join or a teacher key) may try.
* Per minute, joins and saves per address and per class, and saves per student: a class of 200 behind one
  school address fits (see docs/class_mode.md); a script gets no faster than that.
* Per class lifetime (CLASS_DAYS), classes opened or renewed per address: every open class was opened or renewed
  within that time, so one address holds at most CLASS_LIFETIMES_PER_ADDRESS of the ACTIVE_CLASS_LIMIT places
  (10 per 10 minutes alone would let it fill them in a day, drawing once in each so they do not expire early).
The address a limit keys on is `addresses.client_address`: the one the trusted proxy saw.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque

from ..last_seen import LastSeen

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
CLASS_DAYS = 30  # a class lives this long after its creation or its last renewal (store.CLASS_DAYS)
CLASS_LIFETIMES_PER_ADDRESS = 100  # classes opened or renewed per address per CLASS_DAYS: a tenth of the places
# From all addresses together, per window: a brute force of codes at this rate needs ~25 years for an even
# chance (4e8 tries), and a script rotating addresses gets no more than one address's share of the rest.
GLOBAL_JOIN_FAILURES = 300
GLOBAL_KEY_FAILURES = 100
# Empty classes expire early (store), but a rotating script that draws into each of its classes reaches the cap
# in ~17 h at this pace (docs/class_mode.md, what is not stopped): a budget under the cap per class lifetime
# would stop everyone's new classes for a month instead.
GLOBAL_CREATES_PER_HOUR = 60
# Per minute. A class of 200 behind one school address joins within ~2 minutes (the rest are asked to wait a
# minute) and saves at its pace (200 students each saving every 10 s is 1,200 a minute); one student's saves
# come a few seconds apart.
JOINS_PER_ADDRESS_PER_MINUTE = 100
JOINS_PER_CLASS_PER_MINUTE = 150
SAVES_PER_ADDRESS_PER_MINUTE = 1500
SAVES_PER_CLASS_PER_MINUTE = 1500
SAVES_PER_STUDENT_PER_MINUTE = 30
LIMITER_KEYS = 20_000  # addresses (or classes) one limiter remembers; the least recently seen go first
GOOD_ADDRESSES = 5_000  # addresses that recently joined or opened a dashboard (let through a spent global budget)


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

    `take(key)` counts one if the key is under its limit and says whether it did, in one step under the lock;
    `give_back(key)` uncounts the newest (a try that succeeded). At most `capacity` keys are held: the least
    recently counted goes first, so memory is bounded whatever keys a caller makes up.
    """

    def __init__(self, limit: int, window_s: float = WINDOW_S, clock=time.monotonic,
                 capacity: int = LIMITER_KEYS) -> None:
        self.limit, self.window_s, self.clock, self.capacity = limit, window_s, clock, capacity
        self._events: OrderedDict[object, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: object, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def allow(self, key: object) -> bool:
        """Would one more be allowed now (nothing counted)?"""
        with self._lock:
            return len(self._recent(key, self.clock())) < self.limit

    def take(self, key: object, n: int = 1) -> bool:
        """Count `n` for `key` (e.g. megabytes) if that keeps it within its limit; False (nothing counted) if not."""
        return self._count(key, force=False, n=n)

    def hit(self, key: object) -> None:
        """Count one whatever the limit (an event that happened anyway)."""
        self._count(key, force=True)

    def _count(self, key: object, force: bool, n: int = 1) -> bool:
        with self._lock:
            now = self.clock()
            events = self._recent(key, now)
            if len(events) + n > self.limit and not force:
                return False
            events.extend([now] * n)
            self._events[key] = events
            self._events.move_to_end(key)
            # Least recently counted first: drop those beyond the capacity and those with nothing recent.
            while True:
                oldest = next(iter(self._events.values()))
                if len(self._events) <= self.capacity and oldest and oldest[-1] > now - self.window_s:
                    return True
                self._events.popitem(last=False)

    def give_back(self, key: object) -> None:
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()

    def retry_after(self, key: object) -> float:
        """Seconds until `allow(key)` is true again (0 if it is now)."""
        with self._lock:
            now = self.clock()
            events = self._recent(key, now)
            if len(events) < self.limit:
                return 0.0
            return max(0.0, events[len(events) - self.limit] + self.window_s - now)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


class Recent:
    """A bounded set of keys seen within `window_s` (addresses that recently succeeded)."""

    def __init__(self, capacity: int = GOOD_ADDRESSES, window_s: float = 2 * WINDOW_S, clock=time.monotonic) -> None:
        self.window_s, self.clock = window_s, clock
        self._seen = LastSeen(capacity)

    def add(self, key: object) -> None:
        self._seen.see(key, self.clock())

    def __contains__(self, key: object) -> bool:
        seen = self._seen.get(key)
        return seen is not None and seen > self.clock() - self.window_s


class Guard:
    """The app's limits together: failed joins and key tries, per address, per class and from everyone, and
    class creation. Each `try_*` counts the try at once (atomic, so parallel tries cannot all pass) and
    returns the seconds to wait (0: go on); the matching success call gives the try back."""

    def __init__(self, clock=time.monotonic) -> None:
        self.join_failures = RateLimiter(JOIN_FAILURES_PER_WINDOW, clock=clock)
        self.key_failures = RateLimiter(KEY_FAILURES_PER_WINDOW, clock=clock)
        self.class_key_failures = RateLimiter(KEY_FAILURES_PER_CLASS, clock=clock)
        self.creates = RateLimiter(CREATES_PER_WINDOW, clock=clock)
        # Up to 100 times per key for a month: fewer keys than the others (a rotating script is the global budget's)
        self.lifetimes = RateLimiter(CLASS_LIFETIMES_PER_ADDRESS, window_s=CLASS_DAYS * 86400.0, clock=clock,
                                     capacity=2_000)
        self.all_join_failures = RateLimiter(GLOBAL_JOIN_FAILURES, clock=clock, capacity=1)
        self.all_key_failures = RateLimiter(GLOBAL_KEY_FAILURES, clock=clock, capacity=1)
        self.all_creates = RateLimiter(GLOBAL_CREATES_PER_HOUR, window_s=3600.0, clock=clock, capacity=1)
        self.good = Recent(clock=clock)
        self.joins = RateLimiter(JOINS_PER_ADDRESS_PER_MINUTE, window_s=60.0, clock=clock)
        self.class_joins = RateLimiter(JOINS_PER_CLASS_PER_MINUTE, window_s=60.0, clock=clock)
        self.saves = RateLimiter(SAVES_PER_ADDRESS_PER_MINUTE, window_s=60.0, clock=clock)
        self.class_saves = RateLimiter(SAVES_PER_CLASS_PER_MINUTE, window_s=60.0, clock=clock)
        self.student_saves = RateLimiter(SAVES_PER_STUDENT_PER_MINUTE, window_s=60.0, clock=clock)

    @staticmethod
    def _take(address: str, own: RateLimiter, everyone: RateLimiter, exempt: bool,
              more: tuple[tuple[RateLimiter, object], ...] = ()) -> float:
        """Count one try in each limiter (the address's, the class's, everyone's unless `exempt`) or in none;
        the seconds to wait when one is spent."""
        return Guard._all((own, address), *more, *(() if exempt else ((everyone, "*"),)))

    # -- joins

    def try_join(self, address: str) -> float:
        """Count a join (as failed until `joined`): 0 to go on, else the seconds to wait."""
        return self._take(address, self.join_failures, self.all_join_failures, address in self.good)

    def joined(self, address: str) -> None:
        """The join found its class: its try is given back, and the address counts as good for a while."""
        self.join_failures.give_back(address)
        if address not in self.good:
            self.all_join_failures.give_back("*")
        self.good.add(address)

    # -- teacher keys

    def try_key(self, address: str, code: str | None) -> float:
        more = ((self.class_key_failures, code),) if code is not None else ()
        return self._take(address, self.key_failures, self.all_key_failures, address in self.good, more)

    def key_ok(self, address: str, code: str | None) -> None:
        self.key_failures.give_back(address)
        if code is not None:
            self.class_key_failures.give_back(code)
        if address not in self.good:
            self.all_key_failures.give_back("*")
        self.good.add(address)

    # -- class creation (a success stays counted)

    def may_hold_more(self, address: str) -> bool:
        """May this address open or renew one more class within CLASS_DAYS (nothing counted)?"""
        return self.lifetimes.allow(address)

    def try_create(self, address: str) -> float:
        return self._take(address, self.creates, self.all_creates, False, ((self.lifetimes, address),))

    def create_failed(self, address: str) -> None:
        self.creates.give_back(address)
        self.lifetimes.give_back(address)
        self.all_creates.give_back("*")

    def try_renew(self, address: str) -> bool:
        """Count a renewal (another CLASS_DAYS of a class) against the address's lifetimes; False when spent."""
        return self.lifetimes.take(address)

    # -- a class's pace: joins and saves per minute (each counted, successful or not)

    @staticmethod
    def _all(*pairs: tuple[RateLimiter, object]) -> float:
        """Count one in every limiter or in none: 0, or the seconds until the spent one allows again."""
        taken = []
        for limiter, key in pairs:
            if not limiter.take(key):
                for done, done_key in taken:
                    done.give_back(done_key)
                return max(1.0, limiter.retry_after(key))
            taken.append((limiter, key))
        return 0.0

    def try_join_class(self, address: str, code: str) -> float:
        return self._all((self.joins, address), (self.class_joins, code))

    def try_save(self, address: str, code: str, student: str) -> float:
        return self._all((self.student_saves, (code, student)), (self.saves, address), (self.class_saves, code))
