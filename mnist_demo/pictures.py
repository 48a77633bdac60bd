"""Drawing numbers as pictures: colour maps, tile grids, heat-map overlays, the convolution
step-through, the confusion matrix, enlarged test images, PNG bytes and data URIs.

Pictures are drawn from numbers only (no text in a language), so captions can be translated by
the UI. No gradio here.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from .inspection.convolution import ConvSteps


def to_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image (H, W) grey or (H, W, 3) colour: what a browser receives for it."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG", optimize=False,
                                                                       compress_level=6)
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image as a data: URI (PNG), to inline in HTML."""
    return "data:image/png;base64," + base64.b64encode(to_png(image)).decode("ascii")


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


CONFUSION_CELL = 44  # px of one cell of `confusion_image`; its labels take one cell's margin on the top and left


def confusion_image(matrix: torch.Tensor, cell: int = CONFUSION_CELL) -> Image.Image:
    """The confusion matrix as a picture: rows are the true class, columns the prediction.

    A cell's shade is its share of the row (correct answers blue on the diagonal, mistakes red
    elsewhere), and it shows the count; class numbers run along the top and the left.
    `confusion_cell` maps a point of the picture back to its cell.
    """
    counts = matrix.to(torch.float64).numpy()
    n = counts.shape[0]
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    margin = cell
    size = margin + n * cell
    img = Image.new("RGB", (size + 4, size + 4), "white")
    draw = ImageDraw.Draw(img)
    label_font, count_font = _font(int(cell * 0.45)), _font(int(cell * 0.32))
    for i in range(n):
        centre = margin + i * cell + cell // 2
        draw.text((centre, margin // 2), str(i), fill="black", font=label_font, anchor="mm")
        draw.text((margin // 2, centre), str(i), fill="black", font=label_font, anchor="mm")
    for r in range(n):
        for c in range(n):
            s = share[r, c]
            if r == c:
                colour = (int(255 - 205 * s), int(255 - 150 * s), 255)
            else:
                s = min(1.0, s * 8)  # mistakes are rare: make a few percent visible
                colour = (255, int(255 - 190 * s), int(255 - 190 * s))
            x0, y0 = margin + c * cell, margin + r * cell
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline=(225, 225, 225))
            if counts[r, c]:
                ink = "white" if r == c and share[r, c] > 0.6 else "black"
                draw.text((x0 + cell // 2, y0 + cell // 2), f"{int(counts[r, c])}", fill=ink, font=count_font,
                          anchor="mm")
    return img


def confusion_cell(x: float, y: float, n: int, cell: int = CONFUSION_CELL) -> tuple[int, int] | None:
    """The cell (true, predicted) under the point (x, y) in pixels of `confusion_image(matrix of n
    classes, cell)`, or None for the labels, the border or outside the picture."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
        return None
    column, row = math.floor((x - cell) / cell), math.floor((y - cell) / cell)
    return (row, column) if 0 <= row < n and 0 <= column < n else None


def mistake_image(image28: np.ndarray, scale: int = 4) -> Image.Image:
    """A test image enlarged with sharp pixels, shown as dark ink on white like the canvas."""
    return Image.fromarray(255 - image28).resize((28 * scale, 28 * scale), Image.NEAREST)


OVERLAY_SIDE = 224  # 28 x 8


def _ramp(anchors: list[tuple[int, int, int]], size: int = 256) -> np.ndarray:
    """A colour lookup table through evenly spaced anchor colours (odd `size`: an exact middle entry)."""
    stops = np.linspace(0, size - 1, len(anchors))
    channels = [np.interp(np.arange(size), stops, [a[c] for a in anchors]) for c in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


DIVERGING = _ramp([(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)], 255)  # zero white


SEQUENTIAL = _ramp([(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)])  # "inferno"-like


GAP = np.array([200, 200, 200], dtype=np.uint8)


def colorize(values: np.ndarray, lut: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map values in [low, high] through a lookup table: (...) float -> (..., 3) uint8."""
    span = high - low if high > low else 1.0
    top = len(lut) - 1
    index = np.clip((np.asarray(values, dtype=np.float32) - low) / span * top + 0.5, 0, top).astype(np.uint8)
    return lut[index]


def colorize_diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Blue for negative, white for zero, red for positive; symmetric scale ±limit (default max |v|)."""
    limit = float(np.abs(values).max()) if limit is None else limit
    limit = limit if limit > 0 else 1.0
    return colorize(values, DIVERGING, -limit, limit)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so every weight or pixel stays a crisp square."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1) if factor > 1 else image


def tile_grid(tiles: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """(N, h, w, 3) uint8 tiles -> one (rows·(h+gap)+gap, cols·(w+gap)+gap, 3) grid image."""
    n, h, w, _ = tiles.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = np.empty((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), dtype=np.uint8)
    grid[:] = GAP
    for index in range(n):
        r, c = divmod(index, columns)
        top, left = gap + r * (h + gap), gap + c * (w + gap)
        grid[top:top + h, left:left + w] = tiles[index]
    return grid


def tile_factor(side: int, target: int) -> int:
    """An integer enlargement bringing a map's side near `target` pixels."""
    return max(1, round(target / side))


def grid_columns(n: int) -> int:
    return min(n, 8 if n > 16 else max(1, math.ceil(math.sqrt(n))))


def render_maps(values: np.ndarray, tile_side: int = 52, gap: int = 2) -> np.ndarray:
    """(C, H, W) activations -> grid; one colour scale for the whole layer so channels compare.

    Non-negative layers (after ReLU, sigmoid, max-pool of those) use a dark-to-bright ramp;
    layers with negative values use the diverging ramp with zero white.
    """
    low, high = float(values.min()), float(values.max())
    if low >= 0:
        coloured = colorize(values, SEQUENTIAL, 0.0, high)
    else:
        coloured = colorize_diverging(values)
    factor = tile_factor(values.shape[-1], tile_side)
    tiles = np.stack([enlarge(c, factor) for c in coloured])
    return tile_grid(tiles, grid_columns(len(tiles)), gap)


def render_bars(values: np.ndarray, width: int = 512, height: int = 64) -> np.ndarray:
    """A compact bar chart of a vector: positive bars red upwards, negative blue downwards from zero."""
    n = len(values)
    bar = max(1, width // n)
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    span = (high - low) or 1.0
    zero_row = int(round(height * high / span))
    image = np.full((height, n * bar, 3), 255, dtype=np.uint8)
    for unit, value in enumerate(values):
        size = int(round(abs(value) / span * height))
        rows = slice(zero_row - size, zero_row) if value >= 0 else slice(zero_row, zero_row + size)
        image[rows, unit * bar:(unit + 1) * bar - (1 if bar > 2 else 0)] = (
            (178, 24, 43) if value >= 0 else (33, 102, 172))
    image[min(zero_row, height - 1), :] = (90, 90, 90)
    return image


def render_overlay(image: np.ndarray, heat: np.ndarray, size: int = OVERLAY_SIDE, alpha: float = 0.8) -> np.ndarray:
    """The 28x28 input in grey with the heat map's colours blended on top, enlarged to size x size.

    The heat colour's weight grows with the square root of the heat, so weak evidence stays visible
    and a zero heat leaves the input as it is.
    """
    factor = max(1, size // image.shape[1])
    grey = np.repeat(np.clip(np.asarray(image, dtype=np.float32), 0, 1)[..., None] * 255, 3, axis=2)
    colour = colorize(heat, SEQUENTIAL, 0.0, 1.0).astype(np.float32)
    weight = alpha * np.sqrt(np.clip(np.asarray(heat, dtype=np.float32), 0, 1))[..., None]
    blended = (1 - weight) * grey + weight * colour
    return enlarge(blended.round().astype(np.uint8), factor)


def render_input(image: np.ndarray, size: int = 112) -> np.ndarray:
    """The 28x28 input in grey, enlarged to about size x size."""
    grey = (np.clip(np.asarray(image, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
    return enlarge(np.repeat(grey[..., None], 3, axis=2), max(1, size // image.shape[1]))


PADDING_COLOUR = np.array([70, 90, 120], dtype=np.uint8)


WINDOW_COLOUR = np.array([255, 200, 0], dtype=np.uint8)


UNFILLED_COLOUR = np.array([185, 185, 185], dtype=np.uint8)


def _outline(image: np.ndarray, top: int, left: int, height: int, width: int, colour: np.ndarray,
             thickness: int = 2) -> None:
    """Draw a rectangle's border in place (coordinates in pixels of `image`)."""
    bottom, right = top + height, left + width
    image[top:top + thickness, left:right] = colour
    image[bottom - thickness:bottom, left:right] = colour
    image[top:bottom, left:left + thickness] = colour
    image[top:bottom, right - thickness:right] = colour


def render_conv_input(steps: ConvSteps, n: int, cell: int = 8) -> np.ndarray:
    """The padded input in grey (the zero border tinted) with the current kernel window outlined."""
    side_h, side_w = steps.padded.shape
    grey = (np.clip(steps.padded, 0, 1) * 255).round().astype(np.uint8)
    image = np.repeat(grey[..., None], 3, axis=2)
    p = steps.padding
    if p:
        border = np.ones((side_h, side_w), dtype=bool)
        border[p:side_h - p, p:side_w - p] = False
        image[border] = PADDING_COLOUR
    image = enlarge(image, cell)
    top, left = steps.window(n)
    kh, kw = steps.kernel.shape
    _outline(image, top * cell, left * cell, kh * cell, kw * cell, WINDOW_COLOUR)
    return image


def render_conv_output(steps: ConvSteps, n: int, cell: int | None = None) -> np.ndarray:
    """The output map built up to step n (later cells blank), the current cell outlined."""
    out_h, out_w = steps.output.shape
    cell = cell or max(4, 240 // max(out_h, out_w))
    image = colorize_diverging(steps.output).reshape(-1, 3)
    filled = np.arange(steps.count) <= n
    image[~filled] = UNFILLED_COLOUR
    image = enlarge(image.reshape(out_h, out_w, 3), cell)
    row, col = steps.position(n)
    _outline(image, row * cell, col * cell, cell, cell, WINDOW_COLOUR)
    return image


def render_kernel(kernel: np.ndarray, cell: int = 24) -> np.ndarray:
    return enlarge(colorize_diverging(kernel), cell)
