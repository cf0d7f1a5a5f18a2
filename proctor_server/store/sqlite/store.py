"""`SqliteStore`: the default `Store`, the shared table modules (`sql.tables`) over one
SQLite file (`SqliteDatabase`)."""

from __future__ import annotations

from proctor_server.store.sql.tables import Tables
from proctor_server.store.sqlite.database import SqliteDatabase


class SqliteStore(SqliteDatabase, Tables):
    """The default `Store` (and `CalibrationStore`, and the programme's `ProgrammeStore`).
    Open with `await store.open()`; `close()` is idempotent. `components`: features' migration
    steps to run besides the store's own (the programme passes its tables' steps)."""
