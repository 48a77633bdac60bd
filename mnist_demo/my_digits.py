"""My digits: a person's own labelled digits, kept for teaching the network their handwriting.

Each digit is the 28x28 model input (uint8, white ink on black, as MNIST) plus the original ink it
was made from (the canvas's ink map, or a picture's ink cropped and shrunk to at most INK_SIDE px),
so it can be prepared again later. A collection holds at most MAX_DIGITS digits.

A collection travels as a zip (`to_zip` / `from_zip`), in the format `digits_zip` writes and reads
(PNGs, labels.csv, MNIST IDX files; checked, nothing unpacked, nothing unpickled).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .canvas_spec import INK_SIDE
from .data import Split
from .digits_zip import CLASSES, FIELD, MAX_DIGITS, SOURCES, DigitsZipError, digits_zip, read_zip

__all__ = ["MAX_DIGITS", "CollectionFull", "DigitsZipError", "MyDigit", "MyDigits", "ink_of", "training_data"]


class CollectionFull(ValueError):
    """The collection already holds its cap of digits."""





@dataclass(frozen=True)
class MyDigit:
    id: int  # unique within its collection, in the order added
    label: int
    image: np.ndarray  # (28, 28) uint8, the model input, white ink on black
    ink: np.ndarray | None  # (h, w) uint8, 255 = full ink, at most INK_SIDE on each side; None when unknown
    source: str = "drawing"  # drawing, picture or imported


def ink_of(prepared) -> np.ndarray | None:
    """The original ink a `reading.geometry.Prepared` was made from (its "ink" step), at most INK_SIDE px a side.

    A canvas's ink map is INK_SIDE square already and is kept as it is; a picture's ink is cropped to
    its bounding box (plus a margin) and shrunk to fit, which `geometry.from_ink` prepares the same way.
    """
    ink = next((image for name, image in getattr(prepared, "steps", []) if name == "ink"), None)
    if ink is None:
        return None
    ink = np.asarray(ink, np.uint8)
    if max(ink.shape) <= INK_SIDE:
        return ink.copy()
    rows, cols = np.flatnonzero((ink > 12).any(1)), np.flatnonzero((ink > 12).any(0))
    if rows.size:
        margin = max(2, int(0.1 * max(rows[-1] - rows[0], cols[-1] - cols[0])))
        ink = ink[max(0, rows[0] - margin): rows[-1] + 1 + margin, max(0, cols[0] - margin): cols[-1] + 1 + margin]
    scale = INK_SIDE / max(ink.shape)
    if scale < 1:
        size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
        ink = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BOX), np.uint8)
    return ink


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.shape != (FIELD, FIELD):
        raise ValueError(f"a digit must be {FIELD}x{FIELD} (got {image.shape})")
    if image.dtype != np.uint8:
        image = np.round(np.clip(image.astype(np.float32), 0, 1) * 255).astype(np.uint8)
    return image.copy()


def _check_label(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) < CLASSES:
        raise ValueError(f"a label must be a whole number from 0 to {CLASSES - 1} (got {label!r})")
    return int(label)


class MyDigits:
    """A bounded, thread-safe collection of labelled digits (one per browser session)."""

    def __init__(self, cap: int = MAX_DIGITS) -> None:
        self.cap = cap
        self._digits: list[MyDigit] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._digits)

    def __iter__(self) -> Iterator[MyDigit]:
        return iter(self.digits())

    def digits(self) -> list[MyDigit]:
        with self._lock:
            return list(self._digits)

    @property
    def full(self) -> bool:
        return len(self._digits) >= self.cap

    def add(self, image: np.ndarray, label: int, ink: np.ndarray | None = None, source: str = "drawing") -> MyDigit:
        """Keep one digit (28x28 uint8, or float in [0, 1]); CollectionFull past the cap."""
        image, label = _check_image(image), _check_label(label)
        if ink is not None:
            ink = np.asarray(ink, np.uint8)
            if ink.ndim != 2 or not 1 <= min(ink.shape) <= max(ink.shape) <= INK_SIDE:
                raise ValueError(f"the ink must be a grey image of at most {INK_SIDE}x{INK_SIDE} (got {ink.shape})")
            ink = ink.copy()
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)} (got {source!r})")
        with self._lock:
            if len(self._digits) >= self.cap:
                raise CollectionFull(f"My digits holds at most {self.cap} digits: delete some before adding more.")
            digit = MyDigit(next(self._ids), label, image, ink, source)
            self._digits.append(digit)
            return digit

    def add_prepared(self, prepared, label: int, source: str = "drawing") -> MyDigit:
        """Keep the current drawing or picture (a `Prepared`): its model input and its ink."""
        if prepared is None or getattr(prepared, "blank", False):
            raise ValueError("there is no digit to keep: draw or upload one first")
        return self.add(prepared.image, label, ink_of(prepared), source)

    def remove(self, digit_id: int) -> bool:
        """Delete one digit by id; False when there is none with that id."""
        with self._lock:
            for i, digit in enumerate(self._digits):
                if digit.id == digit_id:
                    del self._digits[i]
                    return True
        return False

    def clear(self) -> None:
        with self._lock:
            self._digits.clear()

    def counts(self) -> list[int]:
        """How many digits of each label, 0-9."""
        counts = [0] * CLASSES
        for digit in self.digits():
            counts[digit.label] += 1
        return counts

    def by_label(self) -> dict[int, list[MyDigit]]:
        out: dict[int, list[MyDigit]] = {label: [] for label in range(CLASSES)}
        for digit in self.digits():
            out[digit.label].append(digit)
        return out

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(images N x 28 x 28 uint8, labels N int64), in the order added."""
        digits = self.digits()
        if not digits:
            return np.zeros((0, FIELD, FIELD), np.uint8), np.zeros(0, np.int64)
        return np.stack([d.image for d in digits]), np.array([d.label for d in digits], np.int64)

    def split(self) -> Split:
        """The digits as a `data.Split` (what the training engine takes)."""
        images, labels = self.arrays()
        return Split(torch.from_numpy(images), torch.from_numpy(labels))

    # -----------------------------------------------------------------------------------------
    # The zip

    def to_zip(self, path: str | os.PathLike | None = None) -> bytes:
        """The collection as a dataset zip (returned; also written to `path` when given)."""
        data = digits_zip(self.digits(), README.format(count=len(self), cap=self.cap))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    @classmethod
    def from_zip(cls, source: str | os.PathLike | bytes, cap: int = MAX_DIGITS) -> MyDigits:
        """A collection read from a dataset zip (path or bytes), checked; DigitsZipError says what is wrong."""
        collection = cls(cap)
        for image, label, ink, digit_source in read_zip(source, cap):
            collection.add(image, label, ink, digit_source)
        return collection

    def extend_from_zip(self, source: str | os.PathLike | bytes) -> int:
        """Add a zip's digits to this collection (all or nothing); how many were added."""
        room = self.cap - len(self)
        entries = read_zip(source, self.cap)
        if len(entries) > room:
            raise CollectionFull(f"The zip holds {len(entries)} digits but My digits has room for {room} more "
                                 f"(at most {self.cap}).")
        for image, label, ink, digit_source in entries:
            self.add(image, label, ink, digit_source)
        return len(entries)




README = """My digits: handwritten digits collected in the "Draw a digit" app ({count} digits; at most {cap}).

images/NNNNN-L.png        the 28x28 model input (white ink on black, as MNIST), L = its label
ink/NNNNN-L.png           the ink it was made from (255 = ink), when known
labels.csv                file,label,source,ink for every digit
train-images-idx3-ubyte   the same 28x28 images in MNIST's IDX format (uncompressed)
train-labels-idx1-ubyte   their labels in MNIST's IDX format

python -m mnist_demo.train --model digitnet --extra-data my-digits.zip --out runs/mine
trains on MNIST plus these digits. torchvision.datasets.mnist.read_image_file reads the IDX files.
"""



def training_data(path: str | None, repeats: int, dataset: str) -> tuple[Split | None, dict | None]:
    """A My digits zip as training data (repeated `repeats` times) and what the card says of it
    (`python -m mnist_demo.train --extra-data`)."""
    if not path:
        return None, None
    if dataset != "mnist":
        raise ValueError("--extra-data holds digits: use it with --dataset mnist")
    if not 1 <= repeats <= 1000:
        raise ValueError(f"--extra-repeats must be between 1 and 1000 (got {repeats})")
    raw = Path(path).read_bytes()
    digits = MyDigits.from_zip(raw)
    split = digits.split()
    split = Split(split.images.repeat(repeats, 1, 1), split.labels.repeat(repeats))
    return split, {"file": Path(path).name, "sha256": hashlib.sha256(raw).hexdigest(), "digits": len(digits),
                   "digits_per_label": digits.counts(), "repeats": repeats}
