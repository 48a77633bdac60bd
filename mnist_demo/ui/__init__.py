"""The browser UI: one module per tab, the translation table and per-browser-session state.

Only this package imports gradio; it calls the core and holds no logic of its own. Every tab's handlers
follow one convention:

* **Inputs** are positional, in the order of the event's `inputs`: the tab's own components first, then the
  shared `ctx.session` and `ctx.lang` (and a page counter), then what Gradio fills in (`gr.Request`,
  `gr.SelectData`). A form with many fields (the Train tab's settings, the Visualize tab's controls, what every
  call of the class dashboard carries) takes them as a set instead, and its handler reads them into one plain
  dataclass (`common.read_form`, `class_desk.Desk`).
* **Outputs**: up to four outputs, one value each, in the order of `outputs` (a tuple when there are several);
  more than four outputs -> a dict keyed by component (outputs it leaves out stay as they are). The handler
  gets those components as one plain dataclass of the tab's (`train_tab.TrainTab`, `teach_panel.Panel`,
  `visualize_tab.Figures`, the Class tab's `ClassTab.p`), so tests build it from stand-ins.
* **Work**: a handler checks what it is sent as if a script sent it (any event can be called by number with
  any inputs), calls one core function and renders the result with `t()` in the caller's language; what the
  core refuses becomes a message or a toast (`gr.Error`), never a traceback.
* **Events** are private (`common.PRIVATE`) unless they are the public API; an event of which only the
  latest call matters is `common.LIVE`; a job in a process of its own is followed with `common.follow`.
"""
