"""My digits: a person's own labelled digits, kept for teaching the network their handwriting.

Each digit is the 28x28 model input (uint8, white ink on black, as MNIST) plus the original ink it
was made from (the canvas's ink map, or a picture's ink cropped and shrunk to at most INK_SIDE px),
so it can be prepared again later. A collection holds at most MAX_DIGITS digits.

A collection travels as a zip (`to_zip` / `from_zip`): `images/NNNNN-L.png` (the 28x28 inputs),
`ink/NNNNN-L.png` (the ink), `labels.csv` (file,label,source), and the same digits as MNIST-format
IDX files `train-images-idx3-ubyte` / `train-labels-idx1-ubyte` (torchvision's reader and
`data.read_idx` read them). Reading a zip never unpacks anything to disk and never unpickles: only
the members it names are read, into memory, after checking the file count, the declared and the
actual uncompressed sizes, every image's size and every label.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
import struct
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .canvas_spec import INK_SIDE
from .data import Split

MAX_DIGITS = 500  # a collection's cap: 500 digits are ~7 MB of ink and enough to teach any handwriting
FIELD = 28
CLASSES = 10
IMAGES_IDX = "train-images-idx3-ubyte"
LABELS_IDX = "train-labels-idx1-ubyte"
LABELS_CSV = "labels.csv"
SOURCES = ("drawing", "picture", "imported")
# Import limits: what a MAX_DIGITS collection written by `to_zip` needs, with room to spare.
MAX_ZIP_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 2 * MAX_DIGITS + 8
MAX_MEMBER_BYTES = 512 * 1024  # a PNG of at most INK_SIDE x INK_SIDE grey, or an IDX file of MAX_DIGITS images
MAX_TOTAL_BYTES = 48 * 1024 * 1024  # all members together, uncompressed
_IMAGE_NAME = re.compile(r"images/(\d{1,6})-(\d)\.png")


class CollectionFull(ValueError):
    """The collection already holds its cap of digits."""


class DigitsZipError(ValueError):
    """A zip that is not a My digits dataset, or breaks its limits; the message can be shown as it is."""


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


def digits_zip(digits: Sequence[MyDigit], readme: str, extra: dict[str, Sequence[str]] | None = None) -> bytes:
    """The dataset zip of these digits: images/ (and ink/) PNGs, labels.csv, the two IDX files, README.txt.

    The one writer of the format: My digits' download and a class's export (`classroom.export`,
    which adds columns through `extra`: name -> one value per digit) both use it, so either zip
    uploads back into My digits and trains with `--extra-data`.
    """
    extra = extra or {}
    rows = [["file", "label", "source", "ink", *extra]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, digit in enumerate(digits, 1):
            name = f"images/{n:05d}-{digit.label}.png"
            zf.writestr(name, _png(digit.image))
            ink_name = ""
            if digit.ink is not None:
                ink_name = f"ink/{n:05d}-{digit.label}.png"
                zf.writestr(ink_name, _png(digit.ink))
            rows.append([name, str(digit.label), digit.source, ink_name, *(column[n - 1] for column in extra.values())])
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        zf.writestr(LABELS_CSV, text.getvalue())
        images = np.stack([d.image for d in digits]) if digits else np.zeros((0, FIELD, FIELD), np.uint8)
        zf.writestr(IMAGES_IDX, idx_bytes(images.astype(np.uint8)))
        zf.writestr(LABELS_IDX, idx_bytes(np.array([d.label for d in digits], np.uint8)))
        zf.writestr("README.txt", readme)
    return buffer.getvalue()


README = """My digits: handwritten digits collected in the "Draw a digit" app ({count} digits; at most {cap}).

images/NNNNN-L.png        the 28x28 model input (white ink on black, as MNIST), L = its label
ink/NNNNN-L.png           the ink it was made from (255 = ink), when known
labels.csv                file,label,source,ink for every digit
train-images-idx3-ubyte   the same 28x28 images in MNIST's IDX format (uncompressed)
train-labels-idx1-ubyte   their labels in MNIST's IDX format

python -m mnist_demo.train --model digitnet --extra-data my-digits.zip --out runs/mine
trains on MNIST plus these digits. torchvision.datasets.mnist.read_image_file reads the IDX files.
"""


def _png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, np.uint8), "L").save(out, "PNG", optimize=False)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# MNIST's IDX format

_IDX_TYPES = {np.dtype(np.uint8): 0x08}


def idx_bytes(array: np.ndarray) -> bytes:
    """An array in the IDX format (MNIST's): zero, zero, the type code, the number of dimensions, the sizes
    as big-endian 32-bit integers, then the values. Only uint8 (MNIST's type) is written."""
    array = np.ascontiguousarray(array)
    if array.dtype not in _IDX_TYPES:
        raise ValueError(f"IDX is written for uint8 arrays only (got {array.dtype})")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"an IDX array needs 1 to 255 dimensions (got {array.ndim})")
    header = bytes([0, 0, _IDX_TYPES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write `array` as an IDX file (uncompressed) at `path`."""
    path = Path(path)
    path.write_bytes(idx_bytes(array))
    return path


def parse_idx(raw: bytes, ndim: int, max_items: int) -> np.ndarray:
    """A uint8 IDX file's array, checked: its type, dimensions and that its length matches its header."""
    if len(raw) < 4 + 4 * ndim or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise DigitsZipError(f"not a {ndim}-dimensional uint8 IDX file")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    if dims[0] > max_items or (ndim == 3 and tuple(dims[1:]) != (FIELD, FIELD)):
        raise DigitsZipError(f"IDX sizes {dims} are not up to {max_items} images of {FIELD}x{FIELD}")
    if len(raw) != 4 + 4 * ndim + int(np.prod(dims)):
        raise DigitsZipError("the IDX file's length does not match its header")
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


# ---------------------------------------------------------------------------------------------
# Reading a zip, checked


def _open_zip(source: str | os.PathLike | bytes) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DigitsZipError("no such file")
        if path.stat().st_size > MAX_ZIP_BYTES:
            raise DigitsZipError(f"the file is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    if len(data) > MAX_ZIP_BYTES:
        raise DigitsZipError(f"the file is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DigitsZipError("this is not a zip file") from exc


class _Reader:
    """Reads members by name, each at most MAX_MEMBER_BYTES and all together at most MAX_TOTAL_BYTES,
    counting what is really decompressed (a header may lie)."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise DigitsZipError(f"the zip holds {len(infos)} files; a My digits zip has at most {MAX_MEMBERS}")
        if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
            raise DigitsZipError(f"the zip unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB")
        self.infos = {i.filename: i for i in infos if not i.is_dir()}
        self.total = 0

    def read(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise DigitsZipError(f"{name} is missing from the zip")
        if info.flag_bits & 0x1:
            raise DigitsZipError("encrypted zips are not accepted")
        if info.file_size > limit:
            raise DigitsZipError(f"{name} is larger than a My digits file can be")
        try:
            with self.zf.open(info) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            raise DigitsZipError(f"{name} could not be read from the zip") from exc
        self.total += len(data)
        if len(data) > limit or self.total > MAX_TOTAL_BYTES:
            raise DigitsZipError(f"{name} unpacks to more than its header says")
        return data


def _read_png(data: bytes, name: str, exact: tuple[int, int] | None) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise DigitsZipError(f"{name} is not a PNG")
            width, height = image.size  # from the header, before any pixel is decoded
            if exact is not None and (height, width) != exact:
                raise DigitsZipError(f"{name} is {width}x{height}; the images must be {exact[1]}x{exact[0]}")
            if exact is None and not (1 <= width <= INK_SIDE and 1 <= height <= INK_SIDE):
                raise DigitsZipError(f"{name} is {width}x{height}; ink pictures are at most {INK_SIDE}x{INK_SIDE}")
            return np.asarray(image.convert("L"), np.uint8).copy()
    except DigitsZipError:
        raise
    except Exception as exc:  # PIL raises many kinds for a broken file
        raise DigitsZipError(f"{name} is not a readable PNG") from exc


def read_zip(source: str | os.PathLike | bytes, cap: int = MAX_DIGITS) -> list[tuple[np.ndarray, int, np.ndarray | None, str]]:
    """The (image, label, ink, source) entries of a My digits zip: labels.csv with its PNGs, or else the IDX pair.

    Nothing outside the named members is read. DigitsZipError for anything that does not fit.
    """
    with _open_zip(source) as zf:
        reader = _Reader(zf)
        if LABELS_CSV in reader.infos:
            return _read_csv_zip(reader, cap)
        if IMAGES_IDX in reader.infos and LABELS_IDX in reader.infos:
            return _read_idx_zip(reader, cap)
        raise DigitsZipError(f"not a My digits zip: it has neither {LABELS_CSV} nor the IDX files "
                             f"{IMAGES_IDX} and {LABELS_IDX}")


def _read_csv_zip(reader: _Reader, cap: int) -> list:
    try:
        text = reader.read(LABELS_CSV, 64 * 1024).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DigitsZipError(f"{LABELS_CSV} is not readable text") from exc
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["file", "label"]:
        raise DigitsZipError(f"{LABELS_CSV} must start with the header file,label")
    rows = [r for r in rows[1:] if any(c.strip() for c in r)]
    if len(rows) > cap:
        raise DigitsZipError(f"the zip holds {len(rows)} digits; My digits holds at most {cap}")
    entries, seen = [], set()
    for line, row in enumerate(rows, 2):
        name = row[0].strip() if row else ""
        if not _IMAGE_NAME.fullmatch(name) or name in seen:
            raise DigitsZipError(f"{LABELS_CSV} line {line}: {name[:60]!r} is not an images/NNNNN-L.png name "
                                 f"(or appears twice)")
        seen.add(name)
        label_text = row[1].strip() if len(row) > 1 else ""
        if not re.fullmatch(r"\d", label_text):
            raise DigitsZipError(f"{LABELS_CSV} line {line}: the label must be a digit from 0 to 9 "
                                 f"(got {label_text[:20]!r})")
        source = row[2].strip() if len(row) > 2 and row[2].strip() in SOURCES else "imported"
        image = _read_png(reader.read(name), name, (FIELD, FIELD))
        ink = None
        ink_name = row[3].strip() if len(row) > 3 else ""
        if ink_name:
            if not re.fullmatch(r"ink/\d{1,6}-\d\.png", ink_name):
                raise DigitsZipError(f"{LABELS_CSV} line {line}: {ink_name[:60]!r} is not an ink/NNNNN-L.png name")
            ink = _read_png(reader.read(ink_name), ink_name, None)
        entries.append((image, int(label_text), ink, source))
    return entries


def _read_idx_zip(reader: _Reader, cap: int) -> list:
    images = parse_idx(reader.read(IMAGES_IDX, cap * FIELD * FIELD + 16), 3, cap)
    labels = parse_idx(reader.read(LABELS_IDX, cap + 8), 1, cap)
    if len(images) != len(labels):
        raise DigitsZipError(f"the IDX files hold {len(images)} images but {len(labels)} labels")
    if labels.size and labels.max() >= CLASSES:
        raise DigitsZipError(f"the labels must be from 0 to {CLASSES - 1} (found {int(labels.max())})")
    return [(image, int(label), None, "imported") for image, label in zip(images, labels, strict=True)]


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
