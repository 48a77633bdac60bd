"""A class's drawings as a dataset zip, in My digits' format (`digits_zip.digits_zip`), so a class's
export uploads into My digits and trains with `python -m mnist_demo.train --extra-data`.

labels.csv carries the format's columns (file, label, source, ink) and the class's own: the
model's answer and confidence at the time, the model, the nickname and the time (ISO, UTC).
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
from PIL import Image

from ..digits_zip import digits_zip
from ..my_digits import MyDigit
from .store import Drawing


def _ink(drawing: Drawing) -> np.ndarray | None:
    if not drawing.ink_png:
        return None
    with Image.open(io.BytesIO(drawing.ink_png)) as image:  # our own PNG, written by the store
        return np.asarray(image.convert("L"), np.uint8)


def dataset_zip(drawings: list[Drawing], title: str = "") -> bytes:
    """The zip's bytes for these drawings, in the order given."""
    digits = [MyDigit(n, d.label, np.asarray(d.input, np.uint8), _ink(d), "drawing") for n, d in enumerate(drawings)]
    extra = {
        "answer": ["" if d.answer is None else str(d.answer) for d in drawings],
        "confidence": ["" if d.confidence is None else f"{d.confidence:.4f}" for d in drawings],
        "model": [d.model for d in drawings],
        "nickname": [d.nickname for d in drawings],
        "created": [dt.datetime.fromtimestamp(d.created, dt.timezone.utc).isoformat(timespec="seconds")
                    for d in drawings],
    }
    readme = (f"{title or 'A class'}: {len(drawings)} handwritten digits drawn in the Class tab of the "
              "\"Draw a digit\" app.\n\n"
              "images/NNNNN-L.png        the 28x28 model input (white ink on black, as MNIST), L = the label given\n"
              "ink/NNNNN-L.png           the ink it was made from, when kept\n"
              "labels.csv                file,label,source,ink,answer,confidence,model,nickname,created\n"
              "train-images-idx3-ubyte   the same images in MNIST's IDX format; train-labels-idx1-ubyte their labels\n")
    return digits_zip(digits, readme, extra)
