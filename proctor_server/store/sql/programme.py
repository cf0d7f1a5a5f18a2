"""The certification programme's tables: the `ProgrammeStore` port that
`proctor_server/programme/ports.py` declares. The tables are the programme's own migration
component ("programme"), whose steps the programme passes in when it opens the store.

A staff action is one write of the group writer: its work runs on the connection thread in
its own savepoint of a `BEGIN IMMEDIATE` transaction, over a `ProgrammeRows` view of the
connection, and the caller hears back only after COMMIT. Reads run on the same thread between
groups. Rows are mapped in `programme_rows.py`; the outbox's steps are in
`programme_outbox.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import TypeVar

from proctor_server.core.programme_records import Candidate, Certificate, Registration
from proctor_server.core.records import ExamRecord, TicketRecord
from proctor_server.store.sealing import Fields
from proctor_server.store.sql import programme_rows as pr
from proctor_server.store.sql import rows
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from proctor_server.store.sql.exams import INSERT_TICKET, insert_exam, ticket_values
from shared.calendar import Sitting, exam_zone
from shared.programme_rules import Kind, RegState
from shared.timeutil import to_wire

T = TypeVar("T")


class ProgrammeRows:
    """The programme's reads and writes over one connection (`ProgrammeTx`); the store hands
    one to a staff action's work, inside the action's transaction."""

    def __init__(self, conn: Connection, fields: Fields):
        self.c = conn
        self.fields = fields

    def _one(self, sql: str, args: tuple[object, ...]) -> rows.Row | None:
        row: rows.Row | None = self.c.execute(sql, args).fetchone()
        return row

    def _registrations(self, where: str, args: tuple[object, ...]) -> list[Registration]:
        found = self.c.execute(f"{pr.REGISTRATION_SQL} WHERE {where} ORDER BY id", args)
        return [pr.registration(r) for r in found.fetchall()]

    # ------------------------------------------------------------ candidates

    def candidate(self, candidate_id: int) -> Candidate:
        row = self._one(f"{pr.CANDIDATE_SQL} WHERE id = ?", (candidate_id,))
        if row is None:
            raise LookupError(f"no candidate {candidate_id}")
        return pr.candidate(row, self.fields)

    def candidate_by_id_number(self, id_number: str) -> Candidate | None:
        row = self._one(f"{pr.CANDIDATE_SQL} WHERE id_number = ?", (id_number,))
        return None if row is None else pr.candidate(row, self.fields)

    def upsert_candidate(
        self, name: str, id_number: str, phone: str, email: str, now: datetime
    ) -> Candidate:
        at = to_wire(now)
        key = (id_number,)
        sealed = [
            self.fields.seal(v, "programme_candidates", c, key)
            for c, v in (("name", name), ("phone", phone), ("email", email))
        ]
        self.c.execute(
            "INSERT INTO programme_candidates "
            "(name, id_number, phone, email, identity_verified_at, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (id_number) DO UPDATE SET "
            "name = excluded.name, phone = excluded.phone, email = excluded.email, "
            "updated_at = excluded.updated_at",
            (sealed[0], id_number, sealed[1], sealed[2], at, at, at),
        )
        found = self.candidate_by_id_number(id_number)
        assert found is not None
        return found

    # ------------------------------------------------------------ sittings

    def stored_sitting(self, month: str) -> Sitting | None:
        row = self._one("SELECT exam_date, tz FROM programme_sittings WHERE month = ?", (month,))
        if row is None:
            return None
        year, mon = int(month[:4]), int(month[5:7])
        return Sitting(year, mon, date.fromisoformat(row["exam_date"]), exam_zone(row["tz"]))

    def store_sitting(self, sitting: Sitting) -> None:
        self.c.execute(
            "INSERT INTO programme_sittings (month, exam_date, tz) VALUES (?,?,?) "
            "ON CONFLICT (month) DO NOTHING",
            (sitting.key, sitting.exam_date.isoformat(), sitting.tz.key),
        )

    def sitting_exam(self, month: str) -> str | None:
        row = self._one("SELECT exam_id FROM programme_sittings WHERE month = ?", (month,))
        return None if row is None else row["exam_id"]

    def link_sitting_exam(self, month: str, exam_id: str, now: datetime) -> None:
        self.c.execute(
            "UPDATE programme_sittings SET exam_id = ?, "
            "tickets_issued_at = coalesce(tickets_issued_at, ?) WHERE month = ?",
            (exam_id, to_wire(now), month),
        )

    def mark_results_published(self, month: str, now: datetime) -> None:
        self.c.execute(
            "UPDATE programme_sittings SET "
            "results_published_at = coalesce(results_published_at, ?) WHERE month = ?",
            (to_wire(now), month),
        )

    # ------------------------------------------------------------ registrations

    def registration(self, registration_id: int) -> Registration:
        row = self._one(f"{pr.REGISTRATION_SQL} WHERE id = ?", (registration_id,))
        if row is None:
            raise LookupError(f"no registration #{registration_id}")
        return pr.registration(row)

    def registrations_of(
        self, candidate_id: int, states: Collection[RegState]
    ) -> list[Registration]:
        values = sorted(RegState(s).value for s in states)
        marks = ",".join("?" * len(values)) or "NULL"
        return self._registrations(
            f"candidate_id = ? AND state IN ({marks})", (candidate_id, *values)
        )

    def registrations_in(self, sitting: str, state: RegState) -> list[Registration]:
        return self._registrations("sitting = ? AND state = ?", (sitting, state.value))

    def retakes_of(self, registration_id: int) -> list[Registration]:
        return self._registrations("retake_of = ?", (registration_id,))

    def add_registration(
        self,
        candidate_id: int,
        kind: Kind,
        city: str,
        sitting: str,
        state: RegState,
        registered_at: datetime,
        *,
        retake_of: int | None = None,
        paid_at: datetime | None = None,
    ) -> int:
        cur = self.c.execute(
            "INSERT INTO programme_registrations (candidate_id, kind, retake_of, city, sitting, "
            "state, registered_at, paid_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
            (
                candidate_id,
                kind.value,
                retake_of,
                city,
                sitting,
                state.value,
                to_wire(registered_at),
                rows.t(paid_at),
            ),
        )
        return int(cur.fetchone()[0])

    def _set(self, registration_id: int, **fields: object) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        self.c.execute(
            f"UPDATE programme_registrations SET {names} WHERE id = ?",
            (*fields.values(), registration_id),
        )

    def record_payment(self, registration_id: int, state: RegState, at: datetime) -> None:
        self._set(registration_id, state=state.value, paid_at=to_wire(at))

    def record_refund(self, registration_id: int, state: RegState, at: datetime) -> None:
        self._set(registration_id, state=state.value, refunded_at=to_wire(at))

    def record_deferral(
        self, registration_id: int, sitting: str, deferred_from: str, at: datetime
    ) -> None:
        self._set(
            registration_id, sitting=sitting, deferred_from=deferred_from, deferred_at=to_wire(at)
        )

    def record_ticket(
        self,
        registration_id: int,
        state: RegState,
        exam_id: str,
        ticket_token: str,
        candidate_code: str,
    ) -> None:
        self._set(
            registration_id,
            state=state.value,
            exam_id=exam_id,
            ticket_token=ticket_token,
            candidate_code=candidate_code,
        )

    def record_result(
        self,
        registration_id: int,
        state: RegState,
        score: int | None,
        max_score: int | None,
        no_show: bool,
        at: datetime,
    ) -> None:
        self._set(
            registration_id,
            state=state.value,
            score=score,
            max_score=max_score,
            no_show=int(no_show),
            result_at=to_wire(at),
        )

    # ------------------------------------------------------------ history

    def log(
        self,
        candidate_id: int,
        registration_id: int | None,
        at: datetime,
        action: str,
        **detail: object,
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

    def history(self, registration_id: int) -> list[dict[str, object]]:
        found = self.c.execute(
            "SELECT at, action, detail FROM programme_history WHERE registration_id = ? "
            "ORDER BY id",
            (registration_id,),
        )
        return [
            {"at": r["at"], "action": r["action"], **json.loads(r["detail"])}
            for r in found.fetchall()
        ]

    # ------------------------------------------------------------ the exam server's tickets

    def ticket_token(self, exam_id: str, candidate_code: str) -> str | None:
        row = self._one(
            "SELECT token FROM tickets WHERE exam_id = ? AND candidate_code = ?",
            (exam_id, candidate_code),
        )
        return None if row is None else row["token"]

    def revoke_ticket(self, token: str) -> None:
        self.c.execute(
            "UPDATE tickets SET revoked = 1, revoked_at = coalesce(revoked_at, ?) WHERE token = ?",
            (to_wire(datetime.now().astimezone()), token),
        )

    def issue_ticket(self, ticket: TicketRecord, now: datetime) -> None:
        self.c.execute(
            INSERT_TICKET + " ON CONFLICT (exam_id, candidate_code) DO UPDATE SET "
            "token = excluded.token, revoked = 0, revoked_at = NULL",
            ticket_values(ticket, to_wire(now), self.fields),
        )

    def add_trial_pass(self, exam: ExamRecord, ticket: TicketRecord, now: datetime) -> None:
        insert_exam(self.c, exam, or_ignore=True)
        self.issue_ticket(ticket, now)

    def revoke_trial_passes(self, candidate_code: str) -> None:
        self.c.execute(
            "UPDATE tickets SET revoked = 1, revoked_at = coalesce(revoked_at, ?) "
            "WHERE trial_only = 1 AND candidate_code = ?",
            (to_wire(datetime.now().astimezone()), candidate_code),
        )

    # ------------------------------------------------------------ certificates

    def add_certificate(self, certificate: Certificate) -> None:
        cert = certificate
        self.c.execute(
            f"INSERT INTO programme_certificates ({rows.columns(pr.CERTIFICATE)}) "
            f"VALUES ({rows.marks(pr.CERTIFICATE)})",
            (
                cert.number,
                cert.candidate_id,
                cert.registration_id,
                cert.exam_date.isoformat(),
                to_wire(cert.published_at),
                to_wire(cert.e_available_from),
                to_wire(cert.paper_due),
                cert.expires_on.isoformat(),
                rows.t(cert.paper_mailed_at),
            ),
        )

    def certificate(self, number: str) -> Certificate | None:
        row = self._one(
            f"SELECT {rows.columns(pr.CERTIFICATE)} FROM programme_certificates WHERE number = ?",
            (number,),
        )
        return None if row is None else pr.certificate(row)

    def certificates(
        self, *, number: str | None = None, id_number: str | None = None
    ) -> list[tuple[Certificate, Candidate]]:
        if number is not None:
            where, arg = "c.number = ?", number
        elif id_number is not None:
            where, arg = "p.id_number = ?", id_number
        else:
            raise ValueError("a certificate number or an identity number")
        found = self.c.execute(
            f"{pr.HELD_SQL} WHERE {where} ORDER BY c.published_at DESC, c.number DESC", (arg,)
        )
        return [
            (pr.certificate(r), pr.candidate(r, self.fields, "holder_id")) for r in found.fetchall()
        ]

    def mark_paper_mailed(self, number: str, at: datetime) -> None:
        self.c.execute(
            "UPDATE programme_certificates SET paper_mailed_at = ? WHERE number = ?",
            (to_wire(at), number),
        )

    # ------------------------------------------------------------ the outbox

    def add_notice(
        self,
        key: str,
        candidate_id: int,
        registration_id: int | None,
        kind: str,
        subject: str,
        body: str,
        now: datetime,
        addresses: Mapping[str, str],
    ) -> int | None:
        cur = self.c.execute(
            "INSERT INTO programme_notices "
            "(key, candidate_id, registration_id, kind, subject, body, created_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING RETURNING id",
            (
                key,
                candidate_id,
                registration_id,
                kind,
                self.fields.seal(subject, "programme_notices", "subject", (key,)),
                self.fields.seal(body, "programme_notices", "body", (key,)),
                to_wire(now),
            ),
        )
        inserted = cur.fetchone()
        if inserted is None:
            return None
        notice_id = int(inserted[0])
        for channel, address in addresses.items():
            self.c.execute(
                "INSERT INTO programme_deliveries (notice_id, channel, address, state, next_at) "
                "VALUES (?,?,?,'pending',?)",
                (
                    notice_id,
                    channel,
                    self.fields.seal(
                        address, "programme_deliveries", "address", (notice_id, channel)
                    ),
                    to_wire(now),
                ),
            )
        return notice_id


class ProgrammeTables(Database):
    """`ProgrammeStore`'s transactions over the store's own connection and group writer."""

    async def programme_transaction(self, work: Callable[[ProgrammeRows], T]) -> T:
        """One staff action, in one transaction; the programme's actions take turns across
        processes (they read then write: a registration's state, a sitting's tickets)."""

        def op(conn: Connection) -> T:
            conn.dialect.lock(conn, "programme")
            return work(ProgrammeRows(conn, self.fields))

        return await self._write(op)

    async def programme_read(self, work: Callable[[ProgrammeRows], T]) -> T:
        return await self._read(lambda conn: work(ProgrammeRows(conn, self.fields)))
