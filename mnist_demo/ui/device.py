"""Answers computed on the student's own device: the runtime's files, the models' files, and the note that says which road answers.

The page loads ONNX Runtime Web (vendored in static/ort, see its refresh.sh) and the page's own
script (static/geometry.js, the server's preprocessing step for step, and static/runtime.js) once
it is interactive, then the picked model's ONNX file (`device_models`). Every file is served by
`DeviceFiles` under /device/ with a name that holds its content's hash, for a year, compressed (gzip; the
WebAssembly file brotli where the browser accepts it),
so a second visit downloads none of it again. Until the runtime and the model are ready, or when
anything fails, the canvas's updates go to the server as before (ui/canvas.py).

The note (`source_note`, id `answer-source`) says where the current answer was computed; its value
is the page's device configuration (assets, this session's models and their files, the strings),
refreshed when the session's models change.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import gradio as gr

from .. import device_models
from ..reading import geometry
from ..reading.predict import DIGITS, threshold_of
from .i18n import LANGUAGES, t

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/device/"
YEAR = 365 * 24 * 3600
GEOMETRY_CONSTANTS = ("FIELD", "BOX", "CENTER", "SUPERSAMPLE", "MIN_INK", "MIN_INK_FRACTION",
                      "MIN_STROKE_WIDTH", "MAX_STROKE_WIDTH")
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
         ".onnx": "application/octet-stream"}


@dataclass(frozen=True)
class Asset:
    """A file the page fetches: plain and gzip-compressed bytes, and its content-hashed URL."""

    url: str  # relative to the page: "device/a/ort.wasm.min.<hash>.js"
    content_type: str
    gzipped: bytes
    plain: bytes | None = None  # None: decompressed on demand (only a client refusing gzip needs it)
    brotli: bytes | None = None  # smaller still, for the clients that accept it (browsers over HTTPS)


def _asset(name: str, plain: bytes | None, gzipped: bytes | None = None, brotli: bytes | None = None) -> Asset:
    gzipped = gzipped if gzipped is not None else gzip.compress(plain, 9, mtime=0)
    stem, ext = name.rsplit(".", 1)
    digest = hashlib.sha256(gzipped).hexdigest()[:16]
    return Asset(f"device/a/{stem}.{digest}.{ext}", TYPES["." + ext], gzipped, plain, brotli)


def answer_texts(lang: str) -> dict:
    """The status lines the page shows for its own answers, made by the server's i18n (articles, plurals):
    per digit the confident line with "{prob}" left to fill, per pair of likeliest digits the not-sure line."""
    return {"blank": t("draw.msg.blank", lang), "class_blank": t("class.msg.draw_first", lang),
            "confident": {d: t("draw.msg.confident", lang, digit=d, prob="{prob}") for d in DIGITS},
            "not_sure": {f"{a},{b}": t("draw.msg.not_sure", lang, digit=a, second=b)
                         for a in DIGITS for b in DIGITS if a != b}}


def page_script() -> bytes:
    """The page's script: the preprocessing's constants (geometry.py is their one home), the answer texts,
    the geometry, the runtime."""
    constants = {name: getattr(geometry, name) for name in GEOMETRY_CONSTANTS}
    texts = {lang: answer_texts(lang) for lang in LANGUAGES}
    return (f"const GEOMETRY = {json.dumps(constants)};\nconst TEXTS = {json.dumps(texts, ensure_ascii=False)};\n"
            + (STATIC / "geometry.js").read_text() + (STATIC / "runtime.js").read_text()).encode()


@cache
def assets() -> dict[str, Asset]:
    """The runtime's files and the page's script, read and compressed once per process."""
    ort = STATIC / "ort"
    return {
        "ort": _asset("ort.wasm.min.js", (ort / "ort.wasm.min.js").read_bytes()),
        "mjs": _asset("ort-wasm-simd-threaded.mjs", (ort / "ort-wasm-simd-threaded.mjs").read_bytes()),
        "wasm": _asset("ort-wasm-simd-threaded.wasm", None, (ort / "ort-wasm-simd-threaded.wasm.gz").read_bytes(),
                       (ort / "ort-wasm-simd-threaded.wasm.br").read_bytes()),
        "device": _asset("device.js", page_script()),
    }


def _lookup(path: str) -> Asset | None:
    if path.startswith(PREFIX + "a/"):
        return next((a for a in assets().values() if "/" + a.url == path), None)
    if path.startswith(PREFIX + "m/") and path.endswith(".onnx"):
        found = device_models.find(path[len(PREFIX + "m/"):-len(".onnx")])
        return found and Asset(model_url(found), TYPES[".onnx"], found.gzipped, found.data)
    return None


def model_url(file: device_models.DeviceFile) -> str:
    return f"device/m/{file.name}"


class DeviceFiles:
    """ASGI middleware: GET/HEAD /device/... answered from memory (immutable, gzip), everything else passed on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        asset = _lookup(scope["path"]) if scope["method"] in ("GET", "HEAD") else None
        if asset is None:
            await _respond(send, 404, [(b"content-type", b"text/plain")], b"not found", scope["method"])
            return
        accepts = {e.split(b";")[0].strip() for e in dict(scope["headers"]).get(b"accept-encoding", b"").split(b",")}
        encoding = b"br" if asset.brotli and b"br" in accepts else b"gzip" if b"gzip" in accepts else None
        body = {b"br": asset.brotli, b"gzip": asset.gzipped}.get(encoding) or asset.plain or gzip.decompress(asset.gzipped)
        headers = [(b"content-type", asset.content_type.encode()), (b"vary", b"accept-encoding"),
                   (b"cache-control", f"public, max-age={YEAR}, immutable".encode())]
        if encoding:
            headers.append((b"content-encoding", encoding))
        await _respond(send, 200, headers, body, scope["method"])


async def _respond(send, status: int, headers: list, body: bytes, method: str) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def middleware() -> list:
    """For `launch(app_kwargs={"middleware": [...]})`."""
    from starlette.middleware import Middleware

    return [Middleware(DeviceFiles)]


# ---------------------------------------------------------------------------------------------
# The page's configuration and the note


def model_files(entries) -> dict[str, dict]:
    """key -> {"url", "sure"} for the models the page may run itself (the NumPy network has none: server road)."""
    out = {}
    for entry in entries:
        file = device_models.device_file(entry.model)
        if file is not None:
            out[entry.key] = {"url": model_url(file), "sure": threshold_of(entry.model)}
    return out


def config(entries, keys: dict[str, str | None] | None = None, blanks: dict[str, str] | None = None) -> str:
    """A note's value: what runtime.js needs, as JSON; the page merges the values of all its notes.
    `entries`: the models a canvas may pick (their files); `keys`: canvas id -> the model it answers with now;
    `blanks`: canvas id -> the TEXTS key of its "nothing drawn" line (default "blank")."""
    strings = {lang: {"device": t("draw.source.device", lang), "server": t("draw.source.server", lang),
                      "blank": t("draw.msg.blank", lang)} for lang in LANGUAGES}
    return json.dumps({"assets": {name: a.url for name, a in assets().items()}, "models": model_files(entries),
                       "keys": keys or {}, "blanks": blanks or {}, "classes": list(DIGITS), "strings": strings})


NOTE_HTML = '<span class="answer-source"></span>'
NOTE_CSS = ".answer-source { font-size: var(--text-sm); color: var(--body-text-color-subdued); }"
# Runs when the note mounts: keeps the configuration (it changes with the session's models), shows the
# road, and loads the page's script once the page is interactive (after its load event, when idle).
NOTE_JS = """
const D = globalThis.MnistDevice = globalThis.MnistDevice ||
  { keys: {}, lang: 'en', road: 'server', config: { models: {}, blanks: {} } };
D.note = () => {
  const s = D.config.strings && (D.config.strings[D.lang] || D.config.strings.en);
  if (!s) return;
  for (const span of document.querySelectorAll('.answer-source'))  // unchanged text left alone: no relayout
    if (span.dataset.road !== D.road || span.textContent !== s[D.road]) { span.textContent = s[D.road]; span.dataset.road = D.road; }
};
D.setKey = (pad, key) => { D.keys[pad] = key; if (D.preload) D.preload(); };
D.setLang = (lang) => { D.lang = lang; D.note(); };
D.setRoad = (road) => { if (D.road !== road) { D.road = road; D.note(); } };
function configure() {
  if (!props.value) return;
  const c = JSON.parse(props.value);
  D.config = { ...D.config, ...c, models: { ...D.config.models, ...c.models }, blanks: { ...D.config.blanks, ...c.blanks } };
  for (const [pad, key] of Object.entries(c.keys || {})) D.keys[pad] = key;
  D.note();
  if (D.preload) D.preload();
}
configure();
watch('value', configure);
function start() {
  if (D.started) return;
  D.started = true;
  const script = document.createElement('script');
  script.src = new URL(D.config.assets.device, document.baseURI).href;
  script.onerror = () => { D.runtime = 'failed'; };
  document.head.appendChild(script);
}
const later = () => (window.requestIdleCallback ? requestIdleCallback(start, { timeout: 1000 }) : setTimeout(start, 200));
if (document.readyState === 'complete') later(); else window.addEventListener('load', later, { once: true });
"""


def source_note(value: str, elem_id: str = "answer-source", visible: bool = True) -> gr.HTML:
    """The small line under the answer: "on this device" / "by the server"; its value is `config(...)`."""
    return gr.HTML(value=value, html_template=NOTE_HTML, css_template=NOTE_CSS, js_on_load=NOTE_JS,
                   elem_id=elem_id, apply_default_css=False, container=False, padding=False, visible=visible)


def set_key_js(pad: str) -> str:
    """For `dropdown.change(None, dropdown, js=...)`: the canvas `pad` now answers with this model."""
    return f"(key) => {{ globalThis.MnistDevice?.setKey({json.dumps(pad)}, key); }}"


SET_LANG_JS = "(lang) => { globalThis.MnistDevice?.setLang(lang); }"


def show_js(pad: str, status_only: bool = False) -> str:
    """For the canvas's display event: the device's latest answer as (label value, status), or the status alone."""
    return f"() => globalThis.MnistDevice.outputs({json.dumps(pad)}){'[1]' if status_only else ''}"
