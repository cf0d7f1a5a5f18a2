"""Persistence behind one small interface (`Store`); SQLite in WAL mode is the default."""

from proctor_server.store.base import (
    AttemptRecord,
    ExamRecord,
    PhotoRecord,
    Store,
    TicketRecord,
    ViolationRecord,
)
from proctor_server.store.sqlite import SqliteStore, open_store

__all__ = [
    "AttemptRecord",
    "ExamRecord",
    "PhotoRecord",
    "SqliteStore",
    "Store",
    "TicketRecord",
    "ViolationRecord",
    "open_store",
]
