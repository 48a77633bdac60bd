"""The weights card: one builder for the command line and the browser job, so the two agree.

A card says how a model was made (architecture, recipe, data and its checksum, seed, device,
command) and what it measured (test accuracy, per class, per epoch). `weights.save` writes it
beside the safetensors file and into its metadata.
"""

from __future__ import annotations

import datetime
import functools
import platform

import torch
from torch import nn

from ..data import data_checksum
from ..models import MODELS, param_count
from .engine import Progress
from .metrics import Evaluation
from .recipes import Recipe


@functools.lru_cache(maxsize=4)
def _checksum(dataset: str, data_dir: str | None) -> str:
    return data_checksum(dataset, data_dir)


def epoch_record(event: Progress) -> dict:
    """One line of the card's history: what the engine reported after an epoch."""
    return {"epoch": event.epoch, "test_accuracy": round(event.test_acc, 4), "elapsed_s": round(event.elapsed, 1)}


def device_name(device: torch.device) -> str:
    return str(device) if device.type == "cpu" else torch.cuda.get_device_name(device)


def build_card(*, model_name: str, model: nn.Module, dataset: str, recipe: Recipe, seed: int,
               evaluation: Evaluation, final: Progress | None, history: list[dict], seconds: float,
               device: torch.device, threads: int, command: str, data_dir: str | None = None,
               checksum: str | None = None) -> dict:
    """The card of a finished training; `evaluation` is on the recipe's test set (its `test_subset`
    honoured, recorded as `test_images`), on the CPU. `checksum`: the data's, when already known
    (a training process gets it from the server instead of reading the four files again)."""
    return {
        "model": model_name,
        "title": MODELS[model_name].title,
        "parameters": param_count(model),
        "dataset": dataset,
        "data_checksum": checksum or _checksum(dataset, None if data_dir is None else str(data_dir)),
        "recipe": {**vars(recipe)},
        "seed": seed,
        "test_accuracy": round(evaluation.accuracy, 4),
        "test_images": evaluation.count,
        "per_class_accuracy": [round(a, 4) for a in evaluation.per_class],
        "epochs_run": round(final.fraction * final.epochs, 2) if final else 0,
        "stopped_early": bool(final and final.stopped),
        "history": list(history),
        "train_seconds": round(seconds, 1),
        "device": device_name(device),
        "machine": f"{platform.machine()}, {threads} threads, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
        "command": command,
    }
