"""Staff actions on the candidate's path: register, pay, refund, defer, retake (R1–R7, R20, R21).

Each action is one transaction of the store (`ProgrammeStore.programme_transaction`): it reads
the facts, asks the pure rules in `shared.programme_rules` (which name the rule and the date
when they refuse), then writes the change, its history and any notice; the store commits
before the action returns. Tickets, results and certificates are in
`proctor_server.programme.exams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from proctor_server.programme.notify import enqueue
from proctor_server.programme.ports import (
    Candidate,
    ProgrammeReads,
    ProgrammeStore,
    ProgrammeTx,
    Registration,
)
from proctor_server.programme.trial import give_trial_pass, registration_code
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

__all__ = ["Candidate", "Programme", "Registration", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    tz: ZoneInfo
    holidays: Holidays = NO_HOLIDAYS


class Programme:
    """The staff-side service over the store's `ProgrammeStore` port."""

    def __init__(self, store: ProgrammeStore, settings: Settings):
        self.store = store
        self.settings = settings

    # ------------------------------------------------------------ lookups

    def sitting_in(self, rows: ProgrammeReads, key: str) -> Sitting:
        """A sitting as stored when it was first used, else as the calendar computes it now.

        A sitting's date is fixed once someone registers for it, so a later edit of the holiday
        list never moves an exam under registered candidates' feet.
        """
        stored = rows.stored_sitting(month_key(*parse_month(key)))
        if stored is not None:
            return stored
        return sitting_of(key, self.settings.holidays, self.settings.tz)

    async def sitting(self, key: str) -> Sitting:
        return await self.store.programme_read(lambda rows: self.sitting_in(rows, key))

    @staticmethod
    def registration_in(rows: ProgrammeReads, registration_id: int) -> Registration:
        try:
            return rows.registration(registration_id)
        except LookupError:
            raise ConfigError(f"no registration #{registration_id}") from None

    async def registration(self, registration_id: int) -> Registration:
        return await self.store.programme_read(
            lambda rows: self.registration_in(rows, registration_id)
        )

    async def candidate(self, candidate_id: int) -> Candidate:
        return await self.store.programme_read(lambda rows: rows.candidate(candidate_id))

    async def history(self, registration_id: int) -> list[dict[str, object]]:
        return await self.store.programme_read(lambda rows: rows.history(registration_id))

    @staticmethod
    def _active(rows: ProgrammeReads, candidate_id: int) -> list[str]:
        regs = rows.registrations_of(candidate_id, ACTIVE)
        return [f"#{r.id} for {r.sitting}, {r.state.value}" for r in regs]

    # ------------------------------------------------------------ R1, R3, R4: register, pay

    async def register(
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

        def work(tx: ProgrammeTx) -> Registration:
            target = self.sitting_in(tx, sitting)
            found = tx.candidate_by_id_number(id_number.strip().upper())
            check_register(target, now, self._active(tx, found.id) if found else [])
            candidate = tx.upsert_candidate(
                name.strip(), id_number.strip().upper(), phone.strip(), email.strip(), now
            )
            tx.store_sitting(target)
            reg_id = tx.add_registration(
                candidate.id, Kind.FIRST, city.strip(), target.key, RegState.UNPAID, now
            )
            tx.log(
                candidate.id,
                reg_id,
                now,
                "registered",
                sitting=target.key,
                exam_date=target.exam_date.isoformat(),
                city=city.strip(),
                registration_closes=when(target.registration_closes),
            )
            give_trial_pass(tx, candidate, reg_id, target, now)  # R12, from today
            return tx.registration(reg_id)

        return await self.store.programme_transaction(work)

    async def pay(self, registration_id: int, now: datetime) -> Registration:
        """Payment is confirmed by staff (there is no payment gateway)."""

        def work(tx: ProgrammeTx) -> Registration:
            reg = self.registration_in(tx, registration_id)
            check_pay(reg.facts(self.sitting_in(tx, reg.sitting)), now)
            tx.record_payment(reg.id, transition(reg.state, Action.PAY), now)
            tx.log(reg.candidate_id, reg.id, now, "paid")
            return tx.registration(reg.id)

        return await self.store.programme_transaction(work)

    # ------------------------------------------------------------ R5: refund

    async def refund(self, registration_id: int, now: datetime) -> Registration:
        def work(tx: ProgrammeTx) -> Registration:
            reg = self.registration_in(tx, registration_id)
            check_refund(reg.facts(self.sitting_in(tx, reg.sitting)), now)
            tx.record_refund(reg.id, transition(reg.state, Action.REFUND), now)
            if reg.ticket_token:  # the admission ticket no longer admits anyone
                tx.revoke_ticket(reg.ticket_token)
            tx.revoke_trial_passes(registration_code(reg.id))
            tx.log(reg.candidate_id, reg.id, now, "refunded", ticket_revoked=bool(reg.ticket_token))
            cand = tx.candidate(reg.candidate_id)
            enqueue(
                tx,
                f"refund:{reg.id}",
                cand,
                reg.id,
                "refund",
                f"Refund of registration #{reg.id}",
                f"Dear {cand.name},\n\nyour registration #{reg.id} for the {reg.sitting} sitting "
                "was cancelled and its fee refunded (R5).\n",
                now,
            )
            return tx.registration(reg.id)

        return await self.store.programme_transaction(work)

    # ------------------------------------------------------------ R6: deferral

    async def defer(self, registration_id: int, to: str | None, now: datetime) -> Registration:
        def work(tx: ProgrammeTx) -> Registration:
            reg = self.registration_in(tx, registration_id)
            current = self.sitting_in(tx, reg.sitting)
            target = self.sitting_in(tx, to or next_month(reg.sitting))
            check_defer(reg.facts(current), target, now)
            transition(reg.state, Action.DEFER)
            tx.store_sitting(target)
            tx.record_deferral(reg.id, target.key, current.key, now)
            tx.revoke_trial_passes(registration_code(reg.id))  # a pass for the new sitting
            give_trial_pass(tx, tx.candidate(reg.candidate_id), reg.id, target, now)
            tx.log(
                reg.candidate_id,
                reg.id,
                now,
                "deferred",
                sitting_from=current.key,
                sitting_to=target.key,
                exam_date=target.exam_date.isoformat(),
            )
            cand = tx.candidate(reg.candidate_id)
            enqueue(
                tx,
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
            return tx.registration(reg.id)

        return await self.store.programme_transaction(work)

    # ------------------------------------------------------------ R20, R21: retake

    async def request_retake(
        self, registration_id: int, sitting: str, now: datetime
    ) -> Registration:
        """The one free retake after a failed first attempt; a new registration, already paid."""

        def work(tx: ProgrammeTx) -> Registration:
            failed = self.registration_in(tx, registration_id)
            target = self.sitting_in(tx, sitting)
            retakes = [f"#{r.id} for {r.sitting}" for r in tx.retakes_of(failed.id)]
            check_retake(failed.facts(self.sitting_in(tx, failed.sitting)), target, now, retakes)
            tx.store_sitting(target)
            reg_id = tx.add_registration(
                failed.candidate_id,
                Kind.RETAKE,
                failed.city,
                target.key,
                RegState.PAID,
                now,
                retake_of=failed.id,
                paid_at=now,
            )
            tx.log(
                failed.candidate_id,
                reg_id,
                now,
                "retake_requested",
                retake_of=failed.id,
                sitting=target.key,
                exam_date=target.exam_date.isoformat(),
            )
            tx.log(failed.candidate_id, failed.id, now, "retake_requested", retake=reg_id)
            give_trial_pass(tx, tx.candidate(failed.candidate_id), reg_id, target, now)
            return tx.registration(reg_id)

        return await self.store.programme_transaction(work)

    # ------------------------------------------------------------ reading

    async def status(self, registration_id: int) -> dict[str, object]:
        return await self.store.programme_read(lambda rows: self._status(rows, registration_id))

    def _status(self, rows: ProgrammeReads, registration_id: int) -> dict[str, object]:
        reg = self.registration_in(rows, registration_id)
        target = self.sitting_in(rows, reg.sitting)
        cand = rows.candidate(reg.candidate_id)
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
            "history": rows.history(reg.id),
        }
