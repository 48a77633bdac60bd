"""The Train tab's handlers without a browser: option lists from the registries, and every value
checked as if a script had sent it (a message, never a traceback)."""

from __future__ import annotations

import dataclasses
import math

import gradio as gr
import pytest

from mnist_demo.augment import AUGMENTATIONS
from mnist_demo.data import DATASETS
from mnist_demo.models import MODELS
from mnist_demo.training import recipes
from mnist_demo.ui import train_tab
from mnist_demo.ui.i18n import t
from mnist_demo.ui.session import Session
from tests.harness import run_coroutine

GOOD = train_tab.Settings("fastnet", "mnist", "fast", "adamw", 0.01, 0.9, 128, 1, 2000, "digits", 0)


def test_option_lists_come_from_the_registries():
    assert [name for _, name in train_tab.optimizer_choices()] == list(recipes.OPTIMIZERS)
    assert [kind for _, kind in train_tab.augment_choices("en")] == list(AUGMENTATIONS)
    assert [name for _, name in train_tab.model_choices("en")] == list(MODELS)
    assert [name for _, name in train_tab.dataset_choices()] == list(DATASETS)
    assert {name for _, name in train_tab.preset_choices("fastnet", "en")} == set(recipes.RECIPES)


def test_good_settings_make_a_job():
    spec = train_tab.job_spec(GOOD)
    assert (spec.model, spec.dataset, spec.seed) == ("fastnet", "mnist", 0)
    assert spec.recipe.optimizer == "adamw" and spec.recipe.train_subset == 2000


@pytest.mark.parametrize("change, words", [
    ({"model": "no-such-net"}, "model must be one of"),
    ({"dataset": "cifar"}, "dataset must be one of"),
    ({"preset": "magic"}, "preset must be one of"),
    ({"lr": math.nan}, "lr must be a finite number"),
    ({"epochs": math.inf}, "epochs must be a finite number"),
    ({"seed": -math.inf}, "seed must be a finite number"),
    ({"batch_size": "many"}, "batch_size must be a finite number"),
    ({"momentum": [0.9]}, "momentum must be a finite number"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of"),
    ({"augment": "rainbow"}, "augment must be one of"),
    ({"lr": None}, "lr is empty"),
    ({"seed": -1}, "seed must be a whole number"),
])
def test_bad_settings_are_named(change, words):
    with pytest.raises(ValueError, match=words):
        train_tab.job_spec(dataclasses.replace(GOOD, **change))


def _tab() -> train_tab.TrainTab:
    """Stand-ins for the components: the handlers only use them as dict keys."""
    return train_tab.TrainTab(**{f.name: object() for f in dataclasses.fields(train_tab.TrainTab)})


def _run(tab, settings: train_tab.Settings, session: Session) -> list[dict]:
    values = {getattr(tab, f.name): getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values.update({tab.session: session, tab.lang: "en", tab.models_changed: 0})

    async def collect():
        return [update async for update in train_tab.run(tab, values)]

    return run_coroutine(collect())


def test_start_with_values_no_form_could_send_answers_with_a_message():
    tab, session = _tab(), Session()
    (update,) = _run(tab, dataclasses.replace(GOOD, model="../etc/passwd", lr=math.nan), session)
    message = update[tab.message]
    assert message.startswith(t("train.invalid").split(":")[0]) and "model must be" in message and "lr" in message
    assert not session.training


def test_start_while_training_says_so():
    tab, session = _tab(), Session()
    session.training = True
    (update,) = _run(tab, GOOD, session)
    assert update[tab.message] == t("train.already")


def test_picking_an_unknown_model_or_preset_is_a_friendly_error():
    tab = _tab()
    with pytest.raises(gr.Error, match="model must be one of"):
        train_tab.on_model(tab, "no-such-net", "en")
    with pytest.raises(gr.Error, match="preset must be one of"):
        train_tab.on_preset(tab, "magic", "zh")
    picked = train_tab.on_model(tab, "s5-lenet", "en")
    assert picked[tab.dataset] == "mnist" and picked[tab.preset]["value"] == MODELS["s5-lenet"].recipe
    fields = [picked[getattr(tab, name)] for name in train_tab.FILLED]
    assert fields == train_tab.recipe_fields(MODELS["s5-lenet"].recipe)
    assert train_tab.on_preset(tab, "fast", "zh")[tab.preset_info] == t("recipe.desc.fast", "zh")
    _, presets, _, described = train_tab.on_language("zh", "no-such-net", "fast")
    assert isinstance(presets, type(gr.skip())) and described == t("recipe.desc.fast", "zh") != t("recipe.desc.fast")


def test_stop_and_upload_without_anything():
    session = Session()
    assert train_tab.request_stop(session, "en") == t("train.nothing_to_stop")
    assert train_tab.on_weights_upload(None, session, "en", 3) == ("", 3)
    message, changed = train_tab.on_weights_upload(["/no/such/file.safetensors"], session, "en", 3)
    assert changed == 3 and message.startswith(t("train.upload_rejected", reason="").strip())
