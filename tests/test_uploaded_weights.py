"""Uploaded weights: accepted when they fit a known network, refused with a clear message otherwise."""

from __future__ import annotations

import json
import os

import pytest

from mnist_demo import weights
from mnist_demo.models import build_model
from mnist_demo.weights import WeightsError, load_upload


@pytest.fixture
def saved(tmp_path):
    card = {"model": "s4-two-conv", "title": "<b>anything</b>", "dataset": "mnist", "test_accuracy": 0.98}
    return weights.save(build_model("s4-two-conv", seed=3), tmp_path / "mine", card)


def test_round_trip_with_and_without_its_card(saved):
    model, card = load_upload([saved, saved.with_suffix(".json")])
    reference = build_model("s4-two-conv", seed=3).state_dict()
    assert all((reference[k] == v).all() for k, v in model.state_dict().items())
    assert card["model"] == "s4-two-conv" and card["test_accuracy"] == 0.98
    assert card["title"] == "S4 two-conv CNN, uploaded"  # the uploaded title is not trusted
    os.remove(saved.with_suffix(".json"))
    model, card = load_upload([saved])  # the card embedded in the file
    assert card["model"] == "s4-two-conv"


def test_random_bytes_are_not_safetensors(tmp_path):
    bad = tmp_path / "digits.safetensors"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(WeightsError, match="not a safetensors file"):
        load_upload([bad])


def test_a_card_for_another_architecture_is_refused(saved, tmp_path):
    card = tmp_path / "other.json"
    card.write_text(json.dumps({"model": "fastnet"}))
    with pytest.raises(WeightsError, match="does not fit the FastNet architecture"):
        load_upload([saved, card])


def test_weights_of_no_known_architecture_are_refused(tmp_path):
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file({"layer.weight": torch.zeros(3, 3)}, str(path))
    with pytest.raises(WeightsError, match="matches none of the known architectures"):
        load_upload([path])


@pytest.mark.parametrize("names, message", [
    (["a.txt"], "Upload one .safetensors file"), (["a.safetensors", "b.safetensors"], "Upload one"),
    (["a.json"], "Upload one"),
])
def test_wrong_set_of_files(tmp_path, names, message):
    paths = []
    for name in names:
        (tmp_path / name).write_bytes(b"x")
        paths.append(tmp_path / name)
    with pytest.raises(WeightsError, match=message):
        load_upload(paths)


def test_bad_card_and_oversized_file(saved, tmp_path):
    card = tmp_path / "card.json"
    card.write_text("[1, 2")
    with pytest.raises(WeightsError, match="not a JSON card"):
        load_upload([saved, card])
    card.write_text(json.dumps({"model": ["fastnet"]}))
    with pytest.raises(WeightsError, match="which model"):
        load_upload([saved, card])
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:
        f.truncate(weights.MAX_WEIGHTS_BYTES + 1)
    with pytest.raises(WeightsError, match="at most"):
        load_upload([big])
