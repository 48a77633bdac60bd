"""Reading (`mnist_demo.reading`): drawings and pictures of every kind become MNIST-like 28x28 inputs, and bad files are refused."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from collections import deque

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from mnist_demo.reading import geometry as geo
from mnist_demo.reading import photo
from mnist_demo.reading.files import PictureError, decode_ink_payload, load_picture
from mnist_demo.reading.geometry import from_ink
from mnist_demo.reading.photo import from_picture

# ---------------------------------------------------------------------------------------------
# Helpers: drawings made with PIL, anti-aliased by drawing at 4x and averaging


def draw(shape: str, canvas: tuple[int, int], box: tuple[float, float, float, float], width: float) -> np.ndarray:
    """An ink map (H, W) in [0, 1]: `shape` drawn inside box (left, top, right, bottom) with a pen `width` px wide."""
    s = 4
    height, wide = canvas
    image = Image.new("L", (wide * s, height * s), 0)
    pen = ImageDraw.Draw(image)
    left, top, right, bottom = (v * s for v in box)
    w = max(1, round(width * s))

    def at(fx: float, fy: float) -> tuple[float, float]:
        return left + fx * (right - left), top + fy * (bottom - top)

    if shape == "7":
        pen.line([at(0, 0), at(1, 0), at(0.35, 1)], fill=255, width=w, joint="curve")
    elif shape == "1":
        pen.line([at(0.5, 0), at(0.5, 1)], fill=255, width=w)
    elif shape == "0":
        pen.ellipse([at(0, 0), at(1, 1)], outline=255, width=w)
    elif shape == "4":
        pen.line([at(0.7, 1), at(0.7, 0), at(0, 0.65), at(1, 0.65)], fill=255, width=w, joint="curve")
    else:
        raise ValueError(shape)
    return np.asarray(image.resize((wide, height), Image.Resampling.BOX), np.float32) / 255


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the pixels holding any ink."""
    rows = np.flatnonzero((image > 0).any(axis=1))
    cols = np.flatnonzero((image > 0).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The best correlation over shifts of up to one pixel: MNIST centres to whole pixels, so two
    drawings of one digit whose centres of mass differ by a hair may land a pixel apart."""
    return max(correlation(np.roll(a, (dy, dx), axis=(0, 1)), b) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def on_paper(ink: np.ndarray, paper: float | np.ndarray = 1.0, pen: float = 0.0) -> np.ndarray:
    """Dark pen on light paper as a uint8 RGB picture."""
    grey = paper * (1 - ink) + pen * ink
    return np.repeat(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)


def assert_mnist_like(prepared: geo.Prepared) -> None:
    image = prepared.image
    assert not prepared.blank
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() == pytest.approx(1.0)
    rows, cols = geo.center_of_mass(image)
    assert abs(rows - 14) <= 1 and abs(cols - 14) <= 1, (rows, cols)
    height, width = ink_box(image)
    assert height <= 20 and width <= 20
    assert max(height, width) >= 19


# ---------------------------------------------------------------------------------------------
# Geometry: the MNIST recipe


CASES = [  # shape, canvas (H, W), box, pen width
    ("7", (280, 280), (40, 30, 240, 250), 18),
    ("7", (280, 280), (200, 200, 270, 270), 6),  # small, in a corner
    ("0", (112, 112), (10, 40, 100, 80), 8),  # wide and flat
    ("1", (280, 280), (100, 20, 130, 260), 16),  # thin and tall
    ("4", (600, 300), (20, 300, 280, 590), 25),  # not square, low down
    ("0", (64, 64), (20, 20, 36, 44), 3),  # drawn smaller than 20 px: enlarged
]


@pytest.mark.parametrize("shape,canvas,box,width", CASES)
def test_ink_becomes_a_20px_digit_centred_by_mass(shape, canvas, box, width):
    prepared = from_ink(draw(shape, canvas, box, width))
    assert_mnist_like(prepared)


def test_longer_side_is_20_and_aspect_ratio_is_kept():
    tall = from_ink(draw("1", (280, 280), (100, 20, 130, 260), 16)).image
    height, width = ink_box(tall)
    assert height == 20 and width <= 6  # a "1" stays thin, as in MNIST
    wide = from_ink(draw("0", (280, 280), (20, 100, 260, 180), 14)).image
    height, width = ink_box(wide)
    assert width == 20 and 5 <= height <= 9


def test_an_mnist_digit_comes_back_unchanged():
    """MNIST's own recipe applied to an MNIST-like image is (nearly) the identity."""
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 10:18] = draw("7", (20, 8), (1, 1, 7, 19), 2)
    once = from_ink(digit).image
    twice = from_ink(once).image
    assert np.abs(twice - once).max() < 0.02


def test_position_and_size_of_the_drawing_do_not_matter():
    reference = from_ink(draw("4", (280, 280), (40, 40, 240, 240), 18)).image
    for box, width in [((150, 150, 250, 250), 9), ((5, 5, 105, 105), 9), ((30, 60, 230, 260), 18)]:
        moved = from_ink(draw("4", (280, 280), box, width)).image
        assert similarity(moved, reference) > 0.95


def test_center_shift_never_pushes_ink_off_the_field():
    ink = np.zeros((100, 100), np.float32)
    ink[10:90, 10:14] = 1.0  # a tall bar...
    ink[10:14, 10:90] = 1.0  # ...and a long top bar: mass far from the box centre
    ink[10:30, 70:90] = 1.0  # heavy top-right corner
    image = from_ink(ink).image
    assert image.sum() == pytest.approx(geo.scale_to_box(geo.crop_to_ink(ink))[0].sum(), rel=1e-5)
    assert ink_box(image) == (20, 20)


def test_stroke_width_is_brought_into_mnists_range():
    hairline = from_ink(draw("7", (400, 400), (50, 50, 350, 350), 2))
    assert [name for name, _ in hairline.steps][:3] == ["ink", "cropped", "thickened"]
    fat = from_ink(draw("7", (280, 280), (100, 100, 180, 180), 18))
    assert "thinned" in [name for name, _ in fat.steps]
    typical = from_ink(draw("7", (280, 280), (40, 40, 240, 240), 18))
    assert [name for name, _ in typical.steps] == ["ink", "cropped", "scaled to 20 px", "centered 28x28"]
    for prepared in (hairline, fat, typical):
        assert geo.MIN_STROKE_WIDTH - 0.3 <= geo.stroke_width(prepared.image) <= geo.MAX_STROKE_WIDTH + 0.3
        assert_mnist_like(prepared)


def test_steps_are_uint8_pictures_and_tensor_is_model_shaped():
    prepared = from_picture(on_paper(draw("7", (300, 300), (50, 50, 250, 250), 18)))
    names = [name for name, _ in prepared.steps]
    assert names[0] == "grey" and names[-3:] == ["cropped", "scaled to 20 px", "centered 28x28"]
    for _, picture in prepared.steps:
        assert picture.dtype == np.uint8 and picture.ndim == 2
    assert np.array_equal(prepared.steps[-1][1], np.round(prepared.image * 255).astype(np.uint8))
    tensor = prepared.tensor()
    assert tensor.shape == (1, 1, 28, 28) and tensor.dtype == torch.float32
    assert torch.equal(tensor[0, 0], torch.from_numpy(prepared.image))


# ---------------------------------------------------------------------------------------------
# Canvas


@pytest.mark.parametrize("ink", [
    decode_ink_payload(""),  # the canvas before anything is drawn, or after clear
    decode_ink_payload(None),
    np.zeros((280, 280), np.float32),
])
def test_empty_canvas_is_blank(ink):
    prepared = from_ink(ink)
    assert prepared.blank and not prepared.image.any()
    assert prepared.steps[-1][0] == "centered 28x28"


def test_a_stray_dot_or_faint_smudge_is_blank():
    dot = np.zeros((280, 280), np.float32)
    dot[100:104, 100:104] = 1.0  # 16 px of 78,400
    assert from_ink(dot).blank
    assert from_ink(np.full((112, 112), 0.05, np.float32)).blank
    assert from_ink(np.zeros((112, 112), np.float32)).blank


# ---------------------------------------------------------------------------------------------
# Pictures


def test_black_on_white_and_white_on_black_give_the_same_input():
    ink = draw("4", (300, 400), (100, 40, 300, 260), 14)
    dark_on_light = from_picture(on_paper(ink))
    light_on_dark = from_picture(on_paper(ink, paper=0.0, pen=1.0))
    grey_only = from_picture(np.round((1 - ink) * 255).astype(np.uint8))
    assert_mnist_like(dark_on_light)
    assert correlation(dark_on_light.image, light_on_dark.image) > 0.95
    assert correlation(dark_on_light.image, grey_only.image) > 0.99
    assert correlation(dark_on_light.image, from_ink(ink).image) > 0.95


def test_bold_digit_filling_the_picture():
    """A third of the picture is ink: the background must still be told from the strokes."""
    ink = draw("0", (100, 100), (4, 4, 96, 96), 16)
    assert ink.mean() > 0.3
    assert similarity(from_picture(on_paper(ink)).image, from_ink(ink).image) > 0.98


def test_coloured_ink_on_coloured_paper():
    ink = draw("0", (200, 200), (40, 30, 160, 170), 12)[..., None]
    paper, blue = np.array([250, 240, 200], np.float32), np.array([30, 40, 160], np.float32)
    picture = np.round(paper * (1 - ink) + blue * ink).astype(np.uint8)
    assert correlation(from_picture(picture).image, from_ink(ink[..., 0]).image) > 0.95


@pytest.mark.parametrize("ink_rgb", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_transparent_png_uses_its_alpha_as_ink(ink_rgb):
    ink = draw("7", (240, 240), (40, 30, 200, 210), 14)
    rgba = np.zeros((240, 240, 4), np.uint8)
    rgba[..., :3] = ink_rgb
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    loaded = load_picture(png_bytes(rgba))
    assert loaded.mode == "RGBA"
    prepared = from_picture(loaded)
    assert prepared.steps[0][0] == "transparency as ink"
    assert correlation(prepared.image, from_ink(ink).image) > 0.97
    assert correlation(from_picture(png_bytes(rgba)).image, prepared.image) > 0.9999  # bytes straight in


def test_grey_with_alpha_and_palette_pngs():
    ink = draw("1", (200, 200), (80, 20, 120, 180), 14)
    alpha = np.round(ink * 255).astype(np.uint8)
    la = Image.fromarray(np.stack([np.full_like(alpha, 255), alpha], axis=-1))
    assert la.mode == "LA"
    palette = Image.fromarray(on_paper(ink)).convert("P")
    reference = from_ink(ink).image
    for picture in (la, palette, Image.fromarray(on_paper(ink)).convert("1")):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        assert correlation(from_picture(load_picture(buffer.getvalue())).image, reference) > 0.9


def test_photo_with_shadow_noise_and_specks_keeps_the_digit_and_drops_the_specks():
    rng = np.random.default_rng(3)
    height, width = 384, 512  # the working size: no shrinking, so the specks stay where they were put
    ink = draw("7", (height, width), (160, 64, 352, 320), 7)
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width]).reshape(2, 1, 1)
    paper = 0.35 + 0.5 * x + 0.1 * y  # a shadow from the left
    photo = paper * (1 - 0.85 * ink) + rng.normal(0, 0.03, (height, width))
    specks = [(48, 48), (336, 464), (192, 448), (32, 280), (352, 80)]
    for row, col in specks:
        photo[row - 2:row + 2, col - 2:col + 2] *= 0.2
    photo = np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8)
    prepared = from_picture(photo)
    clean = from_picture(on_paper(ink))
    assert_mnist_like(prepared)
    assert correlation(prepared.image, clean.image) > 0.95
    cleaned = dict(prepared.steps)["ink"]
    assert all(cleaned[row - 3:row + 3, col - 3:col + 3].max() == 0 for row, col in specks)
    assert cleaned[ink > 0.9].min() > 0  # the whole digit kept


def test_a_big_photo_is_shrunk_first_and_gives_the_same_input():
    ink = draw("0", (300, 400), (120, 40, 280, 260), 12)
    small = on_paper(ink, paper=0.8, pen=0.15)
    big = np.asarray(Image.fromarray(small).resize((4000, 3000), Image.Resampling.BILINEAR))
    prepared = from_picture(big)
    assert max(prepared.steps[0][1].shape) <= photo.WORK_SIDE
    assert similarity(prepared.image, from_picture(small).image) > 0.97


@pytest.mark.parametrize("picture", [
    np.full((300, 400, 3), 255, np.uint8),  # blank white paper
    np.zeros((100, 100), np.uint8),  # black screen
    np.full((200, 200, 4), 0, np.uint8),  # fully transparent
])
def test_blank_pictures(picture):
    prepared = from_picture(picture)
    assert prepared.blank and not prepared.image.any()


def test_uniform_photo_with_noise_and_shading_is_blank():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:480, 0:640] / 640
    photo = 0.5 + 0.3 * x - 0.1 * y + rng.normal(0, 0.04, x.shape)
    assert from_picture(np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8)).blank


def test_float_and_single_channel_arrays_are_accepted():
    ink = draw("7", (200, 200), (30, 30, 170, 170), 12)
    reference = from_picture(on_paper(ink)).image
    assert correlation(from_picture(1.0 - ink).image, reference) > 0.99
    assert correlation(from_picture((255 - ink[..., None] * 255).astype(np.uint8)).image, reference) > 0.99
    with pytest.raises(PictureError):
        from_picture(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(PictureError):
        from_picture(np.zeros((0, 0), np.uint8))


# ---------------------------------------------------------------------------------------------
# Connected parts


def reference_labels(mask: np.ndarray) -> np.ndarray:
    """Plain breadth-first 8-connected labelling, to check the vectorized one against."""
    labels = np.zeros(mask.shape, int)
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        queue = deque([start])
        while queue:
            r, c = queue.popleft()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < mask.shape[0] and 0 <= cc < mask.shape[1] and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = count
                        queue.append((rr, cc))
    return labels


@pytest.mark.parametrize("density", [0.3, 0.45, 0.6])
def test_label_components_matches_a_plain_flood_fill(density):
    mask = np.random.default_rng(int(density * 100)).random((60, 70)) < density
    pixels, part = photo.label_components(mask)
    expected = reference_labels(mask).flat[pixels]
    assert len(set(part)) == len(set(expected))
    pairs = set(zip(part.tolist(), expected.tolist(), strict=True))
    assert len(pairs) == len(set(expected))  # the same partition, whatever the numbering


def test_label_components_follows_a_long_winding_path():
    mask = np.zeros((41, 41), bool)
    mask[::2] = True  # rows joined alternately at the right and the left end: one snake 861 px long
    mask[1::4, -1] = True
    mask[3::4, 0] = True
    mask[20, 20] = False  # cut it in two
    pixels, part = photo.label_components(mask)
    assert len(set(part)) == 2 == len(set(reference_labels(mask).flat[pixels]))


def test_drop_specks_keeps_big_parts_and_drops_small_ones():
    ink = np.zeros((100, 100), np.float32)
    ink[10:90, 45:55] = 1.0  # the stroke
    ink[10:20, 60:80] = 0.8  # a detached part, 20% of the stroke's ink
    ink[95, 5] = 1.0  # a speck
    ink[3:5, 90:92] = 1.0  # another
    expected = ink.copy()
    expected[95, 5] = 0
    expected[3:5, 90:92] = 0
    assert np.array_equal(photo.drop_specks(ink), expected)
    assert photo.drop_specks(np.zeros((5, 5), np.float32)).sum() == 0


# ---------------------------------------------------------------------------------------------
# Files


def test_load_picture_round_trip_and_from_path(tmp_path):
    ink = draw("4", (200, 200), (30, 30, 170, 170), 12)
    picture = on_paper(ink)
    path = tmp_path / "four.png"
    path.write_bytes(png_bytes(picture))
    for source in (path, str(path), path.read_bytes()):
        loaded = load_picture(source)
        assert np.array_equal(np.asarray(loaded), picture)
    assert correlation(from_picture(str(path)).image, from_picture(picture).image) > 0.9999


def test_load_picture_turns_photos_upright():
    picture = np.full((100, 200, 3), 255, np.uint8)  # landscape as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", exif=exif)
    assert load_picture(buffer.getvalue()).size == (100, 200)


def test_large_jpeg_is_decoded_at_a_reduced_scale():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(buffer, format="JPEG")
    loaded = load_picture(buffer.getvalue())
    assert 1024 <= max(loaded.size) < 4000


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring a huge 1-bit image (the data is never needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * (1 + (width + 7) // 8) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data,words", [
    (b"this is not a picture at all", "not a picture format"),
    (b"", "empty"),
    (bomb_png(100_000, 100_000), "decompression bomb"),
    (bomb_png(10_000, 8_000), "megapixels"),
])
def test_load_picture_refuses_bad_files_with_a_readable_message(data, words):
    with pytest.raises(PictureError, match=words):
        load_picture(data)


def test_load_picture_refuses_truncated_and_oversized_files(tmp_path):
    picture = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    whole = png_bytes(picture)
    with pytest.raises(PictureError, match="damaged or cut short"):
        load_picture(whole[: len(whole) // 2])
    with pytest.raises(PictureError, match="MB"):
        load_picture(whole, max_bytes=1000)
    with pytest.raises(PictureError, match="megapixels"):
        load_picture(whole, max_pixels=10_000)
    path = tmp_path / "big.png"
    path.write_bytes(whole)
    with pytest.raises(PictureError, match="MB"):
        load_picture(path, max_bytes=1000)
    with pytest.raises(PictureError, match="no such file"):
        load_picture(tmp_path / "missing.png")


# ---------------------------------------------------------------------------------------------
# The browser canvas's payload


def payload(values: np.ndarray, **override) -> str:
    message = {"w": values.shape[1], "h": values.shape[0], "data": base64.b64encode(values.tobytes()).decode()}
    return json.dumps(message | override)


def test_decode_ink_payload_round_trip():
    values = np.round(draw("7", (112, 96), (10, 10, 86, 100), 8) * 255).astype(np.uint8)
    decoded = decode_ink_payload(payload(values))
    assert decoded.shape == (112, 96) and decoded.dtype == np.float32
    assert np.array_equal(np.round(decoded * 255).astype(np.uint8), values)
    assert_mnist_like(from_ink(decoded))


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_empty_payload_is_a_blank_drawing(empty):
    decoded = decode_ink_payload(empty)
    assert decoded.shape == (112, 112) and not decoded.any()
    assert from_ink(decoded).blank


@pytest.mark.parametrize("bad", [
    "{not json",
    json.dumps([1, 2, 3]),
    json.dumps({"w": 2, "h": 2}),
    payload(np.zeros((4, 4), np.uint8), w=5),  # wrong length
    payload(np.zeros((4, 4), np.uint8), data="@@@@not base64@@@@"),
    payload(np.zeros((4, 4), np.uint8), w=2000, h=2),  # absurd size
    payload(np.zeros((4, 4), np.uint8), w=0),
    payload(np.zeros((4, 4), np.uint8), w=-4),
    payload(np.zeros((4, 4), np.uint8), w=4.0),
    payload(np.zeros((4, 4), np.uint8), h=True),
    payload(np.zeros((4, 4), np.uint8), data=None),
])
def test_malformed_payloads_are_refused(bad):
    with pytest.raises(PictureError, match="drawing"):
        decode_ink_payload(bad)
