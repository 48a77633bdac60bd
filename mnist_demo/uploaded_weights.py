"""Weights a user uploads: one .safetensors file, optionally with its .json card.

Everything is checked before use (size, format, architecture; see `weights.load_bytes_checked`)
and nothing is unpickled. The card is user data: only the fields the app relies on are trusted,
and only after checking them.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from .data import DATASETS
from .models import MODELS
from .weights import MAX_WEIGHTS_BYTES, WeightsError, load_bytes_checked

MAX_CARD_BYTES = 1024 * 1024


def _pick(paths: list[Path]) -> tuple[Path, Path | None]:
    weights = [p for p in paths if p.suffix.lower() == ".safetensors"]
    cards = [p for p in paths if p.suffix.lower() == ".json"]
    others = [p for p in paths if p not in weights and p not in cards]
    if len(weights) != 1 or len(cards) > 1 or others:
        names = ", ".join(p.name for p in paths) or "nothing"
        raise WeightsError(f"Upload one .safetensors file, optionally with its .json card (got {names}).")
    return weights[0], (cards[0] if cards else None)


def _read_card(path: Path) -> dict:
    if path.stat().st_size > MAX_CARD_BYTES:
        raise WeightsError(f"{path.name} is too large for a card (at most {MAX_CARD_BYTES // 1024} KB).")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise WeightsError(f"{path.name} is not a JSON card.") from None
    if not isinstance(card, dict):
        raise WeightsError(f"{path.name} is not a JSON card (expected an object).")
    return card


def _trusted_card(card: dict, weights_name: str) -> dict:
    """The card with the fields the app shows or relies on made safe."""
    name = card["model"]
    card = dict(card)
    if card.get("dataset") not in DATASETS:
        card["dataset"] = MODELS[name].dataset
    accuracy = card.get("test_accuracy")
    if not (isinstance(accuracy, (int, float)) and 0 <= accuracy <= 1):
        card.pop("test_accuracy", None)
    card["title"] = f"{MODELS[name].title}, uploaded"
    card["uploaded_as"] = weights_name
    return card


def load_upload(paths: list[str | Path]) -> tuple[nn.Module, dict]:
    """The model and card from uploaded files, or WeightsError with a message fit for the user."""
    weights_path, card_file = _pick([Path(p) for p in paths])
    size = weights_path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{weights_path.name} is {size / 1e6:.0f} MB; weights files here are at most "
                           f"{MAX_WEIGHTS_BYTES / 1e6:.0f} MB.")
    card = _read_card(card_file) if card_file else None
    if card is not None and not isinstance(card.get("model"), str):
        raise WeightsError(f"{card_file.name} does not say which model it is for (no \"model\" name).")
    model, card = load_bytes_checked(weights_path.read_bytes(), weights_path, card)
    return model, _trusted_card(card, weights_path.name)
