"""Who is calling and where the page lives, from a request's headers: the caller's address (for rate
limits) and the app's address as the browser sees it (for a class's join link).

Takes any request-like object with `.headers` and `.client.host` (a gr.Request, a Starlette request), so
the core needs no gradio; None (a direct call in a test or a script) is "local".
"""

from __future__ import annotations

import urllib.parse

from . import settings


def _headers(request) -> dict[str, str]:
    return {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()} if request is not None else {}


def client_address(request) -> str:
    """The caller's address for rate limits; behind Spaces' proxy, the first X-Forwarded-For hop."""
    if request is None:
        return "local"
    forwarded = _headers(request).get("x-forwarded-for", "")
    if forwarded and (settings.current().space_id or settings.current().trust_proxy):
        return forwarded.split(",")[0].strip()
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def page_url(request) -> str:
    """The app's address as the browser sees it (for the join link): $MNIST_DEMO_PUBLIC_URL, the referer, the host."""
    configured = settings.current().public_url
    if configured:
        return configured.rstrip("/") + "/"
    headers = _headers(request)
    referer = urllib.parse.urlsplit(headers.get("referer", ""))
    if referer.scheme in ("http", "https") and referer.netloc:
        return urllib.parse.urlunsplit((referer.scheme, referer.netloc, referer.path or "/", "", ""))
    host = headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1:7860"
    scheme = headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}/"


def join_link(code: str, request) -> str:
    return f"{page_url(request)}?class={code}"
