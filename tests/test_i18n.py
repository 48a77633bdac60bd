"""The translation table against the code: every key the code uses exists, in both languages,
with the same {placeholders}; and the Localizer creates, registers and relabels in one call."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import gradio as gr
import pytest

from mnist_demo.augment import AUGMENTATIONS
from mnist_demo.catalog import Entry
from mnist_demo.classroom import presets
from mnist_demo.inspection import KERNELS
from mnist_demo.models import MODELS
from mnist_demo.training.recipes import RECIPES
from mnist_demo.ui import i18n
from mnist_demo.ui.class_runs import COLUMNS
from mnist_demo.ui.i18n import LANGUAGES, STRINGS, Localizer, t

PACKAGE = Path(__file__).resolve().parent.parent / "mnist_demo"
NAMESPACES = sorted({key.split(".")[0] for key in STRINGS})  # app, common, draw, tab, train, viz

# Keys the code builds from a prefix: each prefix with every ending the code can give it.
CLASS_CHOICES = tuple(presets.CHOICES)
DYNAMIC = {
    "train.augment_": AUGMENTATIONS,  # train_tab.augment_choices
    "viz.kernel.": tuple(KERNELS),  # visualize_tab.kernel_choices
    "train.recipe_name.": tuple(RECIPES),  # train_tab.preset_choices
    "class.board.col.": tuple(c for c in COLUMNS if c != "#"),  # class_runs.headers
    "viz.col.": ("layer", "type", "detail", "output", "params", "rf", "jump", "formula"),  # visualize_tab.architecture
    "viz.looks.": ("predicted", "chosen"),  # visualize_tab.look_figures
    "viz.detail.": ("input", "conv", "pool", "fc", "normalize", "dropout"),  # visualize_tab.detail_text
    # Preprocessing step names come from the reading core and seen_panel.step_name falls back to
    # the name itself; tests/test_predict.py checks that every step it produces has a caption.
    "draw.step.": (),
    "model.title.": tuple(MODELS),  # i18n.model_title: every registered model
    "recipe.desc.": tuple(RECIPES),  # train_tab: every recipe's description
    "queue.whose.": ("address", "class"),  # common.job_error: the training line's shares (slots.ShareFull.whose)
    # class_runs.student_layout and choice_options: each preset choice, its one-line why, its worded options
    "class.own.": (*CLASS_CHOICES, *(f"{choice}_why" for choice in CLASS_CHOICES)),
    "class.own.opt.": ("small", "medium", "large", "low", "high", "off", "on"),
}


def _sources() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def _key_like(text: str) -> bool:
    return re.fullmatch(rf"(?:{'|'.join(NAMESPACES)})\.[\w.\-]*", text) is not None


def _prefix(node: ast.AST) -> str | None:
    """The constant start of f"viz.kernel.{name}" or "draw.step." + name."""
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    if isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant):
        return node.left.value
    return None


def _used() -> tuple[set[str], set[str], list[str]]:
    """(keys, dynamic prefixes, places where a key is neither) used across mnist_demo/."""
    keys, prefixes, unclear = set(), set(), []
    for path, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _key_like(node.value):
                keys.add(node.value)  # also catches `key = "draw.msg.blank" if ... else ...` then t(key)
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "t" and node.args:
                arguments = [node.args[0]]
            elif node.func.id == "L":  # the Localizer: its text keywords are keys
                arguments = [k.value for k in node.keywords if k.arg in Localizer.TEXT_ATTRIBUTES + ("value",)
                             and not (k.arg == "value" and not _text_valued(node))]
            else:
                continue
            for arg in arguments:
                for part in (arg.body, arg.orelse) if isinstance(arg, ast.IfExp) else (arg,):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        keys.add(part.value)
                    elif _prefix(part) is not None:
                        prefixes.add(_prefix(part))
                    elif not isinstance(part, ast.Name):  # a Name holds a constant caught above
                        unclear.append(f"{path.name}:{part.lineno}: {ast.unparse(part)}")
    return keys, prefixes, unclear


def _text_valued(call: ast.Call) -> bool:
    first = call.args[0] if call.args else None
    return isinstance(first, ast.Attribute) and first.attr in {c.__name__ for c in Localizer.TEXT_VALUED}


def test_every_key_used_in_the_code_exists():
    keys, prefixes, unclear = _used()
    assert not unclear, "keys the test cannot read: " + ", ".join(unclear)
    assert len(keys) > 100  # the scan sees the code
    dynamic_roots = {k for k in keys if k in DYNAMIC}  # the prefixes appear as constants too
    assert sorted(keys - set(STRINGS) - dynamic_roots) == []
    assert sorted(prefixes - set(DYNAMIC)) == [], "a new dynamic key prefix: add it to DYNAMIC with its endings"
    for prefix in prefixes:
        assert [end for end in DYNAMIC[prefix] if prefix + end not in STRINGS] == [], prefix


def test_every_key_has_both_languages_with_the_same_placeholders():
    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        assert placeholders(texts["en"]) == placeholders(texts["zh"]), key


def test_the_registries_texts_are_translated_and_the_english_is_the_registrys_own():
    from mnist_demo.ui.registry_strings import MODEL_TITLES_ZH, RECIPE_DESCRIPTIONS_ZH

    assert sorted(MODEL_TITLES_ZH) == sorted(MODELS) and sorted(RECIPE_DESCRIPTIONS_ZH) == sorted(RECIPES)
    for name, spec in MODELS.items():
        assert STRINGS[f"model.title.{name}"]["en"] == spec.title and i18n.model_title(name, "zh") != ""
    for name, recipe in RECIPES.items():
        assert STRINGS[f"recipe.desc.{name}"]["en"] == recipe.description
        assert STRINGS[f"recipe.desc.{name}"]["zh"] != recipe.description
    entry = Entry("session:1-digitnet", None, {"model": "digitnet", "title": "DigitNet (default) + my handwriting "
                                               "(this session, #2)", "test_accuracy": 0.9912})
    assert i18n.entry_label(entry, "en") == entry.label
    assert i18n.entry_label(entry, "zh") == "DigitNet（默认） + 我的笔迹（本次会话，#2） · 99.12%"


def test_localizer_creates_registers_and_relabels_in_one_call():
    L = Localizer()
    with gr.Blocks():
        button = L(gr.Button, value="draw.undo", elem_id="undo", size="sm")
        dropdown = L(gr.Dropdown, [("a", "draw.clear")], value="draw.clear", label="common.model",
                     info="draw.model_info")
        with L(gr.Tab, label="tab.train") as tab:
            pass
    assert button.value == t("draw.undo") and button.elem_id == "undo"
    assert dropdown.value == "draw.clear" and dropdown.label == t("common.model")  # a choice is not translated
    assert tab.label == t("tab.train") and L.components == [button, dropdown, tab]
    assert L.updates("zh") == [gr.update(value=t("draw.undo", "zh")),
                               gr.update(label=t("common.model", "zh"), info=t("draw.model_info", "zh")),
                               gr.update(label=t("tab.train", "zh"))]
    with gr.Blocks(), pytest.raises(KeyError, match="draw.nope"):
        L(gr.Button, value="draw.nope")


def test_the_module_documents_the_call():
    assert 'L(gr.Button, value="draw.undo")' in i18n.__doc__


def test_a_text_with_placeholders_is_relabelled_with_its_values():
    import gradio as gr

    L = i18n.Localizer()
    with gr.Blocks():
        button = L(gr.Button, value="common.its_digit", fill={"digit": 8})  # the digit buttons of both tabs
    assert button.value == "It's an 8" and L.updates("zh") == [gr.update(value="这是 8")]


def test_english_words_follow_the_number():
    assert t("class.given", "en", count=1) == "You have given **1 drawing**."
    assert t("class.given", "en", count=2).endswith("**2 drawings**.")
    assert [t("common.its_digit", "en", digit=d) for d in (1, 7, 8)] == ["It's a 1", "It's a 7", "It's an 8"]
    assert t("class.given", "zh", count=1) == "你已经提交了 **1** 幅书写。"
    # the answer above the probabilities (Draw tab, a student's phone) and the teach panel's note ("a 8" was shown)
    assert t("draw.msg.confident", "en", digit=8, prob="98%") == "It's **an 8** (98% sure)."
    assert t("draw.msg.confident", "en", digit=7, prob="98%").startswith("It's **a 7**")
    assert t("teach.added", "en", label=8, count=1) == "✅ Kept as **an 8** (8s kept: 1)."
    assert "With 1 digit," in t("teach.table_unmeasured", "en", total=1, min=60, measured=20, before_all="1 of 1",
                                 mnist_before="99%", mnist_after="99%")
