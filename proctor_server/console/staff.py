"""Proctors as staff add, list and revoke them (the command line, the demo and tests).

A proctor's token is shown once, when the proctor is added; the store keeps its SHA-256 only.
A proctor follows one exam; a chief follows every exam of the database."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from proctor_server.core.console import token_hash
from proctor_server.core.records import ProctorRecord, ProctorRole
from proctor_server.store import Store
from shared.errors import ConfigError

STAFF = "staff"


def new_token() -> str:
    """A sign-in token: 192 random bits, URL-safe, never starting with "-"."""
    while (token := "p-" + secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


async def add_proctor(
    store: Store,
    *,
    name: str,
    exam_id: str | None,
    role: ProctorRole = ProctorRole.PROCTOR,
    now: datetime | None = None,
) -> tuple[ProctorRecord, str]:
    """Add a proctor (of `exam_id`) or a chief (every exam); returns it and its token, which
    is never shown again."""
    now = now or datetime.now(UTC)
    name = name.strip()
    if not name:
        raise ConfigError("the proctor needs a name")
    if role is ProctorRole.PROCTOR and exam_id is None:
        raise ConfigError("a proctor follows one exam: give --exam (or --role chief)")
    if exam_id is not None and await store.get_exam(exam_id) is None:
        raise ConfigError(f"no exam with id {exam_id!r}")
    scope = None if role is ProctorRole.CHIEF else exam_id
    for other in await store.proctors(scope):
        if other.name == name and other.revoked_at is None and other.exam_id == scope:
            where = f"exam {scope}" if scope else "the chiefs"
            raise ConfigError(f"{where} already has a proctor named {name!r}")
    proctor = ProctorRecord(
        id="pr-" + uuid.uuid4().hex[:12], name=name, role=role, exam_id=scope, created_at=now
    )
    token = new_token()
    await store.add_proctor(proctor, token_hash(token))
    await store.audit(
        STAFF,
        "proctor_add",
        {"proctor": name, "role": role.value, "exam": scope},
        now,
        exam=scope or "",
    )
    return proctor, token


async def proctor_token(store: Store, exam_id: str) -> str:
    """The shortcut of `proctor-token`: a new proctor of the exam named "proctor" (then
    "proctor-2", ...), and its token."""
    taken = {p.name for p in await store.proctors(exam_id) if p.revoked_at is None}
    name, n = "proctor", 1
    while name in taken:
        n += 1
        name = f"proctor-{n}"
    _, token = await add_proctor(store, name=name, exam_id=exam_id)
    return token


async def revoke_proctor(
    store: Store, name: str, exam_id: str | None = None, now: datetime | None = None
) -> list[ProctorRecord]:
    """Revoke the active proctors of that name (in one exam when given): their token and
    sessions stop working and a live feed of theirs closes within a minute."""
    now = now or datetime.now(UTC)
    revoked = await store.revoke_proctors(name, now, (STAFF, "proctor_revoke", {}), exam_id)
    if not revoked:
        raise ConfigError(f"no active proctor named {name!r}")
    return revoked
