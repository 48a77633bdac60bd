"""The classroom service's refusals (`classroom.service.Refused`) in the page's language: a message key for each
reason, and the decorator that turns a handler's refusal into the page's error toast."""

from __future__ import annotations

import functools
import inspect

import gradio as gr

from ..classroom.service import Refused
from .i18n import t

MESSAGES = {  # the service's refusal reasons -> message keys
    "slow_down": "class.msg.slow_down", "refused": "class.msg.refused", "no_class": "class.msg.no_class",
    "not_joined": "class.msg.not_joined", "draw_first": "class.msg.draw_first", "gone": "class.msg.gone",
    "class_full": "class.msg.class_full", "student_full": "class.msg.student_full",
    "too_many_students": "class.msg.too_many_students", "too_many_classes": "class.msg.too_many_classes",
    "many_classes_here": "class.msg.many_classes_here",
    "no_model": "draw.msg.no_model", "bad_drawing": "draw.msg.bad_drawing", "unconfirmed": "class.delete_tick",
    "train_few": "class.train_few", "train_busy": "class.train_busy", "busy": "class.msg.busy",
    "joining_closed": "class.msg.joining_closed", "not_drawn": "class.msg.not_drawn",
    "server_full": "class.msg.server_full", "no_session": "common.reload",
    "bad_choice": "class.msg.bad_choice", "no_run": "class.msg.no_run", "old_run": "class.msg.old_run",
}


def message(refusal: Refused, lang: str) -> str:
    key = MESSAGES[refusal.reason]
    return t(key, lang, **refusal.values)


def error(refusal: Refused, lang: str) -> gr.Error:
    """The page's error toast for a refusal."""
    return gr.Error(message(refusal, lang), title=t("common.error", lang), print_exception=False)


def shows_refusals(handler):
    """A handler whose `Refused` becomes the page's error toast, in the caller's language (its `lang` input, or
    its `desk`'s)."""
    signature = inspect.signature(handler)

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Refused as exc:
            arguments = signature.bind(*args, **kwargs).arguments
            raise error(exc, arguments["desk"].lang if "desk" in arguments else arguments.get("lang")) from None

    return wrapper
