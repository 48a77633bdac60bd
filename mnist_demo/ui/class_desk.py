"""What every call of the teacher's dashboard carries (`Desk`), read from one set of the page's inputs as if a
script sent it: the class code and teacher key it was given (the service checks them on every call; never a hidden
component or a session flag), the caller's address, the model picked, this session's models and the page's language.
A dashboard handler takes the desk and what its own event adds (a drawing number, a nickname, a clicked cell)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import gradio as gr

from ..addresses import client_address
from .i18n import LANGUAGES
from .session import trained_of


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Desk:
    code: str
    key: str
    address: str
    model: str
    session: object  # the page's Session, or whatever a script sent in its place (handlers check it)
    lang: str
    request: object  # for the join link's host

    @classmethod
    def read(cls, code: object, key: object, model: object, session: object, lang: object, request) -> Desk:
        return cls(_text(code), _text(key), client_address(request), _text(model), session,
                   lang if lang in LANGUAGES else "en", request)

    @property
    def trained(self) -> dict | None:
        return trained_of(self.session)


class DeskInputs:
    """The dashboard's events: `on(trigger, handler, outputs, *extra)` wires `handler(desk, *extra values)`."""

    def __init__(self, code, key, model, session, lang) -> None:
        self.parts = (code, key, model, session, lang)

    def desk(self, values: dict, request) -> Desk:
        return Desk.read(*(values[c] for c in self.parts), request)

    def on(self, trigger, handler, outputs, *extra, **settings):
        """`trigger(event, inputs, outputs, **settings)` with the desk's inputs and `extra` as one set; a
        select event's `gr.SelectData` comes last."""
        def values_of(values: dict, request) -> list:
            return [self.desk(values, request), *(values[c] for c in extra)]

        if inspect.isasyncgenfunction(handler):
            async def event(values: dict, request: gr.Request):
                async for out in handler(*values_of(values, request)):
                    yield out
        elif "evt" in inspect.signature(handler).parameters:
            def event(values: dict, evt: gr.SelectData, request: gr.Request):
                return handler(*values_of(values, request), evt)
        else:
            def event(values: dict, request: gr.Request):
                return handler(*values_of(values, request))
        event.__name__ = handler.__name__
        return trigger(event, {*self.parts, *extra}, outputs, **settings)
