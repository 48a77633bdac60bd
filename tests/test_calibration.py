"""Confidence figures, the temperature fit, and folding the temperature into a model."""

import pytest
import torch
from torch import nn

from mnist_demo import calibration
from mnist_demo.models import build_model


def test_ece_is_zero_when_confidence_equals_accuracy_and_large_when_overconfident():
    labels = torch.tensor([0, 0, 0, 0])
    probs = torch.tensor([[0.75, 0.25]] * 4)
    predicted_right = torch.tensor([0, 0, 0, 1])  # 3 of 4 right at confidence 0.75
    assert calibration.expected_calibration_error(probs, predicted_right) == pytest.approx(0.0)
    overconfident = torch.tensor([[0.99, 0.01]] * 4)
    assert calibration.expected_calibration_error(overconfident, torch.tensor([0, 1, 1, 1])) == pytest.approx(0.74)
    assert calibration.expected_calibration_error(probs, labels) == pytest.approx(0.25)


def test_confidence_report_counts_the_not_sure_answers():
    probs = torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.55, 0.45], [0.3, 0.7]])
    labels = torch.tensor([0, 0, 1, 1])
    r = calibration.confidence_report(probs, labels, threshold=0.6)
    assert r["accuracy"] == pytest.approx(0.5) and r["coverage"] == pytest.approx(0.75)
    assert r["confident_accuracy"] == pytest.approx(2 / 3) and r["wrong_but_confident"] == 1
    assert r["not_sure_that_were_wrong"] == 1


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(20000, 10, generator=gen) * 3
    labels = torch.multinomial(torch.softmax(logits / 2.0, 1), 1, generator=gen).squeeze(1)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)


def test_folding_divides_the_logits():
    model = build_model("digitnet", seed=0).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
        calibration.fold_temperature(model, 0.5)
        assert torch.allclose(model(x), before / 0.5, atol=1e-4)
    with pytest.raises(ValueError):
        calibration.last_linear(nn.Sequential(nn.ReLU()))


def test_choose_threshold_is_the_smallest_that_is_accurate_enough_within_the_coverage_floor():
    # 100 answers: 90 right at 0.95, 5 wrong at 0.705, 5 wrong at 0.55
    probs = torch.tensor([[0.95, 0.05]] * 90 + [[0.705, 0.295]] * 5 + [[0.55, 0.45]] * 5)
    labels = torch.tensor([0] * 90 + [1] * 10)
    r = calibration.choose_threshold(probs, labels, target=0.99, min_coverage=0.9)
    assert r["threshold"] == 0.71 and r["target_met"] and r["coverage"] == pytest.approx(0.9)
    assert r["confident_accuracy"] == 1.0
    floor = calibration.choose_threshold(probs, labels, target=0.99, min_coverage=0.95)  # 0.71 would drop to 90%
    assert not floor["target_met"] and floor["threshold"] == 0.70 and floor["coverage"] == pytest.approx(0.95)
