"""Plain HTTP answered by the same process before any WebSocket handshake: health, the
bandwidth test's download, and the dashboard's static files. The console's pages behind the
proctor's session (`/`, `/login`, `/logout`, `/evidence/...`) are `console.web`'s."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from proctor_server.bandwidth import CHUNK, filler
from shared.timeutil import to_wire

WS_PATHS = frozenset({"/ws/candidate", "/ws/proctor", "/ws/bandwidth", "/ws/media-probe"})
# The download test streams over /ws/bandwidth; this plain GET stays for a quick look and is
# small, because its whole body is built before it is sent.
MAX_DOWNLOAD = CHUNK

STATIC = {
    "/media-test": ("watch.html", "text/html; charset=utf-8"),  # live video, bare
}


def response(status: int, body: bytes, content_type: str, reason: str = "") -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status, reason or _REASONS.get(status, ""), headers, body)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    503: "Service Unavailable",
}


def json_response(status: int, payload: object) -> Response:
    return response(status, json.dumps(payload).encode(), "application/json")


def route(request: Request, ready: bool, now: datetime) -> Response | None:
    """An HTTP response for `request`, or None to go on with the WebSocket handshake."""
    parts = urlsplit(request.path)
    path = parts.path
    if path in WS_PATHS:
        return None
    if path == "/healthz":
        status = 200 if ready else 503
        return json_response(
            status, {"status": "ok" if ready else "starting", "server_time": to_wire(now)}
        )
    if path == "/bandwidth":
        return _download(parse_qs(parts.query))
    if path in STATIC:
        name, content_type = STATIC[path]
        try:
            body = resources.files("proctor_server.dashboard").joinpath(name).read_bytes()
        except FileNotFoundError:
            return json_response(404, {"error": "not found"})
        return response(200, body, content_type)
    return json_response(404, {"error": f"no such path: {path}"})


def _download(query: dict[str, list[str]]) -> Response:
    try:
        size = int(query.get("bytes", ["1000000"])[0])
    except ValueError:
        return json_response(400, {"error": "bytes must be an integer"})
    if not 0 < size <= MAX_DOWNLOAD:
        return json_response(400, {"error": f"bytes must be between 1 and {MAX_DOWNLOAD}"})
    return response(200, filler(size), "application/octet-stream")
