"""The console's pure decisions, table by table: the audit chain's checks, which exam a
proctor's feed follows, extra time, the warning limit, and a late admission (R15)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from proctor_server.core.audit import GENESIS, AuditEntry, ChainBreak, entry_hash, verify_chain
from proctor_server.core.console import extended_deadline, feed_exam, limit_reached
from proctor_server.core.records import (
    AttemptRecord,
    ExamRecord,
    ProctorRecord,
    ProctorRole,
    TicketRecord,
)
from proctor_server.core.session import Fresh, decide_entry
from shared.errors import RuleError
from shared.questions import Question
from shared.shuffle import order_for
from shared.states import AttemptState
from shared.vocabulary import Mode

NOW = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
QUESTIONS = [Question(id="q1", text="?", options=["a", "b"], answer=[0])]
EXAM = ExamRecord(
    id="e-1",
    title="T",
    starts_at=NOW,
    duration=timedelta(hours=1),
    questions=QUESTIONS,
    trial_questions=QUESTIONS,
    pass_score=1,
)
TICKET = TicketRecord(token="tk", exam_id="e-1", candidate_code="C00001", name="Ada")


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        detail = {"attempt": "a-1", "n": seq}
        digest = entry_hash(prev, "e-1", seq, f"t{seq}", "system", "state", detail)
        entries.append(AuditEntry("e-1", seq, f"t{seq}", "system", "state", detail, prev, digest))
        prev = digest
    return entries


def head(entries: list[AuditEntry]) -> tuple[int, str]:
    return entries[-1].seq, entries[-1].hash


def altered(entries: list[AuditEntry], i: int, **change: object) -> list[AuditEntry]:
    copy = list(entries)
    copy[i] = dataclasses.replace(copy[i], **change)  # type: ignore[arg-type]
    return copy


FIVE = chain(5)
BREAKS: list[tuple[str, list[AuditEntry], tuple[int, str] | None, ChainBreak | None]] = [
    ("intact", FIVE, head(FIVE), None),
    ("empty", [], None, None),
    ("detail altered", altered(FIVE, 2, detail={"n": 99}), head(FIVE), ChainBreak(3, "")),
    ("actor altered", altered(FIVE, 0, actor="proctor:x"), head(FIVE), ChainBreak(1, "")),
    ("middle deleted", FIVE[:2] + FIVE[3:], head(FIVE), ChainBreak(3, "")),
    ("first deleted", FIVE[1:], head(FIVE), ChainBreak(1, "")),
    ("last deleted", FIVE[:4], head(FIVE), ChainBreak(5, "")),
    ("two last deleted", FIVE[:3], head(FIVE), ChainBreak(4, "")),
    ("head removed", FIVE, None, ChainBreak(5, "")),
    ("head altered", FIVE, (5, "0" * 64), ChainBreak(5, "")),
    ("renumbered after a deletion", chain(4), head(FIVE), ChainBreak(5, "")),
]


@pytest.mark.parametrize(
    ("entries", "kept_head", "expected"),
    [b[1:] for b in BREAKS],
    ids=[b[0] for b in BREAKS],
)
def test_verify_chain_names_the_first_break(
    entries: list[AuditEntry], kept_head: tuple[int, str] | None, expected: ChainBreak | None
) -> None:
    found = verify_chain(entries, kept_head)
    assert (found.seq if found else None) == (expected.seq if expected else None), found


PROCTOR = ProctorRecord("pr-1", "Li", ProctorRole.PROCTOR, "e-1", NOW)
CHIEF = ProctorRecord("pr-2", "Boss", ProctorRole.CHIEF, None, NOW)
FEEDS: list[tuple[ProctorRecord, str | None, list[str], str | None]] = [
    (PROCTOR, None, ["e-1", "e-2"], "e-1"),
    (PROCTOR, "e-1", [], "e-1"),
    (PROCTOR, "e-2", ["e-2"], None),
    (CHIEF, "e-2", ["e-1", "e-2"], "e-2"),
    (CHIEF, None, ["e-3"], "e-3"),
    (CHIEF, None, ["e-1", "e-2"], None),
    (CHIEF, None, [], None),
]


@pytest.mark.parametrize(("proctor", "requested", "live", "expected"), FEEDS)
def test_the_exam_a_feed_follows(
    proctor: ProctorRecord, requested: str | None, live: list[str], expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(RuleError) as refused:
            feed_exam(proctor, requested, live)
        assert refused.value.code == "not_allowed"
    else:
        assert feed_exam(proctor, requested, live) == expected


def attempt(
    state: AttemptState = AttemptState.IN_PROGRESS, ends: timedelta = timedelta(hours=1)
) -> AttemptRecord:
    return AttemptRecord(
        id="a-1",
        exam_id="e-1",
        ticket="tk",
        mode=Mode.EXAM,
        state=state,
        seed="00",
        order=order_for("00", QUESTIONS),
        created_at=NOW,
        ends_at=NOW + ends,
    )


EXTENSIONS: list[tuple[str, AttemptRecord, int, timedelta, timedelta | None]] = [
    ("from the exam's deadline", attempt(), 10, timedelta(minutes=5), timedelta(minutes=70)),
    (
        "adds to an earlier extension",
        attempt(ends=timedelta(minutes=70)),
        5,
        timedelta(0),
        timedelta(minutes=75),
    ),
    ("in the write grace", attempt(), 10, timedelta(hours=1, seconds=1), timedelta(minutes=70)),
    ("after the deadline", attempt(), 10, timedelta(hours=1, seconds=3), None),
    ("a finished attempt", attempt(AttemptState.SUBMITTED), 10, timedelta(0), None),
    ("past 24 hours after the end", attempt(), 24 * 60 + 1, timedelta(0), None),
]


@pytest.mark.parametrize(
    ("record", "minutes", "at", "expected"),
    [e[1:] for e in EXTENSIONS],
    ids=[e[0] for e in EXTENSIONS],
)
def test_extra_time(
    record: AttemptRecord, minutes: int, at: timedelta, expected: timedelta | None
) -> None:
    if expected is None:
        with pytest.raises(RuleError):
            extended_deadline(record, EXAM, minutes, NOW + at)
    else:
        assert extended_deadline(record, EXAM, minutes, NOW + at) == NOW + expected


@pytest.mark.parametrize(
    ("used", "limit", "reached"),
    [(1, 3, False), (3, 3, True), (4, 3, False), (1, None, False), (1, 1, True)],
)
def test_the_limit_is_reached_once_at_the_limit_th_warning(
    used: int, limit: int | None, reached: bool
) -> None:
    assert limit_reached(used, limit) is reached


ENTRIES: list[tuple[str, timedelta, bool, str | None]] = [
    ("in the window", timedelta(minutes=10), False, None),
    ("after the window", timedelta(minutes=31), False, "entry_closed"),
    ("admitted after the window", timedelta(minutes=31), True, None),
    ("admitted, exam over", timedelta(minutes=61), True, "exam_over"),
    ("admitted, before entry opens", timedelta(minutes=-31), True, "entry_not_open"),
]


@pytest.mark.parametrize(
    ("at", "admitted", "refused"), [e[1:] for e in ENTRIES], ids=[e[0] for e in ENTRIES]
)
def test_a_late_admission_lets_the_first_entry_through_until_the_end(
    at: timedelta, admitted: bool, refused: str | None
) -> None:
    fresh = Fresh("a-new", "00")
    if refused is None:
        entered = decide_entry(Mode.EXAM, TICKET, EXAM, None, NOW + at, fresh, admitted)
        assert entered.id == "a-new"
    else:
        with pytest.raises(RuleError) as error:
            decide_entry(Mode.EXAM, TICKET, EXAM, None, NOW + at, fresh, admitted)
        assert error.value.code == refused
