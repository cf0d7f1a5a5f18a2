"""A small repository for the programme's tables, on a connection the store opens.

Staff-side and low-volume, so it is synchronous: one `BEGIN IMMEDIATE` transaction per staff
action, committed before the action reports success. The store opens the connection
(`store.sqlite.connect`: its durability settings, its own tables and the programme's
migration steps, `MIGRATIONS`, which this package declares and passes in).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from proctor_server.programme.schema import PROGRAMME_STEPS
from proctor_server.store.sqlite import connect
from shared.calendar import Sitting, exam_zone
from shared.programme_rules import Facts, Kind, RegState
from shared.timeutil import from_wire, to_wire

MIGRATIONS = {"programme": PROGRAMME_STEPS}  # the programme's tables, run by the store


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else to_wire(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else from_wire(text)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    id_number: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    candidate_id: int
    kind: Kind
    retake_of: int | None
    city: str
    sitting: str
    state: RegState
    registered_at: datetime
    paid_at: datetime | None
    refunded_at: datetime | None
    deferred_from: str | None
    exam_id: str | None
    ticket_token: str | None
    candidate_code: str | None
    score: int | None
    max_score: int | None
    no_show: bool | None
    result_at: datetime | None

    def facts(self, sitting: Sitting) -> Facts:
        return Facts(
            id=f"#{self.id}",
            kind=self.kind,
            state=self.state,
            sitting=sitting,
            paid_at=self.paid_at,
            deferred_from=self.deferred_from,
        )


_REG_COLS = (
    "id, candidate_id, kind, retake_of, city, sitting, state, registered_at, paid_at, "
    "refunded_at, deferred_from, exam_id, ticket_token, candidate_code, score, max_score, "
    "no_show, result_at"
)


def _registration(r: tuple[Any, ...]) -> Registration:
    return Registration(
        id=r[0],
        candidate_id=r[1],
        kind=Kind(r[2]),
        retake_of=r[3],
        city=r[4],
        sitting=r[5],
        state=RegState(r[6]),
        registered_at=from_wire(r[7]),
        paid_at=_dt(r[8]),
        refunded_at=_dt(r[9]),
        deferred_from=r[10],
        exam_id=r[11],
        ticket_token=r[12],
        candidate_code=r[13],
        score=r[14],
        max_score=r[15],
        no_show=None if r[16] is None else bool(r[16]),
        result_at=_dt(r[17]),
    )


class ProgrammeDB:
    """Open with `ProgrammeDB(path)`; use as a context manager or call `close()` (idempotent)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        # The dispatcher runs its statements in a worker thread, one at a time; nothing uses
        # the connection from two threads at once.
        self.conn: sqlite3.Connection | None = connect(
            self.path, MIGRATIONS, busy_timeout_ms=10_000
        )

    def __enter__(self) -> ProgrammeDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @property
    def c(self) -> sqlite3.Connection:
        if self.conn is None:
            raise RuntimeError("programme database closed")
        return self.conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable write: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error."""
        conn = self.c
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ------------------------------------------------------------ history

    def log(
        self,
        candidate_id: int,
        registration_id: int | None,
        at: datetime,
        action: str,
        **detail: Any,
    ) -> None:
        self.c.execute(
            "INSERT INTO programme_history (candidate_id, registration_id, at, action, detail) "
            "VALUES (?,?,?,?,?)",
            (
                candidate_id,
                registration_id,
                to_wire(at),
                action,
                json.dumps(detail, sort_keys=True),
            ),
        )

    def history(self, registration_id: int) -> list[dict[str, Any]]:
        rows = self.c.execute(
            "SELECT at, action, detail FROM programme_history WHERE registration_id = ? "
            "ORDER BY id",
            (registration_id,),
        ).fetchall()
        return [{"at": r[0], "action": r[1], **json.loads(r[2])} for r in rows]

    # ------------------------------------------------------------ candidates

    def candidate(self, candidate_id: int) -> Candidate:
        row = self.c.execute(
            "SELECT id, name, id_number, phone, email FROM programme_candidates WHERE id = ?",
            (candidate_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no candidate {candidate_id}")
        return Candidate(*row)

    def candidate_by_id_number(self, id_number: str) -> Candidate | None:
        row = self.c.execute(
            "SELECT id, name, id_number, phone, email FROM programme_candidates "
            "WHERE id_number = ?",
            (id_number,),
        ).fetchone()
        return None if row is None else Candidate(*row)

    def upsert_candidate(
        self, name: str, id_number: str, phone: str, email: str, now: datetime
    ) -> Candidate:
        """Create the candidate, or bind the newest contact details to the existing one (R1)."""
        at = to_wire(now)
        self.c.execute(
            "INSERT INTO programme_candidates "
            "(name, id_number, phone, email, identity_verified_at, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (id_number) DO UPDATE SET "
            "name = excluded.name, phone = excluded.phone, email = excluded.email, "
            "updated_at = excluded.updated_at",
            (name, id_number, phone, email, at, at, at),
        )
        found = self.candidate_by_id_number(id_number)
        assert found is not None
        return found

    # ------------------------------------------------------------ sittings

    def stored_sitting(self, month: str) -> Sitting | None:
        row = self.c.execute(
            "SELECT exam_date, tz FROM programme_sittings WHERE month = ?", (month,)
        ).fetchone()
        if row is None:
            return None
        year, mon = int(month[:4]), int(month[5:7])
        return Sitting(year, mon, date.fromisoformat(row[0]), exam_zone(row[1]))

    def store_sitting(self, sitting: Sitting) -> None:
        self.c.execute(
            "INSERT INTO programme_sittings (month, exam_date, tz) VALUES (?,?,?) "
            "ON CONFLICT (month) DO NOTHING",
            (sitting.key, sitting.exam_date.isoformat(), sitting.tz.key),
        )

    def sitting_exam(self, month: str) -> str | None:
        row = self.c.execute(
            "SELECT exam_id FROM programme_sittings WHERE month = ?", (month,)
        ).fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------ registrations

    def registration(self, registration_id: int) -> Registration:
        row = self.c.execute(
            f"SELECT {_REG_COLS} FROM programme_registrations WHERE id = ?", (registration_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"no registration #{registration_id}")
        return _registration(row)

    def registrations(self, where: str, args: tuple[Any, ...]) -> list[Registration]:
        rows = self.c.execute(
            f"SELECT {_REG_COLS} FROM programme_registrations WHERE {where} ORDER BY id", args
        ).fetchall()
        return [_registration(r) for r in rows]

    def set_registration(self, registration_id: int, **fields: Any) -> None:
        names = ", ".join(f"{k} = ?" for k in fields)
        values = [
            _t(v) if isinstance(v, datetime) else (v.value if isinstance(v, RegState) else v)
            for v in fields.values()
        ]
        self.c.execute(
            f"UPDATE programme_registrations SET {names} WHERE id = ?", (*values, registration_id)
        )
