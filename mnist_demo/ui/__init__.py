"""The browser UI: one module per tab, the translation table and per-browser-session state.

Only this package imports gradio; it calls the core and holds no logic of its own.
"""
