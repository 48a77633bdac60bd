"""Finding the ink in a picture: a photo of paper, a screenshot, a paint-program PNG.

Transparency, grey, which side is ink, uneven lighting, threshold, specks: each step is one
function, and each leaves a picture in `Prepared.steps`. The clean ink map then goes through
the same MNIST geometry as a canvas drawing (`geometry.finish`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .files import PictureError, load_picture
from .geometry import MIN_INK, Prepared, as_unit_float, blank, finish, to_uint8

WORK_SIDE = 512  # pictures are shrunk to this longest side first: plenty for a 20 px result, and fast
SPECK_FRACTION = 0.05  # in pictures, parts with less ink than this share of the largest part are dirt


def _as_array(value) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    return array if array.size else None



def picture_array(picture) -> np.ndarray:
    """A picture (PIL image, array, path or bytes) as a uint8 array HxW, HxWx3 or HxWx4."""
    if isinstance(picture, (str, Path, bytes, bytearray)):
        picture = load_picture(picture)
    if isinstance(picture, Image.Image):
        if picture.mode in ("RGBA", "RGB", "L"):
            return np.asarray(picture)
        if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            return (as_unit_float(np.asarray(picture, np.float32) / max(float(np.asarray(picture).max()), 1.0))
                    * 255).astype(np.uint8)
        has_alpha = "A" in picture.mode or "transparency" in picture.info
        return np.asarray(picture.convert("RGBA" if has_alpha else "RGB"))
    array = _as_array(picture)
    if array is None:
        raise PictureError("The picture is empty.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise PictureError(f"A picture must be HxW, HxWx3 or HxWx4; got shape {array.shape}.")
    return array if array.dtype == np.uint8 else np.round(as_unit_float(array) * 255).astype(np.uint8)


def shrink(array: np.ndarray, longest: int = WORK_SIDE) -> np.ndarray:
    """Bring a uint8 picture down so its longer side is at most `longest` (unchanged if smaller).

    Huge photos are first sampled every few pixels (keeping at least twice the target size, so pen
    strokes stay whole) because copying 12 megapixels into PIL alone costs more than the rest.
    """
    height, width = array.shape[:2]
    if max(height, width) <= longest:
        return array
    step = max(height, width) // (2 * longest)
    if step > 1:
        if array.ndim == 3 and array.flags.c_contiguous:  # one copy per pixel, not per channel: twice as fast
            pixels = array.view(np.dtype((np.void, array.shape[2])))[::step, ::step]
            array = np.ascontiguousarray(pixels).view(np.uint8)
        else:
            array = np.ascontiguousarray(array[::step, ::step])
        height, width = array.shape[:2]
    scale = longest / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.Resampling.BOX))


def has_transparent_background(array: np.ndarray) -> bool:
    """True for an RGBA picture whose border is mostly transparent: then its alpha is the ink."""
    return array.ndim == 3 and array.shape[2] == 4 and border_median(array[..., 3].astype(np.float32) / 255) < 0.5


def to_grey(array: np.ndarray) -> np.ndarray:
    """Luma in [0, 1]; a partly transparent picture is first laid on white."""
    if array.ndim == 2:
        return as_unit_float(array)
    rgb = as_unit_float(array[..., :3])
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if array.shape[2] == 4:
        alpha = as_unit_float(array[..., 3])
        grey = grey * alpha + (1.0 - alpha)
    return grey.astype(np.float32)


def border_median(grey: np.ndarray) -> float:
    """Median of the outermost rows and columns: the background, since a drawing rarely touches all edges."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def ink_is_dark(grey: np.ndarray) -> bool:
    """Dark ink on a light background? Ink is whatever departs further from the border's level."""
    background = border_median(grey)
    darkest, lightest = np.percentile(grey[::2, ::2], [0.5, 99.5])
    return background - darkest >= lightest - background


def estimate_background(signal: np.ndarray) -> np.ndarray:
    """A smooth (quadratic) surface through the background of `signal` (ink bright), ink excluded.

    Fitted on a 48 px version, dropping pixels that stand above the surface, so strokes of any
    width and a lighting gradient across the paper are told apart.
    """
    height, width = signal.shape
    scale = min(1.0, 48 / max(height, width))
    small_size = (max(2, round(width * scale)), max(2, round(height * scale)))
    small = np.asarray(Image.fromarray(signal).resize(small_size, Image.Resampling.BOX), np.float64).ravel()
    y, x = np.meshgrid(np.linspace(-1, 1, small_size[1]), np.linspace(-1, 1, small_size[0]), indexing="ij")
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], -1).reshape(-1, 6)
    keep = small <= np.median(small)  # start from the fainter half: ink rarely covers half the picture
    for _ in range(5):
        kept = terms[keep]
        coef = np.linalg.solve(kept.T @ kept + 1e-9 * np.eye(6), kept.T @ small[keep])
        residual = small - terms @ coef
        spread = 1.4826 * np.median(np.abs(residual[keep])) + 2e-3
        new_keep = residual < 2.5 * spread
        if new_keep.sum() < 6 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    # Evaluated at full size term by term, which is much cheaper than a full design matrix.
    y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    c = coef.astype(np.float32)
    return (c[0] + c[2] * y + c[5] * y * y) + (c[1] * x + c[3] * x * x) + c[4] * (y * x)


def remove_lighting(grey: np.ndarray, dark_ink: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ink strength (about 0 on the background, noise unclipped) and the noise level at each pixel.

    For dark ink the strength is 1 - grey / paper, so a stroke in a shadowed corner is as strong as
    one in the light; that division also magnifies the noise where the paper is dark, which is why
    the noise comes back as a map.
    """
    signal = 1.0 - grey if dark_ink else grey
    background = np.clip(estimate_background(signal), 0.0, 1.0)
    residual = signal - background
    below = -residual[::2, ::2][residual[::2, ::2] < 0]  # background only: ink stands above the surface
    noise = 1.4826 * float(np.median(below) if below.size else 0.0) + 1e-3
    light = np.maximum(1.0 - background, 0.02) if dark_ink else np.ones_like(background)
    return np.clip(residual / light, -1.0, 1.0), noise / light


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that best splits `values` (>= 0) into two classes (Otsu 1979)."""
    top = float(values.max())
    if top <= 0:
        return 0.0
    index = np.minimum((values.ravel() * (bins / top)).astype(np.int64), bins - 1)
    p = np.bincount(index, minlength=bins) / index.size
    levels = (np.arange(bins) + 0.5) * (top / bins)
    omega = np.cumsum(p)
    mu = np.cumsum(p * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.nan_to_num((mu[-1] * omega - mu) ** 2 / (omega * (1.0 - omega)), nan=-1.0, posinf=-1.0)
    return float((np.argmax(between[:-1]) + 1) * (top / bins))


def box_blur3(image: np.ndarray) -> np.ndarray:
    padded = np.pad(image, 1, mode="edge")
    rows = padded[:-2] + padded[1:-1] + padded[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / 9.0


def threshold_ink(strength: np.ndarray, noise: np.ndarray | float = 0.0) -> np.ndarray | None:
    """Background to exactly 0 and full strokes to 1, keeping the soft anti-aliased edges; None if no ink stands out.

    The cut-off is Otsu's threshold, and at least 4 noise deviations; pixels ramp from half of it
    (at least 3 deviations) up to the strokes' typical strength. Ink must stand out by MIN_INK and,
    after a 3x3 blur that divides white noise by 3, by 6 of the blurred noise's deviations.
    """
    smooth = box_blur3(strength)
    if not np.any((smooth > MIN_INK) & (smooth > 2.0 * noise)):
        return None
    threshold = np.maximum(otsu_threshold(np.maximum(strength, 0.0)), 4.0 * noise)
    strokes = strength[strength > threshold]
    if strokes.size == 0:
        return None
    full = float(np.percentile(strokes, 75))
    low = np.minimum(np.maximum(threshold * 0.5, 3.0 * noise), threshold * 0.95)
    return np.clip((strength - low) / np.maximum(full - low, 1e-3), 0.0, 1.0).astype(np.float32)


def label_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected parts of a mask without scipy: (flat indices of the mask's pixels, their part number 0..n-1).

    Vectorized union-find: every pixel points to the smallest index it is linked to, merged by
    hooking roots and halving paths until no link joins two different roots.
    """
    height, width = mask.shape
    pixels = np.flatnonzero(mask)
    ids = np.full(mask.shape, -1, np.int64)
    ids.flat[pixels] = np.arange(pixels.size)
    left, right = [], []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        a = ids[: height - dy, max(0, -dx): width - max(0, dx)]
        b = ids[dy:, max(0, dx): width - max(0, -dx)]
        linked = (a >= 0) & (b >= 0)
        left.append(a[linked])
        right.append(b[linked])
    a, b = np.concatenate(left), np.concatenate(right)
    parent = np.arange(pixels.size)
    while a.size:
        root_a, root_b = parent[a], parent[b]
        apart = root_a != root_b
        a, b, root_a, root_b = a[apart], b[apart], root_a[apart], root_b[apart]
        if not a.size:
            break
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    _, part = np.unique(parent, return_inverse=True)
    return pixels, part.ravel()


def drop_specks(ink: np.ndarray, fraction: float = SPECK_FRACTION) -> np.ndarray:
    """Erase connected parts holding less ink than `fraction` of the largest part (dust, paper texture)."""
    pixels, part = label_components(ink > 0)
    if pixels.size == 0:
        return ink
    mass = np.bincount(part, weights=ink.flat[pixels])
    if mass.size == 1:
        return ink
    cleaned = ink.copy()
    cleaned.flat[pixels[mass[part] < fraction * mass.max()]] = 0.0
    return cleaned



def picture_ink(array: np.ndarray) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]]]:
    """Step 1 for pictures: a clean ink map (None if no ink stands out) and the pictures along the way."""
    steps: list[tuple[str, np.ndarray]] = []
    if has_transparent_background(array):
        strength, noise = as_unit_float(array[..., 3]), 0.0  # transparent = background, whatever the ink's colour
        steps.append(("transparency as ink", to_uint8(strength)))
    else:
        grey = to_grey(array)
        steps.append(("grey", to_uint8(grey)))
        strength, noise = remove_lighting(grey, ink_is_dark(grey))
        steps.append(("lighting removed", to_uint8(strength)))
    ink = threshold_ink(strength, noise)
    if ink is None:
        return None, steps
    ink = drop_specks(ink)
    steps.append(("ink", to_uint8(ink)))
    return ink, steps


def from_picture(picture) -> Prepared:
    """Prepare a picture: a photo of paper, a screenshot, a paint PNG; any size, either polarity, with or without transparency.

    Accepts a uint8 array (HxW, HxWx3, HxWx4), a PIL image, or a path / bytes (opened with `load_picture`).
    """
    array = shrink(picture_array(picture))
    ink, steps = picture_ink(array)
    if ink is None:
        return blank(steps)
    return finish(ink, steps)
