"""The SQLite engine under the shared table modules (`store.sql`): `database` (`connect`, the
file's settings, `SqliteDatabase`) and `store` (the assembled `SqliteStore`)."""

from proctor_server.store.sqlite.database import MAX_GROUP, connect
from proctor_server.store.sqlite.store import SqliteStore

__all__ = ["MAX_GROUP", "SqliteStore", "connect"]
