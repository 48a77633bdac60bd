"""The Train tab: pick a network and a recipe, watch it learn, inspect its mistakes, use the result.

Thin UI over the core: `training.job.TrainingJob` runs the engine in a process of its own behind the
global cap of `training.slots`; this module turns its snapshots into progress, curves and results
a few times a second, and puts the trained model into this browser session. Handlers first (they
check what they are sent as if a script sent it), then `build`, which lays out and wires.
"""

from __future__ import annotations

import functools
import html
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from ..augment import AUGMENTATIONS
from ..data import DATASETS, TRAIN_SIZE, DataMissingError, load_split
from ..errors import friendly_error, hide_paths
from ..models import MODELS, build_model, param_count
from ..my_digits import training_data
from ..pictures import confusion_cell, confusion_image, mistake_image
from ..training.job import ExtraDigits, JobSpec, Snapshot, TrainingJob
from ..training.metrics import Evaluation, cell_examples
from ..training.recipes import OPTIMIZERS, RECIPES, custom_recipe
from ..weights import WeightsError, load_upload
from ..weights import save as save_weights
from .common import PRIVATE, follow, form_inputs, job_error, page_counter, read_form
from .i18n import model_title, t
from .session import Session, usable

FIRST_TO_TRAIN = "fastnet"  # the picker's first choice: a classroom wants to see 99% within a minute
UPDATE_SECONDS = 0.3  # how often the page is refreshed while training (at most ~3 times a second)
# How the picker shows the optimizers; the set of choices is the registry's (recipes.OPTIMIZERS).
OPTIMIZER_TITLES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adadelta": "Adadelta"}  # names in any language
CELL_LIMIT = 24  # test images shown for a clicked cell of the confusion matrix


@functools.cache
def _parameters(name: str) -> int | None:
    try:
        return param_count(build_model(name))
    except Exception:  # a model whose code is missing still gets listed, without its count
        return None


def optimizer_choices() -> list[tuple[str, str]]:
    return [(OPTIMIZER_TITLES.get(name, name), name) for name in OPTIMIZERS]


def dataset_choices() -> list[tuple[str, str]]:
    return [(d.name.upper() if d.name == "mnist" else "Fashion-MNIST", d.name) for d in DATASETS.values()]


def model_choices(lang: str) -> list[tuple[str, str]]:
    choices = []
    for name in MODELS:
        count = _parameters(name)
        title = model_title(name, lang)
        label = title if count is None else t("train.model_choice", lang, title=title, count=f"{count:,}")
        choices.append((label, name))
    return choices


def preset_choices(model: str, lang: str) -> list[tuple[str, str]]:
    """Every recipe, the model's own first and marked."""
    own = MODELS[model].recipe
    names = [own] + [name for name in RECIPES if name != own]
    return [(t("train.own_recipe", lang, name=t(f"train.recipe_name.{n}", lang)) if n == own
             else t(f"train.recipe_name.{n}", lang), n) for n in names]


def augment_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"train.augment_{kind}", lang), kind) for kind in AUGMENTATIONS]


FILLED = ("optimizer", "lr", "momentum", "batch_size", "epochs", "train_subset", "augment")  # what a preset fills


def recipe_fields(preset: str) -> list:
    """The editable fields as a preset fills them, in FILLED's order."""
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
        text = t("train.queued", lang, position=snap.queue_position, running=snap.trainings_running,
                 start=_clock(snap.queue_seconds))
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


@dataclass(frozen=True)
class CellSource:
    """What a click on the confusion matrix looks into: the latest run's evaluation and its dataset
    (kept in a gr.State, so per browser session and never sent to the page)."""

    dataset: str
    evaluation: Evaluation


def cell_gallery(source: CellSource, true: int, predicted: int, lang: str) -> tuple[str, list]:
    """The caption and the images of one cell (true, predicted) of the confusion matrix."""
    classes = DATASETS[source.dataset].classes
    split = load_split(source.dataset, "test")  # the engine's default data folder, as the training used
    examples = cell_examples(source.evaluation, split, true, predicted, CELL_LIMIT)
    count = int(source.evaluation.confusion[true, predicted])
    names = {"true": classes[true], "predicted": classes[predicted]}
    if not examples:
        return t("train.cell_empty", lang, **names), []
    caption = t("train.cell_caption", lang, count=f"{count:,}", shown=len(examples), **names)
    return caption, [(mistake_image(e.image), f"{classes[e.true]} → {classes[e.predicted]} ({e.confidence:.0%})")
                     for e in examples]


def _download_files(session: Session, entry_key: str, model, card: dict) -> list[str]:
    """safetensors + JSON card in the session's own folder, named after the model (removed with it)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", entry_key.removeprefix("session:"))
    path = save_weights(model, session.workdir() / stem, card)
    files = [path, path.with_suffix(".json")]
    session.keep_files(entry_key, files)
    return [str(f) for f in files]


def dropped_note(dropped: list, lang: str) -> str:
    """"To make room, this tab no longer keeps: ..." for the models a new one pushed out, else ""."""
    return t("train.dropped", lang, titles=", ".join(e.card["title"] for e in dropped)) if dropped else ""




# ---------------------------------------------------------------------------------------------
# The form: its values, checked as if a script had sent them


@dataclass(frozen=True)
class Settings:
    """The form's values as sent (from the page, or from a script calling the event directly)."""

    model: str
    dataset: str
    preset: str | None
    optimizer: str
    lr: float
    momentum: float
    batch_size: float
    epochs: float
    train_subset: float
    augment: str
    seed: float
    extra: str | None = None  # a My digits zip (its uploaded path) trained on besides the dataset


NUMBERS = ("lr", "momentum", "batch_size", "epochs", "train_subset", "seed")


def _is_finite_number(value) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def job_spec(s: Settings) -> JobSpec:
    """What to train, or ValueError naming every value that cannot be used (in words for the page)."""
    problems = []
    if s.model not in MODELS:
        problems.append(f"model must be one of {', '.join(MODELS)} (got {s.model!r})")
    if s.dataset not in DATASETS:
        problems.append(f"dataset must be one of {', '.join(DATASETS)} (got {s.dataset!r})")
    if s.preset not in (None, "") and s.preset not in RECIPES:
        problems.append(f"preset must be one of {', '.join(RECIPES)} (got {s.preset!r})")
    for name in NUMBERS:  # empty fields are custom_recipe's to report; NaN and infinity are caught here
        value = getattr(s, name)
        if value not in (None, "") and not _is_finite_number(value):
            problems.append(f"{name} must be a finite number (got {value!r})")
    if problems:
        raise ValueError("; ".join(problems))
    base = RECIPES[s.preset] if s.preset else RECIPES[MODELS[s.model].recipe]  # no preset: the model's own
    recipe = custom_recipe(base, optimizer=s.optimizer, lr=s.lr, momentum=s.momentum, batch_size=s.batch_size,
                           epochs=s.epochs, train_subset=s.train_subset, augment=s.augment)
    if s.seed in (None, "") or not 0 <= int(float(s.seed)) < 2**63:
        raise ValueError(f"seed must be a whole number from 0 (got {s.seed!r})")
    return JobSpec(s.model, s.dataset, recipe, int(float(s.seed)), extra_digits(s.extra, s.dataset))


def extra_digits(path, dataset: str) -> ExtraDigits | None:
    """The uploaded My digits zip as the training's extra digits (checked by my_digits), or None."""
    if path in (None, "", []):
        return None
    if isinstance(path, list) and len(path) == 1:
        path = path[0]
    if not isinstance(path, str):
        raise ValueError("extra digits must be one My digits zip")
    try:
        split, info = training_data(path, 1, dataset)
    except (ValueError, OSError) as exc:
        raise ValueError(f"extra digits: {friendly_error(exc)}") from None
    return ExtraDigits.from_split(split, {**info, "file": Path(path).name})


@dataclass
class TrainTab:
    """The tab's components, created by `build`; handlers address their outputs through it."""

    session: gr.State
    lang: gr.Radio
    models_changed: gr.State
    model: gr.Dropdown
    dataset: gr.Dropdown
    preset: gr.Dropdown
    preset_info: gr.Markdown  # the preset's description
    optimizer: gr.Dropdown
    lr: gr.Number
    momentum: gr.Number
    batch_size: gr.Number
    epochs: gr.Number
    train_subset: gr.Number
    augment: gr.Radio
    seed: gr.Number
    extra: gr.File
    start: gr.Button
    stop: gr.Button
    message: gr.Markdown
    progress: gr.HTML
    loss_plot: gr.LinePlot
    acc_plot: gr.LinePlot
    test_plot: gr.LinePlot
    results: gr.Column
    result: gr.Markdown
    per_class: gr.Markdown
    confusion: gr.Image
    gallery: gr.Gallery
    downloads: gr.File
    cells: gr.State  # CellSource of the latest results, or None
    cell_message: gr.Markdown
    cell_gallery: gr.Gallery

    def form(self) -> set:
        """The inputs of a Start: the session, the language, the counter and every Settings field."""
        return {self.session, self.lang, self.models_changed, *form_inputs(Settings, self)}

    def settings(self, values: dict) -> Settings:
        return read_form(Settings, self, values)

    def run_outputs(self) -> list:
        return [self.message, self.progress, self.loss_plot, self.acc_plot, self.test_plot, self.results,
                self.result, self.per_class, self.confusion, self.gallery, self.downloads, self.models_changed,
                self.start, self.stop, self.cells, self.cell_message, self.cell_gallery]


# ---------------------------------------------------------------------------------------------
# Event handlers


def _unknown(kind: str, name, known, lang: str) -> gr.Error:
    """A friendly error (shown as a notice on the page, no traceback) for a name no registry knows."""
    return gr.Error(t("train.invalid", lang, problems=f"{kind} must be one of {', '.join(known)} (got {name!r:.40})"),
                    title=t("common.error", lang), print_exception=False)


def preset_filled(tab: TrainTab, preset: str, lang: str) -> dict:
    """The preset's description and the editable fields as it fills them."""
    return {tab.preset_info: t(f"recipe.desc.{preset}", lang),
            **{getattr(tab, name): value for name, value in zip(FILLED, recipe_fields(preset), strict=True)}}


def on_model(tab: TrainTab, name: str, lang: str) -> dict:
    """A network was picked: its dataset, its own recipe first in the presets, the fields as that recipe fills them."""
    if not isinstance(name, str) or name not in MODELS:
        raise _unknown("model", name, MODELS, lang)
    own = MODELS[name].recipe
    return {tab.dataset: MODELS[name].dataset, tab.preset: gr.update(choices=preset_choices(name, lang), value=own),
            **preset_filled(tab, own, lang)}


def on_preset(tab: TrainTab, name: str, lang: str) -> dict:
    if not isinstance(name, str) or name not in RECIPES:
        raise _unknown("preset", name, RECIPES, lang)
    return preset_filled(tab, name, lang)


def on_language(lang: str, name: str, preset: str) -> list:
    """(model picker, presets, augmentation choices, the preset's description) in the new language."""
    presets = gr.update(choices=preset_choices(name, lang)) if isinstance(name, str) and name in MODELS else gr.skip()
    described = t(f"recipe.desc.{preset}", lang) if isinstance(preset, str) and preset in RECIPES else gr.skip()
    return [gr.update(choices=model_choices(lang)), presets, gr.update(choices=augment_choices(lang)), described]


async def run(tab: TrainTab, values: dict):
    """Start: check the form, start a TrainingJob, and stream its snapshots to the page until it ends.

    The run owns its stop flag (the session holds it for the Stop button while the run is current).
    From the moment the job exists everything sits inside `try`: a cancel at any `yield` (the page
    went away, the event was cancelled) sets that flag, so no job runs on with nobody watching.
    """
    session, lang, changed = values[tab.session], values[tab.lang], values[tab.models_changed]
    if not usable(session):
        yield {tab.message: t("common.reload", lang)}
        return
    try:
        spec = job_spec(tab.settings(values))
    except (ValueError, TypeError) as exc:
        yield {tab.message: t("train.invalid", lang, problems=str(exc))}
        return
    if session.training:
        yield {tab.message: t("train.already", lang)}
        return
    stop = threading.Event()  # this run's own: a later run never clears it
    session.training, session.run_stop = True, stop
    job = None
    try:
        job = TrainingJob(spec, stop, session=id(session), address=session.address).start()
        no_points = pd.DataFrame({"epoch": [], "accuracy": []})
        x_lim = [0, spec.recipe.epochs]  # the curves grow from left to right across the whole run
        yield {tab.message: "", tab.progress: progress_html(job.snapshot(), lang),
               tab.results: gr.update(visible=False),
               tab.result: "", tab.per_class: "", tab.confusion: None, tab.gallery: [], tab.downloads: None,
               tab.loss_plot: gr.update(value=pd.DataFrame({"epoch": [], "loss": []}), x_lim=x_lim),
               tab.acc_plot: gr.update(value=no_points, x_lim=x_lim),
               tab.test_plot: gr.update(value=no_points, x_lim=x_lim),
               tab.start: gr.update(interactive=False), tab.stop: gr.update(interactive=True)}
        curve_len, test_len = 0, 0
        async for snap in follow(job, UPDATE_SECONDS, wait_first=True):
            update = {tab.progress: progress_html(snap, lang)}
            if len(snap.curve) != curve_len or len(snap.test_curve) != test_len:
                loss_df, acc_df, test_df = curve_frames(snap)
                update.update({tab.loss_plot: loss_df, tab.acc_plot: acc_df})
                if len(snap.test_curve) != test_len:
                    update[tab.test_plot] = test_df
                curve_len, test_len = len(snap.curve), len(snap.test_curve)
            if snap.finished:
                update.update(finish(tab, session, snap, lang, changed))
            yield update
    finally:
        if job is None or not job.snapshot().finished:
            stop.set()  # the page went away mid-run (or the job never started): no orphan training
        if session.run_stop is stop:
            session.training, session.run_stop = False, None


def finish(tab: TrainTab, session: Session, snap: Snapshot, lang: str, changed: int) -> dict:
    """The run ended: the results panel, the model kept in this session, the buttons back."""
    done = {tab.start: gr.update(interactive=True), tab.stop: gr.update(interactive=False),
            tab.cells: None, tab.cell_message: "", tab.cell_gallery: []}
    if snap.state == "cancelled":
        return {**done, tab.message: t("train.cancelled", lang), tab.progress: ""}
    if snap.state == "failed":  # the error's words, without any server path in them
        return {**done, tab.message: t("train.failed", lang, error=job_error(snap, lang))}
    if not usable(session):  # the tab was closed meanwhile: nobody to give the model to
        return {**done, tab.message: t("common.reload", lang)}
    res = snap.result
    entry, dropped = session.keep(res.model, res.card)
    files = _download_files(session, entry.key, res.model, res.card)
    evaluation, dataset_name = res.evaluation, res.card["dataset"]
    summary = t("train.result_stopped" if res.stopped else "train.result", lang,
                accuracy=f"{evaluation.accuracy:.2%}", epochs=res.card["epochs_run"],
                seconds=f"{res.card['train_seconds']:.0f}", title=entry.card["title"])
    caption = t("train.confusion_caption", lang)
    if dataset_name != "mnist":
        caption += " " + ", ".join(f"{i} = {c}" for i, c in enumerate(DATASETS[dataset_name].classes))
    return {**done, tab.message: dropped_note(dropped, lang), tab.results: gr.update(visible=True),
            tab.result: summary + "\n\n" + caption,
            tab.per_class: per_class_table(evaluation.per_class, dataset_name, lang),
            tab.confusion: confusion_image(evaluation.confusion),
            tab.gallery: mistakes_gallery(evaluation, dataset_name, lang), tab.downloads: files,
            tab.models_changed: page_counter(changed) + 1, tab.cells: CellSource(dataset_name, evaluation)}


def on_cell(source, lang: str, evt: gr.SelectData) -> tuple[str, list]:
    """A click on the confusion matrix: the test images of the cell under it. The click's pixel
    (`evt.index`, [x, y] in the picture) is checked as if a script had sent it."""
    if not isinstance(source, CellSource):
        return t("train.cell_no_results", lang), []
    index = getattr(evt, "index", None)
    n = source.evaluation.confusion.shape[0]
    cell = confusion_cell(*index, n) if isinstance(index, (list, tuple)) and len(index) == 2 else None
    if cell is None:
        return t("train.cell_outside", lang), []
    try:
        return cell_gallery(source, *cell, lang)
    except DataMissingError as exc:
        return t("train.failed", lang, error=friendly_error(exc)), []


def request_stop(session: Session, lang: str) -> str:
    """The Stop button: sets the current run's own stop flag."""
    if not usable(session):
        return t("common.reload", lang)
    if not session.training or not session.stop_run():
        return t("train.nothing_to_stop", lang)
    return t("train.stopping", lang)


MAX_UPLOAD_FILES = 2  # a .safetensors file and its .json card


def on_weights_upload(files: list[str] | None, session: Session, lang: str, changed: int) -> tuple[str, int]:
    """Saved weights uploaded again: checked against their architecture (never unpickled), then selectable."""
    changed = page_counter(changed)
    if not usable(session):
        return t("common.reload", lang), changed
    if not files:
        return "", changed
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        return t("train.upload_rejected", lang, reason=t("train.upload_failed", lang)), changed
    if len(files) > MAX_UPLOAD_FILES:
        files = files[:MAX_UPLOAD_FILES + 1]  # enough for load_upload to name what is wrong
    try:
        model, card = load_upload([Path(f) for f in files])
    except WeightsError as exc:
        return t("train.upload_rejected", lang, reason=hide_paths(str(exc))), changed
    except (OSError, ValueError):  # a path that is not a readable file (only a script can send one)
        return t("train.upload_rejected", lang, reason=t("train.upload_failed", lang)), changed
    entry, dropped = session.keep(model, card)
    note = dropped_note(dropped, lang)
    return t("train.upload_ok", lang, title=entry.card["title"]) + (f"\n\n{note}" if note else ""), changed + 1


# ---------------------------------------------------------------------------------------------
# Layout and wiring


def build(ctx) -> None:
    L = ctx.localizer
    L(gr.Markdown, value="train.intro")
    own = MODELS[FIRST_TO_TRAIN].recipe
    filled = dict(zip(FILLED, recipe_fields(own), strict=True))
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            model = L(gr.Dropdown, model_choices("en"), value=FIRST_TO_TRAIN, label="train.model",
                      elem_id="train-model")
            dataset = L(gr.Dropdown, dataset_choices(), value=MODELS[FIRST_TO_TRAIN].dataset,
                        label="train.dataset", elem_id="train-dataset")
            # Its own row, full width, label above the box (page_css.LABELLED_FILES): beside the dataset its long
            # label ran into the box's own text.
            extra = L(gr.File, label="train.extra", file_types=[".zip"], height=140, elem_id="train-extra")
            preset = L(gr.Dropdown, preset_choices(FIRST_TO_TRAIN, "en"), value=own, label="train.preset",
                       elem_id="train-preset")
            preset_info = gr.Markdown(t(f"recipe.desc.{own}"), elem_id="train-preset-info")
            with gr.Row():
                optimizer = L(gr.Dropdown, optimizer_choices(), value=filled["optimizer"], label="train.optimizer",
                              elem_id="train-optimizer", min_width=120)
                lr = L(gr.Number, filled["lr"], label="train.lr", elem_id="train-lr", min_width=90)
                momentum = L(gr.Number, filled["momentum"], label="train.momentum", elem_id="train-momentum",
                             min_width=90)
            with gr.Row():
                batch = L(gr.Number, filled["batch_size"], precision=0, label="train.batch", elem_id="train-batch",
                          min_width=90)
                epochs = L(gr.Number, filled["epochs"], precision=0, label="train.epochs", elem_id="train-epochs",
                           min_width=90)
                subset = L(gr.Number, filled["train_subset"], precision=0, label="train.subset", elem_id="train-subset",
                           min_width=120)
            with gr.Row():
                augment = L(gr.Radio, augment_choices("en"), value=filled["augment"], label="train.augment",
                            elem_id="train-augment")
                seed = L(gr.Number, 0, precision=0, label="train.seed", elem_id="train-seed", min_width=90)
            with gr.Row():
                start = L(gr.Button, value="train.start", variant="primary", elem_id="train-start")
                stop = L(gr.Button, value="train.stop", variant="stop", interactive=False, elem_id="train-stop")
            message = gr.Markdown("", elem_id="train-message")
        with gr.Column(scale=3, min_width=360):
            progress = gr.HTML("", elem_id="train-progress")
            with gr.Row():
                loss_plot = L(gr.LinePlot, x="epoch", y="loss", label="train.loss_plot", x_title="train.epoch",
                              y_title="train.loss", height=230, elem_id="train-loss-plot")
                acc_plot = L(gr.LinePlot, x="epoch", y="accuracy", label="train.acc_plot", x_title="train.epoch",
                             y_title="train.accuracy", height=230, elem_id="train-acc-plot")
            test_plot = L(gr.LinePlot, x="epoch", y="accuracy", label="train.test_plot", x_title="train.epoch",
                          y_title="train.test_accuracy", height=200, elem_id="train-test-plot")
    with gr.Column(visible=False, elem_id="train-results") as results:  # shown once a run has ended
        result = gr.Markdown("", elem_id="train-result")
        per_class = gr.Markdown("", elem_id="train-per-class")
        with gr.Row():
            confusion = L(gr.Image, type="pil", label="train.confusion", interactive=False, height=420,
                          elem_id="train-confusion", buttons=["download"])
            gallery = L(gr.Gallery, label="train.mistakes", columns=5, height=420, elem_id="train-mistakes",
                        interactive=False)
        L(gr.Markdown, value="train.cell_hint", elem_id="train-cell-hint")
        cell_message = gr.Markdown("", elem_id="train-cell-message")
        cell_gallery = L(gr.Gallery, label="train.cell_examples", columns=8, height="auto",
                         elem_id="train-cell-examples", interactive=False)
        downloads = L(gr.File, label="train.download", file_count="multiple", interactive=False,
                      elem_id="train-download")
    upload = L(gr.File, label="train.upload", file_count="multiple", file_types=[".safetensors", ".json"], height=120,
               elem_id="train-upload")
    upload_message = gr.Markdown("", elem_id="train-upload-message")

    tab = TrainTab(session=ctx.session, lang=ctx.lang, models_changed=ctx.models_changed, model=model,
                   dataset=dataset, preset=preset, preset_info=preset_info, optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch,
                   epochs=epochs, train_subset=subset, augment=augment, seed=seed, extra=extra, start=start, stop=stop,
                   message=message, progress=progress, loss_plot=loss_plot, acc_plot=acc_plot, test_plot=test_plot,
                   results=results, result=result, per_class=per_class, confusion=confusion, gallery=gallery,
                   downloads=downloads, cells=gr.State(None), cell_message=cell_message, cell_gallery=cell_gallery)
    fields = [getattr(tab, name) for name in FILLED]
    model.input(functools.partial(on_model, tab), [model, ctx.lang], [dataset, preset, preset_info, *fields], **PRIVATE)
    preset.input(functools.partial(on_preset, tab), [preset, ctx.lang], [preset_info, *fields], **PRIVATE)
    ctx.lang.change(on_language, [ctx.lang, model, preset], [model, preset, augment, preset_info], **PRIVATE)
    # The training event only polls a worker thread (async, no thread held), so it needs no
    # Gradio-level limit: the real cap is training.slots'. Predictions run on their own events.
    start.click(functools.partial(run, tab), tab.form(), tab.run_outputs(), concurrency_limit=None,
                concurrency_id="train", show_progress="hidden", **PRIVATE)
    confusion.select(on_cell, [tab.cells, ctx.lang], [cell_message, cell_gallery], concurrency_limit=2,
                     concurrency_id="train-cell", show_progress="hidden", **PRIVATE)
    stop.click(request_stop, [ctx.session, ctx.lang], message, queue=False, show_progress="hidden", **PRIVATE)
    upload.upload(on_weights_upload, [upload, ctx.session, ctx.lang, ctx.models_changed], [upload_message, ctx.models_changed],
                  concurrency_limit=2, concurrency_id="train-upload", **PRIVATE)
