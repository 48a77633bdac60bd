"""The Class tab's page: its components (the start panel, a student's phone view, the teacher's dashboard),
its CSS, and the HTML and tables it renders (the wall, the QR code, the dashboard's lines, the training's
comparison). The handlers and their wiring are `class_tab`; the projector view is `class_projector`.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from types import SimpleNamespace

import gradio as gr
import numpy as np
from PIL import Image

from ..catalog import DEFAULT_MODEL
from ..classroom import evaluate, security, store
from ..classroom.service import Dashboard
from ..classroom.store import ClassInfo, Drawing
from ..classroom.tuning import ClassModel
from ..pictures import png_data_uri
from . import device
from .canvas import drawing_canvas, pad_js
from .class_runs import board_layout, student_layout
from .i18n import t
from .session import model_choices

REFRESH_S = 3.0  # the wall's refresh
HELD_IDS_SHOWN = 40  # held-out drawing numbers listed under the comparison
CANVAS_ID = "class-canvas"
UNDO_JS = pad_js(CANVAS_ID, "undo")
CLEAR_JS = pad_js(CANVAS_ID, "clear")
TO_TOP_JS = "() => window.scrollTo(0, 0)"  # a view that replaces another starts at the top of the page
# The student's place (classroom.identity's signed token) in the browser's localStorage, under our own key and in
# plain text (it is signed, not secret): written after a join, read by the page's load event before it is sent
# (gr.BrowserState alone reads its storage after the load event has gone out).
PLACE_KEY = "mnist-demo-class-place"
KEEP_PLACE_JS = f"(token) => {{ if (token) localStorage.setItem('{PLACE_KEY}', token); }}"
READ_PLACE_JS = f"(lang, token) => [lang, localStorage.getItem('{PLACE_KEY}') || token]"

# On a phone joined by link: only the student view, so canvas, answer and buttons fit one screen.
STUDENT_CSS = """<style>
.gradio-container:has(#class-student:not(.hidden)) .main .column > *:has(~ #tabs),
.gradio-container:has(#class-student:not(.hidden)) #tabs > .tab-wrapper,
.gradio-container:has(#class-student:not(.hidden)) #class-about,
.gradio-container:has(#class-student:not(.hidden)) footer { display: none !important; }
#class-student .teach-row button { min-width: 0 !important; padding: 6px 2px !important; font-size: 15px; }
#class-student .teach-row { gap: 4px !important; flex-wrap: nowrap !important; }
#class-student { gap: 6px !important; }
#class-answer, #class-count { min-height: 1.5em; }
#class-answer p, #class-count p { margin: 0 !important; }
#class-qr svg { width: min(100%, 520px); height: auto; display: block; margin: auto; }
#class-code code { font-size: 2.2em; letter-spacing: 0.08em; }
#class-key-step { border: 2px dashed #c80; border-radius: 8px; padding: 8px; }
/* The teacher's dashboard: the intro and the start panel give way, so the wall is on the first screen; buttons
   keep their natural height beside taller fields. */
.gradio-container:has(#class-dashboard:not(.hidden)) #class-about,
.gradio-container:has(#class-dashboard:not(.hidden)) #class-start { display: none !important; }
#class-dashboard .class-controls { align-items: flex-end !important; }
#class-dashboard .class-controls button, #class-dash-top button { align-self: flex-end; flex-grow: 0 !important;
  min-width: max-content !important; }
#class-dash-top { align-items: center !important; }
#class-dash-header h2 { margin: 0 0 2px 0; }
@media (max-width: 640px) {  /* a phone: header, accuracy and the projector's button one under the other */
  #class-dash-top { flex-wrap: wrap !important; }
  #class-dash-top > :not(#class-projector-open) { flex: 1 1 100% !important; min-width: 100% !important; }
}
/* The projector view: the whole window, nothing of the page around it. */
.gradio-container:has(#class-projector:not(.hidden)) .main .column > *:has(~ #tabs),
.gradio-container:has(#class-projector:not(.hidden)) #tabs > .tab-wrapper,
.gradio-container:has(#class-projector:not(.hidden)) #class-about,
.gradio-container:has(#class-projector:not(.hidden)) #class-start,
.gradio-container:has(#class-projector:not(.hidden)) footer { display: none !important; }
#class-projector { position: fixed; inset: 0; z-index: 50; background: var(--body-background-fill, #fff);
  padding: 1.2vh 1.2vw; overflow: hidden; }
#class-projector > .row { height: 100%; flex-wrap: nowrap !important; }
#class-projector-side { flex: 0 0 min(30vw, 64vh) !important; min-width: 0 !important; gap: 1vh !important; }
#class-projector-main { min-width: 0 !important; overflow: hidden; height: 100%; }
.pj-label { font-size: clamp(16px, 2.4vh, 30px); opacity: 0.75; }
.pj-code { font: 700 clamp(30px, min(8.5vh, 3.4vw), 110px)/1.3 ui-monospace, monospace; letter-spacing: 0.04em; white-space: nowrap; }
.pj-title { font-size: clamp(16px, 2.8vh, 34px); }
#class-projector-qr svg { width: min(100%, 44vh); height: auto; display: block; }
#class-projector-stats p { font-size: clamp(18px, 3.6vh, 44px); margin: 0; line-height: 1.4; }
#class-projector-back { max-width: max-content; opacity: 0.6; }
</style>"""

WALL_CSS = """
.wall { display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: 8px; }
.wall figure { margin: 0; text-align: center; font-size: 11px; line-height: 1.25; }
.wall img { width: 100%; aspect-ratio: 1 / 1; background: #fff; border: 3px solid #3a3; border-radius: 6px; }
.wall figure.wrong img { border-color: #c22; }
.wall figure.wrong figcaption { color: #c22; font-weight: 600; }
.wall-empty { opacity: 0.7; }
.wall.big { grid-template-columns: repeat(auto-fill, minmax(clamp(130px, 11vw, 260px), 1fr)); gap: 1.2vh 1vw; }
.wall.big figure { font-size: clamp(13px, 1.9vh, 24px); }
.wall.big img { border-width: clamp(3px, 0.6vh, 8px); }
.wall.big figure.wrong img { outline: clamp(3px, 0.5vh, 6px) solid #c22; outline-offset: 2px; }
"""


def qr_svg(text: str) -> str:
    """A QR code as inline SVG: scales to any size, crisp on a projector."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=10, border=2, xmldecl=False, svgns=True,
                                     dark="#000", light="#fff")
    return buffer.getvalue().decode("utf-8")


def picture(d: Drawing) -> np.ndarray:
    """Black ink on white: the kept ink when there is some, else the 28x28 input."""
    ink = np.array(Image.open(io.BytesIO(d.ink_png)).convert("L")) if d.ink_png else None
    return 255 - (ink if ink is not None else d.input)


def wall_html(drawings: list[Drawing], lang: str, big: bool = False) -> str:
    """The live wall, newest first, wrong answers framed; `big`: the projector's larger tiles."""
    if not drawings:
        return f'<div class="wall-empty">{html.escape(t("class.wall_empty", lang))}</div>'
    cards = []
    for d in drawings:
        answer = "?" if d.answer is None else str(d.answer)
        prob = "" if d.confidence is None else f"{d.confidence:.0%}"
        caption = t("class.wall_caption", lang, id=d.number, label=d.label, answer=answer, prob=prob)
        name = f"<br>{html.escape(d.nickname)}" if d.nickname else ""
        wrong = " wrong" if d.answer is not None and d.answer != d.label else ""
        # the class's own number, not the store's id: the page tells nothing of other classes' drawings
        cards.append(f'<figure class="{wrong.strip()}" data-number="{d.number}"><img src="{png_data_uri(picture(d))}" '
                     f'alt="{d.label}"><figcaption>{html.escape(caption)}{name}</figcaption></figure>')
    return f'<div class="wall{" big" if big else ""}">' + "".join(cards) + "</div>"


def confusion_table(result: evaluate.Confusion, lang: str) -> dict:
    headers = [t("class.confusion_corner", lang)] + [str(i) for i in range(10)]
    rows = [[str(label)] + [int(v) for v in result.matrix[label]] for label in range(10)]
    return gr.update(value=rows, headers=headers)


def expires_text(info: ClassInfo) -> str:
    return dt.datetime.fromtimestamp(info.expires, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def dashboard_view(board: Dashboard, lang: str) -> tuple:
    """(header, wall, accuracy, confusion, nickname choices)."""
    info, result = board.info, board.confusion
    header = t("class.dashboard_title", lang, code=security.pretty_code(info.code), title=html.escape(info.title),
               count=board.drawings, students=board.students, expires=expires_text(info))
    accuracy = (t("class.accuracy_none", lang) if result.accuracy is None else
                t("class.accuracy", lang, accuracy=f"{result.accuracy:.1%}", correct=result.correct,
                  total=result.total))
    return (header, wall_html(board.newest, lang), accuracy, confusion_table(result, lang),
            gr.update(choices=board.nicknames))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def train_table(found: ClassModel, lang: str) -> str:
    r, ids = found.result, found.held_ids
    shown = ", ".join(f"#{i}" for i in ids[:HELD_IDS_SHOWN]) + (" …" if len(ids) > HELD_IDS_SHOWN else "")
    return t("class.train_table", lang, held=r.held_out, base=html.escape(found.base_title),
             mine_before=_pct(r.mine_before), mine_after=_pct(r.mine_after), mnist_before=_pct(r.mnist_before),
             mnist_after=_pct(r.mnist_after), taught=r.trained_on, ids=shown or t("class.train_none_held", lang))


def privacy_text(room, lang: str) -> str:
    """Where the class's drawings are kept (`room`: the app's `Classroom`) and for how long."""
    return t("class.privacy", lang, path=html.escape(room.store.where()), days=store.CLASS_DAYS)


def student_model_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("class.use_base", lang), "base"), (t("class.use_class", lang), "class")]


# ---------------------------------------------------------------------------------------------
# The components


def layout(L, privacy: str) -> SimpleNamespace:
    """The tab's components, in page order (`privacy`: the privacy note in English, the page's first language;
    `L`: the app's `i18n.Localizer`)."""
    gr.HTML(STUDENT_CSS, elem_id="class-style", container=False, padding=False)
    with gr.Column(elem_id="class-about"):
        L(gr.Markdown, value="class.intro")
        privacy = gr.Markdown(privacy, elem_id="class-privacy")

    # Start: join as a student, or open / reopen a class as the teacher
    with gr.Column(elem_id="class-start") as start:
        with gr.Row(equal_height=False, elem_id="class-choose") as choose:
            with gr.Column(min_width=280):
                L(gr.Markdown, value="class.student_title")
                join_code = L(gr.Textbox, label="class.join", placeholder="class.join_placeholder", max_length=20,
                              elem_id="class-join")
                join = L(gr.Button, value="class.join_go", variant="primary", elem_id="class-join-go")
            with gr.Column(min_width=280):
                L(gr.Markdown, value="class.teacher_title")
                title = L(gr.Textbox, label="class.title", max_length=store.MAX_TITLE, elem_id="class-title")
                create = L(gr.Button, value="class.create", variant="primary", elem_id="class-create")
        # First, privately: the teacher key (copy it, or download the teacher card), never beside the QR code.
        with gr.Column(visible=False, elem_id="class-key-step") as key_step:
            L(gr.Markdown, value="class.key_title")
            L(gr.Markdown, value="class.key_hint")
            teacher_key = L(gr.Textbox, label="class.teacher_key", interactive=False, buttons=["copy"],
                            elem_id="class-teacher-key")
            with gr.Row(equal_height=False, elem_classes=["class-controls"]):
                card = L(gr.Button, value="class.card", elem_id="class-card", size="sm")
                show_screen = L(gr.Button, value="class.show_screen", variant="primary", elem_id="class-show-screen")
            card_file = L(gr.File, label="class.card_file", interactive=False, visible=False,
                          elem_id="class-card-file")
        # Then the class's screen, meant for the room: code, link, QR code; no key.
        with gr.Column(visible=False, elem_id="class-created") as created:
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=280):
                    code_md = gr.Markdown(elem_id="class-code")
                    link = L(gr.Textbox, label="class.link", interactive=False, buttons=["copy"], elem_id="class-link")
                with gr.Column(scale=1, min_width=280):
                    qr = gr.HTML(elem_id="class-qr")
        with gr.Group():
            L(gr.Markdown, value="class.open_title")
            with gr.Row():
                dash_code = L(gr.Textbox, label="class.dash_code", max_length=20, elem_id="class-dash-code")
                dash_key = L(gr.Textbox, label="class.dash_key", type="password", max_length=security.MAX_KEY_CHARS,
                             elem_id="class-dash-key")
            open_dash = L(gr.Button, value="class.open", elem_id="class-open")

    # The student's phone view. `token`: the browser's own record of its place (localStorage, signed by the
    # server: classroom.identity), so a reload or a lost session keeps the student's drawings and count.
    student = gr.State(None)
    token = gr.BrowserState(None, storage_key=PLACE_KEY + "-state")  # the page's copy (PLACE_KEY below)
    with gr.Column(visible=False, elem_id="class-student") as student_view:
        joined = gr.Markdown(elem_id="class-joined")
        canvas = drawing_canvas(CANVAS_ID, device=True)
        answer = gr.Markdown(t("class.msg.draw_first"), elem_id="class-answer")
        note = device.source_note("", elem_id="class-answer-source")  # the student's model's file, once joined
        teach = []
        for first in (0, 5):
            with gr.Row(elem_classes=["teach-row"]):
                for d in range(first, first + 5):
                    teach.append(L(gr.Button, value="common.its_digit", fill={"digit": d}, elem_id=f"class-teach-{d}",
                                   size="sm", min_width=0, variant="primary"))
        count = gr.Markdown(elem_id="class-count")
        with gr.Row():
            undo = L(gr.Button, value="class.undo", size="sm", elem_id="class-undo")
            clear = L(gr.Button, value="class.clear", size="sm", elem_id="class-clear")
        student_model = L(gr.Radio, student_model_choices("en"), value="base", label="class.student_model",
                          elem_id="class-student-model")
        nickname = L(gr.Textbox, label="class.nickname", placeholder="class.nickname_placeholder",
                     max_length=store.MAX_NICKNAME, elem_id="class-nickname")
        own = student_layout(L)  # Everyone trains: the student's own network
        with L(gr.Accordion, label="class.mine", open=False):
            mine = gr.Gallery(columns=6, height="auto", object_fit="contain", elem_id="class-mine",
                              show_label=False, allow_preview=False)
        leave = L(gr.Button, value="class.leave", size="sm", elem_id="class-leave")

    # The teacher's dashboard: empty until a handler has checked the key. Header, accuracy and the way to the
    # projector first, the wall right under them (on the first screen), then the teacher's tools.
    with gr.Column(visible=False, elem_id="class-dashboard") as dash:
        with gr.Row(equal_height=False, elem_id="class-dash-top"):
            header = gr.Markdown(elem_id="class-dash-header")
            accuracy = gr.Markdown(elem_id="class-accuracy")
            projector = L(gr.Button, value="class.projector", variant="primary", elem_id="class-projector-open",
                          scale=0)
        L(gr.Markdown, value="class.wall")
        wall = gr.HTML(css_template=WALL_CSS, elem_id="class-wall")
        choices = model_choices(None, "mnist")
        model = L(gr.Dropdown, choices, value=DEFAULT_MODEL if DEFAULT_MODEL in [k for _, k in choices] else None,
                  label="class.model", elem_id="class-model")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                confusion = L(gr.Dataframe, label="class.confusion", interactive=False, elem_id="class-confusion",
                              headers=["given \\ answer"] + [str(i) for i in range(10)], wrap=False)
            with gr.Column(scale=2):  # shown once a cell is clicked
                cell = L(gr.Gallery, label="class.cell", columns=6, height=260, object_fit="contain",
                         elem_id="class-cell", allow_preview=False, visible=False)
        with gr.Row(equal_height=False, elem_classes=["class-controls"]):
            remove_id = L(gr.Number, label="class.remove_id", precision=0, value=None, elem_id="class-remove-id")
            remove = L(gr.Button, value="class.remove", variant="stop", elem_id="class-remove")
            pick = L(gr.Dropdown, [], label="class.remove_nickname_pick", allow_custom_value=True,
                     elem_id="class-remove-nickname-pick")
            remove_name = L(gr.Button, value="class.remove_nickname", variant="stop", elem_id="class-remove-nickname")
        # Against a flood: a whole student, everything anonymous from #N, no more joins
        with gr.Row(equal_height=False, elem_classes=["class-controls"]):
            remove_student = L(gr.Button, value="class.remove_student", variant="stop", elem_id="class-remove-student")
            remove_anonymous = L(gr.Button, value="class.remove_anonymous", variant="stop",
                                 elem_id="class-remove-anonymous")
            joining = L(gr.Checkbox, label="class.joining", value=True, elem_id="class-joining")
        with gr.Row(equal_height=False, elem_classes=["class-controls"]):
            export_button = L(gr.Button, value="class.export", elem_id="class-export")
            export_file = L(gr.File, label="class.export_file", interactive=False, visible=False,
                            elem_id="class-export-file")  # shown once an export filled it
        with gr.Group(elem_id="class-train-panel"):
            L(gr.Markdown, value="class.train_title")
            with gr.Row(equal_height=False, elem_classes=["class-controls"]):
                train = L(gr.Button, value="class.train", variant="primary", elem_id="class-train")
                train_stop = L(gr.Button, value="class.train_stop", interactive=False, elem_id="class-train-stop")
            train_progress = gr.Markdown("", elem_id="class-train-progress")
            train_result = gr.Markdown("", elem_id="class-train-result")
        board = board_layout(L)  # Everyone trains: the class's leaderboard
        with gr.Row(equal_height=False, elem_classes=["class-controls"]):
            renew = L(gr.Button, value="class.renew", elem_id="class-renew")
            confirm = L(gr.Checkbox, label="class.delete_confirm", value=False, elem_id="class-delete-confirm")
            delete = L(gr.Button, value="class.delete", variant="stop", elem_id="class-delete")
            close = L(gr.Button, value="class.close_dashboard", elem_id="class-close")

    timer = gr.Timer(REFRESH_S, active=False)
    return SimpleNamespace(timer=timer, seen=gr.State(None), privacy=privacy, start=start, join_code=join_code,
                           join=join, title=title, create=create, created=created, code_md=code_md, link=link,
                           teacher_key=teacher_key, qr=qr, dash_code=dash_code, dash_key=dash_key,
                           choose=choose, key_step=key_step, card=card, card_file=card_file, show_screen=show_screen,
                           projector=projector, open_dash=open_dash, student=student, token=token, student_view=student_view, joined=joined,
                           canvas=canvas, answer=answer, note=note, teach=teach, count=count, undo=undo, clear=clear,
                           student_model=student_model, nickname=nickname, mine=mine, leave=leave, dash=dash,
                           header=header, model=model, accuracy=accuracy, wall=wall, confusion=confusion, cell=cell,
                           remove_id=remove_id, remove=remove, pick=pick, remove_name=remove_name,
                           remove_student=remove_student, remove_anonymous=remove_anonymous, joining=joining,
                           export_button=export_button, export_file=export_file, train=train, train_stop=train_stop,
                           train_progress=train_progress, train_result=train_result, renew=renew, confirm=confirm,
                           delete=delete, close=close, **own, **board)
