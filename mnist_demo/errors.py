"""What a user may read about a failure: its words, without any server path, and short. The one place that
hides paths, for training errors and rejected uploads alike."""

from __future__ import annotations

import re

MAX_MESSAGE = 300  # characters of an error message shown to the user

_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[/\\][^\s'\"(),;]*?(?=[.:]?(?:[\s'\"(),;]|$))")


def hide_paths(text: str) -> str:
    """`text` with anything that looks like a file path replaced by "[…]"."""
    return _PATH.sub("[…]", text)


def friendly_error(exc: BaseException) -> str:
    """What a user may read about a failure: its message, without server paths, short."""
    text = hide_paths(str(exc)).strip() or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"
