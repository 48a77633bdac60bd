"""Saving and loading trained models: safetensors for the tensors, a JSON card for the story.

The card (architecture, recipe, seed, data checksum, measured accuracy, date, command) is written
beside the weights as NAME.json and also embedded in the safetensors metadata, so a single
uploaded .safetensors file is self-describing. Nothing here ever unpickles.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save_file
from torch import nn

from .models import MODELS, build_model

MAX_WEIGHTS_BYTES = 64 * 1024 * 1024  # the largest model here is ~5 MB


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
    return model, card


def load(path: str | Path) -> tuple[nn.Module, dict]:
    """Load a .safetensors file (and its card) into the registered model it was trained as."""
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    if not path.is_file():
        raise WeightsError(f"no weights file at {path}")
    return load_bytes_checked(path.read_bytes(), path)
