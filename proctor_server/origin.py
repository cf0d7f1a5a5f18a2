"""Which browser pages may open the server's sockets. A browser names the page that opens a
WebSocket in its `Origin` header; a page of another site must not reach a proctor's feed with the
proctor's cookie, nor use the server as a traffic generator. The candidate's app and scripts
send no `Origin` and are not concerned.

Same origin means the scheme's host and port of `Origin` equal the `Host` the browser asked for
(a TLS-terminating proxy passes `Host` through), or the origin is listed by the operator."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _place(netloc: str, default: int) -> tuple[str, int] | None:
    """(host, port) of `host[:port]`, the port defaulted; None when it does not parse."""
    try:
        parts = urlsplit("//" + netloc)
        return (parts.hostname or "", parts.port or default)
    except ValueError:
        return None


def origin_allowed(origin: str | None, host: str | None, allowed: Collection[str] = ()) -> bool:
    """Whether a request carrying `Origin: origin` for `Host: host` may go on."""
    if origin is None:
        return True  # not a browser page
    if origin in allowed:
        return True
    if host is None:
        return False
    parts = urlsplit(origin)
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.netloc:
        return False  # "null", file://, anything but a web page
    mine = _place(host, default)
    return mine is not None and _place(parts.netloc, default) == mine
