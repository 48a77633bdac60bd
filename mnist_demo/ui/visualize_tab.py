"""The Visualize tab: look inside the chosen network on the current drawing (or a test image).

Thin on purpose: every figure comes from `mnist_demo.inspection`; this module picks the model
and the input, puts captions in the user's language, and wires the events. Handlers take a
`View` (the controls' values, by name), the session and the language. Updates run only
while the tab is on screen: opening it renders the Draw tab's current drawing (the session's
`current_input`), so it always shows the latest one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from html import escape

import gradio as gr
import numpy as np
import pandas as pd

from .. import inspection as ins
from .. import pictures
from ..catalog import DEFAULT_MODEL, UNTRAINED_PREFIX, Entry, resolve, shipped, untrained
from ..data import DATASETS, DataMissingError, load_split
from ..models import MODELS
from ..pictures import png_data_uri
from .common import PRIVATE, read_form
from .i18n import entry_label, model_title, t
from .session import Session, model_choices

LEARNED = "learned:"
RUNNER_UP = -1  # the "class to explain" default: the second most likely class
TICK_SECONDS = 0.25


# --- models and inputs --------------------------------------------------------------------------


def choices(session: Session | None, lang: str) -> list[tuple[str, str]]:
    """Trained models (shipped, then this session's), then every registered architecture untrained."""
    untrained = [(f"{model_title(name, lang)} · {t('viz.untrained', lang)}", UNTRAINED_PREFIX + name)
                 for name in MODELS]
    return model_choices(session, None, lang) + untrained


def default_key() -> str:
    return DEFAULT_MODEL if DEFAULT_MODEL in shipped() else UNTRAINED_PREFIX + DEFAULT_MODEL


def entry_for(key: str | None, session: Session | None) -> Entry:
    return resolve(key, session.trained if session else None) or untrained(DEFAULT_MODEL)


def model_label(entry: Entry, lang: str) -> str:
    untrained = entry.key.startswith(UNTRAINED_PREFIX)
    label = entry_label(entry, lang)
    return f"{label} · {t('viz.untrained', lang)}" if untrained else label


def class_names(entry: Entry) -> tuple[str, ...]:
    return DATASETS[entry.dataset].classes if entry.dataset in DATASETS else tuple(str(d) for d in range(10))


@dataclass
class Picked:
    image: np.ndarray  # (28, 28) float32 in [0, 1]
    description: str  # markdown, in the user's language


def _test_image(dataset: str, index: int, lang: str) -> Picked:
    try:
        split = load_split(dataset, "test")
    except DataMissingError as error:
        return Picked(np.zeros((28, 28), np.float32), t("viz.input.no_data", lang, dataset=dataset, error=error))
    index = int(np.clip(index, 0, len(split) - 1))
    label = DATASETS[dataset].classes[int(split.labels[index])]
    image = split.images[index].numpy().astype(np.float32) / 255
    return Picked(image, t("viz.input.test", lang, index=index, dataset=dataset, label=label))


def pick_input(source: str, index: int, session: Session | None, dataset: str, lang: str) -> Picked:
    """The Draw tab's current input if asked for and present, else the test image `index`."""
    drawing = getattr(session, "current_input", None)
    if source == "drawing":
        if drawing is not None and not getattr(drawing, "blank", False):
            return Picked(np.asarray(drawing.image, dtype=np.float32), t("viz.input.drawing", lang))
        picked = _test_image(dataset, index, lang)
        return Picked(picked.image, t("viz.input.no_drawing", lang) + " " + picked.description)
    return _test_image(dataset, index, lang)


# --- what each section shows --------------------------------------------------------------------


def _size(shape) -> str:
    return "×".join(str(s) for s in shape)


def detail_text(row, lang: str) -> str:
    """A layer's settings in the user's language ("kernel 3×3, stride 1, padding 0")."""
    return t(f"viz.detail.{row.kind}", lang, **row.detail) if row.detail else ""


def formula_text(row, lang: str) -> str:
    if not row.formula:
        return ""
    return row.formula[0] if len(row.formula) == 1 else t("viz.formula.axes", lang, rows=row.formula[0],
                                                           columns=row.formula[1])


def architecture(model, lang: str) -> pd.DataFrame:
    """The layer table with headers in the user's language."""
    whole = t("viz.arch.whole", lang)
    rows = [[t("viz.layer.input", lang) if r.kind == "input" else r.name, r.type, detail_text(r, lang), _size(r.output_shape), f"{r.params:,}",
             _size(r.receptive_field) if r.receptive_field else whole, _size(r.jump) if r.jump else "–",
             formula_text(r, lang)] for r in ins.layer_table(model)]
    columns = ("layer", "type", "detail", "output", "params", "rf", "jump", "formula")
    headers = [t(f"viz.col.{c}", lang) for c in columns]
    return pd.DataFrame(rows, columns=headers)


FIGURE_CSS = """
.viz-figs { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.viz-figs figure { margin: 0; flex: none; }
.viz-figs img { image-rendering: pixelated; max-width: 100%; height: auto; display: block; }
.viz-figs figcaption { font-size: 0.85em; opacity: 0.85; margin-top: 3px; max-width: 440px; }
.viz-note { margin: 4px 0 10px 0; }
"""


def figure(image: np.ndarray, caption: str, width: int = 0) -> str:
    """An inline PNG with its caption; `width` is the shown width in CSS pixels (whole multiples of the
    image's own width keep pixels square and crisp), the image itself stays small."""
    native = image.shape[1]
    shown = native * max(1, round(width / native)) if width else native
    return (f'<figure><img src="{png_data_uri(image)}" style="width: {shown}px" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def figures(parts: list[str], note: str = "") -> str:
    note_html = f'<p class="viz-note">{escape(note)}</p>' if note else ""
    return f'{note_html}<div class="viz-figs">{"".join(parts)}</div>'


def filter_figures(model, lang: str) -> str:
    grids = ins.filters(model)
    if not grids:
        return figures([], t("viz.filters.none", lang))
    parts = []
    for grid in grids:
        n_in = grid.shape[1]
        reduction = t("viz.filters.single", lang) if n_in == 1 else t("viz.filters.mean", lang, n=n_in)
        caption = t("viz.filters.caption", lang, layer=grid.layer, shape=_size(grid.shape), reduction=reduction,
                    limit=f"{grid.limit:.3g}")
        parts.append(figure(grid.render(tile_side=1, gap=1), caption, width=260))
    return figures(parts, t("viz.filters.help", lang))


def map_figures(activations: ins.Activations, lang: str) -> str:
    parts = [figure(m.render(tile_side=1, gap=1),
                    t("viz.maps.caption", lang, chain=m.chain, shape=_size(m.values.shape)), width=420)
             for m in activations.maps]
    return figures(parts, t("viz.maps.help", lang) if parts else t("viz.maps.none", lang))


def vector_figures(activations: ins.Activations, lang: str) -> str:
    parts = [figure(v.render(width=384, height=56), t("viz.fc.caption", lang, chain=v.chain, n=len(v.values)))
             for v in activations.vectors]
    return figures(parts, t("viz.fc.help", lang))


def _explain_targets(probs: np.ndarray, chosen: int) -> tuple[int, int]:
    order = np.argsort(-probs)
    return int(order[0]), int(order[1]) if chosen == RUNNER_UP else int(chosen)


def look_figures(image: np.ndarray, pairs, names, lang: str) -> str:
    """Grad-CAM and saliency overlays for the predicted and the chosen class."""
    parts, notes = [], []
    for (cam, sal), which in zip(pairs, ("predicted", "chosen"), strict=True):
        label = t(f"viz.looks.{which}", lang)
        if cam.values is None:
            notes.append(t("viz.looks.no_conv", lang))
        else:
            caption = t("viz.looks.gradcam", lang, cls=names[cam.target], which=label, layer=cam.layer)
            parts.append(figure(pictures.render_overlay(image, cam.values, size=28), caption, width=168))
            if not cam.values.any():
                notes.append(t("viz.looks.zero", lang, cls=names[cam.target], layer=cam.layer))
        caption = t("viz.looks.saliency", lang, cls=names[sal.target], which=label)
        parts.append(figure(pictures.render_overlay(image, sal.values, size=28), caption, width=168))
    return figures(parts, " ".join([t("viz.looks.help", lang), *dict.fromkeys(notes)]))


def probability_plot(probs: np.ndarray, names, lang: str):
    frame = pd.DataFrame({"class": list(names), "probability": probs.astype(float)})
    return gr.update(value=frame, x_title=t("viz.probs.class", lang), y_title=t("viz.probs.probability", lang),
                     sort=list(names))


# --- the convolution step-through ---------------------------------------------------------------


def kernel_choices(model, lang: str) -> list[tuple[str, str]]:
    builtin = [(t(f"viz.kernel.{name}", lang), name) for name in ins.KERNELS]
    learned = [(t("viz.kernel.learned", lang, i=i + 1, k=f"{k.shape[0]}×{k.shape[1]}"), f"{LEARNED}{i}")
               for i, k in enumerate(ins.first_conv_kernels(model))]
    return builtin + learned


def kernel_for(key: str, model) -> np.ndarray:
    if key.startswith(LEARNED) and key[len(LEARNED):].isdigit():
        learned = ins.first_conv_kernels(model)
        index = int(key[len(LEARNED):])
        if index < len(learned):
            return learned[index]
    return ins.KERNELS.get(key, ins.KERNELS["sobel-x"])


def step_view(image, model, kernel_key: str, padding: int, stride: int, position: int, lang: str) -> list:
    """[position slider, the three pictures (input and window, kernel, output so far), arithmetic]."""
    image = np.zeros((28, 28), np.float32) if image is None else np.asarray(image, dtype=np.float32)
    kernel = kernel_for(kernel_key or "sobel-x", model)
    steps = ins.conv_steps(image, kernel, int(padding), int(stride))
    n = int(np.clip(position or 0, 0, steps.count - 1))
    row, col = steps.position(n)
    formula, _ = ins.output_size_formula(28, kernel.shape[0], int(stride), int(padding))
    text = (t("viz.conv.step", lang, n=n + 1, total=steps.count, row=row, col=col)
            + f"\n\n```text\n{steps.arithmetic(n)}\n```\n\n" + t("viz.conv.size", lang, formula=formula))
    if kernel_key and kernel_key.startswith(LEARNED):
        text += "\n\n" + t("viz.conv.learned_note", lang)
    shown = figures([figure(pictures.render_conv_input(steps, n), t("viz.conv.input", lang)),
                     figure(pictures.render_kernel(kernel, cell=1), t("viz.conv.kernel_image", lang), width=96),
                     figure(pictures.render_conv_output(steps, n), t("viz.conv.output", lang))])
    slider = gr.update(maximum=steps.count - 1, value=n, label=t("viz.conv.position", lang, total=steps.count))
    return [slider, shown, text]


def step_count(kernel_key: str, model, padding: int, stride: int) -> int:
    k = kernel_for(kernel_key or "sobel-x", model).shape[0]
    return ins.conv_output_size(28, k, int(padding), int(stride)) ** 2


# --- event handlers -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class View:
    """What the tab's controls ask for, by name (the page sends them as a dict keyed by component)."""

    model: str | None = None  # a model key: shipped, this session's, or untrained
    source: str = "drawing"  # "drawing" (the Draw tab's current input) or "test"
    index: int = 0  # the test image's number
    target: int = RUNNER_UP  # the class to explain
    kernel: str = "sobel-x"  # the step-through's kernel key
    padding: int = 1
    stride: int = 1
    position: int = 0  # the step-through's position
    speed: int = 2  # positions per animation tick
    image: np.ndarray | None = None  # the 28x28 input shown, kept for the step-through


def _whole(value, default: int, low: int, high: int) -> int:
    """A whole number in [low, high] from whatever was sent (None, a string, NaN: the default)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if number != number:
        return default
    return int(min(max(number, low), high))


def checked(view: View) -> View:
    """The view with every value usable, as if a script had sent it: unknown text becomes the default,
    numbers are whole and within what the controls offer."""
    text = lambda v, default: v if isinstance(v, str) and len(v) <= 200 else default  # noqa: E731
    image = view.image if isinstance(view.image, np.ndarray) and view.image.shape == (28, 28) else None
    return View(model=text(view.model, None), source=text(view.source, "drawing"),
                index=_whole(view.index, 0, 0, 1_000_000), target=_whole(view.target, RUNNER_UP, RUNNER_UP, 1000),
                kernel=text(view.kernel, "sobel-x"),
                padding=view.padding if view.padding in ins.PADDINGS and isinstance(view.padding, int) else 1,
                stride=view.stride if view.stride in ins.STRIDES and isinstance(view.stride, int) else 1, position=_whole(view.position, 0, 0, 10_000),
                speed=_whole(view.speed, 2, 1, 100), image=image)


@dataclass(frozen=True, eq=False)
class Figures:
    """What the tab's updates show, by name (`build` makes them): an update with more than four outputs answers
    with a dict keyed by these."""

    table: gr.Dataframe  # the architecture
    filters: gr.HTML
    kernel: gr.Dropdown  # the step-through's kernel (its choices follow the model)
    target: gr.Dropdown  # the class to explain (its choices follow the model)
    status: gr.Markdown
    shown: gr.HTML  # the input
    probs: gr.BarPlot
    maps: gr.HTML
    fc: gr.HTML
    looks: gr.HTML
    image: gr.State  # the 28x28 input shown, for the step-through
    position: gr.Slider
    conv: gr.HTML
    arithmetic: gr.Markdown
    animate: gr.Checkbox
    timer: gr.Timer

    def step(self) -> list:
        """The step-through's outputs, in `step_view`'s order."""
        return [self.position, self.conv, self.arithmetic]

    def of_input(self) -> list:
        return [self.status, self.shown, self.probs, self.maps, self.fc, self.looks, self.image, *self.step()]

    def everything(self) -> list:
        return [self.table, self.filters, self.kernel, self.target, *self.of_input()]


def update_input(out: Figures, view: View, session: Session | None, lang: str) -> dict:
    """Everything that depends on the input: prediction, maps, activations, heat maps, step-through."""
    entry = entry_for(view.model, session)
    names = class_names(entry)
    picked = pick_input(view.source, int(view.index or 0), session, entry.dataset, lang)
    chosen = int(view.target if view.target is not None else RUNNER_UP)
    activations, pairs = ins.where_it_looks(entry.model, picked.image, lambda p: _explain_targets(p, chosen))
    best = pairs[0][0].target
    status = t("viz.status", lang, input=picked.description, pred=names[best],
               prob=f"{activations.probabilities[best]:.1%}", model=model_label(entry, lang))
    shown = figures([figure(pictures.render_input(picked.image, size=28), t("viz.input_image", lang), width=140)])
    steps = step_view(picked.image, entry.model, view.kernel, view.padding, view.stride, view.position, lang)
    return {out.status: status, out.shown: shown, out.probs: probability_plot(activations.probabilities, names, lang),
            out.maps: map_figures(activations, lang), out.fc: vector_figures(activations, lang),
            out.looks: look_figures(picked.image, pairs, names, lang), out.image: picked.image,
            **dict(zip(out.step(), steps, strict=True))}


def update_model(out: Figures, view: View, session: Session | None, lang: str) -> tuple[dict, str]:
    """Everything that depends on the model alone (table, filters, kernel and class choices), and the
    kernel key to use from now on."""
    entry = entry_for(view.model, session)
    kernels = kernel_choices(entry.model, lang)
    kernel_key = view.kernel if view.kernel in {value for _, value in kernels} else "sobel-x"  # fewer learned ones
    classes = [(t("viz.target.runner_up", lang), RUNNER_UP)] + [(n, i) for i, n in enumerate(class_names(entry))]
    return {out.table: architecture(entry.model, lang), out.filters: filter_figures(entry.model, lang),
            out.kernel: gr.update(choices=kernels, value=kernel_key), out.target: gr.update(choices=classes)}, kernel_key


def update_all(out: Figures, view: View, session: Session | None, lang: str) -> dict:
    model_part, kernel_key = update_model(out, view, session, lang)
    return {**model_part, **update_input(out, replace(view, kernel=kernel_key), session, lang)}


def show_step(view: View, session: Session | None, lang: str) -> list:
    return step_view(view.image, entry_for(view.model, session).model, view.kernel, view.padding, view.stride,
                     view.position, lang)


def step_back(view: View, session: Session | None, lang: str) -> list:
    return show_step(replace(view, position=int(view.position or 0) - 1), session, lang)


def step_forward(view: View, session: Session | None, lang: str) -> list:
    return show_step(replace(view, position=int(view.position or 0) + 1), session, lang)


def advance(out: Figures, view: View, session: Session | None, lang: str) -> dict:
    """One animation tick: move `speed` positions on; stop at the end of the map."""
    model = entry_for(view.model, session).model
    last = step_count(view.kernel, model, view.padding, view.stride) - 1
    n = min(int(view.position or 0) + int(view.speed or 1), last)
    shown = dict(zip(out.step(), step_view(view.image, model, view.kernel, view.padding, view.stride, n, lang),
                     strict=True))
    if n < last:  # leave the checkbox alone: the user may have just switched the animation off
        return shown
    return {**shown, out.animate: False, out.timer: gr.Timer(active=False)}


def relabel_pickers(session: Session | None, lang: str, key: str | None, source: str) -> tuple:
    """The language changed: the model and input pickers' choices in it, their values kept."""
    sources = [(t("viz.source.drawing", lang), "drawing"), (t("viz.source.test", lang), "test")]
    return gr.update(choices=choices(session, lang), value=key), gr.update(choices=sources, value=source)


def refresh_models(session: Session | None, lang: str, key: str | None) -> dict:
    """This session's model list changed (a training ended, weights were uploaded)."""
    return gr.update(choices=choices(session, lang), value=key)


@dataclass(frozen=True, eq=False)
class Controls:
    """The components behind a View, plus the session and language: `inputs()` for an event, and
    `wire(handler)` to turn the dict Gradio passes into `handler(view, session, lang)`."""

    model: gr.Dropdown
    source: gr.Radio
    index: gr.Number
    target: gr.Dropdown
    kernel: gr.Dropdown
    padding: gr.Radio
    stride: gr.Radio
    position: gr.Slider
    speed: gr.Slider
    image: gr.State
    session: gr.State
    lang: gr.Radio

    def inputs(self, *extra) -> set:
        return {getattr(self, f.name) for f in fields(self)} | set(extra)

    def view(self, values: dict) -> View:
        return checked(read_form(View, self, values))

    def wire(self, handler, only_if=None):
        """`handler` for a Gradio event; with `only_if` (a gr.State), it runs only while that state is true
        and otherwise leaves its outputs as they are."""
        def call(values: dict):
            if only_if is not None and not values[only_if]:
                return gr.skip()
            return handler(self.view(values), values[self.session], values[self.lang])
        return call


def _enclosing_tab(block) -> gr.Tab | None:
    while block is not None and not isinstance(block, gr.Tab):
        block = getattr(block, "parent", None)
    return block


def _html(elem_id: str) -> gr.HTML:
    return gr.HTML(css_template=FIGURE_CSS, elem_id=elem_id, min_height=20)


# --- layout and wiring --------------------------------------------------------------------------


def build(ctx) -> None:
    L = ctx.localizer
    intro = L(gr.Markdown, value="viz.intro")
    with gr.Row(equal_height=True):
        model = L(gr.Dropdown, choices(None, "en"), value=default_key(), label="common.model", scale=3,
                  elem_id="viz-model")
        source = L(gr.Radio, [(t("viz.source.drawing"), "drawing"), (t("viz.source.test"), "test")],
                   value="drawing", label="viz.source", scale=2, elem_id="viz-source")
        index = L(gr.Number, 0, minimum=0, maximum=9999, precision=0, label="viz.test_index", scale=1,
                  elem_id="viz-index")
        target = L(gr.Dropdown, [(t("viz.target.runner_up"), RUNNER_UP)], value=RUNNER_UP, label="viz.target",
                   scale=1, elem_id="viz-target")
    status = gr.Markdown(elem_id="viz-status")
    with gr.Row(equal_height=True):
        shown = _html("viz-input")
        probs = L(gr.BarPlot, x="class", y="probability", y_lim=[0, 1], label="viz.probs", height=200, scale=3,
                  elem_id="viz-probs")

    L(gr.Markdown, value="viz.arch.heading")
    L(gr.Markdown, value="viz.arch.help")
    table = gr.Dataframe(interactive=False, wrap=True, max_height=420, elem_id="viz-arch")
    L(gr.Markdown, value="viz.filters.heading")
    filter_view = _html("viz-filters")
    L(gr.Markdown, value="viz.maps.heading")
    map_view = _html("viz-maps")
    L(gr.Markdown, value="viz.fc.heading")
    fc_view = _html("viz-fc")
    L(gr.Markdown, value="viz.looks.heading")
    look_view = _html("viz-looks")

    L(gr.Markdown, value="viz.conv.heading")
    L(gr.Markdown, value="viz.conv.help")
    with gr.Row(equal_height=True):
        kernel = L(gr.Dropdown, kernel_choices(untrained(DEFAULT_MODEL).model, "en"), value="sobel-x",
                   label="viz.conv.kernel", elem_id="viz-kernel", scale=3)
        padding = L(gr.Radio, list(ins.PADDINGS), value=1, label="viz.conv.padding", elem_id="viz-padding", scale=1)
        stride = L(gr.Radio, list(ins.STRIDES), value=1, label="viz.conv.stride", elem_id="viz-stride", scale=1)
    with gr.Row(equal_height=True):
        # Not registered for relabelling: its label carries the step count, which step_view sets.
        position = gr.Slider(0, 28 * 28 - 1, value=0, step=1, label=t("viz.conv.position", total=28 * 28),
                             elem_id="viz-position", scale=4)
        back = L(gr.Button, value="viz.conv.prev", elem_id="viz-prev", scale=0, min_width=90)
        forward = L(gr.Button, value="viz.conv.next", elem_id="viz-next", scale=0, min_width=90)
        animate = L(gr.Checkbox, False, label="viz.conv.animate", elem_id="viz-animate", scale=1)
        speed = L(gr.Slider, 1, 28, value=2, step=1, label="viz.conv.speed", elem_id="viz-speed", scale=2)
    conv_view = _html("viz-conv")
    arithmetic = gr.Markdown(elem_id="viz-arithmetic")
    timer = gr.Timer(TICK_SECONDS, active=False)
    image = gr.State(None)  # the 28x28 input shown, for the step-through
    on_screen = gr.State(False)

    controls = Controls(model=model, source=source, index=index, target=target, kernel=kernel, padding=padding,
                        stride=stride, position=position, speed=speed, image=image, session=ctx.session,
                        lang=ctx.lang)
    out = Figures(table=table, filters=filter_view, kernel=kernel, target=target, status=status, shown=shown,
                  probs=probs, maps=map_view, fc=fc_view, looks=look_view, image=image, position=position,
                  conv=conv_view, arithmetic=arithmetic, animate=animate, timer=timer)
    step_outputs, input_outputs, everything = out.step(), out.of_input(), out.everything()
    inputs = controls.inputs()
    show_all, show_input = functools.partial(update_all, out), functools.partial(update_input, out)

    tab = _enclosing_tab(intro)
    if tab is not None:  # render when the tab is opened; follow the Draw tab only while on screen
        tab.select(lambda: True, None, on_screen, **PRIVATE).then(controls.wire(show_all), inputs, everything,
                                                                  **PRIVATE)
        for sibling in getattr(tab.parent, "children", []):  # the other tabs (built before this one)
            if isinstance(sibling, gr.Tab) and sibling is not tab:
                sibling.select(lambda: False, None, on_screen, **PRIVATE)
    model.input(controls.wire(show_all), inputs, everything, **PRIVATE)
    # The Draw tab bumps ctx.input_changed on every live update while a stroke is drawn, and this tab
    # is never on screen then; listening would add a request per update for nothing. Opening this tab
    # (tab.select above) renders the session's current drawing, which covers every change.
    ctx.lang.change(controls.wire(show_all, only_if=on_screen),
                    controls.inputs(on_screen), everything, **PRIVATE)
    ctx.lang.change(relabel_pickers, [ctx.session, ctx.lang, model, source], [model, source], **PRIVATE)
    ctx.models_changed.change(refresh_models, [ctx.session, ctx.lang, model], model, **PRIVATE)
    for control in (source, target):
        control.input(controls.wire(show_input), inputs, input_outputs, **PRIVATE)
    index.submit(controls.wire(show_input), inputs, input_outputs, **PRIVATE)
    index.blur(controls.wire(show_input), inputs, input_outputs, **PRIVATE)

    for control in (kernel, padding, stride):
        control.input(controls.wire(show_step), inputs, step_outputs, **PRIVATE)
    position.input(controls.wire(show_step), inputs, step_outputs, trigger_mode="always_last", **PRIVATE)
    back.click(controls.wire(step_back), inputs, step_outputs, **PRIVATE)
    forward.click(controls.wire(step_forward), inputs, step_outputs, **PRIVATE)
    animate.change(lambda on: gr.Timer(active=on), animate, timer, **PRIVATE)
    timer.tick(controls.wire(functools.partial(advance, out)), inputs, [*step_outputs, animate, timer], **PRIVATE)
