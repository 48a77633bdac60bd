"""What a finished training shows: test accuracy, per-class accuracy, the confusion matrix as a
picture, and the test images the model got wrong (with its confidence).

Pictures are drawn with PIL from numbers only (no text in a language), so captions can be
translated by the UI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from .data import Split
from .evaluate import confusion_matrix, per_class_accuracy
from .models import probabilities
from .training import to_input


@dataclass(frozen=True)
class Mistake:
    """One misclassified test image (28x28 uint8, white ink on black)."""

    index: int  # position in the test split
    image: np.ndarray
    true: int
    predicted: int
    confidence: float  # the model's probability for its (wrong) prediction


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    per_class: list[float]
    confusion: torch.Tensor  # counts[true, predicted]
    mistakes: list[Mistake]  # the most confident mistakes first
    predictions: torch.Tensor
    count: int  # test images evaluated


@torch.no_grad()
def class_probabilities(model: nn.Module, split: Split, batch_size: int = 1000) -> torch.Tensor:
    """(N, classes) probabilities for every image of a split, on the model's device."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(split), batch_size):
        x = to_input(split.images[start:start + batch_size].to(device))
        out.append(probabilities(model, model(x)).float().cpu())
    model.train(was_training)
    return torch.cat(out)


def evaluate_model(model: nn.Module, split: Split, max_mistakes: int = 24) -> Evaluation:
    """Evaluate `model` on `split` once and gather everything the results panel shows."""
    probs = class_probabilities(model, split)
    confidence, preds = probs.max(1)
    labels = split.labels
    wrong = (preds != labels).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:max_mistakes]
    mistakes = [
        Mistake(int(i), split.images[i].numpy().copy(), int(labels[i]), int(preds[i]), float(confidence[i]))
        for i in order
    ]
    return Evaluation(
        accuracy=(preds == labels).float().mean().item(),
        per_class=per_class_accuracy(preds, labels, probs.shape[1]),
        confusion=confusion_matrix(preds, labels, probs.shape[1]),
        mistakes=mistakes,
        predictions=preds,
        count=len(labels),
    )


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def confusion_image(matrix: torch.Tensor, cell: int = 44) -> Image.Image:
    """The confusion matrix as a picture: rows are the true class, columns the prediction.

    A cell's shade is its share of the row (correct answers blue on the diagonal, mistakes red
    elsewhere), and it shows the count; class numbers run along the top and the left.
    """
    counts = matrix.to(torch.float64).numpy()
    n = counts.shape[0]
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    margin = cell
    size = margin + n * cell
    img = Image.new("RGB", (size + 4, size + 4), "white")
    draw = ImageDraw.Draw(img)
    label_font, count_font = _font(int(cell * 0.45)), _font(int(cell * 0.32))
    for i in range(n):
        centre = margin + i * cell + cell // 2
        draw.text((centre, margin // 2), str(i), fill="black", font=label_font, anchor="mm")
        draw.text((margin // 2, centre), str(i), fill="black", font=label_font, anchor="mm")
    for r in range(n):
        for c in range(n):
            s = share[r, c]
            if r == c:
                colour = (int(255 - 205 * s), int(255 - 150 * s), 255)
            else:
                s = min(1.0, s * 8)  # mistakes are rare: make a few percent visible
                colour = (255, int(255 - 190 * s), int(255 - 190 * s))
            x0, y0 = margin + c * cell, margin + r * cell
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline=(225, 225, 225))
            if counts[r, c]:
                ink = "white" if r == c and share[r, c] > 0.6 else "black"
                draw.text((x0 + cell // 2, y0 + cell // 2), f"{int(counts[r, c])}", fill=ink, font=count_font,
                          anchor="mm")
    return img


def mistake_image(mistake: Mistake, scale: int = 4) -> Image.Image:
    """A test image enlarged with sharp pixels, shown as dark ink on white like the canvas."""
    return Image.fromarray(255 - mistake.image).resize((28 * scale, 28 * scale), Image.NEAREST)
