"""The fast recipe and its network: valid, learning, deterministic, and saved like any other model.

Timing is not tested here (bench/fast_vs_classic.py measures it); these runs use small subsets.
"""

from __future__ import annotations

import pytest
import torch

from mnist_demo import weights
from mnist_demo.data import DataMissingError, Split, load_split
from mnist_demo.models import build_model
from mnist_demo.training.engine import train
from mnist_demo.training.metrics import accuracy
from mnist_demo.training.recipes import RECIPES, recipe_for


@pytest.fixture(scope="module")
def test_images() -> Split:
    try:
        split = load_split("mnist", "test")
    except DataMissingError as exc:
        pytest.skip(str(exc))
    return Split(split.images[:2000], split.labels[:2000])


def run_fast(seed: int, train_subset: int) -> torch.nn.Module:
    model = build_model("fastnet", seed=seed)
    recipe = recipe_for("fastnet", "fast").with_changes(train_subset=train_subset, epochs=1, test_subset=500)
    for _ in train(model, recipe, "mnist", seed=seed, device="cpu"):
        pass
    return model


def test_fast_recipe_is_fastnets_own_and_valid():
    recipe = recipe_for("fastnet", "seed")
    assert recipe is RECIPES["fast"]
    recipe.validate()
    assert recipe.schedule == "onecycle" and recipe.epochs <= 3
    with pytest.raises(ValueError, match="batch_size"):
        recipe.with_changes(batch_size=0)


def test_short_fast_run_beats_untrained(test_images):
    untrained = accuracy(build_model("fastnet", seed=0), test_images, "cpu")
    trained = accuracy(run_fast(seed=0, train_subset=4000), test_images, "cpu")
    assert untrained < 0.3  # chance is 10%
    assert trained > 0.85 and trained - untrained > 0.5, (untrained, trained)


def test_same_seed_same_weights(test_images):
    a, b = run_fast(seed=1, train_subset=768), run_fast(seed=1, train_subset=768)
    c = run_fast(seed=2, train_subset=768)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
    assert not torch.equal(a[-1].weight, c[-1].weight)


def test_fastnet_saves_and_loads_like_any_model(tmp_path, test_images):
    model = run_fast(seed=3, train_subset=768)  # trained, so batch norm's running statistics matter
    path = weights.save(model, tmp_path / "fastnet", {"model": "fastnet"})
    loaded, card = weights.load(path)
    assert card["model"] == "fastnet"
    x = test_images.images[:8].unsqueeze(1).float() / 255
    model.eval(), loaded.eval()
    assert torch.allclose(model(x), loaded(x), atol=1e-5)
