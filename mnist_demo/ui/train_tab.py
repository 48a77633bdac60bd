"""The Train tab: pick a network and a recipe, watch it learn, inspect its mistakes, use the result.

Thin UI over the core: `training.job.TrainingJob` runs the engine in a worker thread behind the
global cap of `training.slots`; this module turns its snapshots into progress, curves and results
a few times a second, and puts the trained model into this browser session.
"""

from __future__ import annotations

import asyncio
import functools
import html
import re
from pathlib import Path

import gradio as gr
import pandas as pd

from ..data import DATASETS, TRAIN_SIZE
from ..models import MODELS, build_model, param_count
from ..pictures import confusion_image, mistake_image
from ..training.job import JobSpec, Snapshot, TrainingJob
from ..training.recipes import RECIPES, custom_recipe, recipe_for
from ..weights import WeightsError, load_upload
from ..weights import save as save_weights
from .i18n import t
from .session import Session

FIRST_TO_TRAIN = "fastnet"  # the picker's first choice: a classroom wants to see 99% within a minute
UPDATE_SECONDS = 0.3  # how often the page is refreshed while training (at most ~3 times a second)
OPTIMIZERS = [("SGD (momentum)", "sgd"), ("Adam", "adam"), ("AdamW", "adamw"), ("Adadelta", "adadelta")]
AUGMENTATIONS = ("none", "digits", "fashion")


@functools.cache
def _parameters(name: str) -> int | None:
    try:
        return param_count(build_model(name))
    except Exception:  # a model whose code is missing still gets listed, without its count
        return None


def model_choices(lang: str) -> list[tuple[str, str]]:
    choices = []
    for name, spec in MODELS.items():
        count = _parameters(name)
        label = spec.title if count is None else t("train.model_choice", lang, title=spec.title, count=f"{count:,}")
        choices.append((label, name))
    return choices


def preset_choices(model: str, lang: str) -> list[tuple[str, str]]:
    """Every recipe, the model's own first and marked."""
    own = MODELS[model].recipe
    names = [own] + [name for name in RECIPES if name != own]
    return [(t("train.own_recipe", lang, name=n) if n == own else n, n) for n in names]


def augment_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"train.augment_{kind}", lang), kind) for kind in AUGMENTATIONS]


def recipe_fields(preset: str) -> list:
    """The editable fields as a preset fills them: optimizer, lr, momentum, batch, epochs, subset, augment."""
    r = RECIPES[preset]
    return [r.optimizer, r.lr, r.momentum, r.batch_size, r.epochs, r.train_subset or TRAIN_SIZE, r.augment]


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_html(snap: Snapshot | None, lang: str) -> str:
    """A bar with epoch, step, speed, elapsed time and ETA, or the place in line."""
    if snap is None:
        return ""
    fraction, text = 0.0, ""
    if snap.state == "queued":
        text = t("train.queued", lang, position=snap.queue_position, running=snap.trainings_running)
    elif snap.latest is None:
        text = t("train.preparing", lang)
    else:
        p = snap.latest
        fraction = p.fraction
        eta = p.elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        text = t("train.progress", lang, epoch=p.epoch, epochs=p.epochs, step=p.step, steps=p.total_steps,
                 percent=f"{fraction:.0%}", speed=f"{snap.images_per_sec:,.0f}", elapsed=_clock(p.elapsed),
                 eta=_clock(eta) if eta == eta else "…")
        if snap.state == "evaluating":
            text += " · " + t("train.evaluating", lang)
    return (f'<div id="train-bar" data-state="{snap.state}" data-fraction="{fraction:.4f}">'
            f'<div style="height:14px;border-radius:7px;background:#e5e7eb;overflow:hidden">'
            f'<div style="height:100%;width:{100 * fraction:.1f}%;background:#2563eb;transition:width .3s"></div>'
            f'</div><div style="margin-top:4px;font-size:0.9em">{html.escape(text)}</div></div>')


def curve_frames(snap: Snapshot) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    loss = pd.DataFrame({"epoch": [c.epoch for c in snap.curve], "loss": [c.loss for c in snap.curve]})
    acc = pd.DataFrame({"epoch": [c.epoch for c in snap.curve], "accuracy": [c.train_acc for c in snap.curve]})
    test = pd.DataFrame({"epoch": [e for e, _ in snap.test_curve], "accuracy": [a for _, a in snap.test_curve]})
    return loss.dropna(), acc.dropna(), test


def per_class_table(per_class: list[float], dataset: str, lang: str) -> str:
    classes = DATASETS[dataset].classes
    head = "| " + t("train.class", lang) + " | " + " | ".join(classes) + " |"
    rule = "|---" * (len(classes) + 1) + "|"
    row = "| " + t("train.accuracy", lang) + " | " + " | ".join(f"{a:.1%}" for a in per_class) + " |"
    return "\n".join([f"**{t('train.per_class', lang)}**", "", head, rule, row])


def mistakes_gallery(evaluation, dataset: str, lang: str) -> list:
    classes = DATASETS[dataset].classes
    return [(mistake_image(m.image), f"{classes[m.true]} → {classes[m.predicted]} ({m.confidence:.0%})")
            for m in evaluation.mistakes]


def _download_files(session: Session, entry_key: str, model, card: dict) -> list[str]:
    """safetensors + JSON card in the session's own folder, named after the model."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", entry_key.removeprefix("session:"))
    path = save_weights(model, session.workdir() / stem, card)
    return [str(path), str(path.with_suffix(".json"))]


def build(ctx) -> None:
    loc = ctx.localizer
    loc.add(gr.Markdown(t("train.intro")), value="train.intro")
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            model = loc.add(gr.Dropdown(model_choices("en"), value=FIRST_TO_TRAIN, label=t("train.model"),
                                        elem_id="train-model"), label="train.model")
            dataset = loc.add(gr.Dropdown([(d.name.upper() if d.name == "mnist" else "Fashion-MNIST", d.name)
                                           for d in DATASETS.values()], value=MODELS[FIRST_TO_TRAIN].dataset,
                                          label=t("train.dataset"), elem_id="train-dataset"), label="train.dataset")
            own = MODELS[FIRST_TO_TRAIN].recipe
            preset = loc.add(gr.Dropdown(preset_choices(FIRST_TO_TRAIN, "en"), value=own, label=t("train.preset"),
                                         elem_id="train-preset"), label="train.preset")
            preset_info = gr.Markdown(RECIPES[own].description, elem_id="train-preset-info")
            values = recipe_fields(own)
            with gr.Row():
                optimizer = loc.add(gr.Dropdown(OPTIMIZERS, value=values[0], label=t("train.optimizer"),
                                                elem_id="train-optimizer", min_width=120), label="train.optimizer")
                lr = loc.add(gr.Number(values[1], label=t("train.lr"), elem_id="train-lr", min_width=90),
                             label="train.lr")
                momentum = loc.add(gr.Number(values[2], label=t("train.momentum"), elem_id="train-momentum",
                                             min_width=90), label="train.momentum")
            with gr.Row():
                batch = loc.add(gr.Number(values[3], precision=0, label=t("train.batch"), elem_id="train-batch",
                                          min_width=90), label="train.batch")
                epochs = loc.add(gr.Number(values[4], precision=0, label=t("train.epochs"), elem_id="train-epochs",
                                           min_width=90), label="train.epochs")
                subset = loc.add(gr.Number(values[5], precision=0, label=t("train.subset"), elem_id="train-subset",
                                           min_width=120), label="train.subset")
            with gr.Row():
                augment = loc.add(gr.Radio(augment_choices("en"), value=values[6], label=t("train.augment"),
                                           elem_id="train-augment"), label="train.augment")
                seed = loc.add(gr.Number(0, precision=0, label=t("train.seed"), elem_id="train-seed", min_width=90),
                               label="train.seed")
            with gr.Row():
                start = loc.add(gr.Button(t("train.start"), variant="primary", elem_id="train-start"),
                                value="train.start")
                stop = loc.add(gr.Button(t("train.stop"), variant="stop", interactive=False, elem_id="train-stop"),
                               value="train.stop")
            message = gr.Markdown("", elem_id="train-message")
        with gr.Column(scale=3, min_width=360):
            progress = gr.HTML("", elem_id="train-progress")
            with gr.Row():
                loss_plot = loc.add(gr.LinePlot(x="epoch", y="loss", label=t("train.loss_plot"),
                                                x_title=t("train.epoch"), y_title=t("train.loss"), height=230,
                                                elem_id="train-loss-plot"),
                                    label="train.loss_plot", x_title="train.epoch", y_title="train.loss")
                acc_plot = loc.add(gr.LinePlot(x="epoch", y="accuracy", label=t("train.acc_plot"),
                                               x_title=t("train.epoch"), y_title=t("train.accuracy"), height=230,
                                               elem_id="train-acc-plot"),
                                   label="train.acc_plot", x_title="train.epoch", y_title="train.accuracy")
            test_plot = loc.add(gr.LinePlot(x="epoch", y="accuracy", label=t("train.test_plot"),
                                            x_title=t("train.epoch"), y_title=t("train.test_accuracy"), height=200,
                                            elem_id="train-test-plot"),
                                label="train.test_plot", x_title="train.epoch", y_title="train.test_accuracy")
    with gr.Column(visible=False, elem_id="train-results") as results:  # shown once a run has ended
        result = gr.Markdown("", elem_id="train-result")
        per_class = gr.Markdown("", elem_id="train-per-class")
        with gr.Row():
            confusion = loc.add(gr.Image(type="pil", label=t("train.confusion"), interactive=False, height=420,
                                         elem_id="train-confusion", buttons=["download"]), label="train.confusion")
            gallery = loc.add(gr.Gallery(label=t("train.mistakes"), columns=5, height=420, elem_id="train-mistakes",
                                         interactive=False), label="train.mistakes")
        downloads = loc.add(gr.File(label=t("train.download"), file_count="multiple", interactive=False,
                                    elem_id="train-download"), label="train.download")
    upload = loc.add(gr.File(label=t("train.upload"), file_count="multiple", file_types=[".safetensors", ".json"],
                             height=120, elem_id="train-upload"), label="train.upload")
    upload_message = gr.Markdown("", elem_id="train-upload-message")

    fields = [optimizer, lr, momentum, batch, epochs, subset, augment]

    def on_model(name: str, lang: str):
        own = MODELS[name].recipe
        return [MODELS[name].dataset, gr.update(choices=preset_choices(name, lang), value=own),
                RECIPES[own].description, *recipe_fields(own)]

    def on_preset(name: str):
        return [RECIPES[name].description, *recipe_fields(name)]

    def on_language(lang: str, name: str):
        return [gr.update(choices=model_choices(lang)), gr.update(choices=preset_choices(name, lang)),
                gr.update(choices=augment_choices(lang))]

    model.input(on_model, [model, ctx.lang], [dataset, preset, preset_info, *fields], api_visibility="private")
    preset.input(on_preset, preset, [preset_info, *fields], api_visibility="private")
    ctx.lang.change(on_language, [ctx.lang, model], [model, preset, augment], api_visibility="private")

    run_outputs = [message, progress, loss_plot, acc_plot, test_plot, results, result, per_class, confusion, gallery,
                   downloads, ctx.models_changed, start, stop]

    async def run(session: Session, lang: str, model_name: str, dataset_name: str, preset_name: str,
                  optimizer_v, lr_v, momentum_v, batch_v, epochs_v, subset_v, augment_v, seed_v, changed: int):
        try:
            recipe = custom_recipe(RECIPES.get(preset_name) or recipe_for(model_name), optimizer=optimizer_v,
                                   lr=lr_v, momentum=momentum_v, batch_size=batch_v, epochs=epochs_v,
                                   train_subset=subset_v, augment=augment_v)
            if seed_v is None or not 0 <= int(seed_v) < 2**63:
                raise ValueError(f"seed must be a whole number from 0 (got {seed_v!r})")
        except (ValueError, TypeError) as exc:
            yield {message: t("train.invalid", lang, problems=str(exc))}
            return
        if session.training:
            yield {message: t("train.already", lang)}
            return
        session.training = True
        session.stop_training.clear()
        job = TrainingJob(JobSpec(model_name, dataset_name, recipe, int(seed_v)), session.stop_training).start()
        no_points = pd.DataFrame({"epoch": [], "accuracy": []})
        x_lim = [0, recipe.epochs]  # the curves grow from left to right across the whole run
        yield {message: "", progress: progress_html(job.snapshot(), lang), results: gr.update(visible=False),
               result: "", per_class: "",
               confusion: None, gallery: [], downloads: None,
               loss_plot: gr.update(value=pd.DataFrame({"epoch": [], "loss": []}), x_lim=x_lim),
               acc_plot: gr.update(value=no_points, x_lim=x_lim), test_plot: gr.update(value=no_points, x_lim=x_lim),
               start: gr.update(interactive=False), stop: gr.update(interactive=True)}
        try:
            version, curve_len, test_len = -1, 0, 0
            while True:
                await asyncio.sleep(UPDATE_SECONDS)
                snap = job.snapshot()
                if snap.version == version:
                    continue
                version = snap.version
                update = {progress: progress_html(snap, lang)}
                if len(snap.curve) != curve_len or len(snap.test_curve) != test_len:
                    loss_df, acc_df, test_df = curve_frames(snap)
                    update.update({loss_plot: loss_df, acc_plot: acc_df})
                    if len(snap.test_curve) != test_len:
                        update[test_plot] = test_df
                    curve_len, test_len = len(snap.curve), len(snap.test_curve)
                if snap.finished:
                    update.update(finish(session, snap, lang, changed))
                    yield update
                    return
                yield update
        finally:
            if not job.snapshot().finished:
                session.stop_training.set()  # the page went away mid-run: don't leave an orphan training
            session.training = False

    def finish(session: Session, snap: Snapshot, lang: str, changed: int) -> dict:
        done = {start: gr.update(interactive=True), stop: gr.update(interactive=False)}
        if snap.state == "cancelled":
            return {**done, message: t("train.cancelled", lang), progress: ""}
        if snap.state == "failed":
            return {**done, message: t("train.failed", lang, error=snap.error)}
        res = snap.result
        entry = session.add_trained(res.model, res.card)
        files = _download_files(session, entry.key, res.model, res.card)
        evaluation, dataset_name = res.evaluation, res.card["dataset"]
        summary = t("train.result_stopped" if res.stopped else "train.result", lang,
                    accuracy=f"{evaluation.accuracy:.2%}", epochs=res.card["epochs_run"],
                    seconds=f"{res.card['train_seconds']:.0f}", title=entry.card["title"])
        caption = t("train.confusion_caption", lang)
        if dataset_name != "mnist":
            caption += " " + ", ".join(f"{i} = {c}" for i, c in enumerate(DATASETS[dataset_name].classes))
        return {**done, message: "", results: gr.update(visible=True), result: summary + "\n\n" + caption,
                per_class: per_class_table(evaluation.per_class, dataset_name, lang),
                confusion: confusion_image(evaluation.confusion),
                gallery: mistakes_gallery(evaluation, dataset_name, lang), downloads: files,
                ctx.models_changed: changed + 1}

    def request_stop(session: Session, lang: str):
        if not session.training:
            return t("train.nothing_to_stop", lang)
        session.stop_training.set()
        return t("train.stopping", lang)

    def on_upload(files: list[str] | None, session: Session, lang: str, changed: int):
        if not files:
            return "", changed
        try:
            model_, card = load_upload([Path(f) for f in files])
        except WeightsError as exc:
            return t("train.upload_rejected", lang, reason=str(exc)), changed
        entry = session.add_trained(model_, card)
        return t("train.upload_ok", lang, title=entry.card["title"]), changed + 1

    # The training event only polls a worker thread (async, no thread held), so it needs no
    # Gradio-level limit: the real cap is training.slots'. Predictions run on their own events.
    start.click(run, [ctx.session, ctx.lang, model, dataset, preset, *fields, seed, ctx.models_changed], run_outputs,
                concurrency_limit=None, concurrency_id="train", show_progress="hidden", api_visibility="private")
    stop.click(request_stop, [ctx.session, ctx.lang], message, queue=False, show_progress="hidden",
               api_visibility="private")
    upload.upload(on_upload, [upload, ctx.session, ctx.lang, ctx.models_changed], [upload_message, ctx.models_changed],
                  concurrency_limit=2, concurrency_id="train-upload", api_visibility="private")
