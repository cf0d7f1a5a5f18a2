"""The audit log: append-only, one hash chain per exam (`core.audit`), each chain's
newest hash kept in `audit_heads` (written once per chain and transaction by the group
writer: `chain_heads`). An entry is appended inside the caller's transaction (`append_audit`),
so an action and its entry are committed together."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from proctor_server.core.audit import GENESIS, AuditEntry, entry_hash
from proctor_server.store.base import DuplicateCommand
from proctor_server.store.sql import rows
from proctor_server.store.sql.chain_heads import HEAD_UPSERT, heads_of
from proctor_server.store.sql.connection import INTEGRITY_ERRORS, Connection
from proctor_server.store.sql.database import Database
from shared.timeutil import to_wire

AUDIT_SQL = f"SELECT {rows.columns(rows.AUDIT)} FROM audit"


def chain_of(detail: dict[str, Any], exam: str | None) -> str:
    """The chain an entry goes to: its exam's (given, or named in the detail), else ""."""
    if exam is not None:
        return exam
    named = detail.get("exam")
    return named if isinstance(named, str) else ""


def append_audit(
    c: Connection,
    chain: str,
    actor: str,
    action: str,
    detail: dict[str, Any],
    at: datetime,
) -> AuditEntry:
    """Append one entry to `chain` and move its head, inside the current transaction (which
    holds the chain until it ends: another process's entries wait, PostgreSQL). In the group
    writer's transactions the head is read and locked at the chain's first entry and written
    once before COMMIT (`chain_heads`); elsewhere it is read and written with each entry."""
    heads = heads_of(c)
    head = heads.get(chain) if heads is not None else None
    if head is None:
        c.dialect.lock(c, f"audit:{chain}")
        row = c.execute("SELECT seq, hash FROM audit_heads WHERE chain = ?", (chain,)).fetchone()
        head = (row["seq"], row["hash"]) if row is not None else (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    # the detail as stored, read back: the hash covers exactly what a later reader sees
    text = msgspec.json.encode(detail, order="sorted").decode()  # keys sorted, UTF-8 as is
    stored = msgspec.json.decode(text)
    when = to_wire(at)
    digest = entry_hash(prev, chain, seq, when, actor, action, stored)
    c.execute(
        "INSERT INTO audit (at, actor, action, detail, chain, seq, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (when, actor, action, text, chain, seq, prev, digest),
    )
    if heads is not None:
        heads.move(chain, (seq, digest))
    else:
        c.execute(HEAD_UPSERT, (chain, seq, digest))
    return AuditEntry(chain, seq, when, actor, action, stored, prev, digest)


SYSTEM = "system"


def audit_attempt(
    c: Connection,
    attempt_id: str,
    action: str,
    detail: dict[str, Any],
    at: datetime,
    actor: str = SYSTEM,
) -> AuditEntry:
    """An entry about one attempt, in its exam's chain (a decision the system took, by
    default), inside the current transaction."""
    row = c.execute("SELECT exam_id FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
    chain = str(row["exam_id"]) if row is not None else ""
    return append_audit(c, chain, actor, action, {"attempt": attempt_id, **detail}, at)


def record_command(c: Connection, proctor_id: str, client_id: str, kind: str, at: datetime) -> None:
    """A proctor's command, by its client id: a second insert of the same id fails, and with
    it the transaction's audit entry."""
    try:
        c.execute(
            "INSERT INTO proctor_commands (proctor_id, client_id, kind, at) VALUES (?,?,?,?)",
            (proctor_id, client_id, kind, to_wire(at)),
        )
    except INTEGRITY_ERRORS:
        raise DuplicateCommand(f"command {client_id} of {proctor_id} was stored before") from None


class AuditTables(Database):
    async def audit(
        self,
        actor: str,
        action: str,
        detail: dict[str, Any],
        at: datetime,
        *,
        exam: str | None = None,
        command: tuple[str, str, str] | None = None,
    ) -> AuditEntry:
        """Append an entry to its exam's chain (`exam`, or the detail's "exam", else the
        chain ""). `command`: (proctor id, client id, kind) recorded in the same transaction."""

        def op(c: Connection) -> AuditEntry:
            if command is not None:
                record_command(c, *command, at)
            return append_audit(c, chain_of(detail, exam), actor, action, detail, at)

        return await self._write(op)

    async def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        found = await self._read(
            lambda c: c.execute(
                "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        )
        return [
            {
                "at": r["at"],
                "actor": r["actor"],
                "action": r["action"],
                "detail": json.loads(r["detail"]),
            }
            for r in found
        ]

    async def audit_chain(self, chain: str) -> list[AuditEntry]:
        """One chain's entries, oldest first."""
        sql = AUDIT_SQL + " WHERE chain = ? ORDER BY seq"
        found = await self._read(lambda c: c.execute(sql, (chain,)).fetchall())
        return [rows.audit_entry(r) for r in found]

    async def audit_head(self, chain: str) -> tuple[int, str] | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT seq, hash FROM audit_heads WHERE chain = ?", (chain,)
            ).fetchone()
        )
        return None if row is None else (int(row["seq"]), str(row["hash"]))

    async def command_seen(self, proctor_id: str, client_id: str) -> bool:
        row = await self._read(
            lambda c: c.execute(
                "SELECT 1 FROM proctor_commands WHERE proctor_id = ? AND client_id = ?",
                (proctor_id, client_id),
            ).fetchone()
        )
        return row is not None
