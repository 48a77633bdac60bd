"""Every setting the app and its commands take from the environment, in one place: `Settings`, read once when
the app or a command starts (`load()`), then read by the code with `current()`. Nothing else in the package
looks at os.environ.

A variable that is unset or empty means its default. The README's table of them is `readme_table()`
(tests/test_settings.py checks the README against it).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields


def _setting(variable: str, default, bounds: str, shown: str | None = None):
    """A field read from `variable`; `bounds`: what it sets or bounds (the README's line); `shown`: the default
    as the README says it, when it is worked out rather than fixed."""
    return field(default=default, metadata={"variable": variable, "bounds": bounds, "shown": shown})


@dataclass(frozen=True)
class Settings:
    # Where things are
    data: str = _setting("MNIST_DEMO_DATA", "data", "the datasets' folder (mnist/, fashion-mnist/, unipen-dev/)")
    state: str | None = _setting(
        "MNIST_DEMO_STATE", None, "the folder for what outlives the app (the class store, the secret key)",
        "/data/mnist-demo on a Space's persistent disk, else ./state")
    database_url: str | None = _setting(
        "MNIST_DEMO_DATABASE_URL", None, "a postgresql:// database several app servers share for class mode",
        "none: SQLite in the state folder")
    secret: str | None = _setting("MNIST_DEMO_SECRET", None, "the key that signs a student's place in a class",
                                  "secret.key in the state folder, made once")
    public_url: str | None = _setting("MNIST_DEMO_PUBLIC_URL", None, "the base of a class's join link",
                                      "the address the browser used")
    # Who is asking
    space_id: str | None = _setting("SPACE_ID", None, "set by Hugging Face Spaces: one trusted proxy in front",
                                    "none")
    trust_proxy: bool = _setting("MNIST_DEMO_TRUST_PROXY", False, "any value: one trusted proxy in front", "off")
    trusted_proxies: int | None = _setting(
        "MNIST_DEMO_TRUSTED_PROXIES", None, "proxies in front that append to X-Forwarded-For (at most 10)",
        "1 on a Space or with MNIST_DEMO_TRUST_PROXY, else 0")
    # Serving
    server_name: str = _setting("GRADIO_SERVER_NAME", "127.0.0.1", "the address the app listens on")
    server_port: int = _setting("GRADIO_SERVER_PORT", 7860, "the port the app listens on")
    max_request_bytes: int = _setting("MNIST_DEMO_MAX_REQUEST_BYTES", 64 * 1024,
                                      "the body of one event call, checked before parsing", "64 KiB")
    page_loads_per_window: int = _setting("MNIST_DEMO_PAGE_LOADS_PER_WINDOW", 250,
                                          "page loads of new sessions per address per 10 minutes")
    uploads_per_window: int = _setting("MNIST_DEMO_UPLOADS_PER_WINDOW", 250, "file uploads per address per 10 minutes")
    max_sessions: int | None = _setting("MNIST_DEMO_MAX_SESSIONS", None, "browser sessions Gradio keeps",
                                        "twice the page loads per window (500)")
    max_queue: int = _setting("MNIST_DEMO_MAX_QUEUE", 512, "events waiting in Gradio's queue (half of them per address)")
    max_session_models: int = _setting("MNIST_DEMO_MAX_SESSION_MODELS", 3, "models one browser session keeps")
    max_held_models: int = _setting("MNIST_DEMO_MAX_HELD_MODELS", 120, "models all sessions together keep")
    # Class mode
    max_class_bytes: int = _setting("MNIST_DEMO_MAX_CLASS_BYTES", 16 * 1024 * 1024, "bytes one class's drawings keep",
                                    "16 MiB")
    max_store_bytes: int = _setting("MNIST_DEMO_MAX_STORE_BYTES", 2 * 1024 * 1024 * 1024,
                                    "bytes all classes' drawings keep in one store (one server's, or the servers' shared database)", "2 GiB")
    # Training
    max_trainings: int = _setting("MNIST_DEMO_MAX_TRAININGS", 1, "trainings running at once (the others wait)")
    max_queued: int = _setting("MNIST_DEMO_MAX_QUEUED", 200, "trainings waiting in line (a last bound on scripts)")
    queue_seconds: float = _setting("MNIST_DEMO_QUEUE_SECONDS", 900.0,
                                    "seconds of work the training line may hold", "900 (15 minutes)")
    queue_per_address: int = _setting("MNIST_DEMO_QUEUE_PER_ADDRESS", 4,
                                      "trainings one address may have in line outside class mode")
    max_train_steps: int | None = _setting("MNIST_DEMO_MAX_TRAIN_STEPS", None, "optimizer steps of one training",
                                           "20,000 on the CPU, 200,000 on a GPU")
    train_threads: int | None = _setting("MNIST_DEMO_TRAIN_THREADS", None, "torch threads of one training",
                                         "every core")
    train_nice: int = _setting("MNIST_DEMO_TRAIN_NICE", 10, "how much lower a training's CPU priority is")
    train_start: str = _setting("MNIST_DEMO_TRAIN_START", "forkserver",
                                "how training processes start: forkserver or spawn")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives; a value that is not a number where one is needed raises ValueError
        naming the variable."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            name = f.metadata["variable"]
            text = (environ.get(name) or "").strip()
            if not text or (name == "MNIST_DEMO_TRUSTED_PROXIES" and not text.isdigit()):
                continue  # unset (a proxy count that is not one: the default for the place)
            kind = type(f.default) if f.default is not None else (int if "int" in str(f.type) else str)
            try:
                values[f.name] = True if kind is bool else kind(text)
            except ValueError:
                raise ValueError(f"${name} must be a number (got {text!r})") from None
        return cls(**values)

    @property
    def sessions_kept(self) -> int:
        return self.max_sessions if self.max_sessions is not None else 2 * self.page_loads_per_window


_current: Settings | None = None
_lock = threading.Lock()


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment (the app's and each command's start; tests after changing it) and use what it says."""
    global _current
    settings = Settings.from_environment(environ)
    with _lock:
        _current = settings
    return settings


def current() -> Settings:
    """The settings in use (read from the environment on first use when nothing has called `load`)."""
    with _lock:
        if _current is not None:
            return _current
    return load()


def quiet_openmp() -> None:
    """Let OpenMP threads that wait for work sleep instead of spinning (before torch is imported, or it has no
    effect; a value already in the environment wins). On a busy machine spinning threads steal the cores the
    work needs: one fastnet epoch on 2 threads of a loaded 2-core machine took 78-115 s spinning, 31-38 s passive."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# How the training processes' fork server, and every training process it forks, start (glibc and OpenMP read these
# only as a process starts; the web server's own environment is not touched):
# - glibc gives freed blocks of a few MB back to the OS and maps fresh ones for the next batches, and every page of
#   fresh memory faults on first touch: a fast-recipe training process held its slot 3.5-5.3 s with glibc's
#   defaults, 3.0-3.9 s keeping up to 256 MB of freed memory for reuse (alternating runs, load ~1). Training
#   processes are short-lived, so they keep it.
# - A training step hands its two OpenMP threads a hundred short pieces of work; under quiet_openmp's PASSIVE a
#   thread that finds none sleeps at once and the next piece waits for it to be woken. Spinning GOMP_SPINCOUNT
#   times first (tens of microseconds) bridges those gaps: one fast-recipe epoch (the 29k-parameter fastnet)
#   2.95 s -> 2.3 s on an idle machine, a class's 30 trainings 48 s -> 35 s. Longer spins steal the CPU from the
#   rest of a busy machine: with one core kept busy an epoch took 6.6 s passive, 7.2 s at 1,000, 8.0 s at 3,000,
#   14 s at 10,000 (OpenMP's default, 300,000, made training 3x slower on a loaded machine).
TRAINING_PROCESS_TUNING = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
                           "GOMP_SPINCOUNT": "1000"}


@contextlib.contextmanager
def training_processes_environment() -> Iterator[None]:
    """TRAINING_PROCESS_TUNING in the environment while the training processes' fork server starts (it and the
    processes it forks keep them), then the web server's environment as it was; a value already set wins."""
    added = {name: value for name, value in TRAINING_PROCESS_TUNING.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def readme_table() -> str:
    """The README's table of settings, in the order above."""
    rows = ["| variable | default | what it sets or bounds |", "|---|---|---|"]
    for f in fields(Settings):
        shown = f.metadata["shown"] or str(f.default)
        rows.append(f"| `{f.metadata['variable']}` | {shown} | {f.metadata['bounds']} |")
    return "\n".join(rows) + "\n"
