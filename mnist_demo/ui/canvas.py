"""A light drawing canvas on `gr.HTML`: draws at once, smooth round strokes, and sends the ink while drawing.

Its value is a small JSON payload `{"w": 112, "h": 112, "data": base64 of 112*112 ink bytes, "final":
false}` (the format `reading.files.decode_ink_payload` reads; "final" is true once the pointer is
released), or "" when the canvas is empty. On the server road the script sets `props.value` at most
every SEND_EVERY_MS while the pointer moves and once at the end of each stroke, and fires `input`
(the live answer; setting the value also fires `change`); the end of a stroke, an undo or a clear
also fires `submit` (the preprocessing panel, the Visualize tab). On the device road (`device=True`
and the page's runtime ready, see ui/device.py) the answers during a stroke are computed in the page
and shown through `select`, with no request; only the stroke's end sends the ink (`stop`).
Strokes are kept as points in [0, 1]
so the drawing survives any resize, and the 112 px ink is drawn directly from them (exact
anti-aliasing, no image to upload). Undo and clear are plain DOM events on the canvas, so
buttons elsewhere on the page can send them (`pad_js`).
"""

from __future__ import annotations

import json

import gradio as gr

from ..canvas_spec import BRUSH, INK_SIDE  # shared with the Python renderer (handwriting.py)

SEND_EVERY_MS = 70  # while drawing; a prediction takes a few ms, the round trip the rest
MAX_SIDE_PX = 360  # the canvas's largest on-screen side

HTML = '<div class="pad"><canvas class="ink"></canvas></div>'

CSS = f"""
.pad {{ display: flex; justify-content: center; width: 100%; }}
canvas.ink {{
  display: block; width: min(100%, {MAX_SIDE_PX}px); height: auto; aspect-ratio: 1 / 1;
  background: #fff; border: 1px solid var(--border-color-primary, #ccc); border-radius: 8px;
  touch-action: none; cursor: crosshair; user-select: none; -webkit-user-select: none;
}}
"""

SCRIPT = """
const canvas = element.querySelector('canvas.ink');
const view = canvas.getContext('2d');
const small = document.createElement('canvas');
small.width = small.height = INK_SIDE;
const inkCtx = small.getContext('2d', { willReadFrequently: true });
let strokes = [];          // each a list of [x, y] in [0, 1]
let current = null, pointerId = null, lastSent = 0, timer = null;

function trace(ctx, side, ink, paper) {
  ctx.fillStyle = paper;
  ctx.fillRect(0, 0, side, side);
  ctx.strokeStyle = ink; ctx.fillStyle = ink;
  ctx.lineWidth = BRUSH * side; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  for (const pts of strokes) {
    ctx.beginPath();
    ctx.moveTo(pts[0][0] * side, pts[0][1] * side);
    if (pts.length === 1) {  // a dot
      ctx.arc(pts[0][0] * side, pts[0][1] * side, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    // Quadratic smoothing: curve through the midpoints, the recorded points as control points.
    for (let i = 1; i < pts.length - 1; i++) {
      const mx = (pts[i][0] + pts[i + 1][0]) / 2, my = (pts[i][1] + pts[i + 1][1]) / 2;
      ctx.quadraticCurveTo(pts[i][0] * side, pts[i][1] * side, mx * side, my * side);
    }
    const last = pts[pts.length - 1];
    ctx.lineTo(last[0] * side, last[1] * side);
    ctx.stroke();
  }
}

function redraw() { trace(view, canvas.width, '#000', '#fff'); }

function fitToScreen() {  // backing store = on-screen size x devicePixelRatio, so strokes stay crisp
  const px = Math.max(1, Math.round(canvas.getBoundingClientRect().width * (window.devicePixelRatio || 1)));
  if (canvas.width !== px || canvas.height !== px) { canvas.width = px; canvas.height = px; }
  redraw();
}

function inkBytes() {  // the ink map: INK_SIDE x INK_SIDE bytes, 255 = full ink
  trace(inkCtx, INK_SIDE, '#fff', '#000');  // white ink on black: the red channel is the ink
  const rgba = inkCtx.getImageData(0, 0, INK_SIDE, INK_SIDE).data;
  const ink = new Uint8Array(INK_SIDE * INK_SIDE);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
  return ink;
}

function payload(final, ink) {
  if (!strokes.length) return '';
  let bytes = '';
  for (let i = 0; i < ink.length; i += 4096) bytes += String.fromCharCode.apply(null, ink.subarray(i, i + 4096));
  return JSON.stringify({ w: INK_SIDE, h: INK_SIDE, data: btoa(bytes), final: final });
}

function toServer(final, ink) {  // the server road: the live event ('input'), and at the stroke's end 'submit'
  const value = payload(final === true, ink);
  if (props.value === value && final !== true) return false;
  props.value = value;
  trigger('input');  // the answer (setting the value also fires 'change', which the Draw tab leaves unheard)
  if (final === true) trigger('submit');  // the stroke is complete: the preprocessing panel and Visualize follow
  globalThis.MnistDevice?.setRoad?.('server');
  return true;
}

function send(final) {  // final: the pointer was released (or undo, clear): the drawing is complete for now
  clearTimeout(timer); timer = null;
  lastSent = performance.now();
  const ink = strokes.length ? inkBytes() : null;
  const device = DEVICE && globalThis.MnistDevice;
  if (device && device.canAnswer && device.canAnswer(PAD_ID)) {
    // On the device: no request while drawing; the answer is shown through the display event ('select').
    // At the stroke's end the ink still goes to the server ('stop'), for the panel, Visualize and saves, once
    // the answer is shown: sending it first would hold a slow phone's answer up by Gradio's work on the request.
    device.answer(PAD_ID, ink, INK_SIDE).then((ok) => {
      if (ok) trigger('select');
      if (ok === false) toServer(final, ink);  // the device could not: the server answers (and sees the end)
      else if (final === true) requestAnimationFrame(() => setTimeout(() => {  // once the answer is painted
        props.value = payload(true, ink);
        trigger('stop');
      }));
      canvas.dispatchEvent(new Event('pad-answered'));
    });
  } else if (!toServer(final, ink)) {
    return;
  }
  canvas.dispatchEvent(new Event('pad-sent'));  // for tests and benchmarks
}

function sendSoon() {  // at most every SEND_EVERY_MS while drawing, and the latest state always goes out
  const wait = SEND_EVERY_MS - (performance.now() - lastSent);
  if (wait <= 0) send();
  else if (!timer) timer = setTimeout(send, wait);
}

function point(e) {
  const box = canvas.getBoundingClientRect();
  return [(e.clientX - box.left) / box.width, (e.clientY - box.top) / box.height];
}

canvas.addEventListener('pointerdown', (e) => {
  if (current || (e.pointerType === 'mouse' && e.button !== 0)) return;
  e.preventDefault();
  try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* a pointer the browser no longer tracks */ }
  pointerId = e.pointerId;
  current = [point(e)];
  strokes.push(current);
  redraw();
  sendSoon();
});
canvas.addEventListener('pointermove', (e) => {
  if (!current || e.pointerId !== pointerId) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  for (const ev of (events.length ? events : [e])) current.push(point(ev));
  redraw();
  sendSoon();
});
function endStroke(e) {
  if (!current || e.pointerId !== pointerId) return;
  current = null; pointerId = null;
  send(true);
}
canvas.addEventListener('pointerup', endStroke);
canvas.addEventListener('pointercancel', endStroke);
canvas.addEventListener('touchmove', (e) => e.preventDefault(), { passive: false });  // older mobile browsers

function undo() { if (current) return; strokes.pop(); redraw(); send(true); }
function clear() { current = null; pointerId = null; strokes = []; redraw(); send(true); }
canvas.addEventListener('pad-undo', undo);
canvas.addEventListener('pad-clear', clear);
document.addEventListener('keydown', (e) => {
  const editing = e.target.closest && e.target.closest('input, textarea, [contenteditable]');
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z' && !editing && canvas.offsetParent) {
    e.preventDefault();
    undo();
  }
});
watch('value', () => { if (!props.value && strokes.length) { strokes = []; redraw(); } });  // cleared by the server

new ResizeObserver(fitToScreen).observe(canvas);
fitToScreen();
canvas.dataset.ready = '1';
"""
JS = f"const SEND_EVERY_MS = {SEND_EVERY_MS}, INK_SIDE = {INK_SIDE}, BRUSH = {BRUSH};\n" + SCRIPT


def pad_js(elem_id: str, action: str) -> str:
    """JavaScript for a button elsewhere on the page (`button.click(None, js=pad_js("sketchpad", "undo"))`): send
    the canvas `elem_id` its `pad-undo` or `pad-clear` event; the event's own inputs pass through unchanged."""
    return (f"(...args) => {{ document.querySelector('#{elem_id} canvas.ink')?.dispatchEvent(new Event('pad-{action}'));"
            " return args; }")


UNDO_JS = pad_js("sketchpad", "undo")
CLEAR_JS = pad_js("sketchpad", "clear")


def script(elem_id: str, device: bool) -> str:
    """The canvas's script for the canvas `elem_id`; `device`: it may answer on the device (ui/device.py)."""
    return f"const PAD_ID = {json.dumps(elem_id)}, DEVICE = {json.dumps(device)};\n" + JS


def drawing_canvas(elem_id: str = "sketchpad", device: bool = False) -> gr.HTML:
    """The canvas component; its `change` and `input` events carry the ink payload (or "" when empty).

    `device`: when the page's runtime can answer (ui/device.py), the answers during a stroke come from
    the device through `select` (wire it to `device.show_js`), and the stroke's end fires `stop` with
    the final ink instead of `input` and `submit`."""
    return gr.HTML(value="", html_template=HTML, css_template=CSS, js_on_load=script(elem_id, device), elem_id=elem_id,
                   apply_default_css=False, container=False, padding=False)
