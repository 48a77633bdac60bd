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
    "draw.canvas": {"en": "Draw a digit here (mouse, pen or finger)", "zh": "在这里写一个数字（鼠标、手写笔或手指）"},
    "draw.undo": {"en": "↶ Undo (Ctrl+Z)", "zh": "↶ 撤销（Ctrl+Z）"},
    "draw.clear": {"en": "Clear", "zh": "清除"},
    "draw.upload": {"en": "…or upload a picture of a digit", "zh": "……或上传一张数字图片"},
    "draw.prediction": {"en": "Probabilities", "zh": "概率"},
    "draw.model_info": {"en": "Networks trained on MNIST digits, with their test accuracy",
                        "zh": "在 MNIST 手写数字上训练的网络，后面是它的测试准确率"},
    "draw.msg.blank": {"en": "✏️ Draw a digit on the canvas, or upload a picture of one.",
                       "zh": "✏️ 请在画板上写一个数字，或上传一张数字图片。"},
    "draw.msg.confident": {"en": "It's a **{digit}** ({prob} sure).", "zh": "这是 **{digit}**（把握 {prob}）。"},
    "draw.msg.not_sure": {"en": "🤔 Not sure: maybe a **{digit}** ({prob}), but it doesn't look much like any digit.",
                          "zh": "🤔 不太确定：也许是 **{digit}**（{prob}），但它不太像任何一个数字。"},
    "draw.msg.bad_drawing": {"en": "⚠️ The drawing could not be read. Clear the canvas and draw again.",
                             "zh": "⚠️ 无法读取这幅画。请清除画板后重新书写。"},
    "draw.msg.bad_picture": {"en": "⚠️ This file can't be used as a picture of a digit: {detail}",
                             "zh": "⚠️ 这个文件无法作为数字图片使用：{detail}"},
    "draw.msg.no_model": {"en": "⚠️ No trained network is available yet: train one in the Train tab.",
                          "zh": "⚠️ 还没有训练好的网络：请先在“训练”页训练一个。"},
    "draw.seen.title": {"en": "What the network sees", "zh": "网络看到的画面"},
    "draw.seen.input": {"en": "28×28 input", "zh": "28×28 输入"},
    "draw.seen.steps": {"en": "Preprocessing, step by step", "zh": "预处理的每一步"},
    "draw.seen.empty": {"en": "Nothing drawn yet.", "zh": "还没有画任何东西。"},
    "draw.step.ink": {"en": "ink", "zh": "笔迹"},
    "draw.step.grey": {"en": "grey", "zh": "灰度"},
    "draw.step.lighting removed": {"en": "lighting removed", "zh": "去除光照不均"},
    "draw.step.transparency as ink": {"en": "transparency as ink", "zh": "以透明度为笔迹"},
    "draw.step.cropped": {"en": "cropped", "zh": "裁剪到笔迹"},
    "draw.step.thickened": {"en": "thickened", "zh": "加粗笔画"},
    "draw.step.thinned": {"en": "thinned", "zh": "细化笔画"},
    "draw.step.scaled to 20 px": {"en": "scaled to 20 px", "zh": "缩放到 20 像素"},
    "draw.step.centered 28x28": {"en": "centered 28×28", "zh": "按重心居中 28×28"},


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
