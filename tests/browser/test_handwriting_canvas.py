"""The Python renderer of pen strokes against the canvas's own drawing code in Chromium."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_demo import handwriting as hw
from mnist_demo.canvas_spec import BRUSH, INK_SIDE
from mnist_demo.reading.geometry import from_ink
from tests.harness import needs_dataset
from tests.test_handwriting import sample

pytestmark = needs_dataset("unipen-dev", "replays UNIPEN pen strokes")


@pytest.fixture(scope="module")
def digits():
    return hw.load_unipen()


def test_rendering_matches_the_browser_canvas(digits, browser):
    """The canvas's own `trace` function in Chromium, on 60 digits: the same ink, to about a grey level."""
    from mnist_demo.ui.canvas import SCRIPT

    trace = SCRIPT[SCRIPT.index("function trace"):SCRIPT.index("function redraw")]
    script = f"""(all) => {{
      const BRUSH = {BRUSH}, INK_SIDE = {INK_SIDE};
      const c = document.createElement('canvas'); c.width = c.height = INK_SIDE;
      const ctx = c.getContext('2d', {{ willReadFrequently: true }});
      let strokes;
      {trace}
      return all.map((s) => {{
        strokes = s; trace(ctx, INK_SIDE, '#fff', '#000');
        const d = ctx.getImageData(0, 0, INK_SIDE, INK_SIDE).data, out = [];
        for (let i = 0; i < d.length; i += 4) out.push(d[i]);
        return out;
      }});
    }}"""
    chosen = [hw.to_canvas(d.strokes) for d in sample(digits, 60, seed=1)]
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        browser_ink = page.evaluate(script, [[s.tolist() for s in strokes] for strokes in chosen])
    finally:
        page.close()
    reference = np.array(browser_ink, np.float32).reshape(-1, INK_SIDE, INK_SIDE) / 255
    ours = np.stack([hw.render_ink(s) for s in chosen]).astype(np.float32) / 255
    assert np.abs(reference - ours).mean() < 1.5 / 255
    assert ours.sum() == pytest.approx(reference.sum(), rel=0.02)
    prepared = [np.abs(from_ink(a).image - from_ink(b).image).max() for a, b in zip(reference, ours, strict=True)]
    assert np.median(prepared) < 0.1

