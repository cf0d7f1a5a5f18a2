"""Face analysis's calibrations (`vision_calibrations`, a table of the store's own
"vision" migration component): the `CalibrationStore` port, keyed by attempt and findable by
ticket. Writes are rare; they go through the group writer like every other write."""

from __future__ import annotations

import json
from datetime import datetime

from proctor_server.core.records import CalibrationRecord
from proctor_server.store.sql import rows
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from shared.timeutil import to_wire

CALIBRATION_SQL = f"SELECT {rows.columns(rows.CALIBRATION)} FROM vision_calibrations"
_NAMES = ("ticket", *rows.CALIBRATION, "updated_at")
_UPSERT = (
    f"INSERT INTO vision_calibrations ({rows.columns(_NAMES)}) VALUES ({rows.marks(_NAMES)}) "
    "ON CONFLICT (attempt_id) DO UPDATE SET ticket=excluded.ticket, "
    "source=excluded.source, yaw=excluded.yaw, pitch=excluded.pitch, "
    "brightness=excluded.brightness, sharpness=excluded.sharpness, "
    "embedding=excluded.embedding, samples=excluded.samples, "
    "updated_at=excluded.updated_at"
)


class CalibrationTables(Database):
    async def put_calibration(
        self, attempt_id: str, ticket: str | None, cal: CalibrationRecord, at: datetime
    ) -> None:
        embedding = None if cal.embedding is None else json.dumps(cal.embedding)
        values = (
            ticket,
            attempt_id,
            cal.source,
            cal.yaw,
            cal.pitch,
            cal.brightness,
            cal.sharpness,
            self.fields.seal(embedding, "vision_calibrations", "embedding", (attempt_id,)),
            cal.samples,
            to_wire(at),
        )
        await self._write(lambda c: c.execute(_UPSERT, values))

    async def _newest(self, where: str, arg: str) -> CalibrationRecord | None:
        sql = f"{CALIBRATION_SQL} WHERE {where} ORDER BY updated_at DESC LIMIT 1"

        def op(c: Connection) -> rows.Row | None:
            row: rows.Row | None = c.execute(sql, (arg,)).fetchone()
            return row

        row = await self._read(op)
        return None if row is None else rows.calibration(row, self.fields)

    async def calibration(self, attempt_id: str) -> CalibrationRecord | None:
        return await self._newest("attempt_id = ?", attempt_id)

    async def trial_calibration(self, ticket: str) -> CalibrationRecord | None:
        """The newest trial calibration of a ticket."""
        return await self._newest("ticket = ? AND source = 'trial'", ticket)
