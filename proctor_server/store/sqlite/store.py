"""`SqliteStore`: the default `Store`, assembled from the table modules over one
`Database` (connection thread, grouped commits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from proctor_server.store.sealing import Sealer
from proctor_server.store.sqlite.attempts import AttemptTables
from proctor_server.store.sqlite.audit import AuditTables
from proctor_server.store.sqlite.calibrations import CalibrationTables
from proctor_server.store.sqlite.clips import ClipTables
from proctor_server.store.sqlite.exams import ExamTables
from proctor_server.store.sqlite.personal import PersonalTables
from proctor_server.store.sqlite.proctors import ProctorTables
from proctor_server.store.sqlite.programme import ProgrammeTables
from proctor_server.store.sqlite.programme_outbox import ProgrammeOutbox
from proctor_server.store.sqlite.records import RecordTables
from proctor_server.store.sqlite.retention import RetentionTables
from proctor_server.store.sqlite.writes import ClientWrites


class SqliteStore(
    ExamTables,
    AttemptTables,
    ClientWrites,
    RecordTables,
    CalibrationTables,
    AuditTables,
    ProctorTables,
    ProgrammeTables,
    ProgrammeOutbox,
    RetentionTables,
    ClipTables,
    PersonalTables,
):
    """The default `Store` (and `CalibrationStore`, and the programme's `ProgrammeStore`).
    Open with `await store.open()`; `close()` is idempotent. `components`: features' migration
    steps to run besides the store's own (the programme passes its tables' steps)."""


async def open_store(
    path: Path | str,
    data_dir: Path | str | None = None,
    *,
    components: Mapping[str, Sequence[str]] | None = None,
    sealer: Sealer | None = None,
) -> SqliteStore:
    store = SqliteStore(path, data_dir, components=components, sealer=sealer)
    await store.open()
    return store
