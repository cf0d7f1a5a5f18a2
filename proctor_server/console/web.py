"""The console's plain HTTP, behind the proctor's session: the sign-in form (`GET /` without a
session), `/login` (token in, session cookie out, then a redirect so the token leaves the
address bar), `/logout`, the console page (with its exam's first screen written in,
`first_screen.py`) and its modules (`/console/NAME.js|css`), an
attempt's evidence (identity photo, reference photo, snapshots) for the proctors of its exam,
and two JSON reads the page combines with the live feed: `/api/exam/EXAM` (each attempt's
violations by kind, the warning limit) and `/api/attempt/ATTEMPT` (the candidate panel: the
address given, progress, photos, violations with their reviews, events, audit entries).

Evidence is found through the store by ids checked against a strict pattern, never by a path
taken from the address; every answer about an exam is `Cache-Control: private, no-store`. The
page's own files (`/dashboard.js|css`, `/console/NAME.js|css`) are the same for everyone: read
once, gzipped once, sent gzipped to a browser that accepts it, and revalidated by their ETag
(`no-cache`: a reload costs a 304, an upgrade of the server is seen at once). JSON reads are
gzipped too where the browser accepts it."""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import logging
import re
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import msgspec
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from proctor_server.clock import Clock
from proctor_server.console import auth
from proctor_server.console.bundle import console_page
from proctor_server.console.first_screen import (
    FirstScreen,
    first_screen,
    localise,
    page_lang,
    page_pieces,
    rows_wanted,
    screen_pieces,
)
from proctor_server.core.records import AttemptRecord, ProctorRecord
from proctor_server.store import Store
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared.timeutil import to_wire

# The snapshot a proctor's page will be sent, for the page's own address (`first_screen.py`)
FirstGrid = Callable[[ProctorRecord, str], Awaitable[pp.Snapshot | None]]
# Its grid's read started, for the page's address (`first_screen.page_place`)
GridRead = Callable[[ProctorRecord, str], Awaitable[object]]

log = logging.getLogger(__name__)

SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
FIRST_SCREEN_WAIT_S = 0.25  # the page waits this long at most for its grid's read
PRIVATE = "private, no-store"
PAGES = frozenset({"/", "/login", "/logout"})
MODULE = re.compile(r"^/console/([a-z0-9_]{1,40})\.(js|css)$")
MODULE_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
ROOT_FILES = {"/dashboard.js": "dashboard.js", "/dashboard.css": "dashboard.css"}
ASSET_CACHE = "no-cache"  # kept, and revalidated by ETag before each use
GZIP_FROM = 1024  # bytes: smaller bodies are sent as they are


def _response(
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
    cache: str = PRIVATE,
) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            ("Connection", "close"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            *(extra or []),
        ]
    )
    return Response(status, REASONS.get(status, ""), headers, body)


def accepts_gzip(headers: Headers) -> bool:
    """Whether the request's Accept-Encoding allows gzip (and does not refuse it: q=0)."""
    for part in headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = 1.0
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key.strip().lower() == "q":
                    try:
                        q = float(value)
                    except ValueError:
                        q = 0.0
            return q > 0
    return False


def _maybe_gzip(
    status: int, body: bytes, content_type: str, request: Request, cache: str = PRIVATE
) -> Response:
    """`body` gzipped when the browser accepts it and it is worth it (JSON reads)."""
    if len(body) >= GZIP_FROM and accepts_gzip(request.headers):
        zipped = gzip.compress(body, compresslevel=5, mtime=0)
        extra = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return _response(status, zipped, content_type, extra, cache)
    return _response(status, body, content_type, [("Vary", "Accept-Encoding")], cache)


@dataclass(frozen=True, slots=True)
class Asset:
    """One of the page's files, read and compressed once."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str


@functools.cache
def _asset(name: str, content_type: str) -> Asset:
    body = _page(name)
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, gzip.compress(body, compresslevel=9, mtime=0), etag, content_type)


def _serve_asset(name: str, content_type: str, request: Request) -> Response:
    try:
        asset = _asset(name, content_type)
    except (FileNotFoundError, IsADirectoryError):
        return _text(404, "no such file")
    extra = [("ETag", asset.etag), ("Vary", "Accept-Encoding")]
    if asset.etag in request.headers.get("If-None-Match", ""):
        return _response(304, b"", content_type, extra, ASSET_CACHE)
    if accepts_gzip(request.headers):
        extra.append(("Content-Encoding", "gzip"))
        return _response(200, asset.gzipped, content_type, extra, ASSET_CACHE)
    return _response(200, asset.body, content_type, extra, ASSET_CACHE)


REASONS = {
    200: "OK",
    304: "Not Modified",
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
    first_grid: FirstGrid | None = None  # the page's first screen written into it, if given
    start_grid: GridRead | None = None  # and its read started at the sign-in

    def handles(self, path: str) -> bool:
        return (
            path in PAGES
            or path in ROOT_FILES
            or path.startswith(("/evidence/", "/api/", "/console/"))
        )

    async def route(self, request: Request) -> Response | None:
        """The console's answer to `request`, or None for a path that is not the console's."""
        path = urlsplit(request.path).path
        if not self.handles(path):
            return None
        now = self.clock.now()
        if path == "/login" or (path == "/" and auth.query_value(request.path, "token")):
            # `/?token=` (older links, the demo) signs in the same way
            return await self._login(request, now)
        if path.startswith("/console/"):
            return _module(path, request)
        if path in ROOT_FILES:
            name = ROOT_FILES[path]
            return _serve_asset(name, MODULE_TYPES[name.rsplit(".", 1)[1]], request)
        if path == "/logout":
            await auth.close_session(self.store, auth.session_cookie(request.headers))
            return _redirect("/", auth.clear_cookie(auth.behind_tls(request.headers)))
        proctor = await auth.proctor_by_session(
            self.store, auth.session_cookie(request.headers), now
        )
        if path == "/":
            if proctor is not None:  # the console, its style and modules inline
                return await self._console(proctor, request)
            return _maybe_gzip(200, _page("signin.html"), "text/html; charset=utf-8", request)
        if proctor is None:
            return _text(401, "sign in first")
        if path.startswith("/api/"):
            return await self._api(proctor, path, request)
        return await self._evidence(proctor, path)

    async def _console(self, proctor: ProctorRecord, request: Request) -> Response:
        """The console page in the proctor's language, with its exam's first screen in it
        when there is one to show (`first_screen.py`)."""
        lang = page_lang(request.headers)
        snapshot = None
        if self.first_grid is not None:
            try:  # a slow read (a store under load, a very large exam) does not hold the page:
                async with asyncio.timeout(FIRST_SCREEN_WAIT_S):  # its socket gets the read
                    snapshot = await self.first_grid(proctor, request.path)
            except TimeoutError:
                log.info("the console page went without its first screen: the grid was slow")
        if snapshot is None:
            return _console_page(request, lang)
        rows = rows_wanted(request.headers)
        screen = first_screen(snapshot, lang, self.clock.now(), rows)
        return _console_with(request, lang, screen)

    async def _login(self, request: Request, now: datetime) -> Response:
        proctor = await auth.proctor_by_token(self.store, auth.query_value(request.path, "token"))
        secure = auth.behind_tls(request.headers)
        if proctor is None:
            return _redirect("/?signin=failed", auth.clear_cookie(secure))
        session = await auth.open_session(self.store, proctor, now)
        if self.start_grid is not None:  # the page asked for next: its grid's read starts now
            _start_reading(self.start_grid(proctor, "/"))
        return _redirect("/", auth.set_cookie(session, secure))

    async def _evidence(self, proctor: ProctorRecord, path: str) -> Response:
        """/evidence/ATTEMPT/identity | reference | snapshot/latest | snapshot/PHOTO_ID |
        clip/CLIP_ID (a WebM of live media around violations)"""
        parts = path.split("/")[2:]
        if not 2 <= len(parts) <= 3 or not all(SAFE_ID.match(p) for p in parts):
            return _text(404, "no such evidence")
        attempt = await self.store.get_attempt(parts[0])
        if attempt is None or not proctor.sees(attempt.exam_id):
            return _text(404, "no such attempt in your exams")
        data: bytes | None = None
        if parts[1] == "clip" and len(parts) == 3:
            found = [c for c in await self.store.clips(attempt.id) if c.id == parts[2]]
            if found:
                data = await asyncio.to_thread(self.store.blobs.read, found[0].path)
            if data is None:
                return _text(404, "no such evidence")
            return _response(200, data, "video/webm")
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

    # ------------------------------------------------------------ JSON reads for the page

    async def _api(self, proctor: ProctorRecord, path: str, request: Request) -> Response:
        """/api/exam/EXAM | /api/attempt/ATTEMPT"""
        parts = path.split("/")[2:]
        if len(parts) != 2 or not SAFE_ID.match(parts[1]):
            return _json(404, {"error": "no such path"})
        if parts[0] == "exam" and proctor.sees(parts[1]):
            return _json(200, await self._exam(parts[1]), request)
        if parts[0] == "attempt":
            attempt = await self.store.get_attempt(parts[1])
            if attempt is not None and proctor.sees(attempt.exam_id):
                return _json(200, await self._attempt(attempt), request)
        return _json(404, {"error": "not in your exams"})

    async def _exam(self, exam_id: str) -> dict[str, Any]:
        """What the grid shows beside the feed's snapshot, per attempt: the risk, and the
        violations by kind (count, seconds in all, highest confidence, risk points) from which
        the page words the risk's reasons in its own language."""
        exam = await self.store.get_exam(exam_id)
        now = self.clock.now()
        attempts: dict[str, dict[str, Any]] = {}
        for attempt, _, found in await self.store.exam_overview(exam_id):
            at = attempt.finished_at or now
            risk = risk_score(found, at)
            kinds: dict[str, dict[str, float]] = {}
            for v in found:
                k = kinds.setdefault(v.kind.value, {"n": 0, "seconds": 0.0, "confidence": 0.0})
                k["n"] += 1
                k["seconds"] += max(0.0, ((v.ended_at or at) - v.server_at).total_seconds())
                k["confidence"] = max(k["confidence"], v.confidence)
            for kind, points in risk.by_kind.items():
                kinds[str(kind)]["points"] = points
            attempts[attempt.id] = {"risk": risk.score, "kinds": kinds}
        return {
            "exam": exam_id,
            "warning_limit": exam.warning_limit if exam else None,
            "on_warning_limit": exam.on_warning_limit.value if exam else None,
            "attempts": attempts,
        }

    async def _attempt(self, a: AttemptRecord) -> dict[str, Any]:
        """A candidate's panel: everything about one attempt but its answers' content."""
        ticket = await self.store.get_ticket(a.ticket)
        reviews = await self.store.violation_reviews(a.id)
        photos = await self.store.photos(a.id)
        answered = await self.store.answers(a.id)
        chain = await self.store.audit_chain(a.exam_id)
        clips = await self.store.clips(a.id)
        clip_of = {v: c.id for c in clips for v in c.violations}  # /evidence/ATTEMPT/clip/ID
        code = ticket.candidate_code if ticket else ""
        mine = [
            e
            for e in chain
            if e.detail.get("attempt") == a.id or (code and e.detail.get("candidate") == code)
        ]
        return {
            "attempt": a.id,
            "exam": a.exam_id,
            "candidate": code,
            "name": ticket.name if ticket else "",
            "email": ticket.email if ticket else None,
            "phone": ticket.phone if ticket else None,
            "has_reference": bool(ticket and ticket.reference_photo),
            "mode": a.mode.value,
            "state": a.state.value,
            "created_at": to_wire(a.created_at),
            "started_at": to_wire(a.started_at) if a.started_at else None,
            "finished_at": to_wire(a.finished_at) if a.finished_at else None,
            "ends_at": to_wire(a.ends_at),
            "identity_accepted": a.identity_accepted,
            "score": a.score,
            "max_score": a.max_score,
            "passed": a.passed,
            "warnings": a.warnings_used,
            # progress only: how many questions have an answer, never which
            "progress": {"answered": len(answered), "questions": len(a.order.questions)},
            "mail_to": await self.store.profile(a.id),
            "photos": [
                {
                    "id": ph.id,
                    "kind": ph.kind,
                    "at": to_wire(ph.received_at),
                    "accepted": ph.accepted,
                    "reasons": ph.reasons,
                }
                for ph in photos
            ],
            "violations": [
                {
                    "id": v.id,
                    "kind": v.kind.value,
                    "source": v.source.value,
                    "at": to_wire(v.server_at),
                    "ended_at": to_wire(v.ended_at) if v.ended_at else None,
                    "duration_s": (v.ended_at - v.server_at).total_seconds()
                    if v.ended_at
                    else None,
                    "confidence": v.confidence,
                    "evidence": v.evidence,
                    "review": _review(reviews.get(v.id)),
                    "clip": clip_of.get(v.id),
                }
                for v in await self.store.violations(a.id)
            ],
            "events": [
                {"kind": e["kind"], "at": e["server_at"], "client_at": e["client_at"]}
                for e in await self.store.events(a.id)
            ],
            "audit": [
                {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                for e in mine
            ],
        }


_READING: set[asyncio.Future[object]] = set()  # kept until done (no lost task)


def _start_reading(read: Awaitable[object]) -> None:
    """The exam's grid read while the browser follows the sign-in's redirect: the console
    page's request finds it under way or done (`GridCache`: a read serves for 3 s), and so
    does the page's socket after it."""
    task = asyncio.ensure_future(read)
    _READING.add(task)
    task.add_done_callback(_read_done)


def _read_done(task: asyncio.Future[object]) -> None:
    _READING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("reading the grid for a console page failed: %r", task.exception())


def _review(found: tuple[str, str, str] | None) -> dict[str, str] | None:
    if found is None:
        return None
    verdict, note, by = found
    return {"verdict": verdict, "note": note, "by": by}


def _json(status: int, payload: dict[str, Any], request: Request | None = None) -> Response:
    body = msgspec.json.encode(payload)
    if request is None:
        return _response(status, body, "application/json")
    return _maybe_gzip(status, body, "application/json", request)


@functools.cache
def _console_text(lang: str) -> str:
    """The console page (`bundle.console_page`) with its static words in `lang`."""
    return localise(console_page().decode("utf-8"), lang)


@functools.cache
def _console_bytes(lang: str) -> tuple[bytes, bytes]:
    body = _console_text(lang).encode("utf-8")
    return body, gzip.compress(body, compresslevel=9, mtime=0)


def _console_page(request: Request, lang: str) -> Response:
    """The console page without a first screen, built and gzipped once per language."""
    html = "text/html; charset=utf-8"
    body, zipped = _console_bytes(lang)
    if accepts_gzip(request.headers):
        extra = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return _response(200, zipped, html, extra, PRIVATE)
    return _response(200, body, html, [("Vary", "Accept-Encoding")], PRIVATE)


@functools.cache
def _console_pieces(lang: str) -> tuple[list[bytes], list[bytes]]:
    """The page's static pieces around its first screen (`first_screen.SLOTS`), and each
    compressed once, ready to be joined with the first screen's into one gzip stream."""
    pieces = [p.encode("utf-8") for p in page_pieces(_console_text(lang))]
    return pieces, [_deflated(p, 9) for p in pieces]


def _deflated(data: bytes, level: int) -> bytes:
    """`data` as raw deflate blocks ending on a byte boundary (a sync flush, not final): such
    runs, joined and ended by an empty final block, are one deflate stream."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time
FINAL_BLOCK = b"\x03\x00"  # an empty final block (fixed Huffman codes)


def gzip_joined(pieces: list[bytes], deflated: list[bytes]) -> bytes:
    """One gzip member of `pieces` joined, from each piece's `_deflated` form."""
    crc = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    size = sum(len(p) for p in pieces)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join([GZIP_HEADER, *deflated, FINAL_BLOCK, trailer])


def _console_with(request: Request, lang: str, screen: FirstScreen) -> Response:
    """The console page with its first screen: only the screen is compressed per request."""
    static, static_deflated = _console_pieces(lang)
    dynamic = [p.encode("utf-8") for p in screen_pieces(screen)]
    pieces = [p for pair in zip(static, [*dynamic, b""], strict=True) for p in pair]
    html = "text/html; charset=utf-8"
    if not accepts_gzip(request.headers):
        return _response(200, b"".join(pieces), html, [("Vary", "Accept-Encoding")], PRIVATE)
    screen_deflated = [_deflated(p, 6) for p in dynamic]
    deflated = [
        p for pair in zip(static_deflated, [*screen_deflated, b""], strict=True) for p in pair
    ]
    extra = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
    return _response(200, gzip_joined(pieces, deflated), html, extra, PRIVATE)


def _module(path: str, request: Request) -> Response:
    """One of the console page's own modules, from the package (never a path from outside)."""
    found = MODULE.match(path)
    if found is None:
        return _text(404, "no such file")
    return _serve_asset(f"{found.group(1)}.{found.group(2)}", MODULE_TYPES[found.group(2)], request)
