"""Real handwriting from writers MNIST never saw: UNIPEN pen strokes drawn the way the app's canvas draws them.

UNIPEN 1a digits (International Unipen Foundation; Guyon et al., "UNIPEN project of on-line data
exchange and recognizer benchmarks", ICPR 1994; CC BY 4.0, doi:10.5281/zenodo.1195803) are pen
trajectories, i.e. what a person produces on the app's canvas. This module reads them from the data
folder's `unipen-dev/`, places each digit on the canvas's [0, 1] square as a person would draw it,
and renders it exactly as the browser does (`ui/canvas.py`: round brush of BRUSH x side, quadratic
smoothing through midpoints, an INK_SIDE ink map sent as JSON), or as a picture of dark ink on white
paper for the upload path. It also makes the writer-grouped splits (a writer never sits on both
sides) and stroke-level variants for training.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .canvas_spec import BRUSH, INK_SIDE
from .data import DataMissingError, resolve_data_dir

FOLDER = "unipen-dev"
FILE = "digits.jsonl.gz"
SITES = ("syn", "ibm", "app", "tos")  # the four development sites in unipen-dev
CREDIT = ("UNIPEN 1a (International Unipen Foundation; I. Guyon et al., ICPR 1994), CC BY 4.0, "
          "doi:10.5281/zenodo.1195803")
DIGIT_SIZE = 0.7  # a drawn digit's longer side as a share of the canvas: a person fills most of it
SUPERSAMPLE = 8  # strokes are drawn 8x finer and averaged 8x8: anti-aliased edges like the browser's
PICTURE_SIDE = 280  # the picture path's paper, in pixels (the upload box takes any size)

Stroke = np.ndarray  # (n, 2) float: x, y


class HandwritingMissingError(DataMissingError):
    """unipen-dev/digits.jsonl.gz is not in the data folder."""


@dataclass(frozen=True)
class PenDigit:
    """One handwritten digit as its writer's pen-down strokes, in raw tablet units."""

    id: int
    file: str  # the UNIPEN segment file: one writing session
    source: str  # the site code (syn, ibm, app, tos)
    label: int
    strokes: tuple[Stroke, ...]

    @property
    def session(self) -> str:
        return f"{self.source}:{self.file}"

    @property
    def writer(self) -> str:
        """Who wrote it: the person where the site's file names number them, else the session (segment file).

        IBM names a session r0SWW (session S of writer WW) and Toshiba [ft]SWWW..., so one person's
        sessions share a writer and land on one side of every split (their styles repeat: writer 12's
        0s have a flat bar in both sessions). Other sites name one file per writer.
        """
        name = self.file.rsplit("/", 1)[-1]
        if self.source == "ibm" and re.fullmatch(r"r0\d{3}\.dat", name):
            return f"ibm:writer {name[3:5]}"
        if self.source == "tos" and re.fullmatch(r"[ft]\d{7}\.dat", name):
            return f"tos:writer {name[2:5]}"
        return self.session


def unipen_path(data_dir: str | os.PathLike | None = None):
    """Where digits.jsonl.gz should be: DATA/unipen-dev/ (DATA from --data-dir, $MNIST_DEMO_DATA or ./data)."""
    return resolve_data_dir(data_dir) / FOLDER / FILE


@functools.lru_cache(maxsize=2)
def _load(path: str) -> tuple[PenDigit, ...]:
    digits = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            strokes = tuple(np.asarray(s, np.float64).reshape(-1, 2) for s in row["strokes"] if len(s))
            if strokes:
                digits.append(PenDigit(int(row["id"]), row["file"], row["source"], int(row["label"]), strokes))
    return tuple(digits)


def load_unipen(data_dir: str | os.PathLike | None = None, sites: Iterable[str] | None = None) -> list[PenDigit]:
    """The unipen-dev digits (all, or those of `sites`), read once per process; a clear error when missing."""
    path = unipen_path(data_dir)
    if not path.is_file():
        raise HandwritingMissingError(
            f"UNIPEN digits not found: expected {path} (the data folder's {FOLDER}/{FILE}). Point --data-dir "
            f"or $MNIST_DEMO_DATA at the folder that holds {FOLDER}/.")
    digits = _load(str(path.resolve()))
    if sites is None:
        return list(digits)
    wanted = set(sites)
    unknown = wanted - {d.source for d in digits}
    if unknown:
        raise ValueError(f"unknown UNIPEN site(s) {', '.join(sorted(unknown))}; unipen-dev has {', '.join(SITES)}")
    return [d for d in digits if d.source in wanted]


# ---------------------------------------------------------------------------------------------
# Placing strokes on the canvas


def to_canvas(strokes: Sequence[Stroke], size: float = DIGIT_SIZE, center: tuple[float, float] = (0.5, 0.5),
              flip_y: bool = True) -> list[Stroke]:
    """Strokes moved into the canvas's [0, 1] square (y down): longer side `size`, aspect kept, centred at `center`.

    Tablets count y upwards, the canvas downwards, hence the flip. Each site has its own resolution,
    so every digit is scaled by its own bounding box, as a person fills the canvas whatever the pen.
    """
    points = np.concatenate(strokes)
    low, high = points.min(0), points.max(0)
    scale = size / max(float((high - low).max()), 1e-9)
    mid = (low + high) / 2
    out = []
    for s in strokes:
        p = (s - mid) * scale
        if flip_y:
            p[:, 1] = -p[:, 1]
        out.append(p + np.asarray(center))
    return out


# ---------------------------------------------------------------------------------------------
# Rendering as the browser canvas does


def _smoothed(points: np.ndarray) -> np.ndarray:
    """The canvas script's path as a polyline: quadratic curves through the midpoints, points as controls.

    moveTo(p0); quadraticCurveTo(p_i, mid(p_i, p_i+1)) for the inner points; lineTo(last). Each curve
    is flattened finely (a point per ~0.5% of the canvas), far below a pixel of the 112 px ink map.
    """
    if len(points) < 3:
        return points
    out = [points[:1]]
    start = points[0]
    for i in range(1, len(points) - 1):
        control, end = points[i], (points[i] + points[i + 1]) / 2
        n = max(2, math.ceil((np.linalg.norm(control - start) + np.linalg.norm(end - control)) / 0.005))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t * t * end)
        start = end
    out.append(points[-1:])
    return np.concatenate(out)


def render_ink(strokes: Sequence[Stroke], side: int = INK_SIDE, brush: float = BRUSH) -> np.ndarray:
    """The ink map (side x side uint8, 255 = full ink) the canvas sends for these strokes in [0, 1] coordinates.

    Round caps and joins (a disk at every point of the smoothed path, plus the wide segments), drawn
    SUPERSAMPLE times finer and averaged into anti-aliased edges. Against headless Chromium running
    the canvas's own script the ink differs by < 1/255 per pixel on average (tests/test_handwriting.py);
    Skia's joins at pen reversals are the remaining difference.
    """
    fine = side * SUPERSAMPLE
    image = Image.new("L", (fine, fine), 0)
    draw = ImageDraw.Draw(image)
    width = brush * fine
    radius = width / 2 - 0.5  # PIL's ellipse box includes its far edge: half a fine pixel less all round
    for stroke in strokes:
        points = [tuple(p) for p in _smoothed(np.asarray(stroke, np.float64)) * fine]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(width)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image.resize((side, side), Image.Resampling.BOX), np.uint8)


def ink_payload(ink: np.ndarray) -> str:
    """An ink map (uint8 HxW) as the canvas's JSON payload {"w", "h", "data": base64} (decode_ink_payload's input)."""
    ink = np.ascontiguousarray(ink, np.uint8)
    height, width = ink.shape
    return json.dumps({"w": width, "h": height, "data": base64.b64encode(ink.tobytes()).decode("ascii")})


def render_payload(strokes: Sequence[Stroke]) -> str:
    """What the page sends after these strokes (canvas coordinates) were drawn."""
    return ink_payload(render_ink(strokes))


def render_picture(strokes: Sequence[Stroke], side: int = PICTURE_SIDE, brush: float = BRUSH) -> np.ndarray:
    """The strokes as a picture: dark ink on white paper, side x side x 3 uint8, as a screenshot or paint PNG would be."""
    ink = render_ink(strokes, side, brush).astype(np.float32) / 255
    grey = np.round(255 - ink * (255 - 20)).astype(np.uint8)  # near-black ink, not pure: as a pen is
    return np.repeat(grey[..., None], 3, axis=2)


# ---------------------------------------------------------------------------------------------
# Splits that keep a writer on one side


def leave_one_site_out(digits: Sequence[PenDigit]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """site -> (indices of the other sites' digits, indices of this site's): train on three, test on the fourth."""
    sources = np.array([d.source for d in digits])
    return {site: (np.flatnonzero(sources != site), np.flatnonzero(sources == site))
            for site in SITES if (sources == site).any()}


def writer_folds(digits: Sequence[PenDigit], k: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number 0..k-1 for every digit, by writer (`PenDigit.writer`): writers dealt out so folds hold about equal digits.

    Writers are ordered by a seeded hash (not by name, which follows the site's numbering) and each
    goes to the fold with the fewest digits so far, largest writers first.
    """
    counts: dict[str, int] = {}
    for d in digits:
        counts[d.writer] = counts.get(d.writer, 0) + 1
    key = lambda w: hashlib.sha256(f"{seed}:{w}".encode()).hexdigest()  # noqa: E731
    order = sorted(counts, key=lambda w: (-counts[w], key(w)))
    sizes, fold_of = [0] * k, {}
    for writer in order:
        fold = min(range(k), key=lambda f: (sizes[f], f))
        fold_of[writer] = fold
        sizes[fold] += counts[writer]
    return np.array([fold_of[d.writer] for d in digits])


def unreadable_mark(digit: PenDigit) -> str | None:
    """"dot" or "line" when the recorded ink cannot be its label, whoever reads it; else None.

    A dot (at most two distinct points: a tap), or one straight mark (the ink's second principal axis under
    8% of the first) labelled anything but 1, or labelled 1 but lying flatter than 45 degrees. Such
    digits lost strokes on their way into the data set (in unipen-dev: 57 of IBM's 1,571, e.g. a 4
    that is only its upright); measurements report them, and the accuracy without them, apart.
    """
    points = np.concatenate(digit.strokes)
    if len(np.unique(points, axis=0)) <= 2:
        return "dot"
    _, spread, axes = np.linalg.svd(points - points.mean(0), full_matrices=False)
    if spread[1] > 0.08 * spread[0]:
        return None
    from_upright = math.degrees(math.atan2(abs(axes[0][0]), abs(axes[0][1])))
    return "line" if digit.label != 1 or from_upright > 45 else None


# ---------------------------------------------------------------------------------------------
# Stroke-level variants: the same writer's digit drawn a little differently, plus styles MNIST lacks


def _line(a, b, n: int = 12) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) * np.asarray(a, np.float64) + t * np.asarray(b, np.float64)


def add_style(strokes: list[Stroke], label: int, rng: np.random.Generator) -> list[Stroke]:
    """Sometimes draw the digit in a style common outside the US and rare in MNIST (strokes y down, any scale).

    1: an upstroke into the top, short or long (read as 7 by MNIST models), sometimes a foot; 7: a bar
    across the stem; 0: a slash or bar at any angle from flat to nearly upright, often running past
    the oval, on one side or both (read as 8), or left open at the top. Other digits come back unchanged.
    """
    points = np.concatenate(strokes)
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    height, width = max(y1 - y0, 1e-6), max(x1 - x0, 1e-6)
    if label == 1 and rng.random() < 0.5:
        main = max(strokes, key=len)
        top = main[np.argmin(main[:, 1])]
        length, angle = height * rng.uniform(0.2, 0.7), math.radians(rng.uniform(25, 75))
        start = top + length * np.array([-math.sin(angle), math.cos(angle)])
        strokes = [np.concatenate([_line(start, top), main]) if s is main else s for s in strokes]
        if rng.random() < 0.3:
            bottom = main[np.argmax(main[:, 1])]
            half = height * rng.uniform(0.2, 0.35)
            strokes.append(_line(bottom - [half, 0], bottom + [half, 0]))
    elif label == 7 and rng.random() < 0.4:
        mid_y = y0 + height * rng.uniform(0.45, 0.6)
        near = points[np.argmin(np.abs(points[:, 1] - mid_y) + 10 * (points[:, 1] < y0 + 0.25 * height))]
        half = max(width, 0.4 * height) * rng.uniform(0.2, 0.35)
        tilt = half * rng.uniform(-0.2, 0.2)
        strokes = [*strokes, _line(near - [half, -tilt], near + [half, -tilt])]
    elif label == 0 and rng.random() < 0.5:
        if rng.random() < 0.7:  # the slash: through the middle, lower left to upper right (sometimes mirrored), or flat
            angle = math.radians(rng.uniform(0, 80))
            direction = np.array([math.cos(angle) * (1 if rng.random() < 0.85 else -1), -math.sin(angle)])
            reach = 0.5 * float(np.hypot(width * direction[0], height * direction[1])) * rng.uniform(0.8, 2.2)
            # often off-centre along itself, so it sticks out on one side only (the flat bar of a theta-like 0)
            middle = (np.array([(x0 + x1) / 2, (y0 + y1) / 2]) + rng.uniform(-0.1, 0.1, 2) * [width, height]
                      + rng.uniform(-0.5, 0.5) * max(reach - 0.5 * width, 0) * direction)
            slash = _line(middle - reach * direction, middle + reach * direction)
            strokes = [*strokes, slash if rng.random() < 0.8 else slash[::-1]]
        else:
            main = max(strokes, key=len)
            keep = max(3, int(len(main) * rng.uniform(0.8, 0.92)))
            strokes = [main[:keep] if s is main else s for s in strokes]
    return strokes


def sparser(strokes: Sequence[Stroke], rng: np.random.Generator) -> list[Stroke]:
    """The strokes as a slower-sampling tablet or a quick finger records them: every k-th point (ends kept).

    The canvas joins sparse points with curves through their midpoints, so fast strokes come out
    more angular; unipen-dev's sites sample from about 16 to over 100 points per digit.
    """
    k = int(rng.integers(2, 5))
    return [s if len(s) <= 3 else np.concatenate([s[:-1:k], s[-1:]]) for s in strokes]


def wobble(strokes: Sequence[Stroke], rng: np.random.Generator, amount: float = 0.07) -> list[Stroke]:
    """The strokes through a smooth random warp (strokes in a unit square): loops grow or shrink, tails bend.

    Each writer bends the same shapes their own way; a displacement made of two slow waves per axis
    (about one cycle across the digit) moves nearby points together, so strokes stay smooth.
    """
    waves = [(rng.normal(0, 1, 2) * 2 * math.pi, rng.uniform(0, 2 * math.pi), rng.uniform(-amount, amount))
             for _ in range(4)]
    out = []
    for s in strokes:
        shift = np.zeros_like(s)
        for k, (frequency, phase, size) in enumerate(waves):
            shift[:, k % 2] += size * np.sin(s @ frequency + phase)
        out.append(s + shift)
    return out


def vary(strokes: Sequence[Stroke], label: int, rng: np.random.Generator, styles: bool = True) -> list[Stroke]:
    """One plausible redrawing on the canvas: slant, rotation, proportions, size and place vary; sometimes a style.

    Works on the strokes, before rendering, so strokes stay one brush wide whatever the warp.
    """
    placed = to_canvas(strokes, size=1.0, center=(0.0, 0.0))
    if rng.random() < 0.3:
        placed = sparser(placed, rng)
    if styles:
        placed = add_style(placed, label, rng)
    if rng.random() < 0.5:
        placed = wobble(placed, rng)
    angle = math.radians(rng.uniform(-12, 12))
    shear, stretch = rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.2)
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = matrix @ np.array([[stretch, shear], [0.0, 1.0]])
    warped = [s @ matrix.T for s in placed]
    size = rng.uniform(0.45, 0.85)
    room = max(0.0, (1 - size) / 2 - 0.04)  # anywhere on the canvas, brush kept inside
    center = 0.5 + rng.uniform(-room, room, 2)
    return to_canvas(warped, size=size, center=(float(center[0]), float(center[1])), flip_y=False)


# ---------------------------------------------------------------------------------------------
# Training and evaluation sets through the app's canvas path


def prepared_canvas(digit: PenDigit, rng: np.random.Generator | None = None, styles: bool = True) -> np.ndarray:
    """The 28x28 model input (uint8) the app makes of this digit drawn on the canvas (varied when `rng` is given)."""
    from .reading.geometry import from_ink  # the app's own canvas path

    strokes = to_canvas(digit.strokes) if rng is None else vary(digit.strokes, digit.label, rng, styles)
    prepared = from_ink(render_ink(strokes).astype(np.float32) / 255)
    return np.round(prepared.image * 255).astype(np.uint8)


def canvas_images(digits: Sequence[PenDigit], variants: int = 0, seed: int = 0,
                  styles: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images N x 28 x 28 uint8, labels N): each digit as drawn plus `variants` redrawings of it, via the canvas path."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in digits:
        images.append(prepared_canvas(digit))
        labels.append(digit.label)
        for _ in range(variants):
            images.append(prepared_canvas(digit, rng, styles))
            labels.append(digit.label)
    return np.stack(images) if images else np.zeros((0, 28, 28), np.uint8), np.array(labels, np.int64)


def writers_used(info: dict, digits: Sequence[PenDigit]) -> tuple[set[str], set[str]]:
    """(writers trained on, writers the temperature and threshold were chosen on) of a card's `handwriting` entry.

    Recomputed from the entry's sites and folds as training_set made them, so a benchmark can tell
    which of `digits` (all of unipen-dev) the model never saw.
    """
    mine = [d for d in digits if d.source in info["sites"]]
    held, excluded = info.get("held_out_writers") or {}, info.get("excluded_writers") or {}
    of = held.get("of") or excluded.get("of") or 5
    folds = writer_folds(mine, of, info.get("seed", 0))
    trained = {d.writer for d, f in zip(mine, folds, strict=True) if f not in (held.get("fold"), excluded.get("fold"))}
    return trained, {d.writer for d, f in zip(mine, folds, strict=True) if f == held.get("fold")}


def file_checksum(data_dir: str | os.PathLike | None = None) -> str:
    """SHA-256 of digits.jsonl.gz, for a weights card."""
    return "sha256:" + hashlib.sha256(unipen_path(data_dir).read_bytes()).hexdigest()


def training_set(sites: Sequence[str], variants: int = 4, seed: int = 0, holdout_fold: int | None = 0,
                 folds: int = 5, data_dir: str | os.PathLike | None = None, styles: bool = True,
                 exclude_fold: int | None = None):
    """Rendered UNIPEN digits of `sites` to mix into training, and held-out writers to fit a temperature on.

    Returns (train, held_out, info): `train` is a data.Split of every digit of the training writers drawn
    on the canvas plus `variants` redrawings each (through the app's canvas path); `held_out` (None when
    `holdout_fold` is None) the digits of writer fold `holdout_fold` of `folds`, drawn once, never
    trained on (all of them, unreadable marks too: the threshold is chosen on what users draw). Digits
    whose ink cannot be their label (`unreadable_mark`) are not trained on. `info` says what was used,
    for the model card. `exclude_fold` keeps another writer fold out of both, to measure the model on
    writers it never saw (bench/unseen_writers.py --split writers).
    """
    import torch

    from .data import Split

    if exclude_fold is not None and exclude_fold == holdout_fold:
        raise ValueError(f"the excluded writer fold {exclude_fold} is also the held-out fold: pick another")
    digits = load_unipen(data_dir, sites)
    fold = writer_folds(digits, folds, seed)
    if exclude_fold is not None:
        excluded = int((fold == exclude_fold).sum())
        digits, fold = [d for d, f in zip(digits, fold, strict=True) if f != exclude_fold], fold[fold != exclude_fold]
    kept = [d for d, f in zip(digits, fold, strict=True) if f != holdout_fold]
    readable = [unreadable_mark(d) is None for d in kept]  # a mark is label noise: a line cannot teach a 4
    train_digits, marks = [d for d, ok in zip(kept, readable, strict=True) if ok], readable.count(False)
    held_digits = [d for d, f in zip(digits, fold, strict=True) if f == holdout_fold]
    images, labels = canvas_images(train_digits, variants, seed, styles)
    train = Split(torch.from_numpy(images), torch.from_numpy(labels))
    held_out = None
    if held_digits:
        images, labels = canvas_images(held_digits)
        held_out = Split(torch.from_numpy(images), torch.from_numpy(labels))
    info = {
        "source": f"{FOLDER}/{FILE}", "credit": CREDIT, "checksum": file_checksum(data_dir),
        "sites": sorted(set(sites)), "seed": seed, "variants_per_digit": variants, "styles": styles,
        "train_digits": len(train_digits), "train_writers": len({d.writer for d in train_digits}),
        "left_out_unreadable_marks": marks,
        "train_images": len(train),
        "held_out_writers": {"fold": holdout_fold, "of": folds, "digits": len(held_digits),
                             "writers": len({d.writer for d in held_digits})} if holdout_fold is not None else None,
        "excluded_writers": {"fold": exclude_fold, "of": folds, "digits": excluded} if exclude_fold is not None else None,
        "rendering": "canvas road (render_ink -> from_ink), stroke-level variants (handwriting.vary)",
    }
    return train, held_out, info
