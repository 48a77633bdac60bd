"""What a user gives (a canvas drawing, a photo of paper, a screenshot) turned into the 28x28 model input.

MNIST's own recipe, which every model here was trained on: the digit's bounding box is scaled so
its longer side is 20 px (keeping the aspect ratio, anti-aliased to grey levels), then placed in a
28x28 field so that its center of mass lands on the middle pixel. Pictures first need their ink
found: transparency, grey, which side is ink, uneven lighting, threshold, specks. Each step is one
function, and `Prepared.steps` keeps a picture of each so the app can show what the network sees.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

FIELD = 28  # the model input is FIELD x FIELD
BOX = 20  # MNIST scaled each digit so its longer side is BOX px
CENTER = 14.0  # MNIST's mean center of mass (row, column), in pixel indices, is (13.99, 14.01)
SUPERSAMPLE = 4  # sizing and stroke-width changes happen at 4x the output resolution, then 4x4 pixels are averaged
WORK_SIDE = 512  # pictures are shrunk to this longest side first: plenty for a 20 px result, and fast
MIN_INK = 0.1  # an ink map whose strongest pixel is fainter than this holds no drawing
MIN_INK_FRACTION = 5e-4  # ... nor one whose total ink covers less than this share of its area
SPECK_FRACTION = 0.05  # in pictures, parts with less ink than this share of the largest part are dirt
# Stroke width in output pixels as `stroke_width` measures it (2 x ink / outline length; it reads
# slanted strokes thinner than they are, MNIST's included). In MNIST's test set the 5th, 50th and
# 90th percentiles are 1.22, 1.82 and 2.56; strokes outside [MIN, MAX] (a ballpoint photo, a fat
# brush on a small digit) are brought to the nearer bound.
MIN_STROKE_WIDTH = 1.25
MAX_STROKE_WIDTH = 2.6
MAX_PAYLOAD_SIDE = 1024
EMPTY_PAYLOAD_SIDE = 112  # the size of the zeros decode_ink_payload returns for an empty payload


class PictureError(ValueError):
    """A picture that cannot be used (unreadable, too large, empty), with a message fit for a user."""


@dataclass
class Prepared:
    """The model input made from a drawing or picture, and the intermediate pictures that led to it."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black
    steps: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (step name, uint8 grey image)
    blank: bool = False  # no ink found: image is all zeros

    def tensor(self) -> torch.Tensor:
        """The model input as a (1, 1, 28, 28) float32 tensor."""
        return torch.from_numpy(np.ascontiguousarray(self.image, dtype=np.float32)).view(1, 1, FIELD, FIELD)


# ---------------------------------------------------------------------------------------------
# Reading files and payloads safely


def load_picture(source: str | bytes | Path, max_bytes: int = 20_000_000, max_pixels: int = 50_000_000) -> Image.Image:
    """Open a picture file (path or bytes), refusing unreadable, oversized and decompression-bomb files.

    The returned image is fully decoded, turned upright by its EXIF orientation, and for large JPEGs
    decoded at a reduced scale (never below ~1024 px on the longer side), which is all a 28 px result
    needs.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = "the picture"
        if len(data) > max_bytes:
            raise PictureError(f"{name} is {len(data) / 1e6:.1f} MB; pictures up to {max_bytes / 1e6:.0f} MB are accepted.")
    else:
        path = Path(source)
        name = path.name or "the picture"
        if not path.is_file():
            raise PictureError(f"{name}: no such file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise PictureError(f"{name} is {size / 1e6:.1f} MB; pictures up to {max_bytes / 1e6:.0f} MB are accepted.")
        data = path.read_bytes()
    if not data:
        raise PictureError(f"{name} is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise PictureError(f"{name} is {width} x {height} pixels; pictures up to {max_pixels / 1e6:.0f} "
                                   "megapixels are accepted.")
            if width < 1 or height < 1:
                raise PictureError(f"{name} has no pixels.")
            image.draft("RGB" if image.mode not in ("L", "RGB") else image.mode, (1024, 1024))  # JPEG only
            image.load()
            image = ImageOps.exif_transpose(image)
    except PictureError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PictureError(f"{name} declares a huge size; it looks like a decompression bomb and was not opened.") from None
    except UnidentifiedImageError:
        raise PictureError(f"{name} is not a picture format this app can read (PNG, JPEG, GIF, BMP, WebP, ...).") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PictureError(f"{name} could not be read; the file may be damaged or cut short ({exc}).") from None
    return image


def decode_ink_payload(payload: str | None) -> np.ndarray:
    """The browser canvas's JSON `{"w", "h", "data": base64 of w*h uint8 ink values}` as float32 HxW in [0, 1].

    An empty payload means nothing drawn yet: zeros of EMPTY_PAYLOAD_SIDE square, which prepare as blank.
    """
    if payload is None or (isinstance(payload, str) and not payload.strip()):
        return np.zeros((EMPTY_PAYLOAD_SIDE, EMPTY_PAYLOAD_SIDE), np.float32)
    try:
        message = json.loads(payload)
    except (TypeError, ValueError):
        raise PictureError("The drawing could not be read (not JSON).") from None
    if not isinstance(message, dict) or not {"w", "h", "data"} <= message.keys():
        raise PictureError("The drawing could not be read (expected the fields w, h and data).")
    width, height, data = message["w"], message["h"], message["data"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height)):
        raise PictureError("The drawing could not be read (w and h must be whole numbers).")
    if not (1 <= width <= MAX_PAYLOAD_SIDE and 1 <= height <= MAX_PAYLOAD_SIDE):
        raise PictureError(f"The drawing is {width} x {height}; sides from 1 to {MAX_PAYLOAD_SIDE} are accepted.")
    if not isinstance(data, str):
        raise PictureError("The drawing could not be read (data must be a base64 string).")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PictureError("The drawing could not be read (data is not valid base64).") from None
    if len(raw) != width * height:
        raise PictureError(f"The drawing could not be read ({len(raw)} values for {width} x {height} pixels).")
    return np.frombuffer(raw, np.uint8).reshape(height, width).astype(np.float32) / 255.0


# ---------------------------------------------------------------------------------------------
# Step 1a: ink from the drawing canvas


def _as_array(value) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    return array if array.size else None


def _as_unit_float(array: np.ndarray) -> np.ndarray:
    """Pixel values of any common dtype as float32 in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.float32) / max(float(np.iinfo(array.dtype).max), 1.0)
    return np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0)


def ink_from_canvas_layers(layers) -> np.ndarray | None:
    """The ink of a Gradio 6 Sketchpad: the strongest alpha over its layers (None when there are none)."""
    alphas = [a for a in (_as_array(layer) for layer in layers or []) if a is not None and a.ndim == 3 and a.shape[2] == 4]
    if not alphas:
        return None
    ink = _as_unit_float(alphas[0][..., 3])
    for alpha in alphas[1:]:
        if alpha.shape[:2] == ink.shape:
            ink = np.maximum(ink, _as_unit_float(alpha[..., 3]))
    return ink


def ink_from_canvas_image(array: np.ndarray) -> np.ndarray:
    """The ink of a canvas image (composite, or a plain RGB/RGBA array): alpha if partly transparent, else inverted grey."""
    if array.ndim == 3 and array.shape[2] == 4 and _as_unit_float(array[..., 3]).min() < 0.5:
        return _as_unit_float(array[..., 3])
    grey = to_grey(array)
    return grey if border_median(grey) < 0.5 else 1.0 - grey  # white-on-black canvases are allowed too


def canvas_ink(value) -> np.ndarray:
    """Step 1 for the canvas: an ink map HxW in [0, 1] from a Sketchpad value dict or a plain RGB(A) array."""
    if isinstance(value, dict):
        ink = ink_from_canvas_layers(value.get("layers"))
        if ink is not None and ink.max() > 0:
            return ink
        composite = _as_array(value.get("composite"))
        if composite is not None:
            return ink_from_canvas_image(composite)
        return ink if ink is not None else np.zeros((FIELD, FIELD), np.float32)
    array = _as_array(value)
    if array is None:
        return np.zeros((FIELD, FIELD), np.float32)
    return ink_from_canvas_image(array)


# ---------------------------------------------------------------------------------------------
# Step 1b: ink from a picture


def picture_array(picture) -> np.ndarray:
    """A picture (PIL image, array, path or bytes) as a uint8 array HxW, HxWx3 or HxWx4."""
    if isinstance(picture, (str, Path, bytes, bytearray)):
        picture = load_picture(picture)
    if isinstance(picture, Image.Image):
        if picture.mode in ("RGBA", "RGB", "L"):
            return np.asarray(picture)
        if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            return (_as_unit_float(np.asarray(picture, np.float32) / max(float(np.asarray(picture).max()), 1.0))
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
    return array if array.dtype == np.uint8 else np.round(_as_unit_float(array) * 255).astype(np.uint8)


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
        return _as_unit_float(array)
    rgb = _as_unit_float(array[..., :3])
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if array.shape[2] == 4:
        alpha = _as_unit_float(array[..., 3])
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
    keep = np.ones(small.size, bool)
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
    sample = residual[::2, ::2]
    noise = 1.4826 * float(np.median(np.abs(sample - np.median(sample)))) + 1e-3
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


# ---------------------------------------------------------------------------------------------
# Steps 2-4: crop, scale, center (shared by canvas and pictures)


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
    resized = Image.fromarray(image.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BOX)
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


def _disk_max(image: np.ndarray, radius: int) -> np.ndarray:
    """Every pixel takes the largest value within `radius` (a disk), same size; beyond the edges counts as nothing."""
    out = image.copy()
    height, width = image.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if 0 < dy * dy + dx * dx <= radius * radius + radius:
                shifted = image[max(0, dy): height + min(0, dy), max(0, dx): width + min(0, dx)]
                target = out[max(0, -dy): height + min(0, -dy), max(0, -dx): width + min(0, -dx)]
                np.maximum(target, shifted, out=target)
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


def _blank(steps: list[tuple[str, np.ndarray]]) -> Prepared:
    empty = np.zeros((FIELD, FIELD), np.float32)
    return Prepared(empty, steps + [(f"centered {FIELD}x{FIELD}", to_uint8(empty))], blank=True)


def _finish(ink: np.ndarray, steps: list[tuple[str, np.ndarray]]) -> Prepared:
    """Steps 2-4 on a clean ink map."""
    cropped = crop_to_ink(ink)
    if cropped is None:
        return _blank(steps)
    steps.append(("cropped", to_uint8(cropped)))
    boxed, scale_steps = scale_to_box(cropped)
    steps.extend(scale_steps)
    image = center_in_field(boxed)
    steps.append((f"centered {FIELD}x{FIELD}", to_uint8(image)))
    return Prepared(image, steps)


# ---------------------------------------------------------------------------------------------
# Entry points


def from_ink(ink: np.ndarray) -> Prepared:
    """Prepare an ink map (HxW, 1 = full ink, any size), e.g. a canvas's alpha or a decoded browser payload."""
    ink = _as_unit_float(np.asarray(ink))
    if ink.ndim != 2:
        raise PictureError(f"An ink map must be HxW; got shape {ink.shape}.")
    return _finish(ink, [("ink", to_uint8(ink))])


def from_canvas(value) -> Prepared:
    """Prepare a Gradio Sketchpad value (dict of background/layers/composite) or a plain RGB(A) canvas array."""
    return from_ink(canvas_ink(value))


def picture_ink(array: np.ndarray) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]]]:
    """Step 1 for pictures: a clean ink map (None if no ink stands out) and the pictures along the way."""
    steps: list[tuple[str, np.ndarray]] = []
    if has_transparent_background(array):
        strength, noise = _as_unit_float(array[..., 3]), 0.0  # transparent = background, whatever the ink's colour
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
        return _blank(steps)
    return _finish(ink, steps)
