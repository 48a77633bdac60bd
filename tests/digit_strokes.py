"""Pen paths for the digits 0-9 as a person might draw them, in canvas coordinates from 0 to 1.

Shared by the browser tests and the latency benchmark. Each digit is a list of strokes, each
stroke a list of (x, y) points (y downwards) dense enough to draw with mouse moves.
"""

from __future__ import annotations

import math

Point = tuple[float, float]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, step: float = 12) -> list[Point]:
    """Points on an ellipse from angle `start` to `end` in degrees (0 = right, 90 = down, either direction)."""
    count = max(2, int(abs(end - start) / step) + 1)
    angles = [math.radians(start + (end - start) * i / (count - 1)) for i in range(count)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def line(*points: Point, spacing: float = 0.03) -> list[Point]:
    """A polyline through `points`, with intermediate points every `spacing`."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        count = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
        out += [(x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)]
    return out


def eight() -> list[Point]:
    """A figure of eight crossing in the middle: lower loop, then upper loop."""
    ts = [2 * math.pi * i / 48 for i in range(49)]
    return [(0.5 + 0.17 * math.sin(2 * t), 0.5 + 0.31 * math.sin(t)) for t in ts]


DIGITS: dict[int, list[list[Point]]] = {
    0: [arc(0.5, 0.5, 0.2, 0.31, -90, -470)],
    1: [line((0.53, 0.16), (0.48, 0.84))],
    2: [arc(0.5, 0.34, 0.18, 0.15, 200, 390) + line((0.656, 0.415), (0.3, 0.8), (0.72, 0.8))],
    3: [arc(0.5, 0.33, 0.17, 0.14, 210, 450) + arc(0.5, 0.64, 0.19, 0.17, -90, 150)],
    4: [line((0.36, 0.18), (0.3, 0.56), (0.74, 0.56)), line((0.62, 0.22), (0.62, 0.84))],
    5: [line((0.68, 0.2), (0.38, 0.2), (0.35, 0.47)) + arc(0.5, 0.63, 0.19, 0.17, -125, 150)],
    6: [line((0.64, 0.17), (0.5, 0.27), (0.4, 0.42), (0.34, 0.62)) + arc(0.5, 0.65, 0.16, 0.16, 180, -170)],
    7: [line((0.28, 0.2), (0.7, 0.2), (0.44, 0.84))],
    8: [eight()],
    9: [arc(0.5, 0.34, 0.16, 0.15, 0, -360) + line((0.66, 0.34), (0.63, 0.84))],
}
