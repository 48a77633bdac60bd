"""The Class tab: a teacher opens a class (code, join link, QR code, teacher key), students join from
their phones and give labelled drawings, and the teacher's dashboard shows, judges, cleans and exports them.

UI only: every operation, the teacher gate and the rate limits are `classroom.service.Classroom` (the app's one,
`ctx.classroom`); a handler reads its inputs (a dashboard's: `class_desk.Desk`, never a hidden component or a
session flag), calls one method and renders with `t()`. A student's place (`service.Student`) is server-side state.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

import gradio as gr
import numpy as np

from ..addresses import client_address
from ..classroom import security
from ..classroom.service import Classroom, Refused, Student
from ..reading import predict
from . import class_projector, class_runs, class_teacher_key, device
from .class_desk import Desk, DeskInputs
from .class_page import (
    CANVAS_ID,
    CLEAR_JS,
    KEEP_PLACE_JS,
    READ_PLACE_JS,
    TO_TOP_JS,
    UNDO_JS,
    dashboard_view,
    layout,
    picture,
    privacy_text,
    student_model_choices,
    train_table,
)
from .class_projector import ProjectorHandlers
from .class_refusals import error, message, shows_refusals
from .class_teacher_key import TeacherKeyHandlers
from .common import LIVE, PRIVATE, follow, job_error
from .draw_tab import status_text
from .i18n import language_from_header, t
from .session import Session, model_choices

TRAIN_UPDATE_S = 0.5  # the training's progress line


def components(room: Classroom, L) -> SimpleNamespace:
    """The tab's components by name (`class_page.layout`, then the projector view's)."""
    tabs = getattr(gr.context.Context.block, "parent", None)  # the app's tabs: a class link selects this one
    return SimpleNamespace(**vars(layout(L, privacy_text(room, "en"))), **class_projector.layout(L),
                           tabs=tabs if isinstance(tabs, gr.Tabs) else None)


class ClassTab(TeacherKeyHandlers, ProjectorHandlers):
    """The tab's handlers over the app's `Classroom` and its components `p` (a handler with more than four outputs
    returns a dict keyed by them): opening a class (`class_teacher_key`), the students', the dashboard's (each
    takes a `class_desk.Desk`), its projector view's (`class_projector`)."""

    def __init__(self, room: Classroom, p: SimpleNamespace) -> None:
        self.room, self.p = room, p
        self.shown = [p.header, p.wall, p.accuracy, p.confusion, p.pick]  # the dashboard's figures
        self.student_outputs = [p.start, p.student_view, p.student, p.joined, p.count, p.mine, p.token, p.note]

    # -- students: join, draw, give --------------------------------------------------------------

    def student_view(self, student: Student, token: str, lang: str) -> dict:
        """The student panel in place of the start: the student's state, header, count, drawings, token, model."""
        p = self.p
        header = t("class.joined", lang, code=security.pretty_code(student.code), title=html.escape(student.title))
        return {p.start: gr.update(visible=False), p.student_view: gr.update(visible=True), p.student: student,
                p.joined: header, p.count: t("class.given", lang, count=self.room.student_count(student)),
                p.mine: self.my_drawings(student, lang), p.token: token, p.note: self.device_config(student)}

    def device_config(self, student: Student | None) -> str:
        """The student's model for the page's own runtime (ui/device.py): the class's model once the teacher made
        one and the student picked it; the page answers with it while drawing."""
        entry = self.room.student_entry(student) if isinstance(student, Student) else None
        return device.config([entry] if entry else [], {CANVAS_ID: entry.key if entry else None},
                             {CANVAS_ID: "class_blank"})

    def on_stroke_end(self, student: Student | None) -> str:
        """The device road's stroke end: the student's model may have changed (the teacher trained one)."""
        return self.device_config(student)

    @shows_refusals
    def on_join(self, code: str, token: str | None, lang: str, request: gr.Request) -> dict:
        return self.student_view(*self.room.join(code, client_address(request), token), lang)

    def on_join_link(self, lang: str, token: str | None, request: gr.Request) -> dict:
        """The page opens: `?class=CODE` in the address joins (the browser's place back if its token names that
        class); else a token naming an open class brings its student back. In the browser's language (this runs
        beside the page's own load event, which sets the language selector: `lang` may still be the default).
        (the tabs, the student view)"""
        code = dict(request.query_params or {}).get("class") if request is not None else None
        if request is not None:
            lang = language_from_header(dict(request.headers or {}).get("accept-language"))
        tabs = {self.p.tabs: gr.Tabs(selected="class")} if self.p.tabs is not None else {}
        if not code:
            student = self.room.restore(token)
            return gr.skip() if student is None else {**tabs, **self.student_view(student, token, lang)}
        try:
            joined = self.room.join(code, client_address(request), token)
        except Refused as exc:
            gr.Warning(message(exc, lang), title=t("common.warning", lang))
            return tabs
        return {**tabs, **self.student_view(*joined, lang)}

    def on_leave(self) -> dict:
        """Back to the start; the browser keeps its token, so joining this class again is the same student."""
        p = self.p
        return {p.start: gr.update(visible=True), p.student_view: gr.update(visible=False), p.student: None,
                p.joined: "", p.count: "", p.mine: [], p.note: ""}

    def on_student_model(self, choice: str, student: Student | None, lang: str) -> tuple:
        """The student picks which network reads their drawings. (student state, answer line, device note)"""
        if not isinstance(student, Student):
            return gr.skip(), t("class.msg.not_joined", lang), gr.skip()
        chosen, has_one = self.room.pick_model(student, choice == "class")
        if not chosen.use_class_model:
            return chosen, t("class.base_model_on", lang), self.device_config(chosen)
        return chosen, t("class.class_model_on" if has_one else "class.no_class_model", lang), self.device_config(chosen)

    def my_drawings(self, student: Student | None, lang: str) -> list:
        """(picture, caption) of this student's own drawings, newest first: never anyone else's."""
        return [(255 - np.kron(d.input, np.ones((4, 4), np.uint8)),
                 t("class.mine_caption", lang, id=d.number, label=d.label, answer="?" if d.answer is None else d.answer))
                for d in self.room.my_drawings(student)]

    async def on_live(self, payload: str | None, student: Student | None, lang: str) -> str:
        """The answer while drawing, by the student's model (lean like the Draw tab's live event)."""
        entry = self.room.student_entry(student)
        if entry is None:
            return t("draw.msg.no_model", lang)
        reading = await predict.read_drawing_async(payload, entry.model)
        return t("class.msg.draw_first", lang) if reading.outcome == predict.BLANK else status_text(reading, lang)

    @shows_refusals
    def give(self, digit: int, payload: str | None, student: Student | None, nickname: str, lang: str,
             request: gr.Request | None = None) -> tuple:
        """The student says the drawing is `digit`: store it. (canvas, count line, my drawings)"""
        given = self.room.give(student, digit, payload, nickname, client_address(request))
        verdict = (t("class.verdict_right", lang) if given.answer == given.label
                   else t("class.verdict_wrong", lang, answer=given.answer))
        return "", t("class.saved", lang, label=digit, verdict=verdict, count=given.count), self.my_drawings(
            student, lang)

    def giver(self, digit: int):
        def handler(payload: str | None, student: Student | None, nickname: str, lang: str, request: gr.Request):
            return self.give(digit, payload, student, nickname, lang, request)
        handler.__name__ = f"give_{digit}"
        return handler

    # -- the teacher's dashboard: the service checks the key on every call -----------------------

    def dashboard(self, board, lang: str) -> dict:
        return dict(zip(self.shown, dashboard_view(board, lang), strict=True))

    @shows_refusals
    def on_open(self, desk: Desk) -> dict:
        """The dashboard panel shown, its timer running, its figures."""
        board = self.room.dashboard(desk.code, desk.key, desk.address, desk.model, desk.trained)
        return {self.p.dash: gr.update(visible=True), self.p.timer: gr.Timer(active=True),
                **self.dashboard(board, desk.lang), self.p.joining: board.joining_open}

    def on_tick(self, desk: Desk, seen: object, projecting: object) -> dict:
        """The wall's refresh (`seen`: what it last showed): the view on screen only and only when something
        changed; a refused key stops the timer without a toast every few seconds."""
        p = self.p
        try:
            info, changes = self.room.changes(desk.code, desk.key, desk.address)
        except Refused:
            return {p.seen: None, p.timer: gr.Timer(active=False)}
        now_seen = (*changes, desk.model, desk.lang, projecting is True)
        if now_seen == seen:
            return gr.skip()
        board = self.room.dashboard_of(info, desk.model, desk.trained)
        if projecting is True:
            stats, wall = class_projector.view(board, desk.lang)
            return {p.seen: now_seen, p.projector_stats: stats, p.projector_wall: wall}
        return {p.seen: now_seen, **self.dashboard(board, desk.lang)}

    @shows_refusals
    def on_cell(self, desk: Desk, evt: gr.SelectData):
        """The drawings of the clicked confusion cell (row: the digit given, column: the answer)."""
        row, column = (evt.index if isinstance(evt.index, (list, tuple)) else (None, None))
        answer = column - 1 if isinstance(column, int) else None  # the table's first column is the digit given
        drawings = self.room.cell(desk.code, desk.key, desk.address, desk.model, desk.trained, row, answer)
        return gr.update(value=[(picture(d), t("class.cell_caption", desk.lang, id=d.number, nickname=d.nickname))
                                for d in drawings], visible=True)

    def _removing(self, remove, desk: Desk, which: object) -> dict:
        """One of the service's removals (it checks the key), a toast with the count, the dashboard again."""
        removed = remove(desk.code, desk.key, desk.address, which)
        gr.Info(t("class.removed", desk.lang, count=removed), title=t("common.info", desk.lang))
        return self.dashboard(self.room.dashboard(desk.code, desk.key, desk.address, desk.model, desk.trained),
                              desk.lang)

    @shows_refusals
    def on_remove(self, desk: Desk, drawing_id: float | None) -> dict:
        return self._removing(self.room.remove, desk, drawing_id)

    @shows_refusals
    def on_remove_nickname(self, desk: Desk, nickname: str | None) -> dict:
        return self._removing(self.room.remove_nickname, desk, nickname)

    @shows_refusals
    def on_remove_student(self, desk: Desk, drawing_id: float | None) -> dict:
        """Every drawing of the student who gave drawing #N, whatever nicknames they used."""
        return self._removing(self.room.remove_student, desk, drawing_id)

    @shows_refusals
    def on_remove_anonymous(self, desk: Desk, first_id: float | None) -> dict:
        """Every drawing without a nickname from #N on."""
        return self._removing(self.room.remove_anonymous, desk, first_id)

    @shows_refusals
    def on_joining(self, desk: Desk, open_: bool) -> bool:
        is_open = self.room.set_joining(desk.code, desk.key, desk.address, open_)
        gr.Info(t("class.joining_open" if is_open else "class.joining_closed", desk.lang),
                title=t("common.info", desk.lang))
        return is_open

    @shows_refusals
    def on_export(self, desk: Desk):
        """The class dataset as a zip file (served to this browser only, from this session's folder); its file box
        shows from now on."""
        folder = desk.session.workdir() if isinstance(desk.session, Session) else None
        return gr.update(value=str(self.room.export(desk.code, desk.key, desk.address, folder)), visible=True)

    @shows_refusals
    def on_renew(self, desk: Desk) -> dict:
        info = self.room.renew(desk.code, desk.key, desk.address)
        return self.dashboard(self.room.dashboard_of(info, desk.model, desk.trained), desk.lang)

    @shows_refusals
    def on_delete(self, desk: Desk, confirmed: bool) -> tuple:
        """(dashboard panel, timer, confirm box, dashboard key)."""
        self.room.delete(desk.code, desk.key, desk.address, confirmed)
        gr.Info(t("class.deleted", desk.lang), title=t("common.info", desk.lang))
        return gr.update(visible=False), gr.Timer(active=False), False, ""

    async def on_train(self, desk: Desk):
        """Fine-tune the picked model on the class's drawings; streams (progress, comparison, train, stop)."""
        lang = desk.lang
        def out(text, table=None, running=False):
            return (text, gr.skip() if table is None else table, gr.update(interactive=not running),
                    gr.update(interactive=running))

        try:
            run = self.room.start_training(desk.code, desk.key, desk.address, desk.model, desk.trained)
        except Refused as exc:
            if exc.by_gate:
                raise error(exc, lang) from None
            yield out(message(exc, lang))
            return
        snap = None
        try:
            async for snap in follow(run.job, TRAIN_UPDATE_S, each_tick=True):
                if snap.state == "queued":
                    yield out(t("class.train_queued", lang, position=max(snap.queue_position, 1)), "", True)
                elif not snap.finished:
                    latest = snap.latest
                    yield out(t("class.train_running", lang, count=len(run.split.taught),
                                percent=f"{latest.fraction:.0%}" if latest else "0%",
                                seconds=f"{latest.elapsed:.0f}" if latest else "0"), "", True)
        finally:
            found = self.room.finish_training(run)  # stops a run the page left
        if snap.state == "failed":
            yield out(t("class.train_failed", lang, error=job_error(snap, lang)))
        elif found is None:
            yield out(t("class.train_cancelled", lang))
        else:
            stopped = t("class.train_stopped", lang) if snap.result.stopped else ""
            yield out(t("class.train_done", lang, seconds=f"{snap.result.seconds:.0f}", stopped=stopped),
                      train_table(found, lang))

    @shows_refusals
    def on_train_stop(self, desk: Desk) -> None:
        self.room.stop_training(desk.code, desk.key, desk.address)

    def on_close_dashboard(self) -> tuple:
        return gr.update(visible=False), gr.Timer(active=False), None

    def on_language(self, lang: str, student: Student | None) -> dict:
        """The texts built with placeholders: the privacy note; the students' model choice; a
        joined student's header and count; the answer line (its first words, until the next drawing)."""
        p = self.p
        view = self.student_view(student, None, lang) if isinstance(student, Student) else {}
        return {p.privacy: privacy_text(self.room, lang),
                p.student_model: gr.update(choices=student_model_choices(lang)),
                **{c: view[c] for c in (p.joined, p.count) if c in view}, p.answer: t("class.msg.draw_first", lang)}


def build(ctx) -> None:
    """The tab's components wired to the handlers over the app's classroom."""
    p = components(ctx.classroom, ctx.localizer)
    tab, lang, session = ClassTab(ctx.classroom, p), ctx.lang, ctx.session
    desk = DeskInputs(p.dash_code, p.dash_key, p.model, session, lang)  # what every dashboard call carries
    class_teacher_key.wire(tab, p, ctx, desk)
    for trigger in (p.join.click, p.join_code.submit):
        trigger(tab.on_join, [p.join_code, p.token, lang], tab.student_outputs, **PRIVATE).then(
            None, [p.token], None, js=KEEP_PLACE_JS, **PRIVATE)
    p.leave.click(tab.on_leave, None, tab.student_outputs, **PRIVATE)

    p.canvas.input(tab.on_live, [p.canvas, p.student, lang], p.answer, preprocess=False, postprocess=False, **LIVE)
    # The device road (ui/device.py): the answer from the page itself, the student's model rechecked at a stroke's end.
    p.canvas.select(None, None, p.answer, js=device.show_js(CANVAS_ID, status_only=True), queue=False,
                    show_progress="hidden", trigger_mode="always_last", **PRIVATE)
    p.canvas.stop(tab.on_stroke_end, p.student, p.note, **LIVE)
    for d, button in enumerate(p.teach):
        # One shared group for the ten buttons: each event alone would queue a class's saves one at a time.
        button.click(tab.giver(d), [p.canvas, p.student, p.nickname, lang], [p.canvas, p.count, p.mine],
                     concurrency_limit=4, concurrency_id="class-save", **PRIVATE)
    p.student_model.change(tab.on_student_model, [p.student_model, p.student, lang], [p.student, p.answer, p.note],
                           **PRIVATE)
    p.undo.click(None, js=UNDO_JS, **PRIVATE)
    p.clear.click(None, js=CLEAR_JS, **PRIVATE)

    opened = [p.dash, p.timer, *tab.shown, p.joining]
    for trigger in (p.open_dash.click, p.dash_key.submit):
        desk.on(trigger, tab.on_open, opened, **PRIVATE).then(None, js=TO_TOP_JS, **PRIVATE)
    desk.on(p.timer.tick, tab.on_tick, [p.seen, p.timer, *tab.shown, p.projector_stats, p.projector_wall], p.seen,
            p.projecting, show_progress="hidden", **PRIVATE)
    class_projector.wire(tab, p, desk)
    desk.on(p.model.input, tab.on_open, opened, **PRIVATE)
    desk.on(p.confusion.select, tab.on_cell, p.cell, **PRIVATE)
    desk.on(p.remove.click, tab.on_remove, tab.shown, p.remove_id, **PRIVATE)
    desk.on(p.remove_name.click, tab.on_remove_nickname, tab.shown, p.pick, **PRIVATE)
    desk.on(p.remove_student.click, tab.on_remove_student, tab.shown, p.remove_id, **PRIVATE)
    desk.on(p.remove_anonymous.click, tab.on_remove_anonymous, tab.shown, p.remove_id, **PRIVATE)
    desk.on(p.joining.input, tab.on_joining, p.joining, p.joining, **PRIVATE)
    desk.on(p.export_button.click, tab.on_export, p.export_file, **PRIVATE)
    desk.on(p.train.click, tab.on_train, [p.train_progress, p.train_result, p.train, p.train_stop],
            concurrency_limit=None, **PRIVATE)
    desk.on(p.train_stop.click, tab.on_train_stop, None, queue=False, **PRIVATE)
    class_runs.wire(class_runs.RunsTab(ctx.classroom), p, lang, desk)  # Everyone trains
    desk.on(p.renew.click, tab.on_renew, tab.shown, **PRIVATE)
    desk.on(p.delete.click, tab.on_delete, [p.dash, p.timer, p.confirm, p.dash_key], p.confirm, **PRIVATE)
    p.close.click(tab.on_close_dashboard, None, [p.dash, p.timer, p.seen], **PRIVATE)
    lang.change(tab.on_language, [lang, p.student], [p.privacy, p.student_model, p.joined, p.count, p.answer],
                **PRIVATE)
    for trigger in (ctx.models_changed.change, lang.change):  # this session's models, or the labels' language
        trigger(lambda s, k, language: gr.update(choices=model_choices(s, "mnist", language), value=k),
                [session, p.model, lang], p.model, **PRIVATE)
    root = gr.context.Context.root_block
    if p.tabs is not None and root is not None:
        root.load(tab.on_join_link, [lang, p.token], [p.tabs, *tab.student_outputs], js=READ_PLACE_JS,
                  **PRIVATE).then(None, [p.token], None, js=KEEP_PLACE_JS, **PRIVATE)
