"""Store contract: attempts, entry in one transaction, transitions decided once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from proctor_server.store import AttemptRecord, TicketRecord
from shared.errors import ErrorCode, InvalidTransition, RuleError
from shared.states import AttemptState, Effect, Trigger
from shared.vocabulary import Mode
from tests.store.conftest import NOW, PASS, QUESTIONS, ContractStore, attempt_record, seat


async def test_an_attempt_reads_back_as_it_was_created(store: ContractStore) -> None:
    seated = await seat(store, open_paper=False)
    assert await store.get_attempt(seated.attempt.id) == seated.attempt
    assert await store.get_attempt("a-none") is None
    assert await store.state_history(seated.attempt.id) == [("waiting", NOW, "entered")]


async def test_a_tickets_latest_attempt_per_mode_is_found(store: ContractStore) -> None:
    seated = await seat(store, open_paper=False)
    first = attempt_record(seated.exam, seated.ticket, mode=Mode.TRIAL, created_at=NOW)
    second = attempt_record(
        seated.exam, seated.ticket, mode=Mode.TRIAL, created_at=NOW + timedelta(minutes=5)
    )
    for attempt in (second, first):
        await store.create_attempt(attempt)
    found = await store.find_attempt(seated.ticket.token, Mode.TRIAL)
    assert found is not None and found.id == second.id
    exam_attempt = await store.find_attempt(seated.ticket.token, Mode.EXAM)
    assert exam_attempt is not None and exam_attempt.id == seated.attempt.id
    assert await store.find_attempt("tk-none", Mode.EXAM) is None
    assert [a.id for a in await store.attempts_of_exam(seated.exam.id)] == [
        seated.attempt.id,
        first.id,
        second.id,
    ]


async def test_unfinished_attempts_leave_out_finished_ones(store: ContractStore) -> None:
    done = await seat(store, code="C1")
    busy = await seat(store, code="C2", exam=done.exam)
    await store.transition(
        done.attempt.id, Trigger.SUBMIT, NOW, "submitted", questions=QUESTIONS, pass_score=PASS
    )
    assert [a.id for a in await store.unfinished_attempts(done.exam.id)] == [busy.attempt.id]


async def test_enter_inserts_the_decided_attempt_and_records_the_nonce(
    store: ContractStore,
) -> None:
    seated = await seat(store, open_paper=False)
    seen: list[tuple[TicketRecord | None, AttemptRecord | None, bool]] = []
    new = attempt_record(seated.exam, seated.ticket, mode=Mode.TRIAL)

    def decide(
        ticket: TicketRecord | None, found: AttemptRecord | None, admitted: Callable[[], bool]
    ) -> AttemptRecord:
        seen.append((ticket, found, admitted()))
        return new

    ticket, attempt, resumed = await store.enter(
        seated.ticket.token, Mode.TRIAL, "n-1", NOW, decide
    )
    assert (ticket, attempt, resumed) == (seated.ticket, new, False)
    assert seen == [(seated.ticket, None, False)]
    assert await store.get_attempt(new.id) == new
    assert await store.find_nonce("n-1") == (new.id, NOW)


async def test_enter_resumes_the_attempt_found(store: ContractStore) -> None:
    seated = await seat(store)
    ticket, attempt, resumed = await store.enter(
        seated.ticket.token,
        Mode.EXAM,
        "n-2",
        NOW,
        lambda t, found, admitted: found,  # type: ignore[arg-type,return-value]
    )
    assert resumed and attempt == seated.attempt and ticket == seated.ticket
    assert await store.nonce_history(seated.attempt.id) == [("n-2", NOW)]
    assert len(await store.attempts_of_exam(seated.exam.id)) == 1


async def test_a_refused_entry_writes_nothing(store: ContractStore) -> None:
    seated = await seat(store, open_paper=False)
    seen: list[TicketRecord | None] = []

    def refuse(
        ticket: TicketRecord | None, found: AttemptRecord | None, admitted: Callable[[], bool]
    ) -> AttemptRecord:
        seen.append(ticket)
        raise RuleError("not now", code=ErrorCode.NOT_ALLOWED)

    with pytest.raises(RuleError):
        await store.enter(seated.ticket.token, Mode.TRIAL, "n-3", NOW, refuse)
    with pytest.raises(RuleError):
        await store.enter("tk-unknown", Mode.EXAM, "n-4", NOW, refuse)
    assert seen == [seated.ticket, None]  # an unknown ticket is decided as None
    assert await store.find_nonce("n-3") is None and await store.find_nonce("n-4") is None
    assert await store.find_attempt(seated.ticket.token, Mode.TRIAL) is None


async def test_transitions_follow_the_table_and_record_their_history(
    store: ContractStore,
) -> None:
    seated = await seat(store, open_paper=False)
    later = NOW + timedelta(minutes=1)
    accepted, effects = await store.transition(
        seated.attempt.id,
        Trigger.IDENTITY_ACCEPTED,
        NOW,
        "photo",
        questions=QUESTIONS,
        pass_score=PASS,
    )
    assert accepted.identity_accepted and accepted.state is AttemptState.VERIFIED
    opened, effects = await store.transition(
        seated.attempt.id,
        Trigger.PAPER_RELEASED,
        later,
        "start",
        questions=QUESTIONS,
        pass_score=PASS,
    )
    assert opened.state is AttemptState.IN_PROGRESS and opened.started_at == later
    assert Effect.SEND_PAPER in effects
    with pytest.raises(InvalidTransition):
        await store.transition(
            seated.attempt.id,
            Trigger.PAPER_RELEASED,
            later,
            "again",
            questions=QUESTIONS,
            pass_score=PASS,
        )
    with pytest.raises(KeyError):
        await store.transition(
            "a-none", Trigger.SUBMIT, later, "x", questions=QUESTIONS, pass_score=PASS
        )
    assert [s for s, _, _ in await store.state_history(seated.attempt.id)] == [
        "waiting",
        "verified",
        "in_progress",
    ]
    assert await store.get_attempt(seated.attempt.id) == opened


async def test_finishing_scores_every_acknowledged_answer(store: ContractStore) -> None:
    seated = await seat(store)
    await store.save_answer(seated.attempt.id, "m1", 0, [2], NOW)  # q1 right: 5 points
    await store.save_answer(seated.attempt.id, "m2", 1, [0, 1], NOW)  # q2 right: 5 points
    done, effects = await store.transition(
        seated.attempt.id, Trigger.SUBMIT, NOW, "submitted", questions=QUESTIONS, pass_score=PASS
    )
    assert Effect.SCORE in effects
    assert (done.state, done.score, done.max_score, done.passed, done.finished_at) == (
        AttemptState.SUBMITTED,
        10,
        20,
        False,
        NOW,
    )
    assert await store.get_attempt(seated.attempt.id) == done


async def test_a_deadline_and_a_submit_racing_are_decided_once(store: ContractStore) -> None:
    seated = await seat(store)
    results = await asyncio.gather(
        store.transition(
            seated.attempt.id,
            Trigger.SUBMIT,
            NOW,
            "submitted",
            questions=QUESTIONS,
            pass_score=PASS,
        ),
        store.transition(
            seated.attempt.id,
            Trigger.DEADLINE,
            NOW,
            "time_up",
            questions=QUESTIONS,
            pass_score=PASS,
        ),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], InvalidTransition) and lost[0].code is ErrorCode.EXAM_OVER
    finals = [s for s, _, _ in await store.state_history(seated.attempt.id)][3:]
    assert len(finals) == 1
    stored = await store.get_attempt(seated.attempt.id)
    assert stored is not None and stored.state is won[0][0].state


async def test_warnings_count_up(store: ContractStore) -> None:
    seated = await seat(store)
    assert [await store.add_warning(seated.attempt.id) for _ in range(3)] == [1, 2, 3]
    stored = await store.get_attempt(seated.attempt.id)
    assert stored is not None and stored.warnings_used == 3
