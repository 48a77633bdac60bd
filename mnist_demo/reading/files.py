"""Reading what users send, safely: picture files and the canvas's ink payload.

Everything a client sends is untrusted: sizes are checked before anything is decoded, only the
formats of PICTURE_FORMATS are opened, decoding is reduced early for large JPEGs, a pixel limit
holds for every format (the declared size, and again the size actually decoded), and every
failure is a `PictureError` whose message can be shown to a user as it is (no paths, no
tracebacks).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..canvas_spec import INK_SIDE

MAX_PAYLOAD_SIDE = INK_SIDE  # nothing larger needs accepting: a 1024 px payload cost ~10 MB per request
EMPTY_PAYLOAD_SIDE = INK_SIDE  # the size of the zeros decode_ink_payload returns for an empty payload
# The longest payload string a MAX_PAYLOAD_SIDE square can take (base64 plus the JSON around it), checked
# before anything is parsed.
MAX_PAYLOAD_CHARS = 4 * -(-MAX_PAYLOAD_SIDE * MAX_PAYLOAD_SIDE // 3) + 200


MAX_PICTURE_BYTES = 10_000_000  # a phone photo is 2-8 MB; Gradio's upload limit is the same (ui.app)
MAX_DECODED_PIXELS = 16_800_000  # ~4096 x 4096: what any format may decode to (a JPEG after its draft)
MAX_DECLARED_PIXELS = 80_000_000  # what a JPEG may declare before its draft reduces it (under Pillow's bomb limit)
PICTURE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # Pillow's names; nothing else is even opened
_DRAFTABLE = {"JPEG", "MPO"}  # formats whose decoder can reduce the scale while decoding


class PictureError(ValueError):
    """A picture that cannot be used (unreadable, too large, empty), with a message fit for a user."""


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks Pillow inflates on open (up to 1 MB each, 64 MB together) that a digit never needs: text and the
# compressed colour profile.
_INFLATED_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"iCCP"}


def without_png_text(data: bytes) -> bytes:
    """A PNG's bytes without its text and colour-profile chunks, so nothing is inflated but the pixels;
    anything that is not a well-formed PNG is returned as it is (the decoder then judges it)."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    kept, at = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        end = at + 12 + length
        if end > len(data):
            return data
        if data[at + 4:at + 8] not in _INFLATED_CHUNKS:
            kept.append(data[at:end])
        at = end
    return b"".join(kept) + data[at:]


def load_picture(source: str | bytes | Path, max_bytes: int = MAX_PICTURE_BYTES,
                 max_pixels: int = MAX_DECODED_PIXELS) -> Image.Image:
    """Open a picture file (path or bytes), refusing unreadable, oversized and decompression-bomb files.

    Only PNG, JPEG, GIF, BMP and WebP are opened (the first frame of an animation). The returned
    image is fully decoded, turned upright by its EXIF orientation, and for large JPEGs decoded at a
    reduced scale (never below ~1024 px on the longer side), which is all a 28 px result needs.
    `max_pixels` bounds what is decoded, whatever the format.
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
    data = without_png_text(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=PICTURE_FORMATS)
            width, height = image.size
            if width < 1 or height < 1:
                raise PictureError(f"{name} has no pixels.")
            draftable = image.format in _DRAFTABLE
            if width * height > (MAX_DECLARED_PIXELS if draftable else max_pixels):
                raise _too_many_pixels(name, width, height, max_pixels)
            if draftable:
                image.draft("RGB" if image.mode not in ("L", "RGB") else image.mode, (1024, 1024))
                width, height = image.size  # what will actually be decoded
                if width * height > max_pixels:
                    raise _too_many_pixels(name, width, height, max_pixels)
            image.load()
            image = ImageOps.exif_transpose(image)
    except PictureError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PictureError(f"{name} declares a huge size; it looks like a decompression bomb and was not opened.") from None
    except UnidentifiedImageError:
        raise PictureError(f"{name} is not a picture format this app reads (PNG, JPEG, GIF, BMP or WebP).") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise PictureError(f"{name} could not be read; the file may be damaged or cut short.") from None
    return image


def _too_many_pixels(name: str, width: int, height: int, max_pixels: int) -> PictureError:
    return PictureError(f"{name} is {width} x {height} pixels; pictures up to {max_pixels / 1e6:.0f} "
                        "megapixels are accepted.")


def decode_ink_payload(payload: str | None) -> np.ndarray:
    """The browser canvas's JSON `{"w", "h", "data": base64 of w*h uint8 ink values}` as float32 HxW in [0, 1].

    An empty payload means nothing drawn yet: zeros of EMPTY_PAYLOAD_SIDE square, which prepare as blank.
    """
    if payload is None or (isinstance(payload, str) and not payload.strip()):
        return np.zeros((EMPTY_PAYLOAD_SIDE, EMPTY_PAYLOAD_SIDE), np.float32)
    if not isinstance(payload, str):
        raise PictureError("The drawing could not be read (expected a JSON string).")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise PictureError(f"The drawing is too large ({len(payload):,} characters; the canvas sends at most "
                           f"{MAX_PAYLOAD_CHARS:,}).")
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

