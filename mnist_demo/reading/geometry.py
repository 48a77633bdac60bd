"""MNIST's geometry: an ink map turned into the 28x28 model input, one function per step.

MNIST's own recipe, which every model here was trained on: the digit's bounding box is scaled so
its longer side is 20 px (keeping the aspect ratio, anti-aliased to grey levels), then placed in a
28x28 field so that its center of mass lands on the middle pixel. Strokes are brought into
MNIST's range of widths on the way. `Prepared.steps` keeps a picture of each step so the app can
show what the network sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from .files import PictureError

FIELD = 28  # the model input is FIELD x FIELD
BOX = 20  # MNIST scaled each digit so its longer side is BOX px
CENTER = 14.0  # MNIST's mean center of mass (row, column), in pixel indices, is (13.99, 14.01)
SUPERSAMPLE = 4  # sizing and stroke-width changes happen at 4x the output resolution, then 4x4 pixels are averaged
MIN_INK = 0.1  # an ink map whose strongest pixel is fainter than this holds no drawing
MIN_INK_FRACTION = 5e-4  # ... nor one whose total ink covers less than this share of its area
SPECK_FRACTION = 0.05  # in pictures, parts with less ink than this share of the largest part are dirt
# Stroke width in output pixels as `stroke_width` measures it (2 x ink / outline length; it reads
# slanted strokes thinner than they are, MNIST's included). In MNIST's test set the 5th, 50th and
# 90th percentiles are 1.22, 1.82 and 2.56; strokes outside [MIN, MAX] (a ballpoint photo, a fat
# brush on a small digit) are brought to the nearer bound.
MIN_STROKE_WIDTH = 1.25
MAX_STROKE_WIDTH = 2.6


@dataclass
class Prepared:
    """The model input made from a drawing or picture, and the intermediate pictures that led to it."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black
    steps: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (step name, uint8 grey image)
    blank: bool = False  # no ink found: image is all zeros

    def tensor(self) -> torch.Tensor:
        """The model input as a (1, 1, 28, 28) float32 tensor."""
        return torch.from_numpy(np.ascontiguousarray(self.image, dtype=np.float32)).view(1, 1, FIELD, FIELD)



def as_unit_float(array: np.ndarray) -> np.ndarray:
    """Pixel values of any common dtype as float32 in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.float32) / max(float(np.iinfo(array.dtype).max), 1.0)
    out = np.clip(array.astype(np.float32), 0.0, 1.0)  # infinities clip to the ends; NaN below means no ink
    out[np.isnan(out)] = 0.0  # (np.nan_to_num is several times slower on a canvas-sized map)
    return out



def ink_bounding_box(ink: np.ndarray, level: float = 0.05) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom/right exclusive, of the pixels with ink above `level`; None if none."""
    rows = np.flatnonzero((ink > level).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((ink > level).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def is_blank(ink: np.ndarray) -> bool:
    """Too little ink to be a drawing: nothing strong, or a total below MIN_INK_FRACTION of the area."""
    return ink.size == 0 or float(ink.max()) < MIN_INK or float(ink.sum()) < MIN_INK_FRACTION * ink.size


def crop_to_ink(ink: np.ndarray) -> np.ndarray | None:
    """Step 2: the ink's bounding box, or None when the map is blank."""
    if is_blank(ink):
        return None
    top, bottom, left, right = ink_bounding_box(ink)
    return ink[top:bottom, left:right]


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Float image resampled to (height, width) by area: each new pixel averages the old ones it covers.

    That is the anti-aliasing MNIST did; unlike bilinear enlarging it adds no blur, so a 20 px
    MNIST digit comes back unchanged.
    """
    resized = Image.fromarray(np.ascontiguousarray(image, np.float32)).resize((width, height), Image.Resampling.BOX)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def fit_box(cropped: np.ndarray, side: int) -> np.ndarray:
    """The cropped ink scaled so its longer side is `side` px, aspect ratio kept (a thin "1" stays thin)."""
    height, width = cropped.shape
    scale = side / max(height, width)
    return _resize(cropped, max(1, round(height * scale)), max(1, round(width * scale)))


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the ink over the outline length (a long stroke of width w gives ~w)."""
    mask = ink > 0.5 * float(ink.max())
    padded = np.pad(mask, 1)
    outline = np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(padded[:, 1:] != padded[:, :-1])
    return 2.0 * float(ink.sum()) / max(outline, 1)


def _shift_max(image: np.ndarray, axis: int) -> np.ndarray:
    """Each pixel and its two neighbours along `axis`, the largest (beyond the edges counts as nothing)."""
    out = image.copy()
    ahead, behind = [slice(None)] * 2, [slice(None)] * 2
    ahead[axis], behind[axis] = slice(1, None), slice(None, -1)
    np.maximum(out[tuple(ahead)], image[tuple(behind)], out=out[tuple(ahead)])
    np.maximum(out[tuple(behind)], image[tuple(ahead)], out=out[tuple(behind)])
    return out


def _disk_max(image: np.ndarray, radius: int) -> np.ndarray:
    """Every pixel takes the largest value within `radius` (a disk), same size; beyond the edges counts as nothing.

    Row by row: each row of the disk is a horizontal run, and a run of half-width w is one of w-1
    widened by a pixel each side, so the rows' maxima cost `radius` steps, not one per disk pixel
    (the stroke-width adjustment was a third of a live canvas update).
    """
    runs = [image]
    for _ in range(radius):
        runs.append(_shift_max(runs[-1], axis=1))
    height = image.shape[0]
    out = runs[radius].copy()  # the middle row
    for dy in range(1, radius + 1):
        half = int(np.sqrt(radius * radius + radius - dy * dy))  # the widest dx with dy² + dx² <= r² + r
        run = runs[half]
        np.maximum(out[dy:], run[: height - dy], out=out[dy:])
        np.maximum(out[: height - dy], run[dy:], out=out[: height - dy])
    return out


def disk_dilate(ink: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation by a disk: strokes grow by `radius` on each side (so does the image)."""
    return _disk_max(np.pad(ink, radius), radius)


def disk_erode(ink: np.ndarray, radius: int) -> np.ndarray:
    """Grey erosion by a disk: strokes shrink by `radius` on each side (the image keeps its size)."""
    return 1.0 - _disk_max(1.0 - np.pad(ink, radius), radius)[radius:-radius, radius:-radius]


def adjust_stroke_width(fine: np.ndarray, scale: int = SUPERSAMPLE) -> tuple[np.ndarray, str | None]:
    """Strokes outside MNIST's usual range brought to its edge: a ballpoint photo thickened, a fat brush thinned.

    `fine` is the ink at `scale` times the output resolution. Returns it (refitted to the same box)
    and what was done ("thickened", "thinned" or None). The width is measured again after each
    change, since a disk adds less than its diameter to a slanted hairline.
    """
    inked = fine[fine > 0.05]
    if inked.size:  # a faint hairline counts as the thin full stroke it is (its crossings aside)
        fine = np.clip(fine / max(float(np.percentile(inked, 90)), 1e-3), 0.0, 1.0)
    change = None
    for _ in range(4):
        width = stroke_width(fine) / scale
        if width < MIN_STROKE_WIDTH and change != "thinned":
            changed = disk_dilate(fine, max(1, round((MIN_STROKE_WIDTH - width) * scale / 2)))
            step = "thickened"
        elif width > MAX_STROKE_WIDTH and change != "thickened":
            changed = disk_erode(fine, max(1, round((width - MAX_STROKE_WIDTH) * scale / 2)))
            step = "thinned"
        else:
            break
        cropped = crop_to_ink(changed)
        if cropped is None:  # erosion left too little: keep the strokes as they are
            break
        fine, change = fit_box(cropped, BOX * scale), step
    return fine, change


def scale_to_box(cropped: np.ndarray) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Step 3: longer side to 20 px with anti-aliasing (through a 4x finer image, averaged 4x4), stroke width kept in MNIST's range."""
    steps = []
    fine = fit_box(cropped, BOX * SUPERSAMPLE)
    fine, change = adjust_stroke_width(fine)
    if change:
        steps.append((change, to_uint8(fine)))
    height, width = (-(-n // SUPERSAMPLE) * SUPERSAMPLE for n in fine.shape)  # pad up to whole output pixels
    pad_y, pad_x = height - fine.shape[0], width - fine.shape[1]
    fine = np.pad(fine, ((pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2)))
    boxed = fine.reshape(height // SUPERSAMPLE, SUPERSAMPLE, width // SUPERSAMPLE, SUPERSAMPLE).mean(axis=(1, 3))
    boxed = boxed / max(float(boxed.max()), 1e-6)  # MNIST strokes reach full white
    steps.append((f"scaled to {BOX} px", to_uint8(boxed)))
    return boxed.astype(np.float32), steps


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's center of mass, in pixel indices."""
    total = float(image.sum())
    rows = float((image.sum(axis=1) * np.arange(image.shape[0])).sum()) / total
    cols = float((image.sum(axis=0) * np.arange(image.shape[1])).sum()) / total
    return rows, cols


def center_in_field(boxed: np.ndarray) -> np.ndarray:
    """Step 4: place in 28x28 so the center of mass lands on (14, 14), as MNIST did; never pushes ink off the field."""
    height, width = boxed.shape
    rows, cols = center_of_mass(boxed)
    top = int(np.clip(round(CENTER - rows), 0, FIELD - height))
    left = int(np.clip(round(CENTER - cols), 0, FIELD - width))
    field_image = np.zeros((FIELD, FIELD), np.float32)
    field_image[top:top + height, left:left + width] = boxed
    return field_image


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A [0, 1] float image as uint8 grey, for display."""
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def blank(steps: list[tuple[str, np.ndarray]]) -> Prepared:
    empty = np.zeros((FIELD, FIELD), np.float32)
    return Prepared(empty, steps + [(f"centered {FIELD}x{FIELD}", to_uint8(empty))], blank=True)


def finish(ink: np.ndarray, steps: list[tuple[str, np.ndarray]]) -> Prepared:
    """Steps 2-4 on a clean ink map."""
    cropped = crop_to_ink(ink)
    if cropped is None:
        return blank(steps)
    steps.append(("cropped", to_uint8(cropped)))
    boxed, scale_steps = scale_to_box(cropped)
    steps.extend(scale_steps)
    image = center_in_field(boxed)
    steps.append((f"centered {FIELD}x{FIELD}", to_uint8(image)))
    return Prepared(image, steps)



def from_ink(ink: np.ndarray) -> Prepared:
    """Prepare an ink map (HxW, 1 = full ink, any size), e.g. a canvas's alpha or a decoded browser payload."""
    ink = as_unit_float(np.asarray(ink))
    if ink.ndim != 2:
        raise PictureError(f"An ink map must be HxW; got shape {ink.shape}.")
    return finish(ink, [("ink", to_uint8(ink))])

