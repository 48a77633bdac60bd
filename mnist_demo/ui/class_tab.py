"""The Class tab: a teacher opens a class (code, join link, QR code, teacher key), students join from
their phones and give labelled drawings, and the teacher's dashboard shows, judges, cleans and exports them.

UI only: every operation, the teacher gate and the rate limits are `classroom.service.Classroom` (the app's one,
`ctx.classroom`); a handler here reads its inputs and the caller's address, calls one method and renders with
`t()`. Every event can be called by number through /gradio_api with any session hash and any inputs, so the
dashboard's handlers pass the class code and teacher key they were given, never a hidden component or a session
flag, and a student's place (`service.Student`) lives in server-side `gr.State`.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

import gradio as gr
import numpy as np

from ..addresses import client_address
from ..classroom import security, store
from ..classroom.service import Classroom, Refused, Student
from ..reading import predict
from . import class_projector, class_runs, class_teacher_key, device
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
    student_model_choices,
    train_table,
)
from .class_projector import ProjectorHandlers
from .class_refusals import error, message, shows_refusals
from .class_teacher_key import TeacherKeyHandlers
from .common import LIVE, PRIVATE, follow
from .draw_tab import status_text
from .i18n import language_from_header, t
from .session import Session, model_choices, trained_of

TRAIN_UPDATE_S = 0.5  # the training's progress line


class ClassTab(TeacherKeyHandlers, ProjectorHandlers):
    """The tab's handlers over the app's `Classroom`: opening a class (`class_teacher_key`), the students', the
    dashboard's, its projector view's (`class_projector`)."""

    def __init__(self, room: Classroom) -> None:
        self.room = room

    def privacy_text(self, lang: str) -> str:
        return t("class.privacy", lang, path=html.escape(self.room.store.where()), days=store.CLASS_DAYS)

    # -- students: join, draw, give --------------------------------------------------------------

    def student_view(self, student: Student, token: str, lang: str) -> tuple:
        """(start panel, student panel, student state, header, count line, my drawings, the browser's token, device
        note)."""
        header = t("class.joined", lang, code=security.pretty_code(student.code), title=html.escape(student.title))
        return (gr.update(visible=False), gr.update(visible=True), student, header,
                t("class.given", lang, count=self.room.student_count(student)), self.my_drawings(student, lang), token,
                self.device_config(student))

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
    def on_join(self, code: str, token: str | None, lang: str, request: gr.Request) -> tuple:
        return self.student_view(*self.room.join(code, client_address(request), token), lang)

    def on_join_link(self, lang: str, token: str | None, request: gr.Request) -> tuple:
        """The page opens: `?class=CODE` in the address joins (the browser's place back if its token names that
        class); else a token naming an open class brings its student back. In the browser's language (this runs
        beside the page's own load event, which sets the language selector: `lang` may still be the default).
        (tabs, *the student view)"""
        code = dict(request.query_params or {}).get("class") if request is not None else None
        if request is not None:
            lang = language_from_header(dict(request.headers or {}).get("accept-language"))
        if not code:
            student = self.room.restore(token)
            if student is None:
                return gr.skip(), *(gr.skip(),) * 8
            return gr.Tabs(selected="class"), *self.student_view(student, token, lang)
        try:
            joined = self.room.join(code, client_address(request), token)
        except Refused as exc:
            gr.Warning(message(exc, lang), title=t("common.warning", lang))
            return gr.Tabs(selected="class"), *(gr.skip(),) * 8
        return gr.Tabs(selected="class"), *self.student_view(*joined, lang)

    def on_leave(self) -> tuple:
        """Back to the start; the browser keeps its token, so joining this class again is the same student."""
        return gr.update(visible=True), gr.update(visible=False), None, "", "", [], gr.skip(), ""

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
        def handler(payload: str | None, student: Student | None, nickname: str, lang: str,
                    request: gr.Request) -> tuple:
            return self.give(digit, payload, student, nickname, lang, request)

        handler.__name__ = f"give_{digit}"
        return handler

    # -- the teacher's dashboard: the service checks the key on every call -----------------------

    @shows_refusals
    def on_open(self, code: str, key: str, model: str, session: Session, lang: str, request: gr.Request) -> tuple:
        """(dashboard panel, timer, *dashboard)."""
        board = self.room.dashboard(code, key, client_address(request), model, trained_of(session))
        return gr.update(visible=True), gr.Timer(active=True), *dashboard_view(board, lang), board.joining_open

    def on_tick(self, code: str, key: str, model: str, session: Session, lang: str, seen: object,
                projecting: object, request: gr.Request) -> tuple:
        """The wall's refresh: (seen, timer, *dashboard, *projector), the view on screen only and only when
        something changed; a refused key stops the timer without a toast every few seconds."""
        unchanged = (gr.skip(),) * 7
        try:
            info, changes = self.room.changes(code, key, client_address(request))
        except Refused:
            return None, gr.Timer(active=False), *unchanged
        now_seen = (*changes, model, lang, projecting is True)
        if now_seen == seen:
            return seen, gr.skip(), *unchanged
        board = self.room.dashboard_of(info, model, trained_of(session))
        if projecting is True:
            return now_seen, gr.skip(), *(gr.skip(),) * 5, *class_projector.view(board, lang)
        return now_seen, gr.skip(), *dashboard_view(board, lang), gr.skip(), gr.skip()

    @shows_refusals
    def on_cell(self, code: str, key: str, model: str, session: Session, lang: str, evt: gr.SelectData,
                request: gr.Request) -> list:
        """The drawings of the clicked confusion cell (row: the digit given, column: the answer)."""
        row, column = (evt.index if isinstance(evt.index, (list, tuple)) else (None, None))
        answer = column - 1 if isinstance(column, int) else None  # the table's first column is the digit given
        drawings = self.room.cell(code, key, client_address(request), model, trained_of(session), row, answer)
        return gr.update(value=[(picture(d), t("class.cell_caption", lang, id=d.number, nickname=d.nickname))
                                for d in drawings], visible=True)

    def _removing(self, remove, code: str, key: str, which: object, model: str, session: Session, lang: str,
                  request: gr.Request) -> tuple:
        """One of the service's removals (it checks the key), a toast with the count, the dashboard again."""
        address = client_address(request)
        removed = remove(code, key, address, which)
        gr.Info(t("class.removed", lang, count=removed), title=t("common.info", lang))
        return dashboard_view(self.room.dashboard(code, key, address, model, trained_of(session)), lang)

    @shows_refusals
    def on_remove(self, code: str, key: str, drawing_id: float | None, model: str, session: Session, lang: str,
                  request: gr.Request) -> tuple:
        return self._removing(self.room.remove, code, key, drawing_id, model, session, lang, request)

    @shows_refusals
    def on_remove_nickname(self, code: str, key: str, nickname: str | None, model: str, session: Session, lang: str,
                           request: gr.Request) -> tuple:
        return self._removing(self.room.remove_nickname, code, key, nickname, model, session, lang, request)

    @shows_refusals
    def on_remove_student(self, code: str, key: str, drawing_id: float | None, model: str, session: Session,
                          lang: str, request: gr.Request) -> tuple:
        """Every drawing of the student who gave drawing #N, whatever nicknames they used."""
        return self._removing(self.room.remove_student, code, key, drawing_id, model, session, lang, request)

    @shows_refusals
    def on_remove_anonymous(self, code: str, key: str, first_id: float | None, model: str, session: Session,
                            lang: str, request: gr.Request) -> tuple:
        """Every drawing without a nickname from #N on."""
        return self._removing(self.room.remove_anonymous, code, key, first_id, model, session, lang, request)

    @shows_refusals
    def on_joining(self, code: str, key: str, open_: bool, lang: str, request: gr.Request) -> bool:
        is_open = self.room.set_joining(code, key, client_address(request), open_)
        gr.Info(t("class.joining_open" if is_open else "class.joining_closed", lang), title=t("common.info", lang))
        return is_open

    @shows_refusals
    def on_export(self, code: str, key: str, session: Session, lang: str, request: gr.Request):
        """The class dataset as a zip file (served to this browser only, from this session's folder); its file box
        shows from now on."""
        folder = session.workdir() if isinstance(session, Session) else None
        return gr.update(value=str(self.room.export(code, key, client_address(request), folder)), visible=True)

    @shows_refusals
    def on_renew(self, code: str, key: str, model: str, session: Session, lang: str, request: gr.Request) -> tuple:
        info = self.room.renew(code, key, client_address(request))
        return dashboard_view(self.room.dashboard_of(info, model, trained_of(session)), lang)

    @shows_refusals
    def on_delete(self, code: str, key: str, confirmed: bool, lang: str, request: gr.Request) -> tuple:
        """(dashboard panel, timer, confirm box, dashboard key)."""
        self.room.delete(code, key, client_address(request), confirmed)
        gr.Info(t("class.deleted", lang), title=t("common.info", lang))
        return gr.update(visible=False), gr.Timer(active=False), False, ""

    async def on_train(self, code: str, key: str, model: str, session: Session, lang: str, request: gr.Request):
        """Fine-tune the picked model on the class's drawings; streams (progress, comparison, train, stop)."""
        def out(text, table=None, running=False):
            return (text, gr.skip() if table is None else table, gr.update(interactive=not running),
                    gr.update(interactive=running))

        try:
            run = self.room.start_training(code, key, client_address(request), model, trained_of(session))
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
            yield out(t("class.train_failed", lang, error=snap.error))
        elif found is None:
            yield out(t("class.train_cancelled", lang))
        else:
            stopped = t("class.train_stopped", lang) if snap.result.stopped else ""
            yield out(t("class.train_done", lang, seconds=f"{snap.result.seconds:.0f}", stopped=stopped),
                      train_table(found, lang))

    @shows_refusals
    def on_train_stop(self, code: str, key: str, lang: str, request: gr.Request) -> None:
        self.room.stop_training(code, key, client_address(request))

    def on_close_dashboard(self) -> tuple:
        return gr.update(visible=False), gr.Timer(active=False), None

    def on_language(self, lang: str, student: Student | None) -> tuple:
        """The texts built with placeholders: the privacy note and the ten buttons; the students' model choice; a
        joined student's header and count; the answer line (its first words, until the next drawing)."""
        joined = (self.student_view(student, None, lang)[3:5] if isinstance(student, Student) else (gr.skip(), gr.skip()))
        return (self.privacy_text(lang), *[gr.update(value=t("class.teach", lang, digit=d)) for d in range(10)],
                gr.update(choices=student_model_choices(lang)), *joined, t("class.msg.draw_first", lang))


def build(ctx) -> None:
    """The tab's components (`class_page.layout`, `class_projector.layout`) wired to the handlers over the app's
    classroom."""
    tab = ClassTab(ctx.classroom)
    p = SimpleNamespace(**vars(layout(ctx, tab.privacy_text("en"))), **class_projector.layout(ctx.localizer))
    lang = ctx.lang
    class_teacher_key.wire(tab, p, ctx)
    student_outputs = [p.start, p.student_view, p.student, p.joined, p.count, p.mine, p.token, p.note]
    for trigger in (p.join.click, p.join_code.submit):
        trigger(tab.on_join, [p.join_code, p.token, lang], student_outputs, **PRIVATE).then(
            None, [p.token], None, js=KEEP_PLACE_JS, **PRIVATE)
    p.leave.click(tab.on_leave, None, student_outputs, **PRIVATE)

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

    keyed, session = [p.dash_code, p.dash_key], ctx.session
    desk = [*keyed, p.model, session, lang]  # what most dashboard calls carry: the service checks code and key
    shown = [p.header, p.wall, p.accuracy, p.confusion, p.pick]
    opened = [p.dash, p.timer, *shown, p.joining]
    for trigger in (p.open_dash.click, p.dash_key.submit):
        trigger(tab.on_open, desk, opened, **PRIVATE).then(None, js=TO_TOP_JS, **PRIVATE)
    p.timer.tick(tab.on_tick, [*desk, p.seen, p.projecting],
                 [p.seen, p.timer, *shown, p.projector_stats, p.projector_wall], show_progress="hidden", **PRIVATE)
    class_projector.wire(tab, p, desk)
    p.model.input(tab.on_open, desk, opened, **PRIVATE)
    p.confusion.select(tab.on_cell, desk, p.cell, **PRIVATE)
    p.remove.click(tab.on_remove, [*keyed, p.remove_id, p.model, session, lang], shown, **PRIVATE)
    p.remove_name.click(tab.on_remove_nickname, [*keyed, p.pick, p.model, session, lang], shown, **PRIVATE)
    p.remove_student.click(tab.on_remove_student, [*keyed, p.remove_id, p.model, session, lang], shown, **PRIVATE)
    p.remove_anonymous.click(tab.on_remove_anonymous, [*keyed, p.remove_id, p.model, session, lang], shown, **PRIVATE)
    p.joining.input(tab.on_joining, [*keyed, p.joining, lang], p.joining, **PRIVATE)
    p.export_button.click(tab.on_export, [*keyed, session, lang], p.export_file, **PRIVATE)
    p.train.click(tab.on_train, desk, [p.train_progress, p.train_result, p.train, p.train_stop],
                  concurrency_limit=None, **PRIVATE)
    p.train_stop.click(tab.on_train_stop, [*keyed, lang], None, queue=False, **PRIVATE)
    class_runs.wire(class_runs.RunsTab(ctx.classroom), p, keyed, lang)  # Everyone trains
    p.renew.click(tab.on_renew, desk, shown, **PRIVATE)
    p.delete.click(tab.on_delete, [*keyed, p.confirm, lang], [p.dash, p.timer, p.confirm, p.dash_key], **PRIVATE)
    p.close.click(tab.on_close_dashboard, None, [p.dash, p.timer, p.seen], **PRIVATE)
    lang.change(tab.on_language, [lang, p.student], [p.privacy, *p.teach, p.student_model, p.joined, p.count,
                                                     p.answer], **PRIVATE)
    for trigger in (ctx.models_changed.change, lang.change):  # this session's models, or the labels' language
        trigger(lambda s, k, language: gr.update(choices=model_choices(s, "mnist", language), value=k),
                [session, p.model, lang], p.model, **PRIVATE)

    tabs = getattr(gr.context.Context.block, "parent", None)
    root = gr.context.Context.root_block
    if isinstance(tabs, gr.Tabs) and root is not None:
        root.load(tab.on_join_link, [lang, p.token], [tabs, *student_outputs], js=READ_PLACE_JS, **PRIVATE).then(
            None, [p.token], None, js=KEEP_PLACE_JS, **PRIVATE)
