"""Staff actions on the candidate's path: register, pay, refund, defer, retake (R1–R7, R20, R21).

Each action reads the facts, asks the pure rules in `shared.programme_rules` (which name the
rule and the date when they refuse), then writes the change, its history and any notice in one
transaction. Tickets, results and certificates are in `proctor_server.programme.exams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from proctor_server.programme.db import Candidate, ProgrammeDB, Registration
from proctor_server.programme.notify import enqueue
from shared.calendar import Sitting, month_key, next_month, parse_month, sitting_of
from shared.errors import ConfigError
from shared.holidays import NO_HOLIDAYS, Holidays
from shared.programme_rules import (
    ACTIVE,
    Action,
    Kind,
    RegState,
    check_contact,
    check_defer,
    check_identity,
    check_pay,
    check_refund,
    check_register,
    check_retake,
    transition,
    when,
)
from shared.timeutil import to_wire as _wire


@dataclass(frozen=True, slots=True)
class Settings:
    tz: ZoneInfo
    holidays: Holidays = NO_HOLIDAYS


class Programme:
    """The staff-side service over one database."""

    def __init__(self, db: ProgrammeDB, settings: Settings):
        self.db = db
        self.settings = settings

    # ------------------------------------------------------------ lookups

    def sitting(self, key: str) -> Sitting:
        """A sitting as stored when it was first used, else as the calendar computes it now.

        A sitting's date is fixed once someone registers for it, so a later edit of the holiday
        list never moves an exam under registered candidates' feet.
        """
        stored = self.db.stored_sitting(month_key(*parse_month(key)))
        if stored is not None:
            return stored
        return sitting_of(key, self.settings.holidays, self.settings.tz)

    def registration(self, registration_id: int) -> Registration:
        try:
            return self.db.registration(registration_id)
        except LookupError:
            raise ConfigError(f"no registration #{registration_id}") from None

    def candidate(self, candidate_id: int) -> Candidate:
        return self.db.candidate(candidate_id)

    def _active(self, candidate_id: int) -> list[str]:
        marks = ",".join("?" * len(ACTIVE))
        regs = self.db.registrations(
            f"candidate_id = ? AND state IN ({marks})", (candidate_id, *sorted(ACTIVE))
        )
        return [f"#{r.id} for {r.sitting}, {r.state.value}" for r in regs]

    # ------------------------------------------------------------ R1, R3, R4: register, pay

    def register(
        self,
        *,
        name: str,
        id_number: str,
        phone: str,
        email: str,
        city: str,
        sitting: str,
        identity_verified: bool,
        now: datetime,
    ) -> Registration:
        check_identity(identity_verified)
        check_contact(name, id_number, phone, email)
        if not city.strip():
            raise ConfigError("the exam city is empty (R4)")
        target = self.sitting(sitting)
        with self.db.transaction():
            found = self.db.candidate_by_id_number(id_number.strip().upper())
            check_register(target, now, self._active(found.id) if found else [])
            candidate = self.db.upsert_candidate(
                name.strip(), id_number.strip().upper(), phone.strip(), email.strip(), now
            )
            self.db.store_sitting(target)
            cur = self.db.c.execute(
                "INSERT INTO programme_registrations "
                "(candidate_id, kind, city, sitting, state, registered_at) VALUES (?,?,?,?,?,?)",
                (
                    candidate.id,
                    Kind.FIRST.value,
                    city.strip(),
                    target.key,
                    RegState.UNPAID.value,
                    _wire(now),
                ),
            )
            reg_id = int(cur.lastrowid or 0)
            self.db.log(
                candidate.id,
                reg_id,
                now,
                "registered",
                sitting=target.key,
                exam_date=target.exam_date.isoformat(),
                city=city.strip(),
                registration_closes=when(target.registration_closes),
            )
        return self.db.registration(reg_id)

    def pay(self, registration_id: int, now: datetime) -> Registration:
        """Payment is confirmed by staff (there is no payment gateway)."""
        with self.db.transaction():
            reg = self.registration(registration_id)
            check_pay(reg.facts(self.sitting(reg.sitting)), now)
            state = transition(reg.state, Action.PAY)
            self.db.set_registration(reg.id, state=state, paid_at=now)
            self.db.log(reg.candidate_id, reg.id, now, "paid")
        return self.db.registration(registration_id)

    # ------------------------------------------------------------ R5: refund

    def refund(self, registration_id: int, now: datetime) -> Registration:
        with self.db.transaction():
            reg = self.registration(registration_id)
            check_refund(reg.facts(self.sitting(reg.sitting)), now)
            state = transition(reg.state, Action.REFUND)
            self.db.set_registration(reg.id, state=state, refunded_at=now)
            if reg.ticket_token:  # the admission ticket no longer admits anyone
                self.db.c.execute(
                    "UPDATE tickets SET revoked = 1 WHERE token = ?", (reg.ticket_token,)
                )
            self.db.log(
                reg.candidate_id, reg.id, now, "refunded", ticket_revoked=bool(reg.ticket_token)
            )
            cand = self.db.candidate(reg.candidate_id)
            enqueue(
                self.db.c,
                f"refund:{reg.id}",
                cand,
                reg.id,
                "refund",
                f"Refund of registration #{reg.id}",
                f"Dear {cand.name},\n\nyour registration #{reg.id} for the {reg.sitting} sitting "
                "was cancelled and its fee refunded (R5).\n",
                now,
            )
        return self.db.registration(registration_id)

    # ------------------------------------------------------------ R6: deferral

    def defer(self, registration_id: int, to: str | None, now: datetime) -> Registration:
        with self.db.transaction():
            reg = self.registration(registration_id)
            current = self.sitting(reg.sitting)
            target = self.sitting(to or next_month(reg.sitting))
            check_defer(reg.facts(current), target, now)
            transition(reg.state, Action.DEFER)
            self.db.store_sitting(target)
            self.db.set_registration(
                reg.id, sitting=target.key, deferred_from=current.key, deferred_at=now
            )
            self.db.log(
                reg.candidate_id,
                reg.id,
                now,
                "deferred",
                sitting_from=current.key,
                sitting_to=target.key,
                exam_date=target.exam_date.isoformat(),
            )
            cand = self.db.candidate(reg.candidate_id)
            enqueue(
                self.db.c,
                f"defer:{reg.id}",
                cand,
                reg.id,
                "deferral",
                f"Exam deferred to {target.exam_date.isoformat()}",
                f"Dear {cand.name},\n\nregistration #{reg.id} moved from the {current.key} sitting "
                f"to the {target.key} sitting, on {target.exam_date.isoformat()}. This was the one "
                "deferral allowed (R6).\n",
                now,
            )
        return self.db.registration(registration_id)

    # ------------------------------------------------------------ R20, R21: retake

    def request_retake(self, registration_id: int, sitting: str, now: datetime) -> Registration:
        """The one free retake after a failed first attempt; a new registration, already paid."""
        with self.db.transaction():
            failed = self.registration(registration_id)
            target = self.sitting(sitting)
            retakes = [
                f"#{r.id} for {r.sitting}"
                for r in self.db.registrations("retake_of = ?", (failed.id,))
            ]
            check_retake(failed.facts(self.sitting(failed.sitting)), target, now, retakes)
            self.db.store_sitting(target)
            cur = self.db.c.execute(
                "INSERT INTO programme_registrations (candidate_id, kind, retake_of, city, "
                "sitting, state, registered_at, paid_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    failed.candidate_id,
                    Kind.RETAKE.value,
                    failed.id,
                    failed.city,
                    target.key,
                    RegState.PAID.value,
                    _wire(now),
                    _wire(now),
                ),
            )
            reg_id = int(cur.lastrowid or 0)
            self.db.log(
                failed.candidate_id,
                reg_id,
                now,
                "retake_requested",
                retake_of=failed.id,
                sitting=target.key,
                exam_date=target.exam_date.isoformat(),
            )
            self.db.log(failed.candidate_id, failed.id, now, "retake_requested", retake=reg_id)
        return self.db.registration(reg_id)

    # ------------------------------------------------------------ reading

    def status(self, registration_id: int) -> dict[str, object]:
        reg = self.registration(registration_id)
        target = self.sitting(reg.sitting)
        cand = self.db.candidate(reg.candidate_id)
        return {
            "registration": reg.id,
            "candidate": {
                "name": cand.name,
                "id_number": cand.id_number,
                "phone": cand.phone,
                "email": cand.email,
            },
            "kind": reg.kind.value,
            "retake_of": reg.retake_of,
            "city": reg.city,
            "sitting": reg.sitting,
            "exam_date": target.exam_date.isoformat(),
            "registration_closes": target.registration_closes.isoformat(),
            "ticket_by": target.ticket_by.isoformat(),
            "state": reg.state.value,
            "deferred_from": reg.deferred_from,
            "exam_id": reg.exam_id,
            "ticket": reg.ticket_token,
            "score": reg.score,
            "no_show": reg.no_show,
            "history": self.db.history(reg.id),
        }
