"""The projector view: the class code, the QR code, the live wall and the class's figures over the whole window, in
the page's language. Nothing in it changes anything, and never the key: its handlers render none of it."""

from __future__ import annotations

import html

import gradio as gr

from ..addresses import join_link
from ..classroom import security
from ..classroom.service import Dashboard
from ..classroom.store import ClassInfo
from .class_desk import Desk, DeskInputs
from .class_page import TO_TOP_JS, WALL_CSS, qr_svg, wall_html
from .class_refusals import shows_refusals
from .common import PRIVATE
from .i18n import t


def code_html(info: ClassInfo, lang: str) -> str:
    return (f'<div class="pj-label">{html.escape(t("class.projector_code", lang))}</div>'
            f'<div class="pj-code">{security.pretty_code(info.code)}</div>'
            f'<div class="pj-title">{html.escape(info.title)}</div>')


def qr_html(link: str, lang: str) -> str:
    return f'{qr_svg(link)}<div class="pj-label">{html.escape(t("class.projector_join", lang))}</div>'


def view(board: Dashboard, lang: str) -> tuple:
    """(stats, wall) of the projector view: what the room may see, nothing else."""
    result = board.confusion
    stats = (t("class.projector_none", lang) if result.accuracy is None else
             t("class.projector_stats", lang, accuracy=f"{result.accuracy:.0%}", count=board.drawings,
               students=board.students))
    return stats, wall_html(board.newest, lang, big=True)


def layout(L) -> dict:
    """The view's components (hidden until the teacher opens it), by name."""
    with gr.Column(visible=False, elem_id="class-projector") as projector_view:
        with gr.Row(equal_height=False):
            with gr.Column(elem_id="class-projector-side"):
                code = gr.HTML(elem_id="class-projector-code")
                qr = gr.HTML(elem_id="class-projector-qr")
                stats = gr.Markdown(elem_id="class-projector-stats")
                back = L(gr.Button, value="class.projector_back", size="sm", elem_id="class-projector-back")
            with gr.Column(elem_id="class-projector-main"):
                wall = gr.HTML(css_template=WALL_CSS, elem_id="class-projector-wall")
    return {"projector_view": projector_view, "projector_code": code, "projector_qr": qr, "projector_stats": stats,
            "projector_back": back, "projector_wall": wall, "projecting": gr.State(False)}


class ProjectorHandlers:
    """The Class tab's handlers of the projector view (`self.room`: the app's `Classroom`, `self.p`: its components)."""

    @shows_refusals
    def on_project(self, desk: Desk) -> dict:
        """The projector view in place of the dashboard: the room's view of the class, over the whole window; what
        it shows is rendered here, so nothing of the dashboard (or the key) is in it."""
        p = self.p
        board = self.room.dashboard(desk.code, desk.key, desk.address, desk.model, desk.trained)
        stats, wall = view(board, desk.lang)
        return {p.dash: gr.update(visible=False), p.projector_view: gr.update(visible=True), p.projecting: True,
                p.projector_code: code_html(board.info, desk.lang),
                p.projector_qr: qr_html(join_link(board.info.code, desk.request), desk.lang),
                p.projector_stats: stats, p.projector_wall: wall}

    def on_unproject(self) -> tuple:
        """(dashboard, projector view, projecting): back to the teacher's own view."""
        return gr.update(visible=True), gr.update(visible=False), False


def wire(tab: ProjectorHandlers, p, desk: DeskInputs) -> None:
    """The projector's button on the dashboard and the view's way back."""
    desk.on(p.projector.click, tab.on_project, [p.dash, p.projector_view, p.projecting, p.projector_code,
                                                p.projector_qr, p.projector_stats, p.projector_wall], **PRIVATE)
    p.projector_back.click(tab.on_unproject, None, [p.dash, p.projector_view, p.projecting], **PRIVATE).then(
        None, js=TO_TOP_JS, **PRIVATE)
