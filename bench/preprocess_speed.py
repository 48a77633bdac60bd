"""Benchmark: how long preprocessing takes for a canvas ink map and for a phone-sized photo.

    python -m bench.preprocess_speed [--repeats 50]

Prints the median wall time and the median CPU time of this process per call (the CPU time is the
fairer figure on a machine shared with other work). Cases: `from_ink` on a 112x112 ink map (what
the browser canvas sends) and on a 280x280 one (a stock Sketchpad), `from_picture` on a
3000x4000 RGB photo array (dark pen on paper with a shadow and noise), and `load_picture` plus
`from_picture` on the same photo as a JPEG file.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image, ImageDraw

from mnist_demo.reading.files import load_picture
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture
from tests.harness import describe_machine, machine_info


def ink_map(side: int) -> np.ndarray:
    """A "7" drawn with an 18 px brush on a 280 canvas, resized to side x side."""
    image = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(image).line([(60, 50), (210, 50), (110, 240)], fill=255, width=18, joint="curve")
    return np.asarray(image.resize((side, side), Image.Resampling.BOX), np.float32) / 255


def photo(height: int = 3000, width: int = 4000) -> np.ndarray:
    """Grey paper lit from one side, Gaussian noise, a dark pen "7"; uint8 RGB."""
    rng = np.random.default_rng(0)
    pen = Image.new("L", (width, height), 0)
    ImageDraw.Draw(pen).line([(1500, 700), (2400, 700), (1800, 2300)], fill=255, width=30, joint="curve")
    ink = np.asarray(pen, np.float32) / 255
    paper = 0.45 + 0.4 * np.linspace(0, 1, width, dtype=np.float32)[None, :]
    grey = paper * (1 - 0.8 * ink) + rng.normal(0, 0.03, (height, width)).astype(np.float32)
    grey = np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def timed(call, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds per call, after one warm-up call."""
    call()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    big = photo()
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, format="JPEG", quality=90)
    jpeg = buffer.getvalue()
    small, canvas = ink_map(112), ink_map(280)
    cases = [
        ("from_ink, 112x112 ink map", lambda: from_ink(small), args.repeats),
        ("from_ink, 280x280 ink map", lambda: from_ink(canvas), args.repeats),
        ("from_picture, 3000x4000 RGB array", lambda: from_picture(big), max(5, args.repeats // 5)),
        ("load_picture + from_picture, 3000x4000 JPEG", lambda: from_picture(load_picture(jpeg)),
         max(5, args.repeats // 5)),
    ]
    print(f"{describe_machine(machine_info())}, numpy {np.__version__}")
    for name, call, repeats in cases:
        wall, cpu = timed(call, repeats)
        print(f"{name:45s} {wall:8.2f} ms wall  {cpu:8.2f} ms CPU  (median of {repeats})")


if __name__ == "__main__":
    main()
