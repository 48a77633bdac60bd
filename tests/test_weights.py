"""The shipped weights: cards complete and honest, accuracies re-measured on the real test sets."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mnist_demo import weights
from mnist_demo.catalog import WEIGHTS_DIR, shipped
from mnist_demo.data import data_checksum, load_split
from mnist_demo.models import MODELS, build_model
from mnist_demo.training.metrics import accuracy

SHIPPED = sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))
CARD_FIELDS = {"model", "dataset", "recipe", "seed", "data_checksum", "test_accuracy", "date", "command", "device"}


def test_every_seed_system_and_default_is_shipped():
    for name in ["digitnet", "fashionnet", "s1-bn-cnn", "s2-numpy-cnn", "s3-mlp", "s3-mlp-as-written",
                 "s4-two-conv", "s5-lenet", "s5-lenet-as-written", "s5-lenet-fashion"]:
        assert name in SHIPPED, name


@pytest.mark.parametrize("name", SHIPPED)
def test_card_is_complete(name):
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    assert CARD_FIELDS <= set(card), CARD_FIELDS - set(card)
    assert card["model"] == name and card["model"] in MODELS
    assert card["command"].startswith("python -m mnist_demo.train")
    assert card["data_checksum"] == data_checksum(card["dataset"])


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_card_accuracy_matches_a_fresh_evaluation(name):
    model, card = weights.load(WEIGHTS_DIR / f"{name}.safetensors")
    measured = accuracy(model, load_split(card["dataset"], "test").first(card.get("test_images")), "cpu")
    assert measured == pytest.approx(card["test_accuracy"], abs=0.0005)


def test_default_model_reaches_99_6_on_mnist():
    model, card = weights.load(WEIGHTS_DIR / "digitnet.safetensors")
    assert accuracy(model, load_split("mnist", "test"), "cpu") >= 0.996


def test_fashion_model_reaches_93_5():
    model, card = weights.load(WEIGHTS_DIR / "fashionnet.safetensors")
    assert accuracy(model, load_split("fashion-mnist", "test"), "cpu") >= 0.935


def test_catalog_loads_everything_default_first():
    entries = shipped()
    assert list(entries)[0] == "digitnet" and set(entries) == set(SHIPPED)
    assert "99." in entries["digitnet"].label


def test_save_load_round_trip_with_embedded_card(tmp_path):
    model = build_model("s5-lenet", seed=1)
    path = weights.save(model, tmp_path / "m", {"model": "s5-lenet", "test_accuracy": 0.5})
    path.with_suffix(".json").unlink()  # the card inside the safetensors header is enough
    loaded, card = weights.load(path)
    assert card["model"] == "s5-lenet"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(),
                                                  strict=True))


def test_bad_files_are_rejected_with_a_message(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04 this is a pickle, not safetensors" * 10)
    with pytest.raises(weights.WeightsError, match="not a safetensors file"):
        weights.load(junk)
    other = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in build_model("s4-two-conv").state_dict().items()}, str(other),
              metadata={"card": json.dumps({"model": "s5-lenet"})})
    with pytest.raises(weights.WeightsError, match="does not fit"):
        weights.load(other)
    unknown = tmp_path / "unknown.safetensors"
    save_file({"x": torch.zeros(3)}, str(unknown))
    with pytest.raises(weights.WeightsError, match="matches none"):
        weights.load(unknown)


def test_card_less_file_is_recognized_by_its_tensors(tmp_path):
    path = tmp_path / "bare.safetensors"
    save_file({k: v.contiguous() for k, v in build_model("s4-two-conv").state_dict().items()}, str(path))
    model, card = weights.load(Path(path))
    assert card["model"] == "s4-two-conv"
