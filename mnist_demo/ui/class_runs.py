"""Everyone trains, on the page: a student's "Train a network" panel (class presets, on the phone) and the
leaderboard on the teacher's dashboard. Thin: each handler checks its inputs, calls one `Classroom` method
and renders; the runs themselves are `classroom.leaderboard`'s.
"""

from __future__ import annotations

import asyncio

import gradio as gr
import numpy as np
import pandas as pd
import torch

from ..classroom import presets
from ..classroom.service import Classroom, Refused, Student
from ..pictures import confusion_image
from .class_desk import Desk, DeskInputs
from .class_refusals import error, message
from .common import PRIVATE, follow, job_error
from .i18n import t

UPDATE_S = 0.5
CHOICE_LABELS = {"medium": {"lr": "class.own.opt.lr_medium"}}  # an option whose words differ by choice
COLUMNS = ("#", "nickname", "size", "lr", "epochs", "augment", "images", "test", "class", "parameters",
           "seconds")  # the leaderboard's columns; their headers in the page's language are class.board.col.<name>


def headers(lang: str) -> list[str]:
    return ["#" if c == "#" else t(f"class.board.col.{c}", lang) for c in COLUMNS]


def option_key(choice: str, option: str) -> str | None:
    """The words of one option (None: the option is a number and speaks for itself)."""
    if option.isdigit():
        return None
    return CHOICE_LABELS.get(option, {}).get(choice, f"class.own.opt.{option}")


def choice_options(choice: str, lang: str) -> list[tuple[str, str]]:
    return [(t(key, lang) if (key := option_key(choice, option)) else f"{int(option):,}", option)
            for option in presets.CHOICES[choice]]


def student_layout(L) -> dict:
    """The phone's button and its panel (inside the student view), by name."""
    open_button = L(gr.Button, value="class.own.open", size="sm", elem_id="class-train-own")
    with gr.Column(visible=False, elem_id="class-own-panel") as panel:
        L(gr.Markdown, value="class.own.title")
        radios = {choice: L(gr.Radio, choice_options(choice, "en"), value=presets.DEFAULTS[choice],
                            label=f"class.own.{choice}", info=f"class.own.{choice}_why", elem_id=f"class-own-{choice}")
                  for choice in presets.CHOICES}
        start = L(gr.Button, value="class.own.start", variant="primary", elem_id="class-own-start")
        status = gr.Markdown("", elem_id="class-own-status")
    return {"own_open": open_button, "own_panel": panel, "own_radios": radios, "own_start": start,
            "own_status": status}


def board_layout(L) -> dict:
    """The leaderboard on the teacher's dashboard."""
    with gr.Group(elem_id="class-board-panel"):
        L(gr.Markdown, value="class.board.title")
        board = L(gr.Dataframe, value=pd.DataFrame(columns=headers("en")), label="class.board.table",
                  interactive=False, wrap=False, elem_id="class-leaderboard")
        with gr.Row(equal_height=False, elem_classes=["class-controls"]):
            run_id = L(gr.Number, label="class.board.run", precision=0, value=None, elem_id="class-run-id")
            show = L(gr.Button, value="class.board.show", elem_id="class-run-show")
            adopt = L(gr.Button, value="class.board.adopt", variant="primary", elem_id="class-run-adopt")
        detail = gr.Markdown("", elem_id="class-run-detail")
        with gr.Row(equal_height=False):
            confusion = gr.Image(type="numpy", show_label=False, visible=False, elem_id="class-run-confusion",
                                 height=260, buttons=[])
            curve = L(gr.LinePlot, x="epoch", y="loss", label="class.board.curve", visible=False,
                      elem_id="class-run-curve")
    return {"board": board, "run_id": run_id, "run_show": show, "run_adopt": adopt, "run_detail": detail,
            "run_confusion": confusion, "run_curve": curve}


def _pct(value: float | None, lang: str) -> str:
    return t("class.own.none", lang) if value is None else f"{value:.2%}"


def board_frame(runs, lang: str = "en") -> pd.DataFrame:
    """One row per run: who, the choices, what it measured (numbers, so the columns sort as numbers)."""
    rows = [[r.id, r.nickname or "—", *(r.choices.get(c, "") for c in presets.CHOICES),
             round(100 * r.test_accuracy, 2), None if r.class_accuracy is None else round(100 * r.class_accuracy, 1),
             r.parameters, round(r.seconds, 1)] for r in runs]
    return pd.DataFrame(rows, columns=headers(lang))


class RunsTab:
    """The handlers over the app's classroom."""

    def __init__(self, room: Classroom) -> None:
        self.room = room

    def on_open(self, student: Student | None):
        return gr.update(visible=isinstance(student, Student))

    async def on_start(self, student: Student | None, nickname: str, lang: str, *choices: str):
        """Start the student's run and follow it: its place in line, its progress, then its card."""
        try:
            run = self.room.start_run(student, dict(zip(presets.CHOICES, choices, strict=True)), nickname or "")
        except Refused as exc:
            yield message(exc, lang)
            return
        finished = False
        try:
            async for snap in follow(run.job, UPDATE_S, each_tick=True):
                if snap.state == "queued":
                    yield t("class.own.queued", lang, position=max(snap.queue_position, 1),
                            seconds=f"{snap.queue_seconds:.0f}")
                elif not snap.finished:
                    p = snap.latest
                    yield (t("class.own.running", lang, percent=f"{p.fraction:.0%}", seconds=f"{p.elapsed:.0f}")
                           if p is not None else t("class.own.preparing", lang))
            finished = True
            while not run.recorded:  # the watcher puts it on the leaderboard
                await _sleep()
            yield self.card(run, lang)
        finally:
            if not finished:  # the page went away while it waited: its place goes back
                self.room.runs.cancel(run.code, run.student)

    def card(self, run, lang: str) -> str:
        snap = run.job.snapshot()
        if snap.state == "failed":
            return t("class.own.failed", lang, error=job_error(snap, lang))
        if snap.state != "done":
            return t("class.own.cancelled", lang)
        card = snap.result.card
        if run.entry_id is None:
            return t("class.own.not_recorded", lang, accuracy=f"{snap.result.evaluation.accuracy:.2%}",
                     why=run.problem or "")
        entry = self.room.store.run(run.code, run.entry_id)
        return t("class.own.card", lang, accuracy=f"{entry.test_accuracy:.2%}",
                 class_accuracy=_pct(entry.class_accuracy, lang), parameters=f"{card['parameters']:,}",
                 seconds=f"{entry.seconds:.1f}", entry=entry.id)

    def on_board(self, desk: Desk):
        try:
            return board_frame(self.room.leaderboard(desk.code, desk.key, desk.address), desk.lang)
        except Refused:
            return gr.skip()

    def on_show(self, desk: Desk, run_id: float | None) -> tuple:
        """(detail text, confusion picture, loss curve) of one run."""
        lang = desk.lang
        try:
            run = self.room.run_detail(desk.code, desk.key, desk.address, run_id)
        except Refused as exc:
            raise error(exc, lang) from None
        if run is None:
            return t("class.msg.no_run", lang), gr.update(visible=False), gr.update(visible=False)
        text = t("class.board.detail", lang, entry=run.id, nickname=run.nickname or "—",
                 accuracy=f"{run.test_accuracy:.2%}", class_accuracy=_pct(run.class_accuracy, lang))
        matrix = torch.as_tensor(np.asarray(run.card.get("confusion", np.zeros((10, 10))), np.int64))
        curve = pd.DataFrame(run.card.get("curve", []), columns=["epoch", "loss", "train_acc"])
        return (text, gr.update(value=np.asarray(confusion_image(matrix).convert("RGB")), visible=True),
                gr.update(value=curve[["epoch", "loss"]], visible=True))

    def on_adopt(self, desk: Desk, run_id: float | None) -> str:
        try:
            found = self.room.adopt_run(desk.code, desk.key, desk.address, run_id)
        except Refused as exc:
            raise error(exc, desk.lang) from None
        return t("class.board.adopted", desk.lang, entry=found.entry.card["taught"]["leaderboard_entry"])

    def on_language(self, lang: str) -> list:
        return [gr.update(choices=choice_options(choice, lang)) for choice in presets.CHOICES]


def wire(runs: RunsTab, p, lang, desk: DeskInputs) -> None:
    """The phone's own network and the dashboard's leaderboard."""
    p.own_open.click(runs.on_open, p.student, p.own_panel, **PRIVATE)
    p.own_start.click(runs.on_start, [p.student, p.nickname, lang, *p.own_radios.values()], p.own_status, **PRIVATE)
    desk.on(p.timer.tick, runs.on_board, p.board, show_progress="hidden", **PRIVATE)
    for trigger in (p.open_dash.click, p.dash_key.submit):
        desk.on(trigger, runs.on_board, p.board, **PRIVATE)
    desk.on(p.run_show.click, runs.on_show, [p.run_detail, p.run_confusion, p.run_curve], p.run_id, **PRIVATE)
    desk.on(p.run_adopt.click, runs.on_adopt, p.run_detail, p.run_id, **PRIVATE)
    lang.change(runs.on_language, lang, list(p.own_radios.values()), **PRIVATE)


async def _sleep() -> None:
    await asyncio.sleep(UPDATE_S)

