"""Who is calling and where the page lives, from a request's headers: the caller's address (for rate
limits) and the app's address as the browser sees it (for a class's join link).

Takes any request-like object with `.headers` and `.client.host` (a gr.Request, a Starlette request), so
the core needs no gradio; None (a direct call in a test or a script) is "local".

The caller's address is the one the trusted proxy saw (`resolve`): never a hop of X-Forwarded-For the
client wrote, an IPv6 address by its /64 (one household's whole block).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable

from . import settings


def _headers(request) -> dict[str, str]:
    return {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()} if request is not None else {}


def client_address(request) -> str:
    """The caller's address for rate limits: the one the trusted proxy saw (`resolve`), else the socket's."""
    if request is None:
        return "local"
    headers = getattr(request, "headers", None)
    forwarded = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else [
        v for k, v in dict(headers or {}).items() if k.lower() == "x-forwarded-for"]
    return resolve(getattr(getattr(request, "client", None), "host", None), forwarded)


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


def trusted_proxies() -> int:
    """How many proxies in front of the app append to X-Forwarded-For: $MNIST_DEMO_TRUSTED_PROXIES, else 1 on
    a Space ($SPACE_ID) or with $MNIST_DEMO_TRUST_PROXY, else 0 (the socket's address is the client's)."""
    configured = settings.current()
    if configured.trusted_proxies is not None:
        return min(configured.trusted_proxies, 10)
    return 1 if configured.space_id or configured.trust_proxy else 0


def limit_key(address: str) -> str:
    """The key an address is counted under: an IPv4 address as it is, an IPv6 address by its /64 (a home or
    phone gets a whole /64), an IPv4-mapped one as the IPv4; anything else cut to 64 characters."""
    text = address.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def resolve(socket_host: str | None, forwarded_for: Iterable[str] = (), hops: int | None = None) -> str:
    """The client's address for rate limits. Behind `hops` trusted proxies (default `trusted_proxies()`) it
    is the hop the outermost trusted proxy appended: the `hops`-th from the right of X-Forwarded-For (all its
    header lines together, in order). Every hop to its left was written by the client and is ignored."""
    hops = trusted_proxies() if hops is None else hops
    if hops > 0:
        chain = [hop.strip() for line in forwarded_for for hop in str(line).split(",") if hop.strip()]
        if chain:
            return limit_key(chain[-hops] if len(chain) >= hops else chain[0])
    return limit_key(socket_host or "unknown")
