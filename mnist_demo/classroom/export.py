"""A class's drawings as a dataset zip: one PNG per drawing, labels.csv, and MNIST-format IDX files.

Layout (the digits collection's format: images/, labels.csv, the two IDX files):
  images/00001_7.png           the 28x28 model input, white ink on black, like MNIST
  labels.csv                   file,label,answer,confidence,model,nickname,created (ISO time, UTC)
  train-images-idx3-ubyte      N x 28 x 28 uint8, read by `mnist_demo.data.read_idx` and torchvision
  train-labels-idx1-ubyte      N uint8
  README.txt                   what the files are
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import zipfile

import numpy as np
from PIL import Image

from .store import Drawing

IMAGES_IDX = "train-images-idx3-ubyte"
LABELS_IDX = "train-labels-idx1-ubyte"


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of uint8 values: magic 0x0000 08 ndim, big-endian sizes, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def dataset_zip(drawings: list[Drawing], title: str = "") -> bytes:
    """The zip's bytes for these drawings, in the order given."""
    images = np.stack([d.input for d in drawings]) if drawings else np.zeros((0, 28, 28), np.uint8)
    labels = np.array([d.label for d in drawings], np.uint8)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["file", "label", "answer", "confidence", "model", "nickname", "created"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, drawing in enumerate(drawings, start=1):
            name = f"images/{number:05d}_{drawing.label}.png"
            archive.writestr(name, _png(drawing.input))
            when = dt.datetime.fromtimestamp(drawing.created, dt.timezone.utc).isoformat(timespec="seconds")
            writer.writerow([name, drawing.label, "" if drawing.answer is None else drawing.answer,
                             "" if drawing.confidence is None else f"{drawing.confidence:.4f}",
                             drawing.model, drawing.nickname, when])
        archive.writestr("labels.csv", table.getvalue())
        archive.writestr(IMAGES_IDX, idx_bytes(images))
        archive.writestr(LABELS_IDX, idx_bytes(labels))
        archive.writestr("README.txt", (
            f"{title or 'A class'}: {len(drawings)} handwritten digits drawn in the mnist_demo Class tab.\n"
            "images/NNNNN_L.png: the 28x28 model input (white ink on black, like MNIST), L = the label given.\n"
            "labels.csv: file, label given, the model's answer and confidence at the time, model, nickname, time.\n"
            f"{IMAGES_IDX} / {LABELS_IDX}: the same digits as MNIST-format IDX files.\n"))
    return buffer.getvalue()
