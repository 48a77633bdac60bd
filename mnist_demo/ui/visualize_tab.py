"""The visualize tab (being built; see its issue)."""

from __future__ import annotations

import gradio as gr


def build(ctx) -> None:
    gr.Markdown("…")
