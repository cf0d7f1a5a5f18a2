"""Store contract: violations and an exam's overview, watermark nonces, the audit trail, and
face analysis's calibrations (`CalibrationStore`)."""

from __future__ import annotations

from datetime import timedelta

from proctor_server import admin
from proctor_server.core.records import CalibrationRecord
from shared.timeutil import to_wire
from shared.vocabulary import Source, ViolationKind
from tests.store.conftest import HOUR, NOW, QUESTIONS, ContractStore, seat


async def test_violations_are_recorded_and_ended(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    later = NOW + timedelta(seconds=40)
    first = await store.add_violation(
        attempt,
        ViolationKind.FACE_ABSENT,
        Source.SERVER,
        NOW,
        confidence=0.8,
        evidence={"snapshot": "p-1"},
    )
    second = await store.add_violation(
        attempt,
        ViolationKind.LEFT_EXAM_WINDOW,
        Source.CLIENT,
        NOW,
        client_at="06:00",
        ended_at=later,
    )
    assert first != second
    await store.end_violation(first, later)
    stored = {v.id: v for v in await store.violations(attempt)}
    assert [v.id for v in await store.violations(attempt)] == [first, second]
    one, two = stored[first], stored[second]
    assert (one.kind, one.source, one.server_at, one.ended_at) == (
        ViolationKind.FACE_ABSENT,
        Source.SERVER,
        NOW,
        later,
    )
    assert (one.confidence, one.evidence, one.client_at) == (0.8, {"snapshot": "p-1"}, None)
    assert (two.client_at, two.ended_at, two.evidence, two.confidence) == ("06:00", later, {}, 1.0)
    await store.end_violation(second, later + timedelta(seconds=1), {"frames": 3})
    ended = {v.id: v for v in await store.violations(attempt)}[second]
    assert ended.ended_at == later + timedelta(seconds=1) and ended.evidence == {"frames": 3}
    assert await store.violations("a-none") == []


async def test_an_exams_overview_holds_every_attempt_with_its_ticket_and_violations(
    store: ContractStore,
) -> None:
    ada = await seat(store, code="C1")
    bob = await seat(store, code="C2", exam=ada.exam)
    other = await seat(store, code="C1")  # another exam
    flagged = await store.add_violation(
        bob.attempt.id, ViolationKind.FACE_ABSENT, Source.SERVER, NOW
    )
    await store.add_violation(other.attempt.id, ViolationKind.FACE_ABSENT, Source.SERVER, NOW)
    overview = await store.exam_overview(ada.exam.id)
    assert [(a.id, t.token, [v.id for v in vs]) for a, t, vs in overview] == [
        (ada.attempt.id, ada.ticket.token, []),
        (bob.attempt.id, bob.ticket.token, [flagged]),
    ]
    assert overview[0][0] == await store.get_attempt(ada.attempt.id)
    assert overview[1][1] == bob.ticket
    assert await store.exam_overview("no-such-exam") == []


async def test_watermark_nonces_tell_which_was_live_when(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    later = NOW + timedelta(minutes=5)
    await store.add_nonce(attempt, "n-2", later)
    await store.add_nonce(attempt, "n-1", NOW)
    assert await store.nonce_history(attempt) == [("n-1", NOW), ("n-2", later)]
    assert await store.find_nonce("n-2") == (attempt, later)
    assert await store.find_nonce("n-none") is None


async def test_the_audit_trail_is_newest_first(store: ContractStore) -> None:
    for i in range(3):
        await store.audit("admin", f"action-{i}", {"n": i, "名": "试"}, NOW + timedelta(seconds=i))
    trail = await store.audit_trail()
    assert [t["action"] for t in trail] == ["action-2", "action-1", "action-0"]
    assert trail[0] == {
        "at": to_wire(NOW + timedelta(seconds=2)),
        "actor": "admin",
        "action": "action-2",
        "detail": {"n": 2, "名": "试"},
    }
    assert [t["action"] for t in await store.audit_trail(limit=1)] == ["action-2"]


async def test_calibrations_per_attempt_and_the_newest_trial_per_ticket(
    store: ContractStore,
) -> None:
    identity = CalibrationRecord("identity", 1.5, -2.0, 120.0, 80.0, [0.1, 0.2], 1)
    old_trial = CalibrationRecord("trial", 3.0, 1.0, 100.0, 70.0, None, 12)
    new_trial = CalibrationRecord("trial", 4.0, 0.5, 110.0, 75.0, None, 30)
    assert await store.calibration("a-1") is None
    await store.put_calibration("a-1", "tk-1", identity, NOW)
    await store.put_calibration("t-1", "tk-1", old_trial, NOW + timedelta(minutes=1))
    await store.put_calibration("t-2", "tk-1", new_trial, NOW + timedelta(minutes=2))
    assert await store.calibration("a-1") == identity
    assert await store.trial_calibration("tk-1") == new_trial
    assert await store.trial_calibration("tk-2") is None
    await store.put_calibration("a-1", "tk-1", new_trial, NOW + timedelta(minutes=3))  # replaced
    assert await store.calibration("a-1") == new_trial


async def test_staff_actions_leave_an_audit_trail(store: ContractStore) -> None:
    exam = await admin.create_exam(
        store, title="T", starts_at=NOW, duration=HOUR, questions=QUESTIONS
    )
    await admin.issue_ticket(store, exam.id, name="N")
    trail = await store.audit_trail()
    assert [t["action"] for t in trail] == ["ticket_issue", "exam_create"]  # newest first
    assert trail[0]["detail"]["candidate"] == "C00001"
