"""The confusion matrix you can click: a pixel of the picture names a cell, the cell names its test
images (true label, answer, confidence, most confident first), and the Train tab's handler checks
the click as if a script had sent it."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from mnist_demo.data import Split, load_split
from mnist_demo.pictures import confusion_cell, confusion_image
from mnist_demo.training.metrics import cell_examples, evaluate_model
from mnist_demo.training.worker import evaluation_from_message, evaluation_message
from mnist_demo.ui import train_tab
from mnist_demo.ui.i18n import t


def _answering(preds: torch.Tensor, scores: torch.Tensor) -> nn.Module:
    """A stand-in model that answers `preds[i]` with logit `scores[i]` (0 elsewhere) for the i-th
    image evaluated (evaluate_model goes through the split in order)."""

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))
            self.seen = 0

        def forward(self, x):
            rows = torch.arange(self.seen, self.seen + len(x))
            self.seen += len(x)
            logits = torch.zeros(len(x), 10)
            logits[torch.arange(len(x)), preds[rows]] = scores[rows]
            return logits

    return Model()


def _split_and_model():
    """Twelve images: labels and answers chosen so that cell (3, 5) holds four images, cell (3, 3) two."""
    labels = torch.tensor([3, 3, 3, 3, 3, 3, 5, 5, 0, 1, 2, 4])
    answers = torch.tensor([5, 3, 5, 5, 3, 5, 5, 3, 0, 1, 2, 4])
    strengths = torch.tensor([1.0, 2.0, 4.0, 3.0, 5.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    images = torch.zeros(12, 28, 28, dtype=torch.uint8)
    images[:, 5, 5] = torch.arange(12, dtype=torch.uint8) * 10  # tells the images apart
    return Split(images, labels), _answering(answers, strengths)


def test_the_click_through_gives_the_images_of_that_cell():
    split, model = _split_and_model()
    evaluation = evaluate_model(model, split)
    assert evaluation.confidences.shape == (12,)
    cell = cell_examples(evaluation, split, 3, 5, limit=24)
    assert [e.index for e in cell] == [2, 3, 5, 0]  # strengths 4, 3, 2, 1: most confident first
    assert all((e.true, e.predicted) == (3, 5) for e in cell)
    assert len(cell) == int(evaluation.confusion[3, 5]) == 4
    confidences = [e.confidence for e in cell]
    assert confidences == sorted(confidences, reverse=True) and 0 < confidences[-1] < confidences[0] <= 1
    assert cell[0].confidence == pytest.approx(float(torch.softmax(torch.tensor([4.0] + [0.0] * 9), 0)[0]))
    assert (cell[0].image == split.images[2].numpy()).all()
    assert [e.index for e in cell_examples(evaluation, split, 3, 5, limit=2)] == [2, 3]
    assert [e.index for e in cell_examples(evaluation, split, 3, 3)] == [4, 1]  # right answers too
    assert cell_examples(evaluation, split, 9, 0) == []


@pytest.mark.parametrize("true, predicted, limit", [(10, 0, 5), (-1, 0, 5), (0, 2.5, 5), (True, 0, 5),
                                                    ("3", 5, 5), (3, 5, -1)])
def test_a_cell_outside_the_matrix_is_refused(true, predicted, limit):
    split, model = _split_and_model()
    with pytest.raises(ValueError):
        cell_examples(evaluate_model(model, split), split, true, predicted, limit)


def test_confidences_travel_from_the_training_process():
    split, model = _split_and_model()
    evaluation = evaluate_model(model, split)
    back = evaluation_from_message(evaluation_message(evaluation))
    assert torch.equal(back.confidences, evaluation.confidences)
    assert [e.index for e in cell_examples(back, split, 3, 5)] == [2, 3, 5, 0]


def test_a_pixel_of_the_picture_names_its_cell():
    cell = 44
    size = confusion_image(torch.eye(10, dtype=torch.long), cell=cell).size[0]
    assert confusion_cell(cell + 1, cell + 1, 10, cell) == (0, 0)
    assert confusion_cell(cell + 5 * cell + 20, cell + 3 * cell + 2, 10, cell) == (3, 5)  # x: column, y: row
    assert confusion_cell(size - 5, size - 5, 10, cell) == (9, 9)
    for x, y in [(10, 100), (100, 10), (size - 1, size - 1), (-5, 100), (float("nan"), 100), ("60", 60),
                 (True, 60), (float("inf"), 60)]:
        assert confusion_cell(x, y, 10, cell) is None, (x, y)


@dataclasses.dataclass
class _Click:  # what gr.SelectData carries for an image: index = [x, y]
    index: object


def test_the_train_tab_shows_a_clicked_cell_and_checks_the_click():
    split = load_split("mnist", "test").first(300)
    preds = split.labels.clone()
    preds[:5] = (split.labels[:5] + 1) % 10  # five mistakes, the rest right
    evaluation = evaluate_model(_answering(preds, torch.linspace(1.0, 9.0, 300)), split)
    source = train_tab.CellSource("mnist", evaluation)
    true, predicted = int(split.labels[0]), int(preds[0])
    x, y = 44 + predicted * 44 + 22, 44 + true * 44 + 22
    caption, images = train_tab.on_cell(source, "en", _Click([x, y]))
    expected = cell_examples(evaluation, split, true, predicted)
    assert len(images) == len(expected) >= 1 and f"**{true}**" in caption and f"**{predicted}**" in caption
    assert images[0][1].startswith(f"{true} → {predicted} (")
    caption, images = train_tab.on_cell(source, "en", _Click([x, 44 + 22 + 44 * ((true + 1) % 10)]))
    assert caption.startswith("True") and "answered" in caption
    for bad in ([10, 10], ["x", 5], None, [1], [1, 2, 3], {"x": 1}, [float("nan"), 60], "60,60"):
        assert train_tab.on_cell(source, "en", _Click(bad)) == (t("train.cell_outside"), [])
    assert train_tab.on_cell(None, "en", _Click([x, y])) == (t("train.cell_no_results"), [])
    assert train_tab.on_cell("forged", "en", None) == (t("train.cell_no_results"), [])
