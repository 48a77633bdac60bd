"""A drawing or picture in, the model's ten probabilities out: the road canvas -> reading (the 28x28 input) -> model.

`read_drawing` and `read_picture` never raise for bad input: they return a `Reading` whose
`outcome` says what happened (a digit, a doubtful one, nothing drawn, an unreadable file), so
every front end (the Draw tab, the API, a benchmark) reports it the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..data import DATASETS
from .files import PictureError, decode_ink_payload, load_picture
from .geometry import Prepared, from_ink
from .inference import WORKER
from .photo import from_picture

NOT_SURE_BELOW = 0.5  # a top probability under this gets a "not sure" note, unless the model's card says otherwise
DIGITS = DATASETS["mnist"].classes
PREDICT_CONCURRENCY = 4  # a prediction takes a few ms: several run at once (more would only fight over the cores)
PREDICTING = threading.BoundedSemaphore(PREDICT_CONCURRENCY)  # shared by every blocking prediction, whatever its route

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
    return _named(WORKER.probabilities(model, prepared.tensor()), classes)


def _named(probs, classes: tuple[str, ...]) -> dict[str, float]:
    return {label: float(p) for label, p in zip(classes, probs.tolist(), strict=True)}


def is_not_sure(probs: dict[str, float], threshold: float = NOT_SURE_BELOW) -> bool:
    return max(probs.values()) < threshold


def threshold_of(model: nn.Module) -> float:
    """The model's "not sure" threshold: its card's `not_sure_below` (set by weights.load), else NOT_SURE_BELOW."""
    return getattr(model, "not_sure_below", NOT_SURE_BELOW)


def _answered(prepared: Prepared, probs: dict[str, float], model: nn.Module) -> Reading:
    return Reading(NOT_SURE if is_not_sure(probs, threshold_of(model)) else CONFIDENT, prepared, probs)


def read_prepared(prepared: Prepared, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """Predict unless the input is blank; a blank input gets no probabilities at all."""
    if prepared.blank:
        return Reading(BLANK, prepared)
    return _answered(prepared, predict(model, prepared, classes), model)


def _prepare_drawing(payload: str | None) -> Prepared | Reading:
    try:
        return from_ink(decode_ink_payload(payload))
    except PictureError as exc:
        return Reading(UNREADABLE, detail=str(exc), source="drawing")


def read_drawing(payload: str | None, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """The browser canvas's JSON ink payload (see `files.decode_ink_payload`) read by `model`."""
    prepared = _prepare_drawing(payload)
    return prepared if isinstance(prepared, Reading) else read_prepared(prepared, model, classes)


async def read_drawing_async(payload: str | None, model: nn.Module, classes: tuple[str, ...] = DIGITS) -> Reading:
    """`read_drawing` for a coroutine: preprocessing in the caller's thread, the forward pass awaited
    (the event loop serves other requests meanwhile)."""
    prepared = _prepare_drawing(payload)
    if isinstance(prepared, Reading) or prepared.blank:
        return prepared if isinstance(prepared, Reading) else Reading(BLANK, prepared)
    return _answered(prepared, _named(await WORKER.probabilities_async(model, prepared.tensor()), classes), model)


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
