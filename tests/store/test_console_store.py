"""Store contract: proctors and their sessions (hashes only), late admissions, reviews,
verdicts, an attempt's own deadline, and the audit log's chain with proctors' command ids."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proctor_server.core.audit import verify_chain
from proctor_server.core.records import ProctorRecord, ProctorRole
from proctor_server.store import DuplicateCommand
from shared.errors import RuleError
from shared.states import Trigger
from shared.vocabulary import Mode, Source, ViolationKind
from tests.store.conftest import HOUR, NOW, PASS, QUESTIONS, ContractStore, exam_record, seat

LI = ProctorRecord("pr-li", "Li", ProctorRole.PROCTOR, None, NOW)
ENTRY = ("proctor:Li", "test", {"why": "a test"})


async def test_proctors_are_found_by_token_hash_and_revoked_with_their_sessions(
    store: ContractStore,
) -> None:
    exam = exam_record()
    await store.create_exam(exam)
    li = ProctorRecord("pr-li", "Li", ProctorRole.PROCTOR, exam.id, NOW)
    chief = ProctorRecord("pr-boss", "Boss", ProctorRole.CHIEF, None, NOW + HOUR)
    await store.add_proctor(li, "h-li")
    await store.add_proctor(chief, "h-boss")
    assert await store.proctor_by_token("h-li") == li
    assert await store.proctor_by_token("h-none") is None
    assert await store.get_proctor("pr-boss") == chief
    assert await store.proctors(exam.id) == [li, chief]
    assert await store.proctors("other") == [chief]
    await store.create_proctor_session("s-1", li.id, NOW, NOW + HOUR)
    assert await store.proctor_by_session("s-1", NOW) == li
    assert await store.proctor_by_session("s-1", NOW + HOUR) is None  # expired
    await store.create_proctor_session("s-2", li.id, NOW, NOW + HOUR)
    revoked = await store.revoke_proctors("Li", NOW, ("staff", "proctor_revoke", {}))
    assert [p.id for p in revoked] == [li.id]
    assert await store.proctor_by_session("s-2", NOW) is None
    found = await store.proctor_by_token("h-li")
    assert found is not None and found.revoked_at == NOW and not found.sees(exam.id)
    assert await store.revoke_proctors("Li", NOW, ("staff", "proctor_revoke", {})) == []
    await store.create_proctor_session("s-3", chief.id, NOW, NOW + HOUR)
    await store.end_proctor_session("s-3")
    assert await store.proctor_by_session("s-3", NOW) is None
    (entry,) = [e for e in await store.audit_chain(exam.id) if e.action == "proctor_revoke"]
    assert entry.detail["proctor"] == "Li"


async def test_an_admission_is_read_in_the_entry_transaction(store: ContractStore) -> None:
    seated = await seat(store, open_paper=False)
    with pytest.raises(RuleError):
        await store.admit(seated.exam.id, "C09999", NOW, ENTRY)
    assert not await store.admitted(seated.ticket.token)
    ticket = await store.admit(seated.exam.id, seated.ticket.candidate_code, NOW, ENTRY)
    assert ticket == seated.ticket.token and await store.admitted(ticket)
    assert await store.admitted_tickets(seated.exam.id) == {ticket}
    seen: list[bool] = []

    def decide(t: object, found: object, admitted: Callable[[], bool]) -> object:
        seen.append(admitted())
        return found

    await store.enter(ticket, Mode.EXAM, "n-1", NOW, decide)  # type: ignore[arg-type]
    assert seen == [True]


async def test_reviews_and_verdicts_stand_latest_first(store: ContractStore) -> None:
    seated = await seat(store)
    attempt = seated.attempt.id
    violation = await store.add_violation(attempt, ViolationKind.MULTIPLE_FACES, Source.SERVER, NOW)
    assert await store.violation_exam(violation) == (attempt, seated.exam.id)
    assert await store.violation_exam(violation + 1000) is None
    await store.review_violation(violation, "confirmed", "", NOW, seated.exam.id, ENTRY)
    await store.review_violation(violation, "dismissed", "a glare", NOW, seated.exam.id, ENTRY)
    assert await store.violation_reviews(attempt) == {
        violation: ("dismissed", "a glare", "proctor:Li")
    }
    await store.set_verdict(attempt, "suspicious", "", NOW, seated.exam.id, ENTRY)
    await store.set_verdict(attempt, "invalidated", "copied", NOW, seated.exam.id, ENTRY)
    assert await store.attempt_verdicts(seated.exam.id) == {attempt: "invalidated"}
    assert await store.attempt_verdicts("other") == {}


async def test_an_attempt_s_own_deadline_moves_until_it_finishes(store: ContractStore) -> None:
    seated = await seat(store)
    later = seated.attempt.ends_at + HOUR
    moved = await store.set_deadline(seated.attempt.id, later, NOW, ENTRY)
    assert moved.ends_at == later
    assert (await store.get_attempt(seated.attempt.id)).ends_at == later  # type: ignore[union-attr]
    await store.transition(
        seated.attempt.id, Trigger.SUBMIT, NOW, "done", questions=QUESTIONS, pass_score=PASS
    )
    with pytest.raises(RuleError):
        await store.set_deadline(seated.attempt.id, later + HOUR, NOW, ENTRY)


async def test_the_audit_chain_per_exam_and_a_command_acts_once(store: ContractStore) -> None:
    seated = await seat(store)
    exam = seated.exam.id
    command = ("pr-li", "c-1", "warn")
    assert not await store.command_seen("pr-li", "c-1")
    used = await store.add_warning(seated.attempt.id, NOW, actor="proctor:Li", command=command)
    assert used == 1 and await store.command_seen("pr-li", "c-1")
    with pytest.raises(DuplicateCommand):  # the same id again: refused, with its entry
        await store.audit("proctor:Li", "message", {}, NOW, exam=exam, command=command)
    await store.audit("staff", "note", {"exam": exam, "名": "试"}, NOW)
    await store.audit("staff", "elsewhere", {}, NOW)  # no exam: the chain ""
    entries = await store.audit_chain(exam)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert [e.action for e in entries] == ["state", "state", "warning", "note"]
    assert entries[-1].action == "note" and entries[-1].detail == {"exam": exam, "名": "试"}
    assert verify_chain(entries, await store.audit_head(exam)) is None
    assert [e.action for e in await store.audit_chain("")] == ["elsewhere"]
    assert await store.audit_head("nothing") is None
