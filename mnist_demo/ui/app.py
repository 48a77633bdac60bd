"""The Blocks app: a language selector and three tabs sharing per-browser-session state."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import i18n
from .i18n import LANGUAGES, Localizer, t
from .session import close_closed_tab, close_session, new_session


@dataclass
class Context:
    """What the tabs share. Each tab's `build(ctx)` adds its components and events."""

    session: gr.State  # a Session per browser session
    lang: gr.Radio  # the current language code, "en" or "zh": an input for any message built in Python
    localizer: Localizer  # create every translated component through it: ctx.localizer(gr.Button, value="key")
    models_changed: gr.State  # bumped when this session's model list changes; pickers refresh on .change
    input_changed: gr.State  # bumped when the Draw tab's current input changes; Visualize follows


def detect_language(request: gr.Request) -> str:
    """The browser's preferred language, from its Accept-Language header."""
    return i18n.language_from_header(request.headers.get("accept-language") if request else None)


def build_app() -> gr.Blocks:
    from . import class_tab, draw_tab, train_tab, visualize_tab  # noqa: F401  (tabs import the core lazily)

    L = Localizer()
    with gr.Blocks(title=t("app.title")) as demo:
        with gr.Row(equal_height=True):
            L(gr.Markdown, value="app.heading")
            lang = gr.Radio([(name, code) for code, name in LANGUAGES.items()], value="en",
                            label=t("app.language"), elem_id="language", scale=0, min_width=220)
        L(gr.Markdown, value="app.intro")
        ctx = Context(
            session=gr.State(new_session, delete_callback=close_session),
            lang=lang,
            localizer=L,
            models_changed=gr.State(0),
            input_changed=gr.State(0),
        )
        with gr.Tabs(elem_id="tabs"):
            with L(gr.Tab, label="tab.draw", id="draw", elem_id="tab-draw"):
                draw_tab.build(ctx)
            with L(gr.Tab, label="tab.train", id="train", elem_id="tab-train"):
                train_tab.build(ctx)
            with L(gr.Tab, label="tab.visualize", id="visualize", elem_id="tab-visualize"):
                visualize_tab.build(ctx)
            with L(gr.Tab, label="tab.class", id="class", elem_id="tab-class"):
                class_tab.build(ctx)

        demo.load(detect_language, inputs=None, outputs=lang, api_visibility="private")
        demo.unload(close_closed_tab)  # gr.State's delete_callback only comes an hour after the tab closes
        lang.change(L.updates, inputs=lang, outputs=L.components, api_visibility="private")
    return demo


def launch_options() -> dict:
    """Where to listen: 127.0.0.1 by default, what the environment asks for on Spaces; the page's CSS."""
    import os

    from .page_css import CSS

    return {
        "css": CSS,
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    }
