"""The Class tab: a teacher opens a class (code, join link, QR code, teacher key), students join from
their phones and give labelled drawings, and the teacher's dashboard shows, judges, cleans and exports them.

The store is `mnist_demo.classroom`. Security does not rest on the page: every event can be called by
number through /gradio_api with any session hash and any inputs, so
* every dashboard handler takes the class code and teacher key as inputs and checks them itself
  (`_teacher`), never a hidden component or a session flag; a refusal says nothing about whether
  the code exists, and failed tries are rate-limited per address and per class;
* a student's class and random student id live in server-side `gr.State` (filled in on the server
  for the session hash), and students only ever read drawings of their own student id;
* joins with a wrong code are rate-limited per address (`classroom.security`);
* "Train on our class" (`on_train`, `on_train_stop`) checks the key like every dashboard handler; the class
  model it makes is kept in memory by `classroom.tuning` and read only by students of that class who pick it
  (`_student_entry` looks it up by the class code in the student's server-side state).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import io
import os
import secrets
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from ..catalog import DEFAULT_MODEL, resolve
from ..classroom import evaluate, export, security, store, tuning
from ..classroom.store import ClassError, ClassInfo, default_store
from ..pictures import png_data_uri
from ..reading import predict
from ..reading.files import PictureError, decode_ink_payload
from ..training import teach as teaching
from .canvas import drawing_canvas
from .draw_tab import PREDICTING, status_text
from .i18n import t
from .session import Session, model_choices

GUARD = security.Guard()  # the process's rate limits
WALL_SIZE = 48  # drawings on the live wall
MINE_SIZE = 30  # a student's own drawings shown back
REFRESH_S = 3.0  # the wall's refresh
TRAIN_UPDATE_S = 0.5  # the training's progress line
HELD_IDS_SHOWN = 40  # held-out drawing numbers listed under the comparison
CANVAS_ID = "class-canvas"
PRIVATE = {"api_visibility": "private"}
LIVE = {"queue": False, "show_progress": "hidden", "trigger_mode": "always_last", **PRIVATE}
UNDO_JS = f"() => {{ document.querySelector('#{CANVAS_ID} canvas.ink')?.dispatchEvent(new Event('pad-undo')); }}"
CLEAR_JS = f"() => {{ document.querySelector('#{CANVAS_ID} canvas.ink')?.dispatchEvent(new Event('pad-clear')); }}"
REFUSALS = {  # ClassError.reason -> message key
    "class_full": "class.msg.class_full",
    "student_full": "class.msg.student_full",
    "too_many_students": "class.msg.too_many_students",
    "too_many_classes": "class.msg.too_many_classes",
    "no_class": "class.msg.gone",
}

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
</style>"""

WALL_CSS = """
.wall { display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: 8px; }
.wall figure { margin: 0; text-align: center; font-size: 11px; line-height: 1.25; }
.wall img { width: 100%; aspect-ratio: 1 / 1; background: #fff; border: 3px solid #3a3; border-radius: 6px; }
.wall figure.wrong img { border-color: #c22; }
.wall figure.wrong figcaption { color: #c22; font-weight: 600; }
.wall-empty { opacity: 0.7; }
"""


@dataclass
class Student:
    """A joined student's place, kept server-side in gr.State: which class, and a random id for "mine"."""

    code: str
    title: str
    model: str
    student: str
    use_class_model: bool = False  # the student picked "Our class's model" (used once the teacher trained one)


# ---------------------------------------------------------------------------------------------
# Small helpers


def client_address(request: gr.Request | None) -> str:
    """The caller's address for rate limits; behind Spaces' proxy, the first X-Forwarded-For hop."""
    if request is None:
        return "local"
    headers = {k.lower(): v for k, v in dict(request.headers or {}).items()}
    forwarded = headers.get("x-forwarded-for", "")
    if forwarded and (os.environ.get("SPACE_ID") or os.environ.get("MNIST_DEMO_TRUST_PROXY")):
        return forwarded.split(",")[0].strip()
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def page_url(request: gr.Request | None) -> str:
    """The app's address as the browser sees it (for the join link): $MNIST_DEMO_PUBLIC_URL, the referer, the host."""
    configured = os.environ.get("MNIST_DEMO_PUBLIC_URL")
    if configured:
        return configured.rstrip("/") + "/"
    headers = {k.lower(): v for k, v in dict(request.headers or {}).items()} if request is not None else {}
    referer = urllib.parse.urlsplit(headers.get("referer", ""))
    if referer.scheme in ("http", "https") and referer.netloc:
        return urllib.parse.urlunsplit((referer.scheme, referer.netloc, referer.path or "/", "", ""))
    host = headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1:7860"
    scheme = headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}/"


def join_link(code: str, request: gr.Request | None) -> str:
    return f"{page_url(request)}?class={code}"


def qr_svg(text: str) -> str:
    """A QR code as inline SVG: scales to any size, crisp on a projector."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=10, border=2, xmldecl=False, svgns=True,
                                     dark="#000", light="#fff")
    return buffer.getvalue().decode("utf-8")


def _minutes(seconds: float) -> int:
    return max(1, int(seconds // 60) + 1)


def _expires(info: ClassInfo) -> str:
    return dt.datetime.fromtimestamp(info.expires, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _png_image(png: bytes | None) -> np.ndarray | None:
    if not png:
        return None
    return np.array(Image.open(io.BytesIO(png)).convert("L"))


def privacy_text(lang: str) -> str:
    return t("class.privacy", lang, path=html.escape(default_store().where()), days=store.CLASS_DAYS)


def _model_entry(key: str | None, session: Session | None):
    return resolve(key, session.trained if isinstance(session, Session) else None)


def _student_entry(student: Student | None):
    """The model that reads a student's drawings: the class model of the student's own class when they picked it
    and the teacher has trained one (in memory, `classroom.tuning`), else the class's model."""
    if isinstance(student, Student) and student.use_class_model:
        found = tuning.MODELS.get(student.code)
        if found is not None:
            return found.entry
    return _model_entry(student.model if isinstance(student, Student) else None, None)


# ---------------------------------------------------------------------------------------------
# The teacher's gate: every dashboard handler starts here


class Refused(Exception):
    pass


def _teacher(code: object, key: object, request: gr.Request | None, lang: str) -> ClassInfo:
    """The class if `key` is its teacher key; raises gr.Error otherwise (rate-limited, the same answer for
    an unknown code and a wrong key)."""
    address = client_address(request)
    normalized = security.normalize_code(code)
    if not GUARD.may_try_key(address, normalized):
        wait = max(GUARD.key_failures.retry_after(address),
                   GUARD.class_key_failures.retry_after(normalized) if normalized else 0.0)
        raise gr.Error(t("class.msg.slow_down", lang, minutes=_minutes(wait)), print_exception=False)
    info = default_store().check_key(normalized, key) if normalized else None
    if info is None:
        GUARD.failed_key(address, normalized)
        raise gr.Error(t("class.msg.refused", lang), print_exception=False)
    return info


# ---------------------------------------------------------------------------------------------
# Teacher: open a class


def on_create(title: str, lang: str, request: gr.Request) -> tuple:
    """(created panel, code, link, QR, teacher key, dashboard code, dashboard key)."""
    address = client_address(request)
    if not GUARD.may_create(address):
        raise gr.Error(t("class.msg.slow_down", lang, minutes=_minutes(GUARD.creates.retry_after(address))), print_exception=False)
    try:
        info, key = default_store().create_class(title or "", DEFAULT_MODEL)
    except ClassError as exc:
        message = REFUSALS.get(exc.reason, "class.msg.too_many_classes")
        raise gr.Error(t(message, lang), print_exception=False) from None
    GUARD.created(address)
    link = join_link(info.code, request)
    gr.Info(t("class.msg.created", lang))
    code_md = t("class.code_md", lang, code=security.pretty_code(info.code), title=html.escape(info.title))
    return gr.update(visible=True), code_md, link, qr_svg(link), key, security.pretty_code(info.code), key


# ---------------------------------------------------------------------------------------------
# Students


def _join(code: object, request: gr.Request | None, lang: str) -> Student:
    address = client_address(request)
    if not GUARD.may_join(address):
        raise gr.Error(t("class.msg.slow_down", lang, minutes=_minutes(GUARD.join_failures.retry_after(address))), print_exception=False)
    info = default_store().get_class(code)
    if info is None:
        GUARD.failed_join(address)
        raise gr.Error(t("class.msg.no_class", lang), print_exception=False)
    return Student(info.code, info.title, info.model or DEFAULT_MODEL, secrets.token_urlsafe(12))


def _student_view(student: Student, lang: str, feedback: str | None = None) -> tuple:
    """(start panel, student panel, student state, header, count line, my drawings)."""
    count = default_store().student_count(student.code, student.student)
    header = t("class.joined", lang, code=security.pretty_code(student.code), title=html.escape(student.title))
    return (gr.update(visible=False), gr.update(visible=True), student, header,
            feedback or t("class.given", lang, count=count), my_drawings(student, lang))


def on_join(code: str, lang: str, request: gr.Request) -> tuple:
    return _student_view(_join(code, request, lang), lang)


def on_join_link(lang: str, request: gr.Request) -> tuple:
    """`?class=CODE` in the address: select this tab and join. (tabs, *the student view)"""
    code = dict(request.query_params or {}).get("class") if request is not None else None
    if not code:
        return gr.skip(), *(gr.skip(),) * 6
    try:
        student = _join(code, request, lang)
    except gr.Error as exc:
        gr.Warning(exc.message)
        return gr.Tabs(selected="class"), *(gr.skip(),) * 6
    return gr.Tabs(selected="class"), *_student_view(student, lang)


def on_leave() -> tuple:
    return gr.update(visible=True), gr.update(visible=False), None, "", "", []


def student_model_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("class.use_base", lang), "base"), (t("class.use_class", lang), "class")]


def on_student_model(choice: str, student: Student | None, lang: str) -> tuple:
    """The student picks which network reads their drawings. (student state, answer line)"""
    if not isinstance(student, Student):
        return gr.skip(), t("class.msg.not_joined", lang)
    chosen = dataclasses.replace(student, use_class_model=choice == "class")
    if not chosen.use_class_model:
        return chosen, t("class.base_model_on", lang)
    has_one = tuning.MODELS.get(chosen.code) is not None
    return chosen, t("class.class_model_on" if has_one else "class.no_class_model", lang)


def my_drawings(student: Student | None, lang: str) -> list:
    """(picture, caption) of this student's own drawings, newest first: never anyone else's."""
    if not isinstance(student, Student):
        return []
    out = []
    for d in default_store().student_drawings(student.code, student.student, MINE_SIZE):
        answer = "?" if d.answer is None else str(d.answer)
        out.append((255 - np.kron(d.input, np.ones((4, 4), np.uint8)),
                    t("class.mine_caption", lang, id=d.id, label=d.label, answer=answer)))
    return out


async def on_live(payload: str | None, student: Student | None, lang: str) -> str:
    """The answer while drawing, by the class's model (lean like the Draw tab's live event)."""
    entry = _student_entry(student)
    if entry is None:
        return t("draw.msg.no_model", lang)
    reading = await predict.read_drawing_async(payload, entry.model)
    return t("class.msg.draw_first", lang) if reading.outcome == predict.BLANK else status_text(reading, lang)


def give(digit: int, payload: str | None, student: Student | None, nickname: str, lang: str) -> tuple:
    """The student says the drawing is `digit`: store it. (canvas, count line, my drawings)"""
    if not isinstance(student, Student):
        raise gr.Error(t("class.msg.not_joined", lang), print_exception=False)
    entry = _student_entry(student)
    if entry is None:
        raise gr.Error(t("draw.msg.no_model", lang), print_exception=False)
    try:
        ink = decode_ink_payload(payload)
    except PictureError:
        raise gr.Error(t("draw.msg.bad_drawing", lang), print_exception=False) from None
    with PREDICTING:
        reading = predict.read_drawing(payload, entry.model)
    if reading.outcome == predict.UNREADABLE:
        raise gr.Error(t("draw.msg.bad_drawing", lang), print_exception=False)
    if reading.prepared is None or reading.prepared.blank or reading.top is None:
        raise gr.Error(t("class.msg.draw_first", lang), print_exception=False)
    answer, confidence = reading.top
    try:
        default_store().add_drawing(student.code, student.student, reading.prepared.image, int(digit), ink=ink,
                                    answer=int(answer), confidence=confidence, nickname=nickname or "",
                                    model=entry.key)
    except ClassError as exc:
        limits = {"class_full": store.MAX_DRAWINGS_PER_CLASS, "student_full": store.MAX_DRAWINGS_PER_STUDENT,
                  "too_many_students": store.MAX_STUDENTS_PER_CLASS}
        key = REFUSALS.get(exc.reason, "class.msg.gone")
        message = t(key, lang, limit=limits[exc.reason]) if exc.reason in limits else t(key, lang)
        raise gr.Error(message, print_exception=False) from None
    count = default_store().student_count(student.code, student.student)
    verdict = (t("class.verdict_right", lang) if int(answer) == int(digit)
               else t("class.verdict_wrong", lang, answer=answer))
    return "", t("class.saved", lang, label=digit, verdict=verdict, count=count), my_drawings(student, lang)


def giver(digit: int):
    def handler(payload: str | None, student: Student | None, nickname: str, lang: str) -> tuple:
        return give(digit, payload, student, nickname, lang)

    handler.__name__ = f"give_{digit}"
    return handler


# ---------------------------------------------------------------------------------------------
# The teacher's dashboard: each handler checks the key itself


def wall_html(drawings: list[store.Drawing], lang: str) -> str:
    if not drawings:
        return f'<div class="wall-empty">{html.escape(t("class.wall_empty", lang))}</div>'
    cards = []
    for d in drawings:
        ink = _png_image(d.ink_png)
        picture = png_data_uri(255 - (ink if ink is not None else d.input))  # black ink on white
        answer = "?" if d.answer is None else str(d.answer)
        prob = "" if d.confidence is None else f"{d.confidence:.0%}"
        caption = t("class.wall_caption", lang, id=d.id, label=d.label, answer=answer, prob=prob)
        name = f"<br>{html.escape(d.nickname)}" if d.nickname else ""
        wrong = " wrong" if d.answer is not None and d.answer != d.label else ""
        cards.append(f'<figure class="{wrong.strip()}" data-id="{d.id}"><img src="{picture}" alt="{d.label}">'
                     f"<figcaption>{html.escape(caption)}{name}</figcaption></figure>")
    return '<div class="wall">' + "".join(cards) + "</div>"


def confusion_table(result: evaluate.Confusion, lang: str) -> dict:
    headers = [t("class.confusion_corner", lang)] + [str(i) for i in range(10)]
    rows = [[str(label)] + [int(v) for v in result.matrix[label]] for label in range(10)]
    return gr.update(value=rows, headers=headers)


def dashboard(info: ClassInfo, key_model: str | None, session: Session | None, lang: str) -> tuple:
    """(header, wall, accuracy, confusion, nickname choices) for a class whose key was checked."""
    db = default_store()
    newest = db.newest(info.code, WALL_SIZE, with_ink=True)
    everything = db.all_drawings(info.code)
    students = len({d.student for d in everything})
    header = t("class.dashboard_title", lang, code=security.pretty_code(info.code), title=html.escape(info.title),
               count=len(everything), students=students, expires=_expires(info))
    entry = _model_entry(key_model, session)
    result = evaluate.confusion(entry.model, everything) if entry is not None else evaluate.Confusion(
        np.zeros((10, 10), np.int64))
    accuracy = (t("class.accuracy_none", lang) if result.accuracy is None else
                t("class.accuracy", lang, accuracy=f"{result.accuracy:.1%}", correct=result.correct,
                  total=result.total))
    names = [name for name, _ in db.nicknames(info.code)]
    return header, wall_html(newest, lang), accuracy, confusion_table(result, lang), gr.update(choices=names)


def on_open(code: str, key: str, model: str, session: Session, lang: str, request: gr.Request) -> tuple:
    """(dashboard panel, timer, *dashboard)."""
    info = _teacher(code, key, request, lang)
    return gr.update(visible=True), gr.Timer(active=True), *dashboard(info, model, session, lang)


def on_tick(code: str, key: str, model: str, session: Session, lang: str, seen: object,
            request: gr.Request) -> tuple:
    """The wall's refresh: (seen, timer, *dashboard), the dashboard only when something changed."""
    try:
        info = _teacher(code, key, request, lang)
    except gr.Error:
        return None, gr.Timer(active=False), *(gr.skip(),) * 5
    db = default_store()
    now_seen = (info.code, db.latest_id(info.code), db.count(info.code), model, lang, info.expires)
    if now_seen == seen:
        return seen, gr.skip(), *(gr.skip(),) * 5
    return now_seen, gr.skip(), *dashboard(info, model, session, lang)


def on_cell(code: str, key: str, model: str, session: Session, lang: str, evt: gr.SelectData,
            request: gr.Request) -> list:
    """The drawings of the clicked confusion cell (row: the digit given, column: the answer)."""
    info = _teacher(code, key, request, lang)
    row, column = (evt.index if isinstance(evt.index, (list, tuple)) else (None, None))
    if not isinstance(row, int) or not isinstance(column, int) or not (0 <= row <= 9 and 1 <= column <= 10):
        return []
    entry = _model_entry(model, session)
    if entry is None:
        return []
    everything = default_store().all_drawings(info.code, with_ink=True)
    result = evaluate.confusion(entry.model, everything)
    wanted = set(result.cells.get((row, column - 1), []))
    out = []
    for d in reversed(everything):
        if d.id in wanted:
            picture = _png_image(d.ink_png)
            out.append((255 - (picture if picture is not None else d.input),
                        t("class.cell_caption", lang, id=d.id, nickname=d.nickname)))
    return out


def on_remove(code: str, key: str, drawing_id: float | None, model: str, session: Session, lang: str,
              request: gr.Request) -> tuple:
    info = _teacher(code, key, request, lang)
    removed = 0
    if isinstance(drawing_id, (int, float)) and drawing_id >= 1:
        removed = int(default_store().remove_drawing(info.code, int(drawing_id)))
    gr.Info(t("class.removed", lang, count=removed))
    return dashboard(info, model, session, lang)


def on_remove_nickname(code: str, key: str, nickname: str | None, model: str, session: Session, lang: str,
                       request: gr.Request) -> tuple:
    info = _teacher(code, key, request, lang)
    removed = default_store().remove_nickname(info.code, nickname or "")
    gr.Info(t("class.removed", lang, count=removed))
    return dashboard(info, model, session, lang)


def on_export(code: str, key: str, session: Session, lang: str, request: gr.Request) -> str:
    """The class dataset as a zip file (served to this browser only, from this session's folder)."""
    info = _teacher(code, key, request, lang)
    data = export.dataset_zip(default_store().all_drawings(info.code), info.title)
    folder = session.workdir() if isinstance(session, Session) else Path(tempfile.mkdtemp(prefix="mnist-demo-class-"))
    path = Path(folder) / f"class-{info.code}.zip"
    path.write_bytes(data)
    return str(path)


def on_renew(code: str, key: str, model: str, session: Session, lang: str, request: gr.Request) -> tuple:
    info = _teacher(code, key, request, lang)
    renewed = default_store().renew(info.code) or info
    return dashboard(renewed, model, session, lang)


def on_delete(code: str, key: str, confirmed: bool, lang: str, request: gr.Request) -> tuple:
    """(dashboard panel, timer, confirm box, dashboard key)."""
    info = _teacher(code, key, request, lang)
    if confirmed is not True:
        raise gr.Error(t("class.delete_tick", lang), print_exception=False)
    default_store().delete_class(info.code)
    tuning.MODELS.drop(info.code)
    job = TRAINING.pop(info.code, None)
    if job is not None:
        job.stop.set()
    gr.Info(t("class.deleted", lang))
    return gr.update(visible=False), gr.Timer(active=False), False, ""


# ---------------------------------------------------------------------------------------------
# Train on our class: fine-tune through `training.teach` (a TeachJob: its own process, under the global
# training cap); the result is kept in memory by `classroom.tuning`


TRAINING: dict[str, teaching.TeachJob] = {}  # class code -> its running teaching (one per class)


def _mnist_before(entry) -> float | None:
    """The base model's MNIST test accuracy from its card when measured on the whole test set."""
    acc, images = entry.card.get("test_accuracy"), entry.card.get("test_images", 10_000)
    return float(acc) if isinstance(acc, (int, float)) and images == 10_000 else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def train_table(found: tuning.ClassModel, lang: str) -> str:
    r = found.result
    ids = found.held_ids
    shown = ", ".join(f"#{i}" for i in ids[:HELD_IDS_SHOWN]) + (" …" if len(ids) > HELD_IDS_SHOWN else "")
    return t("class.train_table", lang, held=r.held_out, base=html.escape(found.base_title),
             mine_before=_pct(r.mine_before), mine_after=_pct(r.mine_after), mnist_before=_pct(r.mnist_before),
             mnist_after=_pct(r.mnist_after), taught=r.trained_on, ids=shown or t("class.train_none_held", lang))


async def on_train(code: str, key: str, model: str, session: Session, lang: str, request: gr.Request):
    """Fine-tune the picked model on the class's drawings; streams (progress, comparison, train, stop)."""
    info = _teacher(code, key, request, lang)

    def out(message, table=None, running=False):
        return (message, gr.skip() if table is None else table, gr.update(interactive=not running),
                gr.update(interactive=running))

    drawings = default_store().all_drawings(info.code)
    if len(drawings) < tuning.MIN_DRAWINGS:
        yield out(t("class.train_few", lang, min=tuning.MIN_DRAWINGS, count=len(drawings)))
        return
    if info.code in TRAINING:
        yield out(t("class.train_busy", lang))
        return
    entry = _model_entry(model, session)
    if entry is None:
        yield out(t("draw.msg.no_model", lang))
        return
    split = tuning.split_drawings(drawings)
    job = teaching.TeachJob(entry.model, entry.card["model"], split.taught, split.held,
                            mnist_before=_mnist_before(entry))
    TRAINING[info.code] = job
    job.start()
    try:
        while not job.finished:
            if job.state == "queued":
                yield out(t("class.train_queued", lang, position=max(job.position, 1)), "", True)
            else:
                latest = job.latest
                yield out(t("class.train_running", lang, count=len(split.taught),
                            percent=f"{latest.fraction:.0%}" if latest else "0%",
                            seconds=f"{latest.elapsed:.0f}" if latest else "0"), "", True)
            await asyncio.sleep(TRAIN_UPDATE_S)
        if job.state == "failed":
            yield out(t("class.train_failed", lang, error=job.error))
        elif job.state == "cancelled" or default_store().get_class(info.code) is None:
            yield out(t("class.train_cancelled", lang))
        else:
            found = tuning.make_class_model(info.code, entry, job.result, split, security.pretty_code(info.code))
            tuning.MODELS.put(found)
            stopped = t("class.train_stopped", lang) if job.result.stopped else ""
            yield out(t("class.train_done", lang, seconds=f"{job.result.seconds:.0f}", stopped=stopped),
                      train_table(found, lang))
    finally:
        if not job.finished:
            job.stop.set()  # the page went away mid-run
        if TRAINING.get(info.code) is job:
            del TRAINING[info.code]


def on_train_stop(code: str, key: str, lang: str, request: gr.Request) -> None:
    info = _teacher(code, key, request, lang)
    job = TRAINING.get(info.code)
    if job is not None:
        job.stop.set()


def on_close_dashboard() -> tuple:
    return gr.update(visible=False), gr.Timer(active=False), None


def on_language(lang: str) -> tuple:
    """The texts built with placeholders: the privacy note and the ten buttons; the students' model choice."""
    return (privacy_text(lang), *[gr.update(value=t("class.teach", lang, digit=d)) for d in range(10)],
            gr.update(choices=student_model_choices(lang)))


# ---------------------------------------------------------------------------------------------
# Layout and wiring


def build(ctx) -> None:
    L = ctx.localizer
    gr.HTML(STUDENT_CSS, elem_id="class-style", container=False, padding=False)
    with gr.Column(elem_id="class-about"):
        L(gr.Markdown, value="class.intro")
        privacy = gr.Markdown(privacy_text("en"), elem_id="class-privacy")

    # Start: join as a student, or open / reopen a class as the teacher
    with gr.Column(elem_id="class-start") as start:
        with gr.Row(equal_height=False):
            with gr.Column(min_width=280):
                L(gr.Markdown, value="class.student_title")
                join_code = L(gr.Textbox, label="class.join", placeholder="class.join_placeholder", max_length=20,
                              elem_id="class-join")
                join = L(gr.Button, value="class.join_go", variant="primary", elem_id="class-join-go")
            with gr.Column(min_width=280):
                L(gr.Markdown, value="class.teacher_title")
                title = L(gr.Textbox, label="class.title", max_length=store.MAX_TITLE, elem_id="class-title")
                create = L(gr.Button, value="class.create", variant="primary", elem_id="class-create")
        with gr.Column(visible=False, elem_id="class-created") as created:
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=280):
                    code_md = gr.Markdown(elem_id="class-code")
                    link = L(gr.Textbox, label="class.link", interactive=False, buttons=["copy"], elem_id="class-link")
                    teacher_key = L(gr.Textbox, label="class.teacher_key", interactive=False, buttons=["copy"],
                                    elem_id="class-teacher-key")
                with gr.Column(scale=1, min_width=280):
                    qr = gr.HTML(elem_id="class-qr")
        with gr.Group():
            L(gr.Markdown, value="class.open_title")
            with gr.Row():
                dash_code = L(gr.Textbox, label="class.dash_code", max_length=20, elem_id="class-dash-code")
                dash_key = L(gr.Textbox, label="class.dash_key", type="password", max_length=security.MAX_KEY_CHARS,
                             elem_id="class-dash-key")
            open_dash = L(gr.Button, value="class.open", elem_id="class-open")

    # The student's phone view
    student = gr.State(None)
    with gr.Column(visible=False, elem_id="class-student") as student_view:
        joined = gr.Markdown(elem_id="class-joined")
        canvas = drawing_canvas(CANVAS_ID)
        answer = gr.Markdown(t("class.msg.draw_first"), elem_id="class-answer")
        teach = []
        for first in (0, 5):
            with gr.Row(elem_classes=["teach-row"]):
                for d in range(first, first + 5):
                    teach.append(gr.Button(t("class.teach", digit=d), elem_id=f"class-teach-{d}", size="sm",
                                           min_width=0, variant="primary"))
        count = gr.Markdown(elem_id="class-count")
        with gr.Row():
            undo = L(gr.Button, value="class.undo", size="sm", elem_id="class-undo")
            clear = L(gr.Button, value="class.clear", size="sm", elem_id="class-clear")
        student_model = L(gr.Radio, student_model_choices("en"), value="base", label="class.student_model",
                          elem_id="class-student-model")
        nickname = L(gr.Textbox, label="class.nickname", placeholder="class.nickname_placeholder",
                     max_length=store.MAX_NICKNAME, elem_id="class-nickname")
        with L(gr.Accordion, label="class.mine", open=False):
            mine = gr.Gallery(columns=6, height="auto", object_fit="contain", elem_id="class-mine",
                              show_label=False, allow_preview=False)
        leave = L(gr.Button, value="class.leave", size="sm", elem_id="class-leave")

    # The teacher's dashboard: empty until a handler has checked the key
    with gr.Column(visible=False, elem_id="class-dashboard") as dash:
        header = gr.Markdown(elem_id="class-dash-header")
        with gr.Row(equal_height=True):
            choices = model_choices(None, "mnist")
            model = L(gr.Dropdown, choices, value=DEFAULT_MODEL if DEFAULT_MODEL in [k for _, k in choices] else None,
                      label="class.model", elem_id="class-model")
            accuracy = gr.Markdown(elem_id="class-accuracy")
        L(gr.Markdown, value="class.wall")
        wall = gr.HTML(css_template=WALL_CSS, elem_id="class-wall")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                confusion = L(gr.Dataframe, label="class.confusion", interactive=False, elem_id="class-confusion",
                              headers=["given \\ answer"] + [str(i) for i in range(10)], wrap=False)
            with gr.Column(scale=2):
                cell = L(gr.Gallery, label="class.cell", columns=6, height=260, object_fit="contain",
                         elem_id="class-cell", allow_preview=False)
        with gr.Row(equal_height=True):
            remove_id = L(gr.Number, label="class.remove_id", precision=0, value=None, elem_id="class-remove-id")
            remove = L(gr.Button, value="class.remove", variant="stop", elem_id="class-remove")
            pick = L(gr.Dropdown, [], label="class.remove_nickname_pick", allow_custom_value=True,
                     elem_id="class-remove-nickname-pick")
            remove_name = L(gr.Button, value="class.remove_nickname", variant="stop", elem_id="class-remove-nickname")
        with gr.Row(equal_height=True):
            export_button = L(gr.Button, value="class.export", elem_id="class-export")
            export_file = L(gr.File, label="class.export_file", interactive=False, elem_id="class-export-file")
        with gr.Group(elem_id="class-train-panel"):
            L(gr.Markdown, value="class.train_title")
            with gr.Row(equal_height=True):
                train = L(gr.Button, value="class.train", variant="primary", elem_id="class-train")
                train_stop = L(gr.Button, value="class.train_stop", interactive=False, elem_id="class-train-stop")
            train_progress = gr.Markdown("", elem_id="class-train-progress")
            train_result = gr.Markdown("", elem_id="class-train-result")
        with gr.Row(equal_height=True):
            renew = L(gr.Button, value="class.renew", elem_id="class-renew")
            confirm = L(gr.Checkbox, label="class.delete_confirm", value=False, elem_id="class-delete-confirm")
            delete = L(gr.Button, value="class.delete", variant="stop", elem_id="class-delete")
            close = L(gr.Button, value="class.close_dashboard", elem_id="class-close")
    timer = gr.Timer(REFRESH_S, active=False)
    seen = gr.State(None)

    lang = ctx.lang
    student_outputs = [start, student_view, student, joined, count, mine]
    create.click(on_create, [title, lang], [created, code_md, link, qr, teacher_key, dash_code, dash_key],
                 **PRIVATE)
    join.click(on_join, [join_code, lang], student_outputs, **PRIVATE)
    join_code.submit(on_join, [join_code, lang], student_outputs, **PRIVATE)
    leave.click(on_leave, None, student_outputs, **PRIVATE)

    canvas.change(on_live, [canvas, student, lang], answer, preprocess=False, postprocess=False, **LIVE)
    for d, button in enumerate(teach):
        # One shared group for the ten buttons: each event alone would queue a class's saves one at a time.
        button.click(giver(d), [canvas, student, nickname, lang], [canvas, count, mine], concurrency_limit=4,
                     concurrency_id="class-save", **PRIVATE)
    student_model.change(on_student_model, [student_model, student, lang], [student, answer], **PRIVATE)
    undo.click(None, js=UNDO_JS, **PRIVATE)
    clear.click(None, js=CLEAR_JS, **PRIVATE)

    keyed = [dash_code, dash_key]
    shown = [header, wall, accuracy, confusion, pick]
    open_dash.click(on_open, [*keyed, model, ctx.session, lang], [dash, timer, *shown], **PRIVATE)
    dash_key.submit(on_open, [*keyed, model, ctx.session, lang], [dash, timer, *shown], **PRIVATE)
    timer.tick(on_tick, [*keyed, model, ctx.session, lang, seen], [seen, timer, *shown], show_progress="hidden",
               **PRIVATE)
    model.input(on_open, [*keyed, model, ctx.session, lang], [dash, timer, *shown], **PRIVATE)
    confusion.select(on_cell, [*keyed, model, ctx.session, lang], cell, **PRIVATE)
    remove.click(on_remove, [*keyed, remove_id, model, ctx.session, lang], shown, **PRIVATE)
    remove_name.click(on_remove_nickname, [*keyed, pick, model, ctx.session, lang], shown, **PRIVATE)
    export_button.click(on_export, [*keyed, ctx.session, lang], export_file, **PRIVATE)
    train.click(on_train, [*keyed, model, ctx.session, lang], [train_progress, train_result, train, train_stop],
                concurrency_limit=None, **PRIVATE)
    train_stop.click(on_train_stop, [*keyed, lang], None, queue=False, **PRIVATE)
    renew.click(on_renew, [*keyed, model, ctx.session, lang], shown, **PRIVATE)
    delete.click(on_delete, [*keyed, confirm, lang], [dash, timer, confirm, dash_key], **PRIVATE)
    close.click(on_close_dashboard, None, [dash, timer, seen], **PRIVATE)
    lang.change(on_language, lang, [privacy, *teach, student_model], **PRIVATE)
    ctx.models_changed.change(lambda s, k: gr.update(choices=model_choices(s, "mnist"), value=k),
                              [ctx.session, model], model, **PRIVATE)

    tabs = getattr(gr.context.Context.block, "parent", None)
    root = gr.context.Context.root_block
    if isinstance(tabs, gr.Tabs) and root is not None:
        root.load(on_join_link, [lang], [tabs, *student_outputs], **PRIVATE)
