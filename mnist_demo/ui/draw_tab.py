"""The Draw & Predict tab: a live canvas and an upload box in, the ten probabilities and what the network sees out.

UI only: reading a drawing or picture is `mnist_demo.reading.predict`; the canvas is `ui.canvas`. Every
handler works on its own browser session's `Session` and returns fresh values, so sessions share
nothing but the read-only shipped models.
"""

from __future__ import annotations

import gradio as gr

from ..catalog import DEFAULT_MODEL, resolve, shipped
from ..reading import predict
from ..reading.predict import PREDICT_CONCURRENCY, PREDICTING
from . import device, teach_panel
from .canvas import CLEAR_JS, UNDO_JS, drawing_canvas
from .common import LIVE, PRIVATE, page_counter, reload_error
from .i18n import t
from .seen_panel import CSS as SEEN_CSS
from .seen_panel import seen_html
from .session import Session, model_choices, usable

CANVAS_ID = "sketchpad"
DATASET = "mnist"  # the picker lists digit models only: a clothing classifier has nothing to say about digits
PREDICT_GROUP = "draw-predict"
# The canvas's updates skip Gradio's queue (common.LIVE): on a busy 2-core machine the queue's round trip
# made the label lag 190-300 ms behind the stroke's end, against 30-40 ms without it (bench/stroke_latency.py).
# Only the latest drawing matters (always_last drops the stale ones); PREDICTING bounds the work. The events
# that run in the page alone use LIVE too. An upload or a refresh waits in the queue:
QUEUED = {"show_progress": "hidden", "trigger_mode": "always_last", "concurrency_limit": PREDICT_CONCURRENCY,
          "concurrency_id": PREDICT_GROUP, **PRIVATE}


# ---------------------------------------------------------------------------------------------
# Turning a reading into what the tab shows


def status_text(reading: predict.Reading, lang: str) -> str:
    """The line above the probabilities: the answer, a "not sure" note, or what to do."""
    if reading.outcome == predict.UNREADABLE:
        key = "draw.msg.bad_picture" if reading.source == "picture" else "draw.msg.bad_drawing"
        return t(key, lang, detail=reading.detail)
    if reading.outcome == predict.BLANK:
        return t("draw.msg.blank", lang)
    if reading.outcome == predict.NOT_SURE:  # what it is unsure between: its two likeliest answers
        first, second = sorted(reading.probabilities, key=reading.probabilities.get, reverse=True)[:2]
        return t("draw.msg.not_sure", lang, digit=first, second=second)
    digit, prob = reading.top
    return t("draw.msg.confident", lang, digit=digit, prob=f"{prob:.0%}")


def show(reading: predict.Reading, session: Session, lang: str, counter: int) -> tuple:
    """(label, status, seen panel, input_changed): keeps the input in the session for the Visualize tab."""
    if usable(session):
        session.current_input = reading.prepared
    return reading.probabilities, status_text(reading, lang), seen_html(reading.prepared, lang), page_counter(counter) + 1


def no_model(lang: str, counter: int) -> tuple:
    return None, t("draw.msg.no_model", lang), seen_html(None, lang), counter


def no_session(lang: str, counter: int) -> tuple:
    """What a tab without a live session gets (a script's fresh session hash, or a tab closed meanwhile)."""
    return None, t("common.reload", lang), seen_html(None, lang), counter


def _model(key: str | None, session: Session | None):
    """The model for `key` in this session; a notice instead when the tab has no live session."""
    if not usable(session):
        raise reload_error()
    entry = resolve(key, session.trained)
    return entry.model if entry else None  # None: no weights shipped and none trained yet


# ---------------------------------------------------------------------------------------------
# Event handlers


def label_value(probabilities: dict[str, float] | None) -> dict:
    """What `gr.Label` shows, in the form Gradio's postprocessing would send (the live event skips it)."""
    if not probabilities:
        return {}
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    return {"label": ranked[0][0], "confidences": [{"label": k, "confidence": p} for k, p in ranked]}


async def on_live(payload: str | None, key: str | None, session: Session | None, lang: str) -> tuple:
    """(label, status) for every update the canvas sends, during the stroke and at its end.

    The canvas's hot path, so it is lean: a coroutine (no thread of its own), inputs and outputs
    passed raw (no pre- and postprocessing, each of which costs Gradio a thread hop and a config
    update per component), two outputs only. py-spy on 8 busy clients: our own work was a tenth of
    the request; the rest was Gradio's hops and updates. The panel and the Visualize tab follow
    once per stroke, in `on_drawing`.
    """
    model = _model(key, session)
    if model is None:
        return {}, t("draw.msg.no_model", lang)
    reading = await predict.read_drawing_async(payload, model)
    return label_value(reading.probabilities), status_text(reading, lang)


def on_drawing(payload: str | None, key: str | None, session: Session, lang: str, counter: int) -> tuple:
    """(label, status, seen panel, input_changed) once a stroke ends (the canvas's `submit`), or after undo/clear."""
    model = _model(key, session)
    if model is None:
        return no_model(lang, counter)
    with PREDICTING:
        reading = predict.read_drawing(payload, model)
    return show(reading, session, lang, counter)


def on_upload(picture: dict | None, key: str | None, session: Session, lang: str, counter: int) -> tuple:
    """`picture` is the upload's file data (the event skips Gradio's own image decoding, which fails on bad files)."""
    if not usable(session):
        return no_session(lang, page_counter(counter))
    if not isinstance(picture, dict) or not isinstance(picture.get("path"), str) or not picture["path"]:
        return show(predict.Reading(predict.BLANK), session, lang, counter)
    model = _model(key, session)
    if model is None:
        return no_model(lang, counter)
    with PREDICTING:
        reading = predict.read_picture(picture["path"], model)
    return show(reading, session, lang, counter)


def on_refresh(key: str | None, session: Session, lang: str) -> tuple:
    """A new model or language: read the current input again (no new input, so Visualize is not bumped)."""
    if not usable(session):
        return no_session(lang, 0)[:3]
    model = _model(key, session)
    if model is None:
        return no_model(lang, 0)[:3]
    prepared = session.current_input
    if prepared is None:
        reading = predict.Reading(predict.BLANK)
    else:
        with PREDICTING:
            reading = predict.read_prepared(prepared, model)
    return reading.probabilities, status_text(reading, lang), seen_html(prepared, lang)


def on_clear(session: Session, lang: str, counter: int) -> tuple:
    """(label, status, seen, input_changed); the canvas itself is cleared in the browser (CLEAR_JS), the upload by
    an event of its own."""
    if not usable(session):
        return no_session(lang, page_counter(counter))
    return show(predict.Reading(predict.BLANK), session, lang, counter)


def on_drawing_seen(payload: str | None, key: str | None, session: Session, lang: str, counter: int) -> tuple:
    """(seen panel, input_changed) at a stroke's end when the page answered on the device (the answer is the page's)."""
    return on_drawing(payload, key, session, lang, counter)[2:]


def device_entries(session: Session | None) -> list:
    """The picker's models (the page may run each one itself), shipped first."""
    keys = {k for _, k in model_choices(session, DATASET)}
    return [e for e in [*shipped().values(), *(session.trained.values() if usable(session) else [])] if e.key in keys]


def device_config(session: Session | None, key: str | None = None) -> str:
    """The page's device configuration for this session's models (`key`: the canvas's model at first)."""
    return device.config(device_entries(session), {CANVAS_ID: key} if key else None)


def on_models_changed(session: Session, key: str | None, lang: str) -> tuple:
    """(picker, device note): this session's models changed, or the page's language (the labels). The picker keeps
    whatever it shows when that is still offered: `key` may be older than a pick the same event made (the teach
    panel picks the taught model)."""
    choices = model_choices(session, DATASET, lang)
    keys = [k for _, k in choices]
    picker = gr.update(choices=choices) if key in keys else gr.update(choices=choices, value=default_choice(keys))
    return picker, device_config(session)


def predict_api(picture: dict | None) -> dict[str, float]:
    """The `/predict` endpoint: one picture in, the default model's ten probabilities out."""
    if not isinstance(picture, dict) or not isinstance(picture.get("path"), str) or not picture["path"]:
        raise gr.Error(t("draw.msg.blank"), print_exception=False)
    entry = resolve(None)  # the default model: the API has no session
    model = entry.model if entry else None
    if model is None:
        raise gr.Error(t("draw.msg.no_model"), print_exception=False)
    with PREDICTING:
        reading = predict.read_picture(picture["path"], model)
    if reading.probabilities is None:
        raise gr.Error(status_text(reading, "en"), print_exception=False)
    return reading.probabilities


def default_choice(keys: list[str]) -> str | None:
    return DEFAULT_MODEL if DEFAULT_MODEL in keys else (keys[0] if keys else None)


# ---------------------------------------------------------------------------------------------
# Layout and wiring


def build(ctx) -> None:
    L = ctx.localizer
    choices = model_choices(None, DATASET)
    with gr.Row(equal_height=False, elem_id="draw-row"):  # one column in page_css.PHONE_ORDER on a phone
        with gr.Column(scale=1, min_width=300, elem_id="draw-left"):
            L(gr.Markdown, value="draw.canvas", elem_id="draw-canvas-label")
            canvas = drawing_canvas(CANVAS_ID, device=True)
            with gr.Row(elem_id="draw-tools"):
                undo = L(gr.Button, value="draw.undo", elem_id="undo", size="sm")
                clear = L(gr.Button, value="draw.clear", elem_id="clear", size="sm", variant="stop")
            # Under the canvas (the right column's answer and teach buttons keep their place on the screen).
            note = device.source_note(device_config(None, default_choice([k for _, k in choices])))
            upload = L(gr.Image, type="filepath", label="draw.upload", elem_id="upload", height=220,
                       sources=["upload", "clipboard"])
        with gr.Column(scale=1, min_width=300, elem_id="draw-right"):
            model = L(gr.Dropdown, choices, value=default_choice([k for _, k in choices]), label="common.model",
                      info="draw.model_info", elem_id="draw-model")
            status = gr.Markdown(t("draw.msg.blank"), elem_id="draw-status")
            label = L(gr.Label, num_top_classes=10, label="draw.prediction", elem_id="prediction")
            seen = gr.HTML(seen_html(None, "en"), css_template=SEEN_CSS, elem_id="seen", render=False)
            # under the answer: It's a 0-9 (which clear the input and answer), My digits, Teach
            teach_panel.build(ctx, model, {"canvas": canvas, "upload": upload, "label": label, "status": status,
                                           "seen": seen})
            seen.render()

    shown = [label, status, seen, ctx.input_changed]
    context = [model, ctx.session, ctx.lang, ctx.input_changed]
    canvas.input(on_live, [canvas, *context[:3]], shown[:2], preprocess=False, postprocess=False, **LIVE)
    canvas.submit(on_drawing, [canvas, *context], shown, **LIVE)  # the stroke's end (see ui.canvas)
    # The device road (ui/device.py): answers shown from the page itself, the stroke's end still on the server.
    canvas.select(None, None, shown[:2], js=device.show_js(CANVAS_ID), **LIVE)
    canvas.stop(on_drawing_seen, [canvas, *context], shown[2:], **LIVE)
    model.change(None, model, None, js=device.set_key_js(CANVAS_ID), **LIVE)
    ctx.lang.change(None, ctx.lang, None, js=device.SET_LANG_JS, **LIVE)
    upload.change(on_upload, [upload, *context], shown, preprocess=False, **{**QUEUED, "show_progress": "minimal"})
    undo.click(None, js=UNDO_JS, **PRIVATE)
    clear.click(on_clear, [ctx.session, ctx.lang, ctx.input_changed], shown, js=CLEAR_JS, **PRIVATE)
    clear.click(lambda: None, None, upload, queue=False, show_progress="hidden", **PRIVATE)  # the upload goes too
    for trigger in (model.change, ctx.lang.change):
        trigger(on_refresh, [model, ctx.session, ctx.lang], shown[:3], **QUEUED)
    for trigger in (ctx.models_changed.change, ctx.lang.change):
        trigger(on_models_changed, [ctx.session, model, ctx.lang], [model, note], **PRIVATE)
    build_api()


def build_api() -> None:
    """Hidden components behind the named endpoint, so `Client(url).predict(handle_file(p), api_name="/predict")`."""
    picture = gr.Image(type="filepath", visible=False)
    probabilities = gr.Label(num_top_classes=10, visible=False)
    hidden = gr.Button(visible=False)
    hidden.click(predict_api, picture, probabilities, api_name="predict", preprocess=False,
                 concurrency_limit=PREDICT_CONCURRENCY, concurrency_id=PREDICT_GROUP)
