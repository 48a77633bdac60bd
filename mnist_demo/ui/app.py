"""The Blocks app: a language selector and four tabs sharing per-browser-session state.

Every limit the server relies on is set here (see LIMITS in the README): Gradio's own (sessions
kept, upload size, cache cleanup, queue length, no direct HTTP calls of queued events) and the
request-body gate (`guard.Guard`).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .. import settings
from ..classroom.service import Classroom
from ..reading.files import MAX_PICTURE_BYTES
from . import device, guard, i18n
from .common import PRIVATE
from .i18n import LANGUAGES, Localizer, t
from .page_css import CSS as PAGE_CSS
from .session import Sessions, close_session

# Gradio's session LRU (~0.4 MB each: a copy of the page's config): twice what one address may open in
# guard.WINDOW_S, so no single address can push other tabs out
MAX_SESSIONS = settings.current().max_sessions or 2 * guard.PAGE_LOADS_PER_WINDOW
MAX_QUEUE = settings.current().max_queue  # events waiting in Gradio's queue (half per address)
CACHE_CLEANUP = (600, 1800)  # every 10 minutes, remove Gradio's cached files older than 30 minutes


@dataclass
class Context:
    """What the tabs share. Each tab's `build(ctx)` adds its components and events."""

    session: gr.State  # a Session per browser session
    lang: gr.Radio  # the current language code, "en" or "zh": an input for any message built in Python
    localizer: Localizer  # create every translated component through it: ctx.localizer(gr.Button, value="key")
    models_changed: gr.State  # bumped when this session's model list changes; pickers refresh on .change
    input_changed: gr.State  # bumped when the Draw tab's current input changes; Visualize follows
    classroom: Classroom  # class mode's store, rate limits, class models and class trainings (the Class tab)


def detect_language(request: gr.Request) -> str:
    """The browser's preferred language, from its Accept-Language header."""
    return i18n.language_from_header(request.headers.get("accept-language") if request else None)


def build_app(classroom: Classroom | None = None, sessions: Sessions | None = None) -> gr.Blocks:
    """The app; `classroom`: class mode's state (default: one on the store in `store.state_dir()`); `sessions`: its
    open tabs (default: a new index). What the request gate needs to know of it is `demo.gate` (a `guard.Gate`,
    for `launch_options`); its open tabs are `demo.sessions`."""
    from . import class_tab, draw_tab, train_tab, visualize_tab  # noqa: F401  (tabs import the core lazily)

    L = Localizer()
    sessions = sessions if sessions is not None else Sessions()

    def on_page_load(request: gr.Request):
        """The page's one load event (private): its language and this tab's new Session."""
        return detect_language(request), sessions.open_session(request)

    with gr.Blocks(title=t("app.title"), delete_cache=CACHE_CLEANUP) as demo:
        with gr.Row(equal_height=True):
            L(gr.Markdown, value="app.heading")
            lang = gr.Radio([(name, code) for code, name in LANGUAGES.items()], value="en",
                            label=t("app.language"), elem_id="language", scale=0, min_width=220)
        L(gr.Markdown, value="app.intro")
        ctx = Context(
            # None until the page's load event puts this tab's Session in: a default that is a function
            # would become a public endpoint creating sessions for anyone.
            session=gr.State(None, delete_callback=close_session),
            lang=lang,
            localizer=L,
            models_changed=gr.State(0),
            input_changed=gr.State(0),
            classroom=classroom if classroom is not None else Classroom(),
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

        # queue=False: the session exists before the first stroke can reach the server.
        page_load = demo.load(on_page_load, inputs=None, outputs=[lang, ctx.session], queue=False,
                              show_progress="hidden", **PRIVATE)
        demo.unload(sessions.close_closed_tab)  # gr.State's delete_callback only comes an hour after the tab closes
        lang.change(L.updates, inputs=lang, outputs=L.components, **PRIVATE)
    # api_open=False: queued events only through the queue (bounded by max_size), not by direct HTTP calls.
    demo.queue(max_size=MAX_QUEUE, api_open=False)
    guard.bound_queue(demo._queue, per_address=MAX_QUEUE // 2)
    demo.sessions = sessions
    demo.gate = guard.Gate(events=set(demo.fns), page_load=page_load["id"],
                           event_names={fn.api_name: i for i, fn in demo.fns.items() if fn.api_name},
                           open_events={page_load["id"]} | {i for i, fn in demo.fns.items()
                                                            if fn.api_visibility == "public"},
                           known_session=sessions.is_open, watch=sessions.watch)
    return demo


def launch_options(demo: gr.Blocks) -> dict:
    """Where to listen (127.0.0.1 by default, what the environment asks for on Spaces), the limits, the request
    gate in front of `demo` (its `demo.gate`) and the page's CSS (the phone layout)."""
    return {
        "css": PAGE_CSS,
        "server_name": settings.current().server_name,
        "server_port": settings.current().server_port,
        "state_session_capacity": MAX_SESSIONS,
        "max_file_size": MAX_PICTURE_BYTES,  # pictures and weights files alike (weights are smaller still)
        "app_kwargs": {"middleware": guard.middleware(demo.gate) + device.middleware()},  # /device/: the page's runtime files
    }
