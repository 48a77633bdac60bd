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
    "train.intro": {
        "en": "Pick a network and a recipe, press **Start**, and watch it learn. When it is done, its mistakes are "
              "below, and the new model is ready in **Draw & Predict** and **Visualize** (for you only, until you "
              "close this tab).",
        "zh": "选择网络和训练方案，点击**开始**，观看它如何学习。训练结束后，下方会列出它的错误；"
              "新模型可立即在**手写识别**和**可视化**中使用（仅你自己可见，关闭页面后清除）。",
    },
    "train.model": {"en": "Network", "zh": "网络"},
    "train.model_choice": {"en": "{title} · {count} parameters", "zh": "{title} · {count} 个参数"},
    "train.dataset": {"en": "Dataset", "zh": "数据集"},
    "train.preset": {"en": "Recipe preset (fills the fields below)", "zh": "训练方案预设（填入下面的参数）"},
    "train.own_recipe": {"en": "{name} (this network's own)", "zh": "{name}（该网络自己的方案）"},
    "train.optimizer": {"en": "Optimizer", "zh": "优化器"},
    "train.lr": {"en": "Learning rate", "zh": "学习率"},
    "train.momentum": {"en": "Momentum (SGD)", "zh": "动量（SGD）"},
    "train.batch": {"en": "Batch size", "zh": "批大小"},
    "train.epochs": {"en": "Epochs", "zh": "轮数"},
    "train.subset": {"en": "Training images (60000 = all)", "zh": "训练图片数（60000 = 全部）"},
    "train.augment": {"en": "Augmentation", "zh": "数据增强"},
    "train.augment_none": {"en": "off", "zh": "关闭"},
    "train.augment_digits": {"en": "digits (shift, rotate, stroke width)", "zh": "数字（平移、旋转、笔画粗细）"},
    "train.augment_fashion": {"en": "clothes (flip, shift)", "zh": "服饰（翻转、平移）"},
    "train.seed": {"en": "Random seed", "zh": "随机种子"},
    "train.start": {"en": "Start training", "zh": "开始训练"},
    "train.stop": {"en": "Stop", "zh": "停止"},
    "train.loss_plot": {"en": "Training loss", "zh": "训练损失"},
    "train.acc_plot": {"en": "Training accuracy", "zh": "训练准确率"},
    "train.test_plot": {"en": "Test accuracy after each epoch", "zh": "每轮结束后的测试准确率"},
    "train.epoch": {"en": "epoch", "zh": "轮"},
    "train.loss": {"en": "loss", "zh": "损失"},
    "train.accuracy": {"en": "accuracy", "zh": "准确率"},
    "train.test_accuracy": {"en": "test accuracy", "zh": "测试准确率"},
    "train.confusion": {"en": "Confusion matrix", "zh": "混淆矩阵"},
    "train.confusion_caption": {
        "en": "Confusion matrix: rows are the true class, columns what the network answered; the diagonal holds "
              "the right answers.",
        "zh": "混淆矩阵：行是真实类别，列是网络的回答；对角线上是答对的数量。",
    },
    "train.mistakes": {"en": "Test images it got wrong: true → answered (confidence), most confident first",
                       "zh": "答错的测试图片：真实 → 识别为（置信度），最自信的在前"},
    "train.per_class": {"en": "Accuracy per class", "zh": "各类别准确率"},
    "train.class": {"en": "class", "zh": "类别"},
    "train.download": {"en": "Download the trained model (safetensors + JSON card)",
                       "zh": "下载训练好的模型（safetensors + JSON 说明卡）"},
    "train.upload": {"en": "Use a saved model again: upload its .safetensors (and .json card)",
                     "zh": "重新使用保存的模型：上传 .safetensors 文件（及 .json 说明卡）"},
    "train.upload_ok": {"en": "Loaded **{title}**: pick it in Draw & Predict or Visualize.",
                        "zh": "已加载 **{title}**：可在手写识别或可视化中选择它。"},
    "train.upload_rejected": {"en": "Upload rejected: {reason}", "zh": "上传被拒绝：{reason}"},
    "train.queued": {
        "en": "Waiting for a free training slot: you are number {position} in line ({running} training now).",
        "zh": "正在等待空闲的训练名额：你排在第 {position} 位（当前有 {running} 个训练在进行）。",
    },
    "train.preparing": {"en": "Preparing the data…", "zh": "正在准备数据…"},
    "train.progress": {
        "en": "Epoch {epoch}/{epochs} · step {step}/{steps} ({percent}) · {speed} images/s · {elapsed} elapsed · "
              "about {eta} left",
        "zh": "第 {epoch}/{epochs} 轮 · 第 {step}/{steps} 步（{percent}）· 每秒 {speed} 张图 · 已用 {elapsed} · "
              "约剩 {eta}",
    },
    "train.evaluating": {"en": "testing…", "zh": "测试中…"},
    "train.invalid": {"en": "⚠️ These settings cannot be used: {problems}.", "zh": "⚠️ 这些设置无法使用：{problems}。"},
    "train.already": {"en": "A training is already running in this tab; stop it first.",
                      "zh": "本页面已有一个训练在进行，请先停止它。"},
    "train.stopping": {"en": "Stopping after the current step…", "zh": "将在当前这一步之后停止…"},
    "train.nothing_to_stop": {"en": "Nothing is training.", "zh": "当前没有训练在进行。"},
    "train.cancelled": {"en": "Cancelled before it started.", "zh": "训练开始前已取消。"},
    "train.failed": {"en": "⚠️ The training failed: {error}", "zh": "⚠️ 训练失败：{error}"},
    "train.result": {
        "en": "### Test accuracy: {accuracy}\n{epochs} epochs in {seconds} s. Added as **{title}** to the pickers "
              "in Draw & Predict and Visualize.",
        "zh": "### 测试准确率：{accuracy}\n{epochs} 轮，用时 {seconds} 秒。已作为 **{title}** "
              "加入手写识别和可视化的模型列表。",
    },
    "train.result_stopped": {
        "en": "### Test accuracy: {accuracy} (stopped early)\nStopped after {epochs} epochs, {seconds} s; what it "
              "learned so far is kept as **{title}** in Draw & Predict and Visualize.",
        "zh": "### 测试准确率：{accuracy}（提前停止）\n在第 {epochs} 轮、{seconds} 秒时停止；"
              "已学到的部分保存为 **{title}**，可在手写识别和可视化中使用。",
    },


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
