"""`Tables`: the `Store` assembled from the table modules over the shared `Database`
(connection thread, grouped commits); `SqliteStore` and `PostgresStore` put an engine under
it."""

from __future__ import annotations

from proctor_server.store.sql.attempts import AttemptTables
from proctor_server.store.sql.audit import AuditTables
from proctor_server.store.sql.calibrations import CalibrationTables
from proctor_server.store.sql.clips import ClipTables
from proctor_server.store.sql.exams import ExamTables
from proctor_server.store.sql.personal import PersonalTables
from proctor_server.store.sql.proctors import ProctorTables
from proctor_server.store.sql.programme import ProgrammeTables
from proctor_server.store.sql.programme_outbox import ProgrammeOutbox
from proctor_server.store.sql.records import RecordTables
from proctor_server.store.sql.retention import RetentionTables
from proctor_server.store.sql.writes import ClientWrites


class Tables(
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
    """`Store` (and `CalibrationStore`, and the programme's `ProgrammeStore`) over whichever
    engine the concrete store's `Database` subclass brings."""
