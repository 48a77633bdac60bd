"""The page's own CSS, passed at launch (`app.launch_options`): a phone-first Draw tab.

On a narrow screen (a phone held upright, up to 640 px wide) the heading keeps its words whole and
gets smaller, and the Draw tab becomes one column in a compact order: canvas, Undo/Clear, the
answer (`#draw-status` says the digit and how sure; the ten probabilities follow in a short box
that scrolls on its own) and the ten "It's a N"
buttons, so that the answer and the buttons are on screen together with the canvas right after
drawing; the model picker, the upload, My digits and "what the network sees" follow. The canvas
itself never lets a stroke scroll the page (`touch-action: none`, `ui.canvas`). On every screen the ten
"It's a N" buttons are two rows of five that never wrap inside (ten in one row put "It's a 9" on a line of its
own at 1280 px); Gradio's notice header (its type, "Info", in English whatever the page's language) is hidden;
every other rule is inside the media query.
"""

from __future__ import annotations

PHONE_MAX_WIDTH_PX = 640
ANSWER_MAX_HEIGHT_PX = 100  # the probabilities on a phone: the top three bars, the others a scroll away

# The Draw tab's blocks, top to bottom, on a phone (elem_ids of draw_tab and teach_panel; a block that
# Gradio wraps, such as a dropdown in its form, is ordered through its wrapper).
PHONE_ORDER = ("draw-canvas-label", "sketchpad", "draw-tools", "draw-status", "prediction", "teach-panel",
               "answer-source", "draw-model", "upload", "my-digits-panel", "seen")

# File boxes whose label sits in the flow above the drop area: Gradio floats it over the box, where a long
# label (or a narrow box, or Chinese) ran into the "drop a file here" text.
LABELLED_FILES = ("train-extra", "train-upload", "train-download", "teach-zip", "class-export-file")

CSS = f"""
{", ".join(f"#{name} [data-testid='block-label']" for name in LABELLED_FILES)} {{
  position: static !important; margin-bottom: 4px; max-width: 100%; white-space: normal; }}
/* A field with a copy button (the teacher key, the join link): its label leaves the button room (a long label,
   or the Chinese one on a phone, ran under it) */
label.container:has(> .icon-button-wrapper) > [data-testid='block-info'] {{ display: block; padding-right: 26px; }}
.toast-title {{ display: none !important; }}  /* Gradio's notice header: its type in English ("Info") in any language */
#teach-buttons .teach-row {{ flex-wrap: nowrap !important; gap: 4px !important; }}
#teach-buttons .teach-row button {{ min-width: 0 !important; padding-left: 2px !important;
  padding-right: 2px !important; white-space: nowrap; }}
/* In the panel's grey group Gradio's grey buttons read as plain text: a face and an edge of their own */
#teach-buttons .teach-row button {{ background: var(--background-fill-primary) !important;
  border: 1px solid var(--border-color-primary) !important; }}
#teach-buttons .teach-row button:hover {{ background: var(--button-secondary-background-fill-hover) !important; }}
@media (max-width: {PHONE_MAX_WIDTH_PX}px) {{
  h1 {{ font-size: 1.4rem !important; line-height: 1.25 !important; overflow-wrap: normal; word-break: keep-all;
        hyphens: manual; }}
  .row:has(#language) {{ flex-wrap: wrap; gap: 4px; }}
  .row:has(#language) > * {{ min-width: 100% !important; }}
  .row:has(#language) .form {{ border: none; background: none; }}
  #language {{ flex: 1 1 100% !important; padding: 2px 0 !important; border: none; }}
  #language > span:first-of-type, #language [data-testid="block-info"] {{ display: none; }}
  .row:has(#language) + * p {{ font-size: 0.85rem; line-height: 1.35; margin: 0; }}
  #draw-tools {{ flex-wrap: nowrap; }}
  #draw-tools button {{ min-width: 0 !important; }}
  #draw-row {{ flex-direction: column; flex-wrap: nowrap; gap: 8px; }}
  #draw-left, #draw-right {{ display: contents; }}
{chr(10).join(f"  :is(#draw-left, #draw-right) > :is(#{name}, :has(> #{name})) {{ order: {i}; }}"
              for i, name in enumerate(PHONE_ORDER, 1))}
  #draw-canvas-label p {{ margin: 0; font-size: 0.9rem; }}
  #prediction {{ max-height: {ANSWER_MAX_HEIGHT_PX}px; overflow-y: auto !important; }}
  #prediction h2.output-class {{ display: none; }}  /* the top digit is #draw-status's and the first bar's */
  #prediction > label {{ display: none; }}
  #teach-title {{ display: none; }}  /* the buttons say it; the canvas, answer and buttons must fit one screen */
}}
"""
