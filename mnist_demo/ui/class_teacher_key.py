"""Opening a class, the teacher key first: the key in a private step (copy it, or download the teacher card, a
small text file), then, when the teacher asks for it, the class's screen for the room (code, link, QR code; never
the key). The key is what every dashboard call carries (`classroom.service.Classroom.teacher` checks it)."""

from __future__ import annotations

import html

import gradio as gr

from ..addresses import client_address, join_link
from ..classroom import security
from .class_desk import Desk, DeskInputs
from .class_page import expires_text, qr_svg
from .class_refusals import shows_refusals
from .common import PRIVATE
from .i18n import t
from .session import Session


class TeacherKeyHandlers:
    """The Class tab's handlers of opening a class (`self.room`: the app's `Classroom`, `self.p`: its components)."""

    @shows_refusals
    def on_create(self, title: str, lang: str, request: gr.Request) -> dict:
        """The key first, in a private step, and the dashboard's fields filled; the class's screen (code, link, QR,
        no key) filled but hidden until the teacher has kept the key and asks for it (`on_show_screen`)."""
        p = self.p
        info, key = self.room.create(title, client_address(request))
        link = join_link(info.code, request)
        gr.Info(t("class.msg.created", lang), title=t("common.info", lang))
        code_md = t("class.code_md", lang, code=security.pretty_code(info.code), title=html.escape(info.title))
        return {p.choose: gr.update(visible=False), p.key_step: gr.update(visible=True), p.teacher_key: key,
                p.created: gr.update(visible=False), p.code_md: code_md, p.link: link, p.qr: qr_svg(link),
                p.dash_code: security.pretty_code(info.code), p.dash_key: key}

    @shows_refusals
    def on_card(self, desk: Desk):
        """The teacher card: a small text file with the class code, the key and the join link (checked like every
        dashboard call), in this session's private folder."""
        info = self.room.teacher(desk.code, desk.key, desk.address)
        if not isinstance(desk.session, Session):
            raise gr.Error(t("common.reload", desk.lang), title=t("common.error", desk.lang), print_exception=False)
        code = security.pretty_code(info.code)
        text = t("class.card_text", desk.lang, title=info.title or code, code=code, teacher_key=desk.key,
                 link=join_link(info.code, desk.request), expires=expires_text(info))
        path = desk.session.workdir() / f"teacher-card-{code}.txt"
        path.write_text(text, encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def on_show_screen(self) -> tuple:
        """(key step, teacher key, card file, class screen): the key leaves the page before the room sees it."""
        return gr.update(visible=False), "", gr.update(value=None, visible=False), gr.update(visible=True)


def wire(tab: TeacherKeyHandlers, p, ctx, desk: DeskInputs) -> None:
    p.create.click(tab.on_create, [p.title, ctx.lang], [p.choose, p.key_step, p.teacher_key, p.created, p.code_md,
                                                        p.link, p.qr, p.dash_code, p.dash_key], **PRIVATE)
    desk.on(p.card.click, tab.on_card, p.card_file, **PRIVATE)
    p.show_screen.click(tab.on_show_screen, None, [p.key_step, p.teacher_key, p.card_file, p.created], **PRIVATE)
