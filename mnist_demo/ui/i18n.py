"""The one translation table: every piece of UI text, in English and Simplified Chinese.

Components are created with English text and registered with a `Localizer`; when the language
changes (the browser's Accept-Language on load, or the visible selector) the localizer returns
one update per registered component. Messages built in Python take the language as an input.
Each tab keeps its keys in its own block below, prefixed with the tab's name.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"

STRINGS: dict[str, dict[str, str]] = {
    # --- app shell ---
    "app.title": {"en": "Draw a digit: a CNN recognizes it, live", "zh": "手写数字：卷积神经网络实时识别"},
    "app.heading": {"en": "# Draw a digit: a CNN recognizes it, live", "zh": "# 手写数字：卷积神经网络实时识别"},
    "app.intro": {
        "en": "Draw a digit or upload a photo of one, watch the network's ten probabilities change as you draw, "
              "train your own networks, and look inside them.",
        "zh": "画一个数字或上传一张数字照片，边画边看网络给出的十个概率；还可以亲手训练网络，并查看它的内部。",
    },
    "app.language": {"en": "Language / 语言", "zh": "语言 / Language"},
    "tab.draw": {"en": "Draw & Predict", "zh": "手写识别"},
    "tab.train": {"en": "Train", "zh": "训练"},
    "tab.visualize": {"en": "Visualize", "zh": "可视化"},
    "common.model": {"en": "Model", "zh": "模型"},

    # --- draw tab ---


    # --- train tab ---


    # --- visualize tab ---


}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The text for `key` in `lang` (English if missing), with {placeholders} filled in."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def language_from_header(accept_language: str | None) -> str:
    """'zh-CN,zh;q=0.9,en;q=0.8' -> 'zh'; anything we don't have -> English."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()
        if code[:2] in LANGUAGES:
            return code[:2]
    return DEFAULT_LANGUAGE


class Localizer:
    """Remembers which component attribute shows which key, and relabels them all at once."""

    def __init__(self) -> None:
        self._items: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str]]] = []

    def add(self, component, **attribute_keys: str):
        """Register e.g. `add(button, value="draw.clear")`; returns the component."""
        self._items.append((component, attribute_keys))
        return component

    @property
    def components(self) -> list:
        return [component for component, _ in self._items]

    def updates(self, lang: str) -> list:
        return [gr.update(**{attr: t(key, lang) for attr, key in keys.items()}) for _, keys in self._items]
