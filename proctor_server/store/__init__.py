"""Persistence behind one small interface (`Store`); SQLite in WAL mode is the default
(`store.sqlite`). The store imports no feature: features pass their migration steps in."""

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
from proctor_server.store.sqlite import SqliteStore, open_store

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
    "open_store",
]
