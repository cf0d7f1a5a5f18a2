"""Signing proctors in: a token (shown once, kept as a SHA-256 hash, looked up by that hash:
a lookup by the hash of a 192-bit random token tells a timing attacker nothing about any
token) opens a server-side session whose
id travels in an HttpOnly, SameSite=Strict cookie; /ws/proctor accepts that cookie, or the
token itself (`?token=` or a first `hello` message) for scripts."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers

from proctor_server.core.console import token_hash
from proctor_server.core.records import ProctorRecord
from proctor_server.store import Store

COOKIE = "proctor_session"
SESSION_TTL = timedelta(hours=12)
MAX_TOKEN = 256  # characters: a longer "token" is refused before it is hashed


async def proctor_by_token(store: Store, token: str) -> ProctorRecord | None:
    """The active proctor this sign-in token belongs to, or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    digest = token_hash(token)
    proctor = await store.proctor_by_token(digest)
    if proctor is None or proctor.revoked_at is not None:
        return None
    return proctor


async def open_session(store: Store, proctor: ProctorRecord, now: datetime) -> str:
    """A new session for this proctor; returns its id (the cookie's value, kept hashed)."""
    session = secrets.token_urlsafe(32)
    await store.create_proctor_session(token_hash(session), proctor.id, now, now + SESSION_TTL)
    return session


async def proctor_by_session(store: Store, session: str, now: datetime) -> ProctorRecord | None:
    if not session or len(session) > MAX_TOKEN:
        return None
    return await store.proctor_by_session(token_hash(session), now)


async def close_session(store: Store, session: str) -> None:
    if session and len(session) <= MAX_TOKEN:
        await store.end_proctor_session(token_hash(session))


def cookie_value(headers: Headers, name: str) -> str:
    """The value of the cookie `name` in the request's Cookie headers ("" when none)."""
    jar: SimpleCookie = SimpleCookie()
    for header in headers.get_all("Cookie"):
        try:
            jar.load(header)
        except CookieError:
            continue
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def session_cookie(headers: Headers) -> str:
    """The session id in the request's Cookie header ("" when there is none)."""
    return cookie_value(headers, COOKIE)


def query_value(path: str, name: str) -> str:
    return parse_qs(urlsplit(path).query).get(name, [""])[0]


def behind_tls(headers: Headers) -> bool:
    """Whether the request reached the TLS-terminating proxy over HTTPS (then the cookie is
    marked Secure)."""
    return headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(session: str, secure: bool = False) -> str:
    seconds = int(SESSION_TTL.total_seconds())
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={seconds}{flags}"


def clear_cookie(secure: bool = False) -> str:
    flags = "; Secure" if secure else ""
    return f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{flags}"


async def request_proctor(
    store: Store, path: str, headers: Headers, now: datetime
) -> ProctorRecord | None:
    """The proctor of a request: by its `?token=`, else by its session cookie."""
    token = query_value(path, "token")
    if token:
        return await proctor_by_token(store, token)
    return await proctor_by_session(store, session_cookie(headers), now)


def still_valid(before: ProctorRecord, now_record: ProctorRecord | None) -> bool:
    """Whether a signed-in proctor is still the same, active proctor."""
    return now_record is not None and now_record.revoked_at is None and now_record.id == before.id
