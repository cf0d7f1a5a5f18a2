"""The SQLite store, by concept: `database` (connection thread, grouped commits, savepoints,
`connect`), `rows` (column lists and row mapping), `exams` (exams, tickets, proctor tokens),
`attempts` (entry, transitions), `writes` (answers, events, profiles, photos), `records`
(violations, nonces, audit), `calibrations` (face analysis's port), `programme`,
`programme_rows` and `programme_outbox` (the certification programme's port), and `store` (the assembled
`SqliteStore`)."""

from proctor_server.store.sqlite.database import MAX_GROUP, connect
from proctor_server.store.sqlite.store import SqliteStore, open_store

__all__ = ["MAX_GROUP", "SqliteStore", "connect", "open_store"]
