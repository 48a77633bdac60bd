"""The preprocessing must not cost the default model its accuracy on digits drawn the way users draw.

MNIST test digits are redrawn as black ink on a white 280x280 canvas (random size, 40-80% of the
canvas, random place, strokes thickened by a random amount, soft edges), then prepared by
`from_picture`, and also as the browser canvas sends them (a 112x112 ink map) through `from_ink`.
The default model must stay at 99% or more on both. The test uses a seeded random 3,000 of the
10,000 (all of them take ~3.5 min on two busy cores; 3,000 take about a minute). Run this file
directly for the numbers with any weights file, on SAMPLE images or all of them ("all"):

    MNIST_DEMO_DATA=... python tests/test_rerendered_mnist.py weights/digitnet.safetensors [all|N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from mnist_demo import weights
from mnist_demo.data import DataMissingError, load_split
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = REPO / "weights" / "digitnet.safetensors"
CANVAS = 280
BROWSER_SIDE = 112  # the browser canvas sends a 112x112 ink map
SAMPLE = 3000  # a seeded random subset of the 10,000 test digits, to keep the test near a minute


def dilate_square(ink: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation by a (2r+1) square, separably; the image grows by `radius` on every side."""
    if radius < 1:
        return ink
    padded = np.pad(ink, radius)
    rows = sliding_window_view(padded, 2 * radius + 1, axis=0).max(axis=-1)
    return np.pad(sliding_window_view(rows, 2 * radius + 1, axis=1).max(axis=-1), ((radius, radius), (0, 0)))


def render_like_a_user(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit (28x28 uint8) redrawn as black ink on a white CANVAS x CANVAS uint8 picture."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = rng.uniform(0.4, 0.8) * CANVAS / 20  # MNIST's box is 20 px: the longer side becomes 40-80% of the canvas
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    big = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC), np.float32) / 255
    pen = np.clip((big - 0.5) / 0.15 + 0.5, 0.0, 1.0)  # a pen's solid stroke with a soft (anti-aliased) edge
    pen = dilate_square(pen, int(rng.integers(0, round(0.025 * max(size)) + 1)))
    pen = pen[: CANVAS, : CANVAS]
    top = int(rng.integers(0, CANVAS - pen.shape[0] + 1))
    left = int(rng.integers(0, CANVAS - pen.shape[1] + 1))
    ink = np.zeros((CANVAS, CANVAS), np.float32)
    ink[top:top + pen.shape[0], left:left + pen.shape[1]] = pen
    return np.round(255 * (1.0 - ink)).astype(np.uint8)


def browser_ink(picture: np.ndarray) -> np.ndarray:
    """The ink map the browser canvas would send for this drawing: 112x112, 1 = full ink."""
    ink = Image.fromarray(255 - picture).resize((BROWSER_SIDE, BROWSER_SIDE), Image.Resampling.BOX)
    return np.asarray(ink, np.float32) / 255


def predict(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(images).float().unsqueeze(1)).argmax(1).numpy()


def measure(weights_path: Path, count: int | None = None, seed: int = 0) -> dict[str, float]:
    """Accuracy of a model on the raw MNIST test set and on the same digits redrawn and prepared."""
    torch.set_num_threads(1)
    model, _ = weights.load(weights_path)
    test = load_split("mnist", "test")
    digits, labels = test.images.numpy(), test.labels.numpy()
    if count is not None:
        chosen = np.random.default_rng(seed).choice(len(labels), count, replace=False)
        digits, labels = digits[chosen], labels[chosen]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    pictures, inks, blanks = [], [], 0
    for digit in digits:
        picture = render_like_a_user(digit, rng)
        prepared = from_picture(picture)
        blanks += prepared.blank
        pictures.append(prepared.image)
        inks.append(from_ink(browser_ink(picture)).image)
    elapsed = time.perf_counter() - started
    return {
        "images": len(labels),
        "raw": float((predict(model, digits.astype(np.float32) / 255) == labels).mean()),
        "picture": float((predict(model, np.stack(pictures)) == labels).mean()),
        "ink": float((predict(model, np.stack(inks)) == labels).mean()),
        "blank": blanks,
        "seconds": elapsed,
    }


@pytest.mark.slow
def test_default_model_keeps_99_percent_on_redrawn_digits():
    assert DEFAULT_WEIGHTS.is_file(), f"the default model's weights are missing: {DEFAULT_WEIGHTS}"
    try:
        result = measure(DEFAULT_WEIGHTS, SAMPLE)
    except DataMissingError as exc:
        pytest.skip(str(exc))
    assert result["blank"] == 0
    assert result["picture"] >= 0.99, result
    assert result["ink"] >= 0.99, result
    # Redrawing and preparing may cost a little, never a whole point.
    assert result["raw"] - min(result["picture"], result["ink"]) < 0.01, result


def test_rendering_is_what_it_claims():
    """The test's own renderer: black on white, the digit 40-80% of the canvas, reproducible."""
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1": 20 tall, 4 wide
    heights = []
    for seed in range(20):
        picture = render_like_a_user(digit, np.random.default_rng(seed))
        assert picture.shape == (CANVAS, CANVAS) and picture.dtype == np.uint8
        assert picture.max() == 255 and picture.min() == 0
        rows = np.flatnonzero((picture < 128).any(axis=1))
        heights.append(rows[-1] - rows[0] + 1)
    assert 0.38 * CANVAS <= min(heights) and max(heights) <= 0.86 * CANVAS
    first = render_like_a_user(digit, np.random.default_rng(1))
    assert np.array_equal(first, render_like_a_user(digit, np.random.default_rng(1)))


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_WEIGHTS
    count = sys.argv[2] if len(sys.argv) > 2 else str(SAMPLE)
    print(measure(path, None if count == "all" else int(count)))
