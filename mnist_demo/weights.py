"""Saving and loading trained models: safetensors for the tensors, a JSON card for the story.

The card (architecture, recipe, seed, data checksum, measured accuracy, date, command) is written
beside the weights as NAME.json and also embedded in the safetensors metadata, so a single
uploaded .safetensors file is self-describing. Nothing here ever unpickles; uploads are checked
(size, format, architecture) before use.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save_file
from torch import nn

from .data import DATASETS
from .models import MODELS, build_model

MAX_WEIGHTS_BYTES = 64 * 1024 * 1024  # the largest model here is ~5 MB
MAX_CARD_BYTES = 1024 * 1024


class WeightsError(ValueError):
    """A weights file that cannot be used, with a message fit to show a user."""


def card_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save(model: nn.Module, path: str | Path, card: dict) -> Path:
    """Write PATH.safetensors and PATH.json; returns the safetensors path."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"card": json.dumps(card)})
    card_path(path).write_text(json.dumps(card, indent=2) + "\n")
    return path


def _read_card(path: Path, raw: bytes) -> dict | None:
    """The card beside the file, else the one embedded in the safetensors header."""
    if card_path(path).is_file():
        return json.loads(card_path(path).read_text())
    try:
        header_len = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + header_len])
        return json.loads(header.get("__metadata__", {}).get("card", "null"))
    except (ValueError, UnicodeDecodeError):
        return None


def _matching_model(state: dict[str, torch.Tensor]) -> str | None:
    """The registered architecture whose tensor names and shapes match exactly, if any."""
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    for name in MODELS:
        reference = {k: tuple(v.shape) for k, v in build_model(name).state_dict().items()}
        if reference == shapes:
            return name
    return None


def load_bytes_checked(raw: bytes, path: Path, card: dict | None = None) -> tuple[nn.Module, dict]:
    """Build the model a weights file describes and load it, or raise WeightsError."""
    if len(raw) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{path.name} is {len(raw) / 1e6:.0f} MB; weights files here are at most "
                           f"{MAX_WEIGHTS_BYTES / 1e6:.0f} MB.")
    try:
        state = load_bytes(raw)
    except (SafetensorError, ValueError, OSError) as exc:
        raise WeightsError(f"{path.name} is not a safetensors file ({exc}).") from None
    card = card if card is not None else _read_card(path, raw)
    name = (card or {}).get("model")
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
    card = _read_uploaded_card(card_file) if card_file else None
    if card is not None and not isinstance(card.get("model"), str):
        raise WeightsError(f"{card_file.name} does not say which model it is for (no \"model\" name).")
    model, card = load_bytes_checked(weights_path.read_bytes(), weights_path, card)
    return model, _trusted_card(card, weights_path.name)
