"""The console's plain HTTP, behind the proctor's session: the sign-in form (`GET /` without a
session), `/login` (token in, session cookie out, then a redirect so the token leaves the
address bar), `/logout`, the dashboard page, and an attempt's evidence (identity photo,
reference photo, snapshots) for the proctors of its exam.

Evidence is found through the store by ids checked against a strict pattern, never by a path
taken from the address; every answer is `Cache-Control: private, no-store`."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from proctor_server.clock import Clock
from proctor_server.console import auth
from proctor_server.core.records import ProctorRecord
from proctor_server.store import Store

SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
PRIVATE = "private, no-store"
PAGES = frozenset({"/", "/login", "/logout"})


def _response(
    status: int, body: bytes, content_type: str, extra: list[tuple[str, str]] | None = None
) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", PRIVATE),
            ("Connection", "close"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            *(extra or []),
        ]
    )
    return Response(status, REASONS.get(status, ""), headers, body)


REASONS = {
    200: "OK",
    303: "See Other",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
}


def _text(status: int, text: str) -> Response:
    return _response(status, text.encode(), "text/plain; charset=utf-8")


def _redirect(location: str, cookie: str) -> Response:
    return _response(
        303, b"", "text/plain; charset=utf-8", [("Location", location), ("Set-Cookie", cookie)]
    )


def _page(name: str) -> bytes:
    return resources.files("proctor_server.dashboard").joinpath(name).read_bytes()


@dataclass(frozen=True, slots=True)
class ConsoleWeb:
    store: Store
    clock: Clock

    def handles(self, path: str) -> bool:
        return path in PAGES or path.startswith("/evidence/")

    async def route(self, request: Request) -> Response | None:
        """The console's answer to `request`, or None for a path that is not the console's."""
        path = urlsplit(request.path).path
        if not self.handles(path):
            return None
        now = self.clock.now()
        if path == "/login" or (path == "/" and auth.query_value(request.path, "token")):
            # `/?token=` (older links, the demo) signs in the same way
            return await self._login(request, now)
        if path == "/logout":
            await auth.close_session(self.store, auth.session_cookie(request.headers))
            return _redirect("/", auth.clear_cookie(auth.behind_tls(request.headers)))
        proctor = await auth.proctor_by_session(
            self.store, auth.session_cookie(request.headers), now
        )
        if path == "/":
            page = "index.html" if proctor is not None else "signin.html"
            return _response(200, _page(page), "text/html; charset=utf-8")
        if proctor is None:
            return _text(401, "sign in first")
        return await self._evidence(proctor, path)

    async def _login(self, request: Request, now: datetime) -> Response:
        proctor = await auth.proctor_by_token(self.store, auth.query_value(request.path, "token"))
        secure = auth.behind_tls(request.headers)
        if proctor is None:
            return _redirect("/?signin=failed", auth.clear_cookie(secure))
        session = await auth.open_session(self.store, proctor, now)
        return _redirect("/", auth.set_cookie(session, secure))

    async def _evidence(self, proctor: ProctorRecord, path: str) -> Response:
        """/evidence/ATTEMPT/identity | reference | snapshot/latest | snapshot/PHOTO_ID"""
        parts = path.split("/")[2:]
        if not 2 <= len(parts) <= 3 or not all(SAFE_ID.match(p) for p in parts):
            return _text(404, "no such evidence")
        attempt = await self.store.get_attempt(parts[0])
        if attempt is None or not proctor.sees(attempt.exam_id):
            return _text(404, "no such attempt in your exams")
        data: bytes | None = None
        if parts[1:] == ["reference"]:
            ticket = await self.store.get_ticket(attempt.ticket)
            if ticket is not None and ticket.reference_photo:
                data = await asyncio.to_thread(self.store.blobs.read, ticket.reference_photo)
        elif parts[1:] == ["identity"] or (parts[1] == "snapshot" and len(parts) == 3):
            kind = "identity_photo" if parts[1] == "identity" else "snapshot"
            photos = await self.store.photos(attempt.id, kind)
            wanted = parts[2] if len(parts) == 3 and parts[2] != "latest" else None
            chosen = [p for p in photos if wanted is None or p.id == wanted]
            if chosen:
                latest = max(chosen, key=lambda p: p.received_at)
                data = await self.store.photo_bytes(latest.id)
        if data is None:
            return _text(404, "no such evidence")
        return _response(200, data, "image/jpeg")
