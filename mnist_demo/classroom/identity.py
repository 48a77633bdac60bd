"""A student's place in a class, kept by their browser: a signed token (class code, student id, time).

Gradio keeps a tab's state only as long as it keeps the session (a reload, a dropped connection or its
session store's eviction lose it), so the Class tab also hands the browser this token (localStorage) and
takes it back on every join and page load: the same browser stays the same student, with its drawings, its
count and its caps. The token is HMAC-SHA256 signed with the server's secret ($MNIST_DEMO_SECRET, shared by
every server of one deployment, else a random key kept in the state folder): a script can drop it (and join
again as a new student, within the join limits) but cannot make one up or take another student's place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass

from .. import settings
from . import security

TOKEN_DAYS = 30  # as long as a class can live without renewal
MAX_TOKEN_CHARS = 300
SECRET_FILE = "secret.key"
_secret: bytes | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    code: str
    student: str


def server_secret() -> bytes:
    """$MNIST_DEMO_SECRET, else the state folder's secret.key (made once, readable by this user only)."""
    global _secret
    with _lock:
        if _secret is None:
            configured = settings.current().secret
            if configured:
                _secret = hashlib.sha256(configured.encode("utf-8")).digest()
            else:
                from .store import state_dir

                path = state_dir() / SECRET_FILE
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                        f.write(secrets.token_bytes(32))
                except FileExistsError:
                    pass
                _secret = path.read_bytes()
        return _secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:18])


def sign(place: Place, secret: bytes | None = None, now: float | None = None) -> str:
    """The token a browser keeps for this place."""
    payload = _b64(json.dumps([place.code, place.student, int(time.time() if now is None else now)]).encode())
    return f"{payload}.{_mac(payload, secret or server_secret())}"


def read(token: object, secret: bytes | None = None, now: float | None = None) -> Place | None:
    """The place a token names, if the server signed it within TOKEN_DAYS; None for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(payload, secret or server_secret())):
        return None
    try:
        code, student, issued = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        return None
    now = time.time() if now is None else now
    if (security.normalize_code(code) != code or not isinstance(student, str) or not 0 < len(student) <= 64
            or not isinstance(issued, int) or not now - TOKEN_DAYS * 86400 < issued <= now + 60):
        return None
    return Place(code, student)
