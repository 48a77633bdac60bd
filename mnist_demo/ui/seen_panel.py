"""The "what the network sees" panel: the 28x28 input enlarged with crisp pixels, and the preprocessing steps.

Pictures travel inline as small PNG data URIs inside one HTML value, so a live update during a
stroke is a single small response (no image files to write or fetch).
"""

from __future__ import annotations

import html

import numpy as np

from ..pictures import png_data_uri
from .i18n import STRINGS, t

INPUT_SIDE_PX = 168  # the 28x28 input shown at 6x
STEP_SIDE_PX = 72

CSS = """
.seen-row { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; }
figure { margin: 0; text-align: center; font-size: var(--text-sm, 12px); }
img { image-rendering: pixelated; background: #000; border: 1px solid var(--border-color-primary, #ccc); }
.seen-empty { opacity: 0.6; }
"""


def step_name(name: str, lang: str) -> str:
    """A preprocessing step's caption: translated where the table knows the step, else as named."""
    key = "draw.step." + name
    return t(key, lang) if key in STRINGS else name


def _figure(image: np.ndarray, caption: str, side_px: int) -> str:
    height, width = image.shape[:2]
    scale = side_px / max(height, width)
    return (f'<figure><img src="{png_data_uri(image)}" width="{max(1, round(width * scale))}" '
            f'height="{max(1, round(height * scale))}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def seen_html(prepared, lang: str) -> str:
    """The panel for a `reading.geometry.Prepared` (or None: nothing to show yet)."""
    title = f"<h4>{html.escape(t('draw.seen.title', lang))}</h4>"
    if prepared is None:
        return title + f'<p class="seen-empty">{html.escape(t("draw.seen.empty", lang))}</p>'
    network_input = np.round(np.clip(prepared.image, 0, 1) * 255).astype(np.uint8)
    steps = "".join(_figure(image, step_name(name, lang), STEP_SIDE_PX) for name, image in prepared.steps)
    return (title + '<div class="seen-row">'
            + _figure(network_input, t("draw.seen.input", lang), INPUT_SIDE_PX)
            + f'</div><h4>{html.escape(t("draw.seen.steps", lang))}</h4><div class="seen-row">{steps}</div>')
