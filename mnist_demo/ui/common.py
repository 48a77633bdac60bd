"""What several tabs share, defined once: the event settings, the "reload the page" notice, the check of a page
counter, reading a form's fields (`read_form`), and following a job the runner runs (`follow`).

A streaming handler renders each snapshot `follow` yields; it keeps its own `finally` that sets the job's stop
flag when the job has not finished, so a page that goes away leaves no job running with nobody watching.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import fields

import gradio as gr

from ..errors import hide_paths
from ..training.runner import Job, Snapshot
from ..training.slots import AlreadyQueued, QueueFull, ShareFull
from .i18n import LANGUAGES, t

# Every event but the page's own load and the public API is private: not on the API page (each can still be
# called by number, which is why every handler checks what it is sent).
PRIVATE = {"api_visibility": "private"}
# An event only the latest call of matters, run outside Gradio's queue (a canvas's live answer; a page-only
# script): stale calls are dropped, nothing spins.
LIVE = {"queue": False, "show_progress": "hidden", "trigger_mode": "always_last", **PRIVATE}


def reload_notice() -> str:
    """The "reload the page" notice in every language, for an answer that knows no language (the request gate,
    a handler called without a page)."""
    return " / ".join(t("common.reload", lang).removeprefix("⚠️ ") for lang in LANGUAGES)


def job_error(snap: Snapshot, lang: str) -> str:
    """Why a job failed, in the page's language: the training line's refusals have words of their own; any
    other error is the job's text without server paths."""
    refusal = snap.refusal
    if isinstance(refusal, ShareFull):
        return t("queue.share_full", lang, held=refusal.held, whose=t(f"queue.whose.{refusal.whose}", lang))
    if isinstance(refusal, QueueFull):
        return t("queue.full", lang, running=refusal.running, waiting=refusal.waiting)
    if isinstance(refusal, AlreadyQueued):
        return t("queue.already", lang)
    return hide_paths(str(snap.error or ""))


def reload_error() -> gr.Error:
    return gr.Error(reload_notice(), title=" / ".join(t("common.error", lang) for lang in LANGUAGES),
                    print_exception=False)


def form_inputs(kind: type, components) -> set:
    """The components of a form's fields: the attributes of `components` named as the fields of dataclass `kind`."""
    return {getattr(components, f.name) for f in fields(kind)}


def read_form(kind: type, components, values: dict):
    """A form's plain values: dataclass `kind`, each field read from `values` (Gradio's component-keyed inputs)
    at the component of the same name on `components`."""
    return kind(**{f.name: values[getattr(components, f.name)] for f in fields(kind)})


def page_counter(value: object) -> int:
    """A page counter (a gr.State a handler bumps so that others follow) as sent back: a script may send anything."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else 0


async def follow(job: Job, every: float, each_tick: bool = False, wait_first: bool = False) -> AsyncIterator[Snapshot]:
    """The job's snapshots: one now (`wait_first`: after `every`, for a page that already shows the job as it
    started), then one whenever it changed (looked at every `every` seconds; with `each_tick`, one every time,
    for a page whose own clock moves between reports), the last one finished."""
    version = None
    if wait_first:
        await asyncio.sleep(every)
    while True:
        snap = job.snapshot()
        if each_tick or snap.version != version or snap.finished:
            version = snap.version
            yield snap
        if snap.finished:
            return
        await asyncio.sleep(every)
