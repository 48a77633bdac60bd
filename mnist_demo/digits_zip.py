"""The dataset zip of labelled digits, one format for My digits' download and a class's export.

`images/NNNNN-L.png` (the 28x28 inputs, white ink on black), `ink/NNNNN-L.png` (the ink, when
known), `labels.csv` (file,label,source,ink, then any columns of the writer's own), and the same
digits as MNIST-format IDX files `train-images-idx3-ubyte` / `train-labels-idx1-ubyte`
(torchvision's reader and `data.read_idx` read them). Reading a zip never unpacks anything to disk
and never unpickles: only the members it names are read, into memory, after checking the file
count, the declared and the actual uncompressed sizes, every image's size and every label.
"""

from __future__ import annotations

import csv
import io
import os
import re
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .canvas_spec import INK_SIDE
from .reading.files import without_png_text

MAX_DIGITS = 500  # the most a zip may hold: My digits' cap (500 digits are ~7 MB of ink)
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


class DigitsZipError(ValueError):
    """A zip that is not a My digits dataset, or breaks its limits; the message can be shown as it is."""


def digits_zip(digits: Sequence, readme: str, extra: dict[str, Sequence[str]] | None = None) -> bytes:
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
        csv.writer(text, lineterminator="\n").writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
        zf.writestr(LABELS_CSV, text.getvalue())
        images = np.stack([d.image for d in digits]) if digits else np.zeros((0, FIELD, FIELD), np.uint8)
        zf.writestr(IMAGES_IDX, idx_bytes(images.astype(np.uint8)))
        zf.writestr(LABELS_IDX, idx_bytes(np.array([d.label for d in digits], np.uint8)))
        zf.writestr("README.txt", readme)
    return buffer.getvalue()



def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage return) would be
    run as a formula (a nickname like `=HYPERLINK(...)`), so it gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


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
    check_directory(data)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DigitsZipError("this is not a zip file") from exc


_END = b"PK\x05\x06"  # the end-of-central-directory record
_END_64_LOCATOR = b"PK\x06\x07"
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 256  # a central-directory entry is 46 bytes plus its name (ours: ~20 characters)


def check_directory(data: bytes) -> None:
    """Refuse a zip whose central directory declares more than MAX_MEMBERS files or more than
    MAX_DIRECTORY_BYTES, read from its end record before `zipfile` parses the directory whole (it builds an
    object for every entry, however many the directory holds). The end record is found as zipfile finds it."""
    at = data.rfind(_END, max(0, len(data) - 22 - 65535))
    if at < 0 or len(data) - at < 22:
        raise DigitsZipError("this is not a zip file")
    entries, size = struct.unpack("<H", data[at + 10:at + 12])[0], struct.unpack("<I", data[at + 12:at + 16])[0]
    if at >= 20 and data[at - 20:at - 16] == _END_64_LOCATOR or entries == 0xFFFF or size == 0xFFFFFFFF:
        raise DigitsZipError("ZIP64 archives are not accepted (a My digits zip is small)")
    if entries > MAX_MEMBERS:
        raise DigitsZipError(f"the zip holds {entries} files; a My digits zip has at most {MAX_MEMBERS}")
    if size > MAX_DIRECTORY_BYTES:
        raise DigitsZipError("the zip's list of files is larger than a My digits zip's can be")


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
        with Image.open(io.BytesIO(without_png_text(data))) as image:
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

