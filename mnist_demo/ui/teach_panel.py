"""The Draw tab's "Teach it your handwriting" panel: label the current drawing, keep My digits, teach, take them home.

UI only: the collection and its zip are `mnist_demo.my_digits`, the teaching `training.teach`. My digits
live on the browser session's `Session` (attribute `my_digits`, made on first use), so nothing is stored
anywhere unless the user downloads the zip. Teaching runs as a `TeachJob` (a process of its own, under the
global training cap, one training or teaching per tab); its model joins the session's models.
"""

from __future__ import annotations

import asyncio
import html

import gradio as gr

from ..catalog import resolve
from ..my_digits import MAX_DIGITS, CollectionFull, DigitsZipError, MyDigits
from ..pictures import png_data_uri
from ..training import teach as teaching
from .i18n import t
from .session import Session

LABEL_KEYS = ("teach.its.0", "teach.its.1", "teach.its.2", "teach.its.3", "teach.its.4",
              "teach.its.5", "teach.its.6", "teach.its.7", "teach.its.8", "teach.its.9")
UPDATE_SECONDS = 0.3
THUMB_PX = 36
CSS = """
.md-row { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; margin: 2px 0; }
.md-label { font-weight: 600; min-width: 4.5em; }
.md-row img { image-rendering: pixelated; background: #000; width: 36px; height: 36px; }
.md-empty { opacity: 0.6; }
"""


def my_digits(session: Session) -> MyDigits:
    """This tab's My digits (made on first use)."""
    digits = getattr(session, "my_digits", None)
    if not isinstance(digits, MyDigits):
        digits = MyDigits(MAX_DIGITS)
        session.my_digits = digits
    return digits


# ---------------------------------------------------------------------------------------------
# What the panel shows


def digits_html(digits: MyDigits, lang: str) -> str:
    """My digits by label: a count and a thumbnail of each (its number in the tooltip)."""
    if not len(digits):
        return f'<p class="md-empty">{html.escape(t("teach.empty", lang))}</p>'
    rows = [f"<p>{html.escape(t('teach.count', lang, count=len(digits), cap=digits.cap))}</p>"]
    for label, group in digits.by_label().items():
        thumbs = "".join(f'<img src="{png_data_uri(d.image)}" alt="{label}" title="#{d.id}" data-id="{d.id}">'
                         for d in group)
        rows.append(f'<div class="md-row" data-label="{label}"><span class="md-label">{label}: '
                    f'<b class="md-count">{len(group)}</b></span>{thumbs}</div>')
    return "".join(rows)


def delete_choices(digits: MyDigits) -> list[tuple[str, int]]:
    return [(f"{d.label} · #{d.id}", d.id) for d in reversed(digits.digits())]


def collection_view(digits: MyDigits, lang: str) -> tuple:
    """(my-digits html, delete picker update)."""
    return digits_html(digits, lang), gr.update(choices=delete_choices(digits), value=None)


def source_of(prepared) -> str:
    first = prepared.steps[0][0] if getattr(prepared, "steps", None) else "ink"
    return "drawing" if first == "ink" else "picture"


def pct(value: float | None, lang: str) -> str:
    return t("teach.no_held", lang) if value is None else f"{value:.2%}"


def result_table(result: teaching.TeachResult, lang: str) -> str:
    return t("teach.table", lang, held=result.held_out, taught=result.trained_on,
             mine_before=pct(result.mine_before, lang), mine_after=pct(result.mine_after, lang),
             mnist_before=pct(result.mnist_before, lang), mnist_after=pct(result.mnist_after, lang))


# ---------------------------------------------------------------------------------------------
# Handlers


def on_label(label: int, session: Session | None, lang: str) -> tuple:
    """(message, my-digits, delete picker): keep the current drawing or upload as `label`."""
    if not isinstance(session, Session):
        return t("teach.nothing", lang), gr.skip(), gr.skip()
    digits = my_digits(session)
    prepared = session.current_input
    if prepared is None or getattr(prepared, "blank", True):
        return t("teach.nothing", lang), gr.skip(), gr.skip()
    try:
        digits.add_prepared(prepared, label, source_of(prepared))
    except CollectionFull:
        return t("teach.full", lang, cap=digits.cap), gr.skip(), gr.skip()
    return (t("teach.added", lang, label=label, count=digits.counts()[label]), *collection_view(digits, lang))


def on_delete(digit_id, session: Session | None, lang: str) -> tuple:
    if not isinstance(session, Session):
        return "", gr.skip(), gr.skip()
    digits = my_digits(session)
    try:
        removed = digits.remove(int(digit_id))
    except (TypeError, ValueError):
        removed = False
    return (t("teach.deleted", lang) if removed else ""), *collection_view(digits, lang)


def on_download(session: Session | None, lang: str) -> tuple:
    """(message, zip file): My digits as a dataset zip in the session's private folder."""
    if not isinstance(session, Session) or not len(my_digits(session)):
        return t("teach.need_digits", lang), None
    path = session.workdir() / "my-digits.zip"
    my_digits(session).to_zip(path)
    return "", str(path)


def on_digits_upload(file, session: Session | None, lang: str) -> tuple:
    """(message, my-digits, delete picker): add the digits of an uploaded My digits zip (checked)."""
    if not isinstance(session, Session) or file is None:
        return "", gr.skip(), gr.skip()
    path = file if isinstance(file, str) else getattr(file, "name", None) or (file or {}).get("path")
    digits = my_digits(session)
    try:
        count = digits.extend_from_zip(path)
    except (DigitsZipError, CollectionFull) as exc:
        return t("teach.bad_zip", lang, detail=str(exc)), gr.skip(), gr.skip()
    return t("teach.uploaded", lang, count=count), *collection_view(digits, lang)


def _mnist_before(entry) -> float | None:
    """The base model's MNIST test accuracy from its card when measured on the whole test set (else the
    teaching measures it)."""
    acc, images = entry.card.get("test_accuracy"), entry.card.get("test_images", 10_000)
    return float(acc) if isinstance(acc, (int, float)) and images == 10_000 else None


async def on_teach(key, session: Session | None, lang: str, changed: int):
    """Teach a copy of the picked model on My digits; streams (message, result, start, stop, models_changed)."""
    def out(message, result=None, running=False, bump=None):
        return (message, gr.skip() if result is None else result, gr.update(interactive=not running),
                gr.update(interactive=running), gr.skip() if bump is None else bump)

    if not isinstance(session, Session):
        yield out(t("teach.need_digits", lang))
        return
    digits = my_digits(session)
    if not len(digits):
        yield out(t("teach.need_digits", lang))
        return
    if session.training:
        yield out(t("teach.busy", lang))
        return
    entry = resolve(key, session.trained)
    if entry is None:
        yield out(t("draw.msg.no_model", lang))
        return
    split = digits.split()
    taught_idx, held_idx = teaching.hold_out(split.labels.numpy())
    mine = teaching.subset(split, taught_idx)
    held = teaching.subset(split, held_idx) if len(held_idx) else None
    session.training = True
    job = teaching.TeachJob(entry.model, entry.card["model"], mine, held, mnist_before=_mnist_before(entry)).start()
    session.teach_job = job
    try:
        while not job.finished:
            if job.state == "queued":
                yield out(t("teach.queued", lang, position=max(job.position, 1)), "", True)
            else:
                latest = job.latest
                yield out(t("teach.running", lang, count=len(mine), percent=f"{latest.fraction:.0%}" if latest else "0%",
                            seconds=f"{latest.elapsed:.0f}" if latest else "0"), "", True)
            await asyncio.sleep(UPDATE_SECONDS)
        if job.state == "cancelled":
            yield out(t("teach.cancelled", lang))
        elif job.state == "failed":
            yield out(t("teach.failed", lang, error=job.error))
        else:
            result = job.result
            card = teaching.taught_card(entry.card, result, digits.counts())
            new = session.add_trained(result.model, card)
            stopped = t("teach.stopped_note", lang) if result.stopped else ""
            yield out(t("teach.done", lang, name=new.label, stopped=stopped, seconds=f"{result.seconds:.0f}"),
                      result_table(result, lang), False, changed + 1)
    finally:
        if not job.finished:
            job.stop.set()  # the page went away mid-run
        session.training = False


def on_stop(session: Session | None) -> None:
    job = getattr(session, "teach_job", None)
    if job is not None:
        job.stop.set()


# ---------------------------------------------------------------------------------------------
# Layout and wiring


def build(ctx, model: gr.Dropdown) -> None:
    """The panel, under the Draw tab's answer; `model` is the tab's picker (the model to teach)."""
    L = ctx.localizer
    private = {"api_visibility": "private"}
    with gr.Group(elem_id="teach-panel"):
        with gr.Row(elem_id="teach-buttons"):
            buttons = [L(gr.Button, value=key, elem_id=f"teach-{n}", size="sm", min_width=60)
                       for n, key in enumerate(LABEL_KEYS)]
        message = gr.Markdown("", elem_id="teach-message")
    with L(gr.Accordion, label="teach.my_digits", open=True, elem_id="my-digits-panel"):
        L(gr.Markdown, value="teach.hint")
        view = gr.HTML(digits_html(MyDigits(), "en"), css_template=CSS, elem_id="my-digits")
        with gr.Row():
            pick = L(gr.Dropdown, choices=[], label="teach.delete_pick", elem_id="teach-delete-pick", scale=3)
            delete = L(gr.Button, value="teach.delete", elem_id="teach-delete", size="sm", scale=1)
        with gr.Row():
            start = L(gr.Button, value="teach.start", elem_id="teach-start", variant="primary")
            stop = L(gr.Button, value="teach.stop", elem_id="teach-stop", interactive=False)
        progress = gr.Markdown("", elem_id="teach-progress")
        result = gr.Markdown("", elem_id="teach-result")
        with gr.Row():
            download = L(gr.Button, value="teach.download", elem_id="teach-download", size="sm")
            upload = L(gr.UploadButton, label="teach.upload", file_types=[".zip"], elem_id="teach-upload", size="sm")
        zipped = L(gr.File, label="teach.zip", interactive=False, elem_id="teach-zip")

    for n, button in enumerate(buttons):
        button.click(lambda session, lang, n=n: on_label(n, session, lang), [ctx.session, ctx.lang],
                     [message, view, pick], **private)
    delete.click(on_delete, [pick, ctx.session, ctx.lang], [message, view, pick], **private)
    download.click(on_download, [ctx.session, ctx.lang], [message, zipped], **private)
    upload.upload(on_digits_upload, [upload, ctx.session, ctx.lang], [message, view, pick], **private)
    start.click(on_teach, [model, ctx.session, ctx.lang, ctx.models_changed],
                [progress, result, start, stop, ctx.models_changed], concurrency_limit=None, **private)
    stop.click(on_stop, ctx.session, None, queue=False, **private)
    ctx.lang.change(lambda session, lang: digits_html(my_digits(session), lang) if isinstance(session, Session)
                    else digits_html(MyDigits(), lang), [ctx.session, ctx.lang], view, **private)
