"""The core's registries in both languages: each model's title (`model.title.<name>`) and each recipe's
description (`recipe.desc.<name>`). The English is the registry's own text (the command line and the cards use
it); the Chinese is here. `entry_label` shows a model picker's entry in the page's language."""

from __future__ import annotations

import re

from ..models import MODELS
from ..training.recipes import RECIPES

MODEL_TITLES_ZH = {
    "digitnet": "DigitNet（默认）",
    "fashionnet": "FashionNet（默认，Fashion-MNIST）",
    "fastnet": "FastNet",
    "fastnet-small": "FastNet（小）",
    "fastnet-large": "FastNet（大）",
    "s1-bn-cnn": "S1 BN-CNN",
    "s2-numpy-cnn": "S2 NumPy CNN",
    "s3-mlp": "S3 MLP（已修正）",
    "s3-mlp-as-written": "S3 MLP（原文）",
    "s4-two-conv": "S4 双卷积 CNN",
    "s5-lenet": "S5 LeNet（已修正）",
    "s5-lenet-as-written": "S5 LeNet（原文）",
    "s5-lenet-fashion": "S5 LeNet，sigmoid（Fashion-MNIST）",
    "classic": "pytorch/examples CNN",
}

RECIPE_DESCRIPTIONS_ZH = {
    "s1": "S1 原文方案：Adam，学习率 0.001，批大小 64，10 轮。",
    "s2": "S2 原文方案：普通 SGD，学习率 0.005，一次一张图像，在前 1,000 张训练图像上训练 3 轮，在前 1,000 张测试图像上测试。",
    "s3": "S3 原文方案：SGD，学习率 0.8，批大小 64，5 轮。",
    "s4": "S4 原文方案：SGD，学习率 0.001，动量 0.9，批大小 64，10 轮。",
    "s5": "S5（MNIST）原文方案：SGD，学习率 0.001，动量 0.9，批大小 64，10 轮。",
    "s5-fashion": "S5（Fashion-MNIST）原文方案：SGD，学习率 0.9，批大小 256，10 轮。",
    "classic": "pytorch/examples mnist：Adadelta，学习率 1.0，每轮学习率 ×0.7，批大小 64，14 轮。",
    "fast": "快速：AdamW，学习率 0.02，单周期学习率调度，标签平滑 0.1，批大小 256，1 轮。",
    "default": "默认：AdamW 单周期调度，类似手写的数据增强，标签平滑，30 轮。",
    "handwriting": "手写微调：AdamW，学习率 0.0003，单周期调度，类似手写的数据增强，标签平滑，在 MNIST 上训练 2 轮（另加渲染的手写数据）。",
    "fashion": "服饰：AdamW 单周期调度，翻转和平移，标签平滑，40 轮。",
}

# A registry entry without its Chinese here shows its English (tests/test_i18n.py fails until it has one).
REGISTRY_STRINGS: dict[str, dict[str, str]] = {
    **{f"model.title.{name}": {"en": spec.title, "zh": MODEL_TITLES_ZH.get(name, spec.title)}
       for name, spec in MODELS.items()},
    **{f"recipe.desc.{name}": {"en": recipe.description, "zh": RECIPE_DESCRIPTIONS_ZH.get(name, recipe.description)}
       for name, recipe in RECIPES.items()},
    # What a model's title gains on the way (a session's training, a teaching, a class's training)
    "model.this_session": {"en": " (this session, #{number})", "zh": "（本次会话，#{number}）"},
    "model.my_handwriting": {"en": " + my handwriting", "zh": " + 我的笔迹"},
    "model.plus_class": {"en": " + class {name}", "zh": " + 课堂 {name}"},
}

# The English suffixes of a card's title, as the core writes them (session.keep, teach.SUFFIX, tuning)
_SUFFIXES = [(re.compile(r" \(this session, #(\d+)\)"), "model.this_session", "number"),
             (re.compile(r" \+ my handwriting"), "model.my_handwriting", None),
             (re.compile(r" \+ class (\S+)"), "model.plus_class", "name")]
