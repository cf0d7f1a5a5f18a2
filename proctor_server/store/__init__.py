"""Persistence behind one small interface (`Store`): the table modules written once
(`store.sql`) over SQLite in WAL mode, the default (`store.sqlite`), or PostgreSQL
(`store.postgres`); `open_store` picks by the `--db` given. The store imports no feature:
features pass their migration steps in."""

from proctor_server.store.base import (
    AttemptRecord,
    Blobs,
    DuplicateCommand,
    ExamRecord,
    PhotoRecord,
    Store,
    TicketRecord,
    ViolationRecord,
)
from proctor_server.store.open import (
    check_target,
    database_arg,
    files_beside,
    is_postgres,
    make_store,
    open_store,
)
from proctor_server.store.sqlite import SqliteStore

__all__ = [
    "AttemptRecord",
    "Blobs",
    "DuplicateCommand",
    "ExamRecord",
    "PhotoRecord",
    "SqliteStore",
    "Store",
    "TicketRecord",
    "ViolationRecord",
    "check_target",
    "database_arg",
    "files_beside",
    "is_postgres",
    "make_store",
    "open_store",
]
