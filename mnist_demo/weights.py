"""Saving and loading trained models: safetensors for the tensors, a JSON card for the story.

The card (architecture, recipe, seed, data checksum, measured accuracy, date, command) is written
beside the weights as NAME.json and also embedded in the safetensors metadata, so a single
uploaded .safetensors file is self-describing. Nothing here ever unpickles; uploads are checked
from the safetensors header before the rest of the file is read (header length, JSON, tensor
count, dtypes, shapes, data offsets against the file size), then against the architecture, then
for finite values; only the card fields the app relies on are kept, with their types checked.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from safetensors.torch import save_file
from torch import nn

from .data import DATASETS
from .models import MODELS, build_model

MAX_WEIGHTS_BYTES = 6 * 1024 * 1024  # the largest registered model (fashionnet, float32) is 5.42 MB with its card
MAX_CARD_BYTES = 64 * 1024  # a card is ~2-5 KB
MAX_HEADER_BYTES = 256 * 1024  # the tensor table (~3 KB here) plus the embedded card
MAX_TENSORS = 64  # the registered models have at most 32 tensors
MAX_TENSOR_ELEMENTS = 4_000_000  # the largest tensor here has 1.2 million
MAX_TENSOR_DIMS = 4
# The dtypes a state dict of ours can hold (batch norm's step counter is int64), with their sizes in bytes.
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8}


class WeightsError(ValueError):
    """A weights file that cannot be used, with a message fit to show a user."""


def card_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save(model: nn.Module, path: str | Path, card: dict) -> Path:
    """Write PATH.safetensors and PATH.json; returns the safetensors path."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(_state(model), str(path), metadata={"card": json.dumps(card)})
    card_path(path).write_text(json.dumps(card, indent=2) + "\n")
    return path


def to_bytes(model: nn.Module, card: dict) -> bytes:
    """The weights as a safetensors file's bytes (card embedded), for a database (a class's model);
    `load_bytes_checked` reads them back."""
    return save_bytes(_state(model), metadata={"card": json.dumps(card)})


MAX_JSON_DEPTH = 16  # a header or card is a few levels deep; deeper nesting is someone probing the parser


def parse_json(text: str) -> object:
    """json.loads for text from a user: ValueError (never RecursionError) for JSON nested deeper than
    MAX_JSON_DEPTH, so the caller's friendly message covers it."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError("JSON nested too deeply")
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return value


def check_header(head: bytes, file_size: int, name: str = "the file") -> dict:
    """The safetensors header (the JSON table after the first 8 bytes), checked against `file_size`.

    `head` holds at least the file's first 8 bytes and, when they declare a sane length, the header
    itself. Raises WeightsError unless the table describes at most MAX_TENSORS tensors of known
    dtypes and sane shapes whose data offsets tile the rest of the file exactly.
    """
    if file_size < 8 or len(head) < 8:
        raise WeightsError(f"{name} is not a safetensors file (too short).")
    (length,) = struct.unpack("<Q", head[:8])
    if not 2 <= length <= min(MAX_HEADER_BYTES, file_size - 8):
        raise WeightsError(f"{name} is not a safetensors file (its header length is {length:,} bytes).")
    if len(head) < 8 + length:
        raise WeightsError(f"{name} is not a safetensors file (cut short).")
    try:
        header = parse_json(head[8:8 + length].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise WeightsError(f"{name} is not a safetensors file (its header is not JSON).") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{name} is not a safetensors file (its header is not a JSON object).")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise WeightsError(f"{name} is not a safetensors file (its metadata is not text).")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    if not 1 <= len(tensors) <= MAX_TENSORS:
        raise WeightsError(f"{name} holds {len(tensors)} tensors; a model here has 1 to {MAX_TENSORS}.")
    spans = []
    for key, info in tensors.items():
        if not (isinstance(info, dict) and info.get("dtype") in DTYPE_BYTES and isinstance(info.get("shape"), list)
                and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2):
            raise WeightsError(f"{name}: tensor {key[:40]!r} is not described as float or int64 data.")
        shape, offsets = info["shape"], info["data_offsets"]
        whole = [isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape + offsets]
        if not all(whole) or len(shape) > MAX_TENSOR_DIMS:
            raise WeightsError(f"{name}: tensor {key[:40]!r} has an impossible shape or place.")
        count = math.prod(shape)
        if count > MAX_TENSOR_ELEMENTS:
            raise WeightsError(f"{name}: tensor {key[:40]!r} has {count:,} values; at most "
                               f"{MAX_TENSOR_ELEMENTS:,} are accepted.")
        begin, end = offsets
        if end - begin != count * DTYPE_BYTES[info["dtype"]]:
            raise WeightsError(f"{name}: tensor {key[:40]!r} has a size that does not match its shape.")
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise WeightsError(f"{name} is not a safetensors file (its tensors overlap or leave gaps).")
        position = end
    if 8 + length + position != file_size:
        raise WeightsError(f"{name} is not a safetensors file (its size does not match its header).")
    return header


def _embedded_card(header: dict) -> dict | None:
    try:
        card = parse_json(header.get("__metadata__", {}).get("card", "null"))
    except ValueError:
        return None
    return card if isinstance(card, dict) else None


def _read_card(path: Path, raw: bytes) -> dict | None:
    """The card beside the file, else the one embedded in the safetensors header."""
    if card_path(path).is_file():
        return json.loads(card_path(path).read_text())
    try:
        return _embedded_card(check_header(raw[:8 + MAX_HEADER_BYTES], len(raw), path.name))
    except WeightsError:
        return None


@functools.cache
def _reference_shapes(name: str) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of a registered architecture (built once: uploads compare against it)."""
    return {k: tuple(v.shape) for k, v in build_model(name).state_dict().items()}


def _matching_model(state: dict[str, torch.Tensor]) -> str | None:
    """The registered architecture whose tensor names and shapes match exactly, if any."""
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    for name in MODELS:
        if _reference_shapes(name) == shapes:
            return name
    return None


def load_bytes_checked(raw: bytes, path: Path, card: dict | None = None) -> tuple[nn.Module, dict]:
    """Build the model a weights file describes and load it, or raise WeightsError."""
    if len(raw) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{path.name} is {len(raw) / 1e6:.0f} MB; weights files here are at most "
                           f"{MAX_WEIGHTS_BYTES / 1e6:.0f} MB.")
    check_header(raw[:8 + MAX_HEADER_BYTES], len(raw), path.name)
    try:
        state = load_bytes(raw)
    except (SafetensorError, ValueError, OSError):
        raise WeightsError(f"{path.name} is not a safetensors file (its tensors could not be read).") from None
    card = card if card is not None else _read_card(path, raw)
    name = (card or {}).get("model")
    if name is not None and not isinstance(name, str):
        raise WeightsError(f"{path.name}'s card does not say which model it is for (no \"model\" name).")
    if name is None:
        name = _matching_model(state)
        if name is None:
            raise WeightsError(f"{path.name} has no card and matches none of the known architectures.")
        card = {"model": name}
    if name not in MODELS:
        raise WeightsError(f"{path.name} is for an unknown architecture {name!r}.")
    model = build_model(name)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        detail = (f"missing {', '.join(missing[:3])}" if missing else
                  f"wrong shape for {', '.join(wrong[:3])}" if wrong else
                  f"unexpected {', '.join(sorted(set(got) - set(expected))[:3])}")
        raise WeightsError(f"{path.name} does not fit the {MODELS[name].title} architecture ({detail}).")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise WeightsError(f"{path.name} holds values that are not finite numbers (in {', '.join(bad[:3])}).")
    model.load_state_dict(state)
    model.eval()
    threshold = card.get("not_sure_below")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and 0 < threshold < 1:
        model.not_sure_below = float(threshold)  # the card's "not sure" threshold, read by reading.predict
    return model, card


def load(path: str | Path) -> tuple[nn.Module, dict]:
    """Load a .safetensors file (and its card) into the registered model it was trained as."""
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.is_file():
        raise WeightsError(f"no weights file at {path}")
    return load_bytes_checked(path.read_bytes(), path)


# ---------------------------------------------------------------------------------------------
# Weights a user uploads: one .safetensors file, optionally with its .json card. The card is
# user data: only the fields the app relies on are trusted, and only after checking them.




def _pick(paths: list[Path]) -> tuple[Path, Path | None]:
    weights = [p for p in paths if p.suffix.lower() == ".safetensors"]
    cards = [p for p in paths if p.suffix.lower() == ".json"]
    others = [p for p in paths if p not in weights and p not in cards]
    if len(weights) != 1 or len(cards) > 1 or others:
        names = ", ".join(p.name for p in paths) or "nothing"
        raise WeightsError(f"Upload one .safetensors file, optionally with its .json card (got {names}).")
    return weights[0], (cards[0] if cards else None)


def _read_uploaded_card(path: Path) -> dict:
    if path.stat().st_size > MAX_CARD_BYTES:
        raise WeightsError(f"{path.name} is too large for a card (at most {MAX_CARD_BYTES // 1024} KB).")
    try:
        card = parse_json(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise WeightsError(f"{path.name} is not a JSON card.") from None
    if not isinstance(card, dict):
        raise WeightsError(f"{path.name} is not a JSON card (expected an object).")
    return card


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# The card fields an uploaded card keeps, each with its check; everything else is dropped.
UPLOADED_CARD_FIELDS = {
    "test_accuracy": lambda v: _real(v) and 0 <= v <= 1,
    "seed": _whole,
    "epochs_run": lambda v: _whole(v) and v <= 10_000,
    "parameters": _whole,
    "train_seconds": lambda v: _real(v) and v >= 0,
    "date": lambda v: isinstance(v, str) and len(v) <= 40,
}


def _trusted_card(card: dict, weights_name: str) -> dict:
    """Only the fields the app shows or relies on, each of the right type; the title is ours."""
    name = card["model"]
    dataset = card.get("dataset")
    trusted = {"model": name, "dataset": dataset if isinstance(dataset, str) and dataset in DATASETS
               else MODELS[name].dataset}
    trusted.update({k: card[k] for k, ok in UPLOADED_CARD_FIELDS.items() if k in card and ok(card[k])})
    trusted["title"] = f"{MODELS[name].title}, uploaded"
    trusted["uploaded_as"] = weights_name[:120]
    return trusted


def load_upload(paths: list[str | Path]) -> tuple[nn.Module, dict]:
    """The model and card from uploaded files, or WeightsError with a message fit for the user."""
    weights_path, card_file = _pick([Path(p) for p in paths])
    size = weights_path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{weights_path.name} is {size / 1e6:.0f} MB; weights files here are at most "
                           f"{MAX_WEIGHTS_BYTES / 1e6:.0f} MB.")
    card = _read_uploaded_card(card_file) if card_file else None
    if card is not None and not isinstance(card.get("model"), str):
        raise WeightsError(f"{card_file.name} does not say which model it is for (no \"model\" name).")
    with open(weights_path, "rb") as f:  # the header first: a file that lies about itself is not read further
        head = f.read(8)
        if len(head) == 8:
            head += f.read(min(struct.unpack("<Q", head)[0], MAX_HEADER_BYTES))
        header = check_header(head, size, weights_path.name)
        raw = head + f.read(size - len(head))
    if card is None:
        card = _embedded_card(header) or {}  # {}: no card at all, the architecture is found by its shapes
    model, card = load_bytes_checked(raw, weights_path, card)
    return model, _trusted_card(card, weights_path.name)
