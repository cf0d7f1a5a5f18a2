"""Live media's evidence clips (`media_clips`, `media_clip_violations`: the store's
"media" migration component). The file is written whole (sealed when a data key is set)
before its rows, in one transaction with its links to the violations it shows."""

from __future__ import annotations

import asyncio

from proctor_server.core.records import ClipRecord
from proctor_server.store.sql.connection import Connection, Row
from proctor_server.store.sql.database import Database
from shared.timeutil import from_wire, to_wire

_COLUMNS = (
    "id",
    "attempt_id",
    "kind",
    "started_at",
    "ended_at",
    "path",
    "sha256",
    "size",
    "created_at",
)
_INSERT = (
    f"INSERT INTO media_clips ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)
_LINK = (
    "INSERT INTO media_clip_violations (clip_id, violation_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
)
_SELECT = (
    f"SELECT {', '.join('c.' + n for n in _COLUMNS)}, "
    "group_concat(v.violation_id) AS violations FROM media_clips c "
    "LEFT JOIN media_clip_violations v ON v.clip_id = c.id "
    "WHERE c.attempt_id = ? AND c.purged_at IS NULL GROUP BY c.id ORDER BY c.started_at, c.id"
)


class ClipTables(Database):
    async def save_clip(self, clip: ClipRecord, data: bytes) -> None:
        """Write the clip's file, then its row and its links to violations."""
        await asyncio.get_running_loop().run_in_executor(None, self.blobs.write, clip.path, data)
        values = (
            clip.id,
            clip.attempt_id,
            clip.kind,
            to_wire(clip.started_at),
            to_wire(clip.ended_at),
            clip.path,
            clip.sha256,
            clip.size,
            to_wire(clip.created_at),
        )

        def op(c: Connection) -> None:
            c.execute(_INSERT, values)
            c.executemany(_LINK, [(clip.id, v) for v in clip.violations])

        await self._write(op)

    async def clips(self, attempt_id: str) -> list[ClipRecord]:
        """The attempt's clips in time order, each with the violations it shows (a clip
        `purge` removed is not among them; its row keeps the file's hash)."""

        def op(c: Connection) -> list[Row]:
            return c.execute(_SELECT, (attempt_id,)).fetchall()

        return [_clip(r) for r in await self._read(op)]


def _clip(row: Row) -> ClipRecord:
    linked = str(row["violations"] or "")
    return ClipRecord(
        id=row["id"],
        attempt_id=row["attempt_id"],
        kind=row["kind"],
        started_at=from_wire(row["started_at"]),
        ended_at=from_wire(row["ended_at"]),
        path=row["path"],
        sha256=row["sha256"],
        size=int(row["size"]),
        created_at=from_wire(row["created_at"]),
        violations=tuple(sorted(int(v) for v in linked.split(",") if v)),
    )
