"""The Draw tab's "Teach it your handwriting" panel: label the current drawing, keep My digits, teach, take them home.

UI only: the collection and its zip are `mnist_demo.my_digits`, the teaching `training.teach`. My digits
live on the browser session's `Session` (`Session.my_digits`, made on first use), so nothing is stored
anywhere unless the user downloads the zip. Teaching runs as a `TeachJob` (a process of its own, under the
global training cap, one training or teaching per tab); its model joins the session's models.
"""

from __future__ import annotations

import asyncio
import functools
import html
import time
from dataclasses import dataclass

import gradio as gr

from ..catalog import resolve
from ..my_digits import MAX_DIGITS, CollectionFull, DigitsZipError, MyDigits
from ..pictures import png_data_uri
from ..training import teach as teaching
from ..training import teach_measure as measure
from ..training.runner import Snapshot
from .common import PRIVATE, follow, job_error, page_counter
from .i18n import entry_label, t
from .seen_panel import seen_html
from .session import Session, model_choices

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
    if not isinstance(session.my_digits, MyDigits):
        session.my_digits = MyDigits(MAX_DIGITS)
    digits = session.my_digits
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


def figure(found: measure.Figure | None, lang: str) -> str:
    """'17 of 20 (85%)': the count first, so a reader sees what the percentage rests on."""
    if found is None:
        return "–"
    return t("teach.figure", lang, right=found.right, total=found.total, pct=f"{found.share:.0%}")


def result_table(result: teaching.TeachResult, everything_before: measure.Figure | None, lang: str) -> str:
    """The before/after: on the digits kept apart when there are enough (else why not), on MNIST's 10,000
    test digits, and what the untaught network made of all of the person's digits."""
    total = result.trained_on + result.held_out
    mnist = {"mnist_before": f"{result.mnist_before:.2%}", "mnist_after": f"{result.mnist_after:.2%}"}
    before_all = figure(everything_before, lang)
    if result.held_out:
        return t("teach.table", lang, held=result.held_out, taught=result.trained_on, total=total,
                 mine_before=figure(measure.Figure.of(result.mine_before, result.held_out), lang),
                 mine_after=figure(measure.Figure.of(result.mine_after, result.held_out), lang),
                 points=f"{100 / result.held_out:.0f}", before_all=before_all, **mnist)
    return t("teach.table_unmeasured", lang, total=total, min=measure.MIN_COLLECTION,
             measured=measure.MIN_MEASURED, before_all=before_all, **mnist)


def progress_text(snap: Snapshot, count: int, held: int, seconds: float, lang: str) -> str:
    """Where the teaching is, to its very end: the steps, then the tests, then the hand-over to this page."""
    latest = snap.latest
    elapsed = f"{seconds:.0f}"
    if latest is not None and latest.kind == "done":
        return t("teach.handing_over", lang, seconds=elapsed)
    if latest is not None and latest.fraction >= 1:
        key = "teach.testing" if held else "teach.testing_mnist"
        return t(key, lang, held=held, seconds=elapsed)
    return t("teach.running", lang, count=count, percent=f"{latest.fraction:.0%}" if latest else "0%",
             seconds=elapsed)


# ---------------------------------------------------------------------------------------------
# Handlers


@dataclass
class Panel:
    """The components the panel's handlers with more than four outputs answer to (`build` makes them)."""

    message: gr.Markdown  # under the digit buttons
    view: gr.HTML  # My digits
    pick: gr.Dropdown  # the digit to delete
    progress: gr.Markdown
    result: gr.Markdown
    start: gr.Button
    stop: gr.Button
    models_changed: gr.State  # the app's counter: bumped when a taught model is added
    model: gr.Dropdown  # the Draw tab's picker
    back: gr.Button
    before: gr.State  # the model picked before the teaching
    cleared: dict  # the Draw tab's components by CLEARED's names, cleared once a digit is kept


def on_label(panel: Panel, label: int, session: Session | None, lang: str) -> dict:
    """Keep the current drawing or upload as `label` (the message, My digits, the delete picker), then clear the
    Draw tab's input and answer for the next digit (as the Class tab does), so it does not land on this one."""
    if not isinstance(session, Session):
        return {panel.message: t("teach.nothing", lang)}
    digits = my_digits(session)
    prepared = session.current_input
    if prepared is None or getattr(prepared, "blank", True):
        return {panel.message: t("teach.nothing", lang)}
    try:
        digits.add_prepared(prepared, label, source_of(prepared))
    except CollectionFull:
        return {panel.message: t("teach.full", lang, cap=digits.cap)}
    session.current_input = None  # kept once: pressing again without drawing keeps nothing
    cleared = ("", None, None, t("draw.msg.blank", lang), seen_html(None, lang))  # in CLEARED's order
    view, pick = collection_view(digits, lang)
    return {panel.message: t("teach.added", lang, label=label, count=digits.counts()[label]), panel.view: view,
            panel.pick: pick, **{panel.cleared[name]: value for name, value in zip(CLEARED, cleared, strict=True)}}


CLEARED = ("canvas", "upload", "label", "status", "seen")  # the Draw tab's components on_label clears


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
        return t("teach.need_digits", lang), gr.skip()
    path = session.workdir() / "my-digits.zip"
    my_digits(session).to_zip(path)
    return "", gr.update(value=str(path), visible=True)


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


async def on_teach(panel: Panel, key, session: Session | None, lang: str, changed: int):
    """Teach a copy of the picked model on My digits; streams its progress and result. At the end the taught model
    is picked in the Draw tab's picker, and the back button picks the one it was taught from."""
    def out(message, result=None, running=False, bump=None, picked=None) -> dict:
        shown = {panel.progress: message, panel.start: gr.update(interactive=not running),
                 panel.stop: gr.update(interactive=running)}
        if result is not None:
            shown[panel.result] = result
        if bump is not None:
            shown[panel.models_changed] = bump
        if picked is not None:
            new, base = picked
            shown |= {panel.model: gr.update(choices=model_choices(session, new.dataset, lang), value=new.key),
                      panel.back: gr.update(visible=True, value=t("teach.back", lang, title=base)), panel.before: key}
        return shown

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
    taught_idx, held_idx = measure.measure_split(split.labels.numpy())
    mine = teaching.subset(split, taught_idx)
    held = teaching.subset(split, held_idx) if len(held_idx) else None
    session.training = True
    try:
        # The untaught network has seen none of these digits: its score on all of them is honest.
        everything_before = await asyncio.to_thread(measure.right_answers, entry.model, split)
    except BaseException:
        session.training = False
        raise
    job = teaching.TeachJob(entry.model, entry.card["model"], mine, held, mnist_before=teaching.mnist_before(entry.card),
                            session=id(session), address=session.address).start()
    session.teach_job = job
    started = None
    try:
        async for snap in follow(job, UPDATE_SECONDS, each_tick=True):
            if snap.state == "queued":
                yield out(t("teach.queued", lang, position=max(snap.queue_position, 1)), "", True)
            elif not snap.finished:
                started = started or time.monotonic()  # the page's own clock: it moves between reports too
                yield out(progress_text(snap, len(mine), len(held_idx), time.monotonic() - started, lang), "", True)
            elif snap.state == "cancelled":
                yield out(t("teach.cancelled", lang))
            elif snap.state == "failed":
                yield out(t("teach.failed", lang, error=job_error(snap, lang)))
            else:
                result = snap.result
                card = teaching.taught_card(entry.card, result, digits.counts())
                card["taught"]["measured_on"] = measure.card_note(result.held_out)
                new = session.add_trained(result.model, card)
                stopped = t("teach.stopped_note", lang) if result.stopped else ""
                yield out(t("teach.done", lang, name=entry_label(new, lang), stopped=stopped,
                            seconds=f"{result.seconds:.0f}"), result_table(result, everything_before, lang), False,
                          page_counter(changed) + 1, (new, entry_label(entry, lang)))
    finally:
        if not job.finished:
            job.stop.set()  # the page went away mid-run
        session.training = False


def on_stop(session: Session | None) -> None:
    job = session.teach_job if isinstance(session, Session) else None
    if job is not None:
        job.stop.set()


# ---------------------------------------------------------------------------------------------
# Layout and wiring


def on_back(before: object, session: Session | None) -> tuple:
    """(model picker, back button): the model picked before the teaching, again."""
    keys = [k for _, k in model_choices(session if isinstance(session, Session) else None, "mnist")]
    return (gr.update(value=before) if before in keys else gr.skip()), gr.update(visible=False)


def build(ctx, model: gr.Dropdown, cleared: dict) -> None:
    """The panel, under the Draw tab's answer; `model` is the tab's picker (the model to teach, and where the
    taught one is picked); `cleared`: the Draw tab's components by CLEARED's names, cleared once a digit is kept."""
    L = ctx.localizer
    with gr.Group(elem_id="teach-panel"):
        L(gr.Markdown, value="teach.title", elem_id="teach-title")
        with gr.Column(elem_id="teach-buttons"):
            buttons = []
            for first in (0, 5):
                with gr.Row(elem_classes=["teach-row"]):
                    buttons += [L(gr.Button, value="common.its_digit", fill={"digit": n}, elem_id=f"teach-{n}",
                                  size="sm", min_width=0) for n in range(first, first + 5)]
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
        back = gr.Button("", visible=False, size="sm", elem_id="teach-back")
        before = gr.State(None)
        with gr.Row():
            download = L(gr.Button, value="teach.download", elem_id="teach-download", size="sm")
            upload = L(gr.UploadButton, label="teach.upload", file_types=[".zip"], elem_id="teach-upload", size="sm")
        # Hidden until a download fills it: an empty file box is a tall empty frame.
        zipped = L(gr.File, label="teach.zip", interactive=False, visible=False, elem_id="teach-zip")

    panel = Panel(message=message, view=view, pick=pick, progress=progress, result=result, start=start, stop=stop,
                  models_changed=ctx.models_changed, model=model, back=back, before=before, cleared=cleared)
    for n, button in enumerate(buttons):
        button.click(lambda session, lang, n=n: on_label(panel, n, session, lang), [ctx.session, ctx.lang],
                     [message, view, pick, *(cleared[name] for name in CLEARED)], **PRIVATE)
    delete.click(on_delete, [pick, ctx.session, ctx.lang], [message, view, pick], **PRIVATE)
    download.click(on_download, [ctx.session, ctx.lang], [message, zipped], **PRIVATE)
    upload.upload(on_digits_upload, [upload, ctx.session, ctx.lang], [message, view, pick], **PRIVATE)
    start.click(functools.partial(on_teach, panel), [model, ctx.session, ctx.lang, ctx.models_changed],
                [progress, result, start, stop, ctx.models_changed, model, back, before], concurrency_limit=None,
                **PRIVATE)
    stop.click(on_stop, ctx.session, None, queue=False, **PRIVATE)
    back.click(on_back, [before, ctx.session], [model, back], **PRIVATE)
    ctx.lang.change(lambda session, lang: digits_html(my_digits(session), lang) if isinstance(session, Session)
                    else digits_html(MyDigits(), lang), [ctx.session, ctx.lang], view, **PRIVATE)
