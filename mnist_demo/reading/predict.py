"""A drawing or picture in, the model's ten probabilities out: the road canvas -> preprocess -> model.

`read_drawing` and `read_picture` never raise for bad input: they return a `Reading` whose
`outcome` says what happened (a digit, a doubtful one, nothing drawn, an unreadable file), so
every front end (the Draw tab, the API, a benchmark) reports it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..data import DATASETS
from .files import PictureError, decode_ink_payload, load_picture
from .geometry import Prepared, from_ink
from .inference import WORKER
from .photo import from_picture

NOT_SURE_BELOW = 0.5  # a top probability under this gets a "not sure" note
DIGITS = DATASETS["mnist"].classes

# Outcomes of a reading
CONFIDENT = "confident"
NOT_SURE = "not_sure"
BLANK = "blank"  # nothing drawn, or no ink in the picture: show no probabilities
UNREADABLE = "unreadable"  # the payload or file could not be used; `detail` says why


@dataclass
class Reading:
    outcome: str
    prepared: Prepared | None = None
    probabilities: dict[str, float] | None = None  # class label -> probability, all classes
    detail: str = ""  # for UNREADABLE: the reason, in English
    source: str = "drawing"  # "drawing" (the canvas payload) or "picture" (a file)

    @property
    def top(self) -> tuple[str, float] | None:
        """(label, probability) of the most likely class, or None when there are no probabilities."""
        if not self.probabilities:
            return None
        return max(self.probabilities.items(), key=lambda item: item[1])


def predict(model: nn.Module, prepared: Prepared, classes: tuple[str, ...] = DIGITS) -> dict[str, float]:
    """Every class's probability for one prepared input, in class order (batched with whoever else is waiting)."""
    probs = WORKER.probabilities(model, prepared.tensor())
    return {label: float(p) for label, p in zip(classes, probs.tolist(), strict=True)}


def is_not_sure(probs: dict[str, float], threshold: float = NOT_SURE_BELOW) -> bool:
    return max(probs.values()) < threshold


def read_prepared(prepared: Prepared, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """Predict unless the input is blank; a blank input gets no probabilities at all."""
    if prepared.blank:
        return Reading(BLANK, prepared)
    probs = predict(model, prepared, classes)
    return Reading(NOT_SURE if is_not_sure(probs) else CONFIDENT, prepared, probs)


def read_drawing(payload: str | None, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """The browser canvas's JSON ink payload (see `files.decode_ink_payload`) read by `model`."""
    try:
        prepared = from_ink(decode_ink_payload(payload))
    except PictureError as exc:
        return Reading(UNREADABLE, detail=str(exc), source="drawing")
    return read_prepared(prepared, model, classes)


def read_picture(source: str | Path | bytes, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """A picture file (path or bytes) read by `model`; huge, broken or non-picture files are UNREADABLE."""
    try:
        prepared = from_picture(load_picture(source))
    except PictureError as exc:  # its message names the file (the user's own name for it), never a server path
        return Reading(UNREADABLE, detail=str(exc), source="picture")
    except (ValueError, OSError, MemoryError):  # odd files can fail deep inside PIL too: say so, show no internals
        return Reading(UNREADABLE, detail="The picture could not be read.", source="picture")
    reading = read_prepared(prepared, model, classes)
    reading.source = "picture"
    return reading
