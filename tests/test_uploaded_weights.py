"""Uploaded weights: accepted when they fit a known network, refused with a clear message otherwise."""

from __future__ import annotations

import json
import os

import pytest
import torch

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


# --- the safetensors header is checked before the rest of the file is read -----------------------


def _file(tmp_path, header: dict, data: bytes = b"", length: int | None = None):
    raw = json.dumps(header).encode()
    path = tmp_path / "crafted.safetensors"
    path.write_bytes((len(raw) if length is None else length).to_bytes(8, "little") + raw + data)
    return path


@pytest.mark.parametrize("header, data, length, words", [
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, 2**40, "header length"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, 1, "header length"),
    ({}, b"", None, "holds 0 tensors"),
    ({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(weights.MAX_TENSORS + 1)},
     b"", None, f"holds {weights.MAX_TENSORS + 1} tensors"),
    ({"w": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}, b"\0" * 8, None, "float or int64"),
    ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "impossible shape"),
    ({"w": {"dtype": "F32", "shape": [1, 1, 1, 1, 2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "impossible shape"),
    ({"w": {"dtype": "F32", "shape": [5000, 5000], "data_offsets": [0, 10**8]}}, b"", None, "values; at most"),
    ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, None, "does not match its shape"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, None, "overlap or leave gaps"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4000, None, "size does not match"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"card": 5}}, b"\0" * 8, None,
     "metadata is not text"),
])
def test_a_header_that_lies_is_refused_before_the_data_is_read(tmp_path, header, data, length, words):
    with pytest.raises(WeightsError, match=words):
        load_upload([_file(tmp_path, header, data, length)])


def test_a_header_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes((10).to_bytes(8, "little") + b"\xff" * 10)
    with pytest.raises(WeightsError, match="not JSON"):
        load_upload([path])


def test_non_finite_weights_are_refused(tmp_path):
    model = build_model("s5-lenet")
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    path = weights.save(model, tmp_path / "nan", {"model": "s5-lenet"})
    with pytest.raises(WeightsError, match="not finite"):
        load_upload([path])


def test_only_typed_card_fields_are_kept(saved, tmp_path):
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"model": "s4-two-conv", "dataset": ["mnist"], "test_accuracy": "99%",
                                "seed": 1.5, "epochs_run": 3, "title": "<script>", "recipe": {"lr": "x" * 9000}}))
    _, trusted = load_upload([saved, card])
    assert trusted["dataset"] == "mnist" and trusted["epochs_run"] == 3
    assert "test_accuracy" not in trusted and "seed" not in trusted and "recipe" not in trusted
    assert trusted["title"] == "S4 two-conv CNN, uploaded"


def test_the_largest_shipped_model_fits_the_limit():
    shipped = max((p for p in weights.card_path(__file__).parent.parent.joinpath("weights").glob("*.safetensors")),
                  key=lambda p: p.stat().st_size)
    assert shipped.stat().st_size < weights.MAX_WEIGHTS_BYTES < 2 * shipped.stat().st_size
    model, _ = load_upload([shipped])
    assert model is not None


def test_deeply_nested_json_in_a_card_or_header_gets_the_friendly_error(saved, tmp_path):
    deep = "[" * 30_000 + "]" * 30_000  # json.loads raises RecursionError on this (60 KB, under the card limit)
    card = tmp_path / "card.json"
    card.write_text(deep)
    with pytest.raises(WeightsError, match="not a JSON card"):
        load_upload([saved, card])
    card.write_text(json.dumps({"model": "s4-two-conv", "notes": json.loads("[" * 50 + "]" * 50)}))
    with pytest.raises(WeightsError, match="not a JSON card"):  # parses, but nested past any real card
        load_upload([saved, card])
    raw = ('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "x": ' + "[" * 50_000 + "]" * 50_000
           + "}").encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 8)
    with pytest.raises(WeightsError, match="not JSON"):
        load_upload([path])
