"""The child side of a browser training: `train_entry`, the entry `job.TrainingJob` runs through `runner`.

It runs in a process of its own (the runner's, which has lowered its priority and torch's thread count): the
engine, then one evaluation of the trained model and its card (`card.build_card`, exactly as the command line
does), so that none of that work takes the server's interpreter lock. It reports the engine's progress a few
times a second and after every epoch, and returns ``{"weights": safetensors bytes, "card": dict, "evaluation":
dict}``, plain data only; stopping between steps is the engine's `should_stop`.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ..data import Split, load_split
from ..models import build_model
from .card import build_card, epoch_record
from .engine import train
from .metrics import Evaluation, Mistake, evaluate_model
from .recipes import Recipe


def evaluation_message(evaluation: Evaluation) -> dict:
    """An `Evaluation` as plain data; its tensors travel as one safetensors blob."""
    images = [torch.from_numpy(m.image) for m in evaluation.mistakes]
    tensors = {"confusion": evaluation.confusion.contiguous(), "predictions": evaluation.predictions.contiguous(),
               "confidences": (evaluation.confidences if evaluation.confidences is not None
                               else torch.zeros(evaluation.count)).float().contiguous(),
               "mistake_images": torch.stack(images) if images else torch.zeros((0, 28, 28), dtype=torch.uint8)}
    return {"accuracy": float(evaluation.accuracy), "per_class": [float(a) for a in evaluation.per_class],
            "count": int(evaluation.count),
            "mistakes": [(m.index, m.true, m.predicted, m.confidence) for m in evaluation.mistakes],
            "tensors": save_tensors(tensors)}


def evaluation_from_message(fields: dict) -> Evaluation:
    tensors = load_tensors(fields["tensors"])
    images = tensors["mistake_images"].numpy()
    mistakes = [Mistake(int(index), images[i].copy(), int(true), int(predicted), float(confidence))
                for i, (index, true, predicted, confidence) in enumerate(fields["mistakes"])]
    return Evaluation(accuracy=float(fields["accuracy"]), per_class=[float(a) for a in fields["per_class"]],
                      confusion=tensors["confusion"], mistakes=mistakes, predictions=tensors["predictions"],
                      count=int(fields["count"]), confidences=tensors["confidences"])


def extra_split(extra: dict | None):
    """The job's extra digits (plain bytes, see job.ExtraDigits) as a Split, checked; None for none."""
    if not extra:
        return None
    images, labels = np.frombuffer(extra["images"], np.uint8), np.frombuffer(extra["labels"], np.uint8)
    if not 0 < len(labels) or images.size != len(labels) * 28 * 28 or labels.max() > 9:
        raise ValueError("the extra digits are not 28x28 images with labels 0-9")
    return Split(torch.from_numpy(images.reshape(-1, 28, 28).copy()), torch.from_numpy(labels.astype(np.int64)))


def weights_bytes(model: torch.nn.Module) -> bytes:
    return save_tensors({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()})


def train_entry(report, should_stop, params: dict) -> dict:
    """One training (`params`: see `job.TrainingJob.params`): its weights, card and evaluation."""
    started = time.time()
    name, dataset, seed, data_dir = params["model"], params["dataset"], params["seed"], params["data_dir"]
    recipe = Recipe(**params["recipe"])
    model = build_model(name, seed=seed)
    history, final = [], None
    extra = extra_split(params.get("extra"))
    for event in train(model, recipe, dataset, data_dir=data_dir, seed=seed, device=params["device"],
                       should_stop=should_stop, report_seconds=params["report_seconds"], extra_train=extra):
        if event.kind == "epoch" and event.test_acc is not None:
            history.append(epoch_record(event))
        report(event)
        final = event
    device = next(model.parameters()).device
    model.cpu().eval()
    evaluation = evaluate_model(model, load_split(dataset, "test", data_dir).first(recipe.test_subset))
    card = build_card(model_name=name, model=model, dataset=dataset, recipe=recipe, seed=seed,
                      evaluation=evaluation, final=final, history=history, seconds=time.time() - started,
                      device=device, threads=params["threads"], command=params["command"], data_dir=data_dir,
                      checksum=params.get("checksum"))
    if extra is not None:
        card["extra_data"] = params["extra"]["info"]
    return {"weights": weights_bytes(model), "card": card, "evaluation": evaluation_message(evaluation)}
