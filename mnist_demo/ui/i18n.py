"""The one translation table: every piece of UI text, in English and Simplified Chinese.

Components are created with English text and registered in one call that names the key once,
`L(gr.Button, value="draw.undo")` (see `Localizer`); when the language changes (the browser's
Accept-Language on load, or the visible selector) the localizer returns one update per
registered component. Messages built in Python take the language as an input.
Each tab keeps its keys in its own block below, prefixed with the tab's name.
"""

from __future__ import annotations

import string
from typing import Any

import gradio as gr

from .teach_strings import TEACH_STRINGS

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
    # The titles of the page's notices (Gradio's own are English)
    "common.info": {"en": "Info", "zh": "提示"},
    "common.warning": {"en": "Warning", "zh": "注意"},
    "common.error": {"en": "Error", "zh": "出错了"},
    # The ten digit buttons of the teach panel and of a student's phone: "It's a 7"
    "common.its_digit": {"en": "It's {digit:a}", "zh": "这是 {digit}"},

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
    "draw.msg.confident": {"en": "It's **{digit:a}** ({prob} sure).", "zh": "这是 **{digit}**（把握 {prob}）。"},
    # No percentage here: "not sure" beside a high one reads as a contradiction (the bars show them all).
    "draw.msg.not_sure": {"en": "🤔 Not sure: maybe **{digit:a}**, or **{second:a}**.",
                          "zh": "🤔 不太确定：可能是 **{digit}**，也可能是 **{second}**。"},
    "draw.msg.bad_drawing": {"en": "⚠️ The drawing could not be read. Clear the canvas and draw again.",
                             "zh": "⚠️ 无法读取这幅画。请清除画板后重新书写。"},
    "draw.msg.bad_picture": {"en": "⚠️ This file can't be used as a picture of a digit: {detail}",
                             "zh": "⚠️ 这个文件无法作为数字图片使用：{detail}"},
    "draw.source.device": {"en": "⚡ Answered on this device", "zh": "⚡ 在本设备上计算"},
    "draw.source.server": {"en": "Answered by the server", "zh": "由服务器计算"},
    "draw.msg.no_model": {"en": "⚠️ No trained network is available yet: train one in the Train tab.",
                          "zh": "⚠️ 还没有训练好的网络：请先在“训练”页训练一个。"},
    "common.reload": {"en": "⚠️ This page's session has ended. Reload the page to go on.",
                      "zh": "⚠️ 本页面的会话已结束。请刷新页面后继续。"},
    "train.dropped": {"en": "To make room, this tab no longer keeps: {titles}.",
                      "zh": "为腾出空间，本页面不再保留：{titles}。"},
    "train.upload_failed": {"en": "the file could not be read.", "zh": "无法读取该文件。"},
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
    "train.extra": {"en": "Plus My digits (optional): the zip downloaded in Draw & Predict",
                    "zh": "再加上“我的数字”（可选）：在手写识别页下载的 zip"},
    "train.preset": {"en": "Recipe preset (fills the fields below)", "zh": "训练方案预设（填入下面的参数）"},
    "train.own_recipe": {"en": "{name} (this network's own)", "zh": "{name}（该网络自己的方案）"},
    # The presets by their recipe's registry name (training.recipes.RECIPES)
    "train.recipe_name.s1": {"en": "S1 as written", "zh": "S1 原文方案"},
    "train.recipe_name.s2": {"en": "S2 as written", "zh": "S2 原文方案"},
    "train.recipe_name.s3": {"en": "S3 as written", "zh": "S3 原文方案"},
    "train.recipe_name.s4": {"en": "S4 as written", "zh": "S4 原文方案"},
    "train.recipe_name.s5": {"en": "S5 as written (MNIST)", "zh": "S5 原文方案（MNIST）"},
    "train.recipe_name.s5-fashion": {"en": "S5 as written (Fashion-MNIST)", "zh": "S5 原文方案（Fashion-MNIST）"},
    "train.recipe_name.classic": {"en": "Classic (pytorch/examples)", "zh": "经典方案（pytorch/examples）"},
    "train.recipe_name.fast": {"en": "Fast", "zh": "快速"},
    "train.recipe_name.default": {"en": "Default", "zh": "默认"},
    "train.recipe_name.handwriting": {"en": "Handwriting fine-tune", "zh": "手写微调"},
    "train.recipe_name.fashion": {"en": "Fashion", "zh": "服饰"},
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
    "train.cell_hint": {"en": "Click a cell of the confusion matrix to see its test images.",
                        "zh": "点击混淆矩阵的一个格子，查看其中的测试图片。"},
    "train.cell_examples": {"en": "Test images of the clicked cell: true → answered (confidence)",
                            "zh": "所点格子中的测试图片：真实 → 识别为（置信度）"},
    "train.cell_caption": {
        "en": "True **{true}**, answered **{predicted}**: {count} test images; showing {shown}, most confident first.",
        "zh": "真实 **{true}**，识别为 **{predicted}**：共 {count} 张测试图片；显示 {shown} 张，最自信的在前。",
    },
    "train.cell_empty": {"en": "True **{true}**, answered **{predicted}**: no test image.",
                         "zh": "真实 **{true}**，识别为 **{predicted}**：没有测试图片。"},
    "train.cell_outside": {"en": "Click inside the grid (a cell, not the class numbers).",
                           "zh": "请点击格子里面（不是类别编号）。"},
    "train.cell_no_results": {"en": "No results to look into yet: train a network first.",
                              "zh": "还没有可查看的结果：请先训练一个网络。"},
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
        "en": "Waiting for a free training slot: you are number {position} in line ({running} training now); "
              "yours should start in about {start}.",
        "zh": "正在等待空闲的训练名额：你排在第 {position} 位（当前有 {running} 个训练在进行），预计约 {start} 后开始。",
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
    # the training line's refusals (training.slots), for every tab that starts a job
    "queue.full": {"en": "The server is busy: {running} training(s) running and {waiting} waiting, the most it "
                         "takes. Try again in a few minutes.",
                   "zh": "服务器正忙：{running} 个训练在运行，{waiting} 个在排队，已到上限。请过几分钟再试。"},
    "queue.share_full": {"en": "The server is busy: your {whose} already has {held} training(s) running or waiting, "
                               "the most one {whose} may have. Try again when one of them has finished.",
                         "zh": "服务器正忙：你的{whose}已有 {held} 个训练在运行或排队，已到上限。请等其中一个结束后再试。"},
    "queue.whose.address": {"en": "address", "zh": "网络地址"},
    "queue.whose.class": {"en": "class", "zh": "班级"},
    "queue.already": {"en": "You already have a training running or waiting: one at a time each.",
                      "zh": "你已有一个训练在运行或排队：每人一次一个。"},
    "train.result": {
        "en": "### Test accuracy: {accuracy}\n{epochs:plural:epoch:epochs} in {seconds} s. Added as **{title}** to the pickers "
              "in Draw & Predict and Visualize.",
        "zh": "### 测试准确率：{accuracy}\n{epochs} 轮，用时 {seconds} 秒。已作为 **{title}** "
              "加入手写识别和可视化的模型列表。",
    },
    "train.result_stopped": {
        "en": "### Test accuracy: {accuracy} (stopped early)\nStopped after {epochs:plural:epoch:epochs}, {seconds} s; what it "
              "learned so far is kept as **{title}** in Draw & Predict and Visualize.",
        "zh": "### 测试准确率：{accuracy}（提前停止）\n在第 {epochs} 轮、{seconds} 秒时停止；"
              "已学到的部分保存为 **{title}**，可在手写识别和可视化中使用。",
    },


    # --- visualize tab ---
    "viz.intro": {
        "en": "Look inside a network on your own drawing: its filters, what every layer makes of the drawing, "
              "where it looks, and the arithmetic of a convolution, step by step.",
        "zh": "用你自己的手写数字查看网络内部：它的卷积核、每一层对这幅图的响应、它在看哪里，以及卷积的逐步计算。",
    },
    "viz.untrained": {"en": "untrained (random weights)", "zh": "未训练（随机权重）"},
    "viz.source": {"en": "Input", "zh": "输入"},
    "viz.source.drawing": {"en": "My drawing (Draw tab)", "zh": "我的手写（手写识别页）"},
    "viz.source.test": {"en": "Test image", "zh": "测试集图片"},
    "viz.test_index": {"en": "Test image number", "zh": "测试图片编号"},
    "viz.target": {"en": "Class to explain", "zh": "要解释的类别"},
    "viz.target.runner_up": {"en": "2nd most likely", "zh": "可能性第二高的类别"},
    "viz.status": {
        "en": "**Input:** {input} · **Prediction:** {pred} ({prob}) · **Model:** {model}",
        "zh": "**输入：** {input} · **预测：** {pred}（{prob}） · **模型：** {model}",
    },
    "viz.input.drawing": {"en": "your drawing from the Draw tab", "zh": "你在手写识别页画的数字"},
    "viz.input.test": {
        "en": "test image #{index} of {dataset} (true class: {label})",
        "zh": "{dataset} 测试集第 {index} 张图片（真实类别：{label}）",
    },
    "viz.input.no_drawing": {
        "en": "No drawing on the Draw tab yet, so this shows",
        "zh": "手写识别页还没有手写，因此这里显示",
    },
    "viz.input.no_data": {
        "en": "a blank image: the {dataset} test set is not available here ({error})",
        "zh": "一张空白图片：此处没有 {dataset} 测试集（{error}）",
    },
    "viz.input_image": {"en": "Input (28×28)", "zh": "输入（28×28）"},
    "viz.probs": {"en": "Probabilities", "zh": "概率"},
    "viz.probs.class": {"en": "class", "zh": "类别"},
    "viz.probs.probability": {"en": "probability", "zh": "概率"},
    "viz.arch.heading": {"en": "### Architecture, computed from the model", "zh": "### 网络结构（由模型本身计算得出）"},
    "viz.arch.help": {
        "en": "Each convolution or pooling layer's output size is out = (in + 2·padding − kernel) / stride + 1, "
              "rounded down. The receptive field is the square of input pixels one output value can see; the jump is "
              "how many input pixels apart two neighbouring outputs look. After flattening, every unit sees the "
              "whole image.",
        "zh": "卷积层或池化层的输出尺寸为 输出 = (输入 + 2·填充 − 卷积核) / 步幅 + 1（向下取整）。"
              "感受野是一个输出值能“看到”的输入像素方块；跳距是相邻两个输出在输入上相隔的像素数。"
              "展平之后，每个单元都能看到整幅图像。",
    },
    "viz.col.layer": {"en": "layer", "zh": "层"},
    "viz.col.type": {"en": "type", "zh": "类型"},
    "viz.col.detail": {"en": "details", "zh": "参数设置"},
    "viz.col.output": {"en": "output shape", "zh": "输出形状"},
    "viz.col.params": {"en": "parameters", "zh": "参数量"},
    "viz.col.rf": {"en": "receptive field", "zh": "感受野"},
    "viz.col.jump": {"en": "jump", "zh": "跳距"},
    "viz.col.formula": {"en": "output size", "zh": "输出尺寸计算"},
    "viz.arch.whole": {"en": "whole image", "zh": "整幅图像"},
    "viz.layer.input": {"en": "input", "zh": "输入"},
    "viz.detail.input": {"en": "{side}×{side} pixels in [0, 1]", "zh": "{side}×{side} 像素，取值 [0, 1]"},
    "viz.detail.conv": {"en": "{cin}→{cout}, kernel {kernel}, stride {stride}, padding {padding}",
                        "zh": "{cin}→{cout}，卷积核 {kernel}，步幅 {stride}，填充 {padding}"},
    "viz.detail.pool": {"en": "{kernel}, stride {stride}, padding {padding}", "zh": "{kernel}，步幅 {stride}，填充 {padding}"},
    "viz.detail.fc": {"en": "{cin}→{cout}", "zh": "{cin}→{cout}"},
    "viz.detail.normalize": {"en": "(x − {mean}) / {std}", "zh": "(x − {mean}) / {std}"},
    "viz.detail.dropout": {"en": "p = {p} (off when predicting)", "zh": "p = {p}（预测时关闭）"},
    "viz.formula.axes": {"en": "rows: {rows}; columns: {columns}", "zh": "行：{rows}；列：{columns}"},
    "viz.filters.heading": {"en": "### Filters (convolution kernels)", "zh": "### 卷积核（滤波器）"},
    "viz.filters.help": {
        "en": "One tile per filter: the weights it multiplies each patch of its input with. Red is positive, blue "
              "negative, white zero, on one symmetric scale per layer.",
        "zh": "每个小方块是一个卷积核：它与输入中每个小块相乘的权重。"
              "红色为正，蓝色为负，白色为零；每层使用一个对称的色标。",
    },
    "viz.filters.caption": {
        "en": "{layer} · weights {shape} · showing {reduction} · colour scale ±{limit}",
        "zh": "{layer} · 权重 {shape} · 显示{reduction} · 色标 ±{limit}",
    },
    "viz.filters.single": {"en": "the only input channel", "zh": "唯一的输入通道"},
    "viz.filters.mean": {"en": "the mean over its {n} input channels", "zh": "{n} 个输入通道的平均"},
    "viz.filters.none": {
        "en": "This model has no convolution layer, so there are no filters: each unit of its first layer weighs "
              "all 784 pixels at once.",
        "zh": "这个模型没有卷积层，所以没有卷积核：它第一层的每个单元同时对全部 784 个像素加权。",
    },
    "viz.maps.heading": {"en": "### Feature maps on this input", "zh": "### 这个输入的特征图"},
    "viz.maps.help": {
        "en": "What each convolution and pooling layer outputs for this input, after its activation function: one "
              "small image per channel, one colour scale per layer (dark = low, bright = high; blue/red when "
              "values can be negative).",
        "zh": "每个卷积层和池化层对这个输入的输出（经过激活函数之后）：每个通道一张小图，每层一个色标"
              "（暗 = 低，亮 = 高；可能为负时用蓝/红）。",
    },
    "viz.maps.none": {"en": "No convolution or pooling layer in this model.", "zh": "这个模型没有卷积层或池化层。"},
    "viz.maps.caption": {"en": "{chain} · {shape}", "zh": "{chain} · {shape}"},
    "viz.fc.heading": {"en": "### Fully connected layers", "zh": "### 全连接层"},
    "viz.fc.help": {
        "en": "Each bar is one unit's output after its activation (red up = positive, blue down = negative); the "
              "last layer's ten bars are the class scores before the softmax turns them into probabilities.",
        "zh": "每根柱子是一个单元经过激活函数后的输出（红色向上为正，蓝色向下为负）；最后一层的十根柱子是 softmax "
              "转换为概率之前的类别分数。",
    },
    "viz.fc.caption": {"en": "{chain} · {n} units", "zh": "{chain} · {n} 个单元"},
    "viz.looks.heading": {"en": "### Where it looks", "zh": "### 网络在看哪里"},
    "viz.looks.help": {
        "en": "Grad-CAM weighs the last convolution layer's maps by how much they raise the class score; the "
              "saliency map shows how strongly each pixel moves the score (gradient magnitude). Bright = important.",
        "zh": "Grad-CAM 按最后一个卷积层各特征图对类别分数的贡献加权；显著图显示每个像素对分数的影响有多大"
              "（梯度大小）。越亮越重要。",
    },
    "viz.looks.predicted": {"en": "predicted", "zh": "预测类别"},
    "viz.looks.chosen": {"en": "chosen", "zh": "所选类别"},
    "viz.looks.gradcam": {
        "en": "Grad-CAM · {cls} ({which}) · on {layer}",
        "zh": "Grad-CAM · {cls}（{which}） · 基于 {layer}",
    },
    "viz.looks.saliency": {"en": "Saliency · {cls} ({which})", "zh": "显著图 · {cls}（{which}）"},
    "viz.looks.no_conv": {
        "en": "Grad-CAM needs a convolution layer and this model has none; the gradient saliency maps still work.",
        "zh": "Grad-CAM 需要卷积层，而这个模型没有；梯度显著图仍然可用。",
    },
    "viz.looks.zero": {
        "en": "Grad-CAM for {cls} is zero everywhere: nothing in {layer} speaks for this class.",
        "zh": "{cls} 的 Grad-CAM 处处为零：{layer} 中没有支持这个类别的证据。",
    },
    "viz.conv.heading": {"en": "### Convolution, step by step", "zh": "### 卷积，一步一步"},
    "viz.conv.help": {
        "en": "A kernel slides over the 28×28 input (zero padding shown tinted); at each position the window's "
              "pixels are multiplied by the kernel's weights and summed, giving one output value. Step through "
              "the positions or animate them.",
        "zh": "卷积核在 28×28 的输入上滑动（着色部分为零填充）；在每个位置，窗口中的像素与卷积核权重逐个相乘再相加，"
              "得到一个输出值。可以逐步查看，也可以自动播放。",
    },
    "viz.conv.kernel": {"en": "Kernel", "zh": "卷积核"},
    "viz.conv.padding": {"en": "Padding", "zh": "填充"},
    "viz.conv.stride": {"en": "Stride", "zh": "步幅"},
    "viz.conv.position": {"en": "Position (of {total})", "zh": "位置（共 {total} 个）"},
    "viz.conv.prev": {"en": "◀ Step", "zh": "◀ 上一步"},
    "viz.conv.next": {"en": "Step ▶", "zh": "下一步 ▶"},
    "viz.conv.animate": {"en": "Animate", "zh": "自动播放"},
    "viz.conv.speed": {"en": "Positions per tick", "zh": "每次前进的位置数"},
    "viz.conv.input": {"en": "Input with padding and the kernel's window", "zh": "带填充的输入与卷积核窗口"},
    "viz.conv.kernel_image": {"en": "Kernel (red +, blue −)", "zh": "卷积核（红 +，蓝 −）"},
    "viz.conv.output": {"en": "Output map so far", "zh": "已算出的输出"},
    "viz.conv.step": {
        "en": "**Step {n} of {total}**: output row {row}, column {col} = the window's pixels × the kernel's "
              "weights, added up:",
        "zh": "**第 {n} 步，共 {total} 步**：输出第 {row} 行第 {col} 列 = 窗口像素 × 卷积核权重，再求和：",
    },
    "viz.conv.size": {"en": "Output size per side: {formula}", "zh": "每边的输出尺寸：{formula}"},
    "viz.conv.learned_note": {
        "en": "A learned filter is applied here to the raw pixels in [0, 1], without the network's input "
              "normalization and bias.",
        "zh": "这里把学到的卷积核直接作用在 [0, 1] 的原始像素上，没有网络的输入归一化和偏置。",
    },
    "viz.kernel.sobel-x": {"en": "Edge detector: vertical edges (Sobel x)", "zh": "边缘检测：竖直边缘（Sobel x）"},
    "viz.kernel.sobel-y": {"en": "Edge detector: horizontal edges (Sobel y)", "zh": "边缘检测：水平边缘（Sobel y）"},
    "viz.kernel.laplacian": {"en": "Edge detector: all directions (Laplacian)", "zh": "边缘检测：各方向（拉普拉斯）"},
    "viz.kernel.box-blur": {"en": "Blur: box (mean of 3×3)", "zh": "模糊：均值（3×3 平均）"},
    "viz.kernel.gaussian-blur": {"en": "Blur: Gaussian", "zh": "模糊：高斯"},
    "viz.kernel.sharpen": {"en": "Sharpen", "zh": "锐化"},
    "viz.kernel.learned": {
        "en": "Learned: first conv layer, filter {i} ({k})",
        "zh": "学到的：第一个卷积层第 {i} 个卷积核（{k}）",
    },

}
STRINGS.update(TEACH_STRINGS)  # the Draw tab's My digits panel (ui/teach_strings.py)

from .class_strings import CLASS_STRINGS  # noqa: E402  (the Class tab's block, kept in its own file)

STRINGS.update(CLASS_STRINGS)

from .registry_strings import _SUFFIXES, REGISTRY_STRINGS  # noqa: E402  (model titles, recipe descriptions)

STRINGS.update(REGISTRY_STRINGS)


class _Words(string.Formatter):
    """str.format plus two English word forms, so a sentence reads right for every number:
    `{count:plural:drawing:drawings}` gives "1 drawing", "2 drawings"; `{digit:a}` gives "a 2", "an 8"."""

    def format_field(self, value: Any, spec: str) -> str:
        if spec.startswith("plural:"):
            one, _, other = spec[len("plural:"):].partition(":")
            return f"{value} {one if value == 1 or value == '1' else other}"
        if spec == "a":
            return f"{'an' if str(value) in ('11', '18') or str(value).startswith('8') else 'a'} {value}"
        return super().format_field(value, spec)


_WORDS = _Words()


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The text for `key` in `lang` (English if missing), with {placeholders} filled in (see `_Words`)."""
    entry = STRINGS[key]
    text = (entry.get(lang) if isinstance(lang, str) else None) or entry[DEFAULT_LANGUAGE]  # lang may come from a script
    return _WORDS.format(text, **values) if values else text


def model_title(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A registered model's title in `lang` (`name` itself for a name no registry knows)."""
    key = f"model.title.{name}"
    return t(key, lang) if key in STRINGS else name


def entry_label(entry, lang: str = DEFAULT_LANGUAGE) -> str:
    """A picker's label of a model (`catalog.Entry.label`: title and measured accuracy) in `lang`: the registry's
    title and what the title gained on the way (this session's, my handwriting, a class's) translated."""
    label = entry.label
    english = STRINGS.get(f"model.title.{entry.card.get('model')}", {}).get("en")
    if lang == DEFAULT_LANGUAGE or not english or not label.startswith(english):
        return label
    rest = label[len(english):]
    for pattern, key, field in _SUFFIXES:
        rest = pattern.sub(lambda m, k=key, f=field: t(k, lang, **({f: m.group(1)} if f else {})), rest)
    return model_title(entry.card["model"], lang) + rest


def language_from_header(accept_language: str | None) -> str:
    """'zh-CN,zh;q=0.9,en;q=0.8' -> 'zh'; anything we don't have -> English."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()
        if code[:2] in LANGUAGES:
            return code[:2]
    return DEFAULT_LANGUAGE


class Localizer:
    """Creates translated components and relabels them all at once when the language changes.

    `L(gr.Button, value="draw.undo", elem_id="undo")` creates the button with its English text
    and registers it in one call, naming the key once. Which keyword arguments are translation
    keys is a fixed rule, not a guess: TEXT_ATTRIBUTES always, and `value` for the components
    whose value is their text (TEXT_VALUED); any other argument goes to the component as given.
    A text with placeholders takes their values as `fill`: `L(gr.Button, value="common.its_digit",
    fill={"digit": 7})`.
    """

    TEXT_ATTRIBUTES = ("label", "info", "placeholder", "x_title", "y_title")
    TEXT_VALUED = (gr.Markdown, gr.Button)

    def __init__(self) -> None:
        self._items: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str], dict]] = []

    def __call__(self, cls: type, *args: Any, fill: dict | None = None, **kwargs: Any):
        """`cls(*args, **kwargs)` with its text keys in English (placeholders filled from `fill`), registered for
        relabelling; returns it."""
        translated = self.TEXT_ATTRIBUTES + (("value",) if issubclass(cls, self.TEXT_VALUED) else ())
        keys = {attr: kwargs[attr] for attr in translated if attr in kwargs}
        unknown = [key for key in keys.values() if key not in STRINGS]
        if unknown:  # caught when the app is built, not when a user switches language
            raise KeyError(f"{cls.__name__}: no translation for {', '.join(map(repr, unknown))}")
        fill = fill or {}
        component = cls(*args, **{**kwargs, **{attr: t(key, **fill) for attr, key in keys.items()}})
        self._items.append((component, keys, fill))
        return component

    @property
    def components(self) -> list:
        return [component for component, _, _ in self._items]

    def updates(self, lang: str) -> list:
        return [gr.update(**{attr: t(key, lang, **fill) for attr, key in keys.items()}) for _, keys, fill in self._items]
