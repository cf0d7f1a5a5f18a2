"""The candidate socket: URL rules, connection options, and reading decoded server messages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

from shared import protocol as p
from shared.errors import ConfigError, ProtocolError

log = logging.getLogger(__name__)

CANDIDATE_PATH = "/ws/candidate"
OPEN_TIMEOUT_S = 10.0
PING_INTERVAL_S = 10.0  # a dead link is noticed within about twice this
CLOSE_TIMEOUT_S = 2.0


def candidate_url(server: str) -> str:
    """`http://h:p`, `ws://h:p` or the full socket URL -> `ws(s)://h:p/ws/candidate`.

    ConfigError for anything else (a missing host, an unknown scheme)."""
    text = server.strip()
    if "://" not in text:
        text = "ws://" + text
    parts = urlsplit(text)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None:
        raise ConfigError(f"--server {server!r}: use http://, https://, ws:// or wss://")
    if not parts.hostname:
        raise ConfigError(f"--server {server!r} names no host")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(f"--server {server!r} has a bad port") from None
    path = parts.path.rstrip("/")
    if not path.endswith(CANDIDATE_PATH):
        path += CANDIDATE_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


async def open_connection(url: str, *, open_timeout: float = OPEN_TIMEOUT_S) -> ClientConnection:
    """Open the socket; raises OSError, TimeoutError or a websockets handshake error."""
    return await connect(
        url,
        max_size=p.MAX_FRAME,
        compression=None,  # small JSON and JPEGs: deflate buys little and costs memory
        open_timeout=open_timeout,
        ping_interval=PING_INTERVAL_S,
        ping_timeout=PING_INTERVAL_S,
        close_timeout=CLOSE_TIMEOUT_S,
        user_agent_header="proctor-client",
    )


def decode(frame: str | bytes) -> p.ServerMessage | None:
    """One frame from the server; None (logged) for a frame this client cannot read."""
    if isinstance(frame, bytes):
        log.warning("ignoring an unexpected binary frame of %d bytes", len(frame))
        return None
    try:
        return p.decode_server(frame)
    except ProtocolError as exc:
        log.warning("ignoring a server message: %s", exc.message)
        return None
