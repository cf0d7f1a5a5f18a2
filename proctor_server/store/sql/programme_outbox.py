"""The programme's outbox (`programme_notices`, `programme_deliveries`,
`programme_site_messages`): the `Outbox` half of the `ProgrammeStore` port. Each step is one
write of the group writer, durable when it returns; notices themselves are added inside the
staff action that announces them (`ProgrammeRows.add_notice`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from proctor_server.core.programme_records import (
    Delivery,
    DeliveryState,
    DueDelivery,
    Notice,
)
from proctor_server.store.sealing import Fields
from proctor_server.store.sql import rows
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from shared.timeutil import from_wire, to_wire

_DUE_SQL = (
    "SELECT n.id, n.key, n.candidate_id, n.kind, n.subject, n.body, d.channel, d.address, "
    "d.attempts "
    "FROM programme_deliveries d JOIN programme_notices n ON n.id = d.notice_id "
    "WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY n.id, d.channel"
)
_LIST_SQL = (
    "SELECT d.notice_id, n.kind, n.registration_id, d.channel, d.address, d.state, "
    "d.attempts, d.next_at, d.sent_at, d.last_error FROM programme_deliveries d "
    "JOIN programme_notices n ON n.id = d.notice_id"
)


def _due(r: rows.Row, fields: Fields) -> DueDelivery:
    """Subject and body opened (sealed by the notice's key), the address by notice and
    channel (`personal.py`)."""
    key = (r["key"],)
    subject = fields.text(r["subject"], "programme_notices", "subject", key)
    body = fields.text(r["body"], "programme_notices", "body", key)
    notice = Notice(r["id"], r["candidate_id"], r["kind"], subject, body)
    return DueDelivery(notice, r["channel"], _address(r, fields, "id"), r["attempts"])


def _address(r: rows.Row, fields: Fields, notice_column: str) -> str:
    key = (r[notice_column], r["channel"])
    return fields.text(r["address"], "programme_deliveries", "address", key)


def _delivery(r: rows.Row, fields: Fields) -> Delivery:
    return Delivery(
        notice=r["notice_id"],
        kind=r["kind"],
        registration=r["registration_id"],
        channel=r["channel"],
        address=_address(r, fields, "notice_id"),
        state=DeliveryState(r["state"]),
        attempts=r["attempts"],
        next_at=from_wire(r["next_at"]),
        sent_at=rows.dt(r["sent_at"]),
        error=r["last_error"],
    )


class ProgrammeOutbox(Database):
    async def recover_deliveries(self, claimed_before: datetime, retry: Sequence[str]) -> int:
        stale = to_wire(claimed_before)
        channels = list(retry)
        marks = ",".join("?" * len(channels)) or "''"

        def op(c: Connection) -> int:
            back = c.execute(
                "UPDATE programme_deliveries SET state = 'pending', claimed_at = NULL "
                f"WHERE state = 'sending' AND claimed_at < ? AND channel IN ({marks})",
                (stale, *channels),
            ).rowcount
            unsure = c.execute(
                "UPDATE programme_deliveries SET state = 'uncertain', "
                "last_error = 'interrupted between send and record' "
                "WHERE state = 'sending' AND claimed_at < ?",
                (stale,),
            ).rowcount
            return back + unsure

        return await self._write(op)

    async def due_deliveries(self, now: datetime) -> list[DueDelivery]:
        def op(c: Connection) -> list[DueDelivery]:
            return [_due(r, self.fields) for r in c.execute(_DUE_SQL, (to_wire(now),)).fetchall()]

        return await self._read(op)

    async def claim_delivery(self, notice_id: int, channel: str, now: datetime) -> bool:
        def op(c: Connection) -> bool:
            cur = c.execute(
                "UPDATE programme_deliveries SET state = 'sending', claimed_at = ? "
                "WHERE notice_id = ? AND channel = ? AND state = 'pending'",
                (to_wire(now), notice_id, channel),
            )
            return cur.rowcount == 1

        return await self._write(op)

    async def record_delivery(
        self,
        notice_id: int,
        channel: str,
        state: DeliveryState,
        attempts: int,
        next_at: datetime,
        sent_at: datetime | None,
        error: str | None,
    ) -> None:
        values = (
            DeliveryState(state).value,
            attempts,
            to_wire(next_at),
            rows.t(sent_at),
            error,
            notice_id,
            channel,
        )
        await self._write(
            lambda c: c.execute(
                "UPDATE programme_deliveries SET state = ?, attempts = ?, next_at = ?, "
                "claimed_at = NULL, sent_at = ?, last_error = ? "
                "WHERE notice_id = ? AND channel = ?",
                values,
            )
        )

    async def deliveries(self, state: DeliveryState | None = None) -> list[Delivery]:
        sql = _LIST_SQL
        args: tuple[str, ...] = ()
        if state is not None:
            sql, args = f"{sql} WHERE d.state = ?", (DeliveryState(state).value,)

        def op(c: Connection) -> list[Delivery]:
            found = c.execute(f"{sql} ORDER BY d.notice_id, d.channel", args)
            return [_delivery(r, self.fields) for r in found.fetchall()]

        return await self._read(op)

    async def retry_deliveries(self, notice_id: int, channel: str | None, now: datetime) -> int:
        sql = (
            "UPDATE programme_deliveries SET state = 'pending', attempts = 0, next_at = ?, "
            "last_error = NULL WHERE notice_id = ? AND state IN ('uncertain', 'failed')"
        )
        args: tuple[object, ...] = (to_wire(now), notice_id)
        if channel:
            sql += " AND channel = ?"
            args = (*args, channel)
        return await self._write(lambda c: c.execute(sql, args).rowcount)

    async def next_due(self) -> datetime | None:
        def op(c: Connection) -> str | None:
            row = c.execute(
                "SELECT min(next_at) AS due FROM programme_deliveries WHERE state = 'pending'"
            ).fetchone()
            return None if row is None else row["due"]

        due = await self._read(op)
        return None if due is None else from_wire(due)

    async def put_site_message(self, notice: Notice, candidate_id: int, at: datetime) -> None:
        seal = self.fields.seal
        values = (
            notice.id,
            candidate_id,
            seal(notice.subject, "programme_site_messages", "subject", (notice.id,)),
            seal(notice.body, "programme_site_messages", "body", (notice.id,)),
            to_wire(at),
        )
        await self._write(
            lambda c: c.execute(
                "INSERT INTO programme_site_messages "
                "(notice_id, candidate_id, subject, body, created_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (notice_id) DO NOTHING",
                values,
            )
        )
