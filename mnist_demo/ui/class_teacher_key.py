"""Opening a class, the teacher key first: the key in a private step (copy it, or download the teacher card, a
small text file), then, when the teacher asks for it, the class's screen for the room (code, link, QR code; never
the key). The key is what every dashboard call carries (`classroom.service.Classroom.teacher` checks it)."""

from __future__ import annotations

import html

import gradio as gr

from ..addresses import client_address, join_link
from ..classroom import security
from .class_page import expires_text, qr_svg
from .class_refusals import shows_refusals
from .common import PRIVATE
from .i18n import t
from .session import Session


class TeacherKeyHandlers:
    """The Class tab's handlers of opening a class (`self.room`: the app's `Classroom`)."""

    @shows_refusals
    def on_create(self, title: str, lang: str, request: gr.Request) -> tuple:
        """(choose row, key step, teacher key, class screen, code, link, QR, dashboard code, dashboard key): the key
        first, in a private step; the class's screen (code, link, QR, no key) stays hidden until the teacher
        has kept the key and asks for it (`on_show_screen`)."""
        info, key = self.room.create(title, client_address(request))
        link = join_link(info.code, request)
        gr.Info(t("class.msg.created", lang), title=t("common.info", lang))
        code_md = t("class.code_md", lang, code=security.pretty_code(info.code), title=html.escape(info.title))
        return (gr.update(visible=False), gr.update(visible=True), key, gr.update(visible=False), code_md, link,
                qr_svg(link), security.pretty_code(info.code), key)

    @shows_refusals
    def on_card(self, code: str, key: str, session: Session, lang: str, request: gr.Request):
        """The teacher card: a small text file with the class code, the key and the join link (checked like every
        dashboard call), in this session's private folder."""
        info = self.room.teacher(code, key, client_address(request))
        if not isinstance(session, Session):
            raise gr.Error(t("common.reload", lang), title=t("common.error", lang), print_exception=False)
        text = t("class.card_text", lang, title=info.title or security.pretty_code(info.code),
                 code=security.pretty_code(info.code), teacher_key=key, link=join_link(info.code, request),
                 expires=expires_text(info))
        path = session.workdir() / f"teacher-card-{security.pretty_code(info.code)}.txt"
        path.write_text(text, encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def on_show_screen(self) -> tuple:
        """(key step, teacher key, card file, class screen): the key leaves the page before the room sees it."""
        return gr.update(visible=False), "", gr.update(value=None, visible=False), gr.update(visible=True)


def wire(tab: TeacherKeyHandlers, p, ctx) -> None:
    p.create.click(tab.on_create, [p.title, ctx.lang], [p.choose, p.key_step, p.teacher_key, p.created, p.code_md,
                                                        p.link, p.qr, p.dash_code, p.dash_key], **PRIVATE)
    p.card.click(tab.on_card, [p.dash_code, p.dash_key, ctx.session, ctx.lang], p.card_file, **PRIVATE)
    p.show_screen.click(tab.on_show_screen, None, [p.key_step, p.teacher_key, p.card_file, p.created], **PRIVATE)
