"""Store contract: a candidate's writes are stored once per client id and refused, in their
own transaction, when the attempt no longer takes them (`core.session.check_write`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from proctor_server.core.records import SavedEvent
from proctor_server.store import PhotoRecord
from proctor_server.store.sql.database import Database
from proctor_server.store.sql.writes import _CUTOFFS, wire_cutoff
from shared.errors import ErrorCode, RuleError
from shared.rules import WRITE_GRACE
from shared.states import Trigger
from shared.timeutil import to_wire
from shared.vocabulary import Source, ViolationKind
from tests.store.conftest import NOW, PASS, QUESTIONS, ContractStore, Seated, seat


def photo(seated: Seated, client_id: str, kind: str = "snapshot", size: int = 4) -> PhotoRecord:
    attempt = seated.attempt.id
    return PhotoRecord(
        id=f"p-{attempt}-{client_id}",
        attempt_id=attempt,
        kind=kind,
        client_id=client_id,
        path=f"snapshots/{attempt}/{client_id}.jpg",
        sha256="0" * 64,
        size=size,
        received_at=NOW,
        accepted=True if kind == "identity_photo" else None,
        reasons=["face found"] if kind == "identity_photo" else [],
    )


async def finish(store: ContractStore, seated: Seated, trigger: Trigger) -> None:
    await store.transition(
        seated.attempt.id, trigger, NOW, trigger.value, questions=QUESTIONS, pass_score=PASS
    )


# ---------------------------------------------------------------- idempotency


async def test_an_answer_is_stored_once_per_client_id(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    assert await store.save_answer(attempt, "m1", 0, [2, 1], NOW) is True
    assert await store.save_answer(attempt, "m1", 0, [0], NOW) is False  # a resend: no change
    assert await store.answers(attempt) == {0: [1, 2]}
    assert await store.save_answer(attempt, "m2", 0, [0], NOW) is True  # a new choice wins
    assert await store.save_answer(attempt, "m3", 3, [], NOW) is True
    assert await store.answers(attempt) == {0: [0], 3: []}


async def test_an_event_is_stored_once_and_may_record_a_violation(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    kind = ViolationKind.LEFT_EXAM_WINDOW
    args = ("focus_lost", "2026-07-25T06:00:00Z", NOW, {"window": "chat"}, kind.value)
    assert (await store.save_event(attempt, "e1", *args)).new is True
    assert (await store.save_event(attempt, "e1", *args)).new is False
    assert (await store.save_event(attempt, "e2", "focus_back", None, NOW, {}, None)).new
    assert await store.events(attempt) == [
        {
            "id": "e1",
            "kind": "focus_lost",
            "client_at": "2026-07-25T06:00:00Z",
            "server_at": to_wire(NOW),
            "detail": {"window": "chat"},
        },
        {
            "id": "e2",
            "kind": "focus_back",
            "client_at": None,
            "server_at": to_wire(NOW),
            "detail": {},
        },
    ]
    [violation] = await store.violations(attempt)
    assert (violation.kind, violation.source, violation.ended_at) == (kind, Source.CLIENT, None)
    assert violation.evidence == {"event": "e1", "window": "chat"}
    assert violation.client_at == "2026-07-25T06:00:00Z"


async def test_a_profile_is_stored_once_and_marks_the_attempt(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    assert await store.profile(attempt) is None
    mail = {"name": "Ada", "city": "北京"}
    assert await store.save_profile(attempt, "p1", mail, NOW) is True
    assert await store.save_profile(attempt, "p1", {"name": "Other"}, NOW) is False
    assert await store.profile(attempt) == mail
    stored = await store.get_attempt(attempt)
    assert stored is not None and stored.profile_saved
    assert await store.save_profile(attempt, "p2", {"name": "Ada L."}, NOW) is True
    assert await store.profile(attempt) == {"name": "Ada L."}  # the newest


async def test_photos_and_their_bytes(store: ContractStore) -> None:
    seated = await seat(store)
    attempt = seated.attempt.id
    snap, face = photo(seated, "s1"), photo(seated, "i1", kind="identity_photo")
    assert await store.save_photo(snap, b"\xff\xd8s1") is True
    assert await store.save_photo(face, b"\xff\xd8i1") is True
    assert await store.save_photo(snap, b"\xff\xd8s1") is False  # a resend
    assert await store.photo_bytes(snap.id) == b"\xff\xd8s1"
    assert await store.photo_bytes("p-none") is None
    assert {p.id for p in await store.photos(attempt)} == {snap.id, face.id}
    assert await store.photos(attempt, "identity_photo") == [face]
    assert await store.photos(attempt, "snapshot") == [snap]


def test_photo_ids_are_stable_per_attempt_and_client_id() -> None:
    from proctor_server.store import SqliteStore

    ids = {SqliteStore.photo_id(a, c) for a in ("a-1", "a-2") for c in ("m1", "m2")}
    assert len(ids) == 4
    assert SqliteStore.photo_id("a-1", "m1") == SqliteStore.photo_id("a-1", "m1")


async def test_the_store_names_photo_ids(store: ContractStore) -> None:
    first = store.photo_id("a-1", "m1")
    assert first == store.photo_id("a-1", "m1")
    assert first != store.photo_id("a-1", "m2") and first != store.photo_id("a-2", "m1")


async def test_a_return_ends_the_open_leave_at_its_own_time(store: ContractStore) -> None:
    attempt = (await seat(store)).attempt.id
    leave = ViolationKind.LEFT_EXAM_WINDOW.value
    back = NOW + timedelta(seconds=7)
    await store.add_violation(attempt, ViolationKind.FACE_ABSENT.value, Source.SERVER.value, NOW)
    assert (await store.save_event(attempt, "e1", "focus_lost", None, NOW, {}, leave)).new
    saved = await store.save_event(attempt, "e2", "focus_back", None, back, {}, None, leave)
    [ended] = saved.ended
    assert (ended.kind, ended.source, ended.server_at, ended.ended_at) == (
        ViolationKind.LEFT_EXAM_WINDOW,
        Source.CLIENT,
        NOW,
        back,
    )
    stored = {v.kind: v.ended_at for v in await store.violations(attempt)}
    assert stored == {ViolationKind.FACE_ABSENT: None, ViolationKind.LEFT_EXAM_WINDOW: back}
    # a resend of the return, or a return with nothing open, ends nothing
    again = await store.save_event(attempt, "e2", "focus_back", None, back, {}, None, leave)
    assert (again.new, again.ended) == (False, ())
    later = back + timedelta(seconds=5)
    assert (await store.save_event(attempt, "e3", "app_active", None, later, {}, None, leave)) == (
        SavedEvent(new=True)
    )


# ---------------------------------------------------------------- refusals


async def test_answers_wait_for_the_paper(store: ContractStore) -> None:
    attempt = (await seat(store, open_paper=False)).attempt.id
    with pytest.raises(RuleError) as info:
        await store.save_answer(attempt, "m1", 0, [1], NOW)
    assert info.value.code is ErrorCode.IDENTITY_REQUIRED
    assert await store.answers(attempt) == {}
    # what needs no paper is taken before it opens
    assert await store.save_event(attempt, "e1", "focus_lost", None, NOW, {}, None)


@pytest.mark.parametrize(
    ("trigger", "code"),
    [(Trigger.SUBMIT, ErrorCode.EXAM_OVER), (Trigger.DEADLINE, ErrorCode.DEADLINE_PASSED)],
)
async def test_a_finished_attempt_takes_no_more_writes(
    store: ContractStore, trigger: Trigger, code: ErrorCode
) -> None:
    seated = await seat(store)
    attempt = seated.attempt.id
    await store.save_answer(attempt, "m1", 0, [2], NOW)
    await finish(store, seated, trigger)
    refused = [
        store.save_answer(attempt, "m2", 1, [0], NOW),
        store.save_event(attempt, "e1", "focus_lost", None, NOW, {}, "left_exam_window"),
        store.save_photo(photo(seated, "s1"), b"\xff\xd8late"),
    ]
    for write in refused:
        with pytest.raises(RuleError) as info:
            await write
        assert info.value.code is code
    assert await store.answers(attempt) == {0: [2]}
    assert await store.events(attempt) == [] and await store.violations(attempt) == []
    assert await store.photos(attempt) == []
    assert await store.photo_bytes(photo(seated, "s1").id) is None
    assert store.blobs.read(photo(seated, "s1").path) is None  # no file left behind
    assert await store.save_answer(attempt, "m1", 0, [2], NOW) is False  # a resend is harmless


async def test_writes_after_the_attempts_own_deadline_are_refused(store: ContractStore) -> None:
    seated = await seat(store)
    attempt, ends_at = seated.attempt.id, seated.attempt.ends_at
    just_before = ends_at + WRITE_GRACE - timedelta(milliseconds=1)
    assert await store.save_answer(attempt, "m1", 0, [2], just_before) is True
    too_late = ends_at + WRITE_GRACE
    with pytest.raises(RuleError) as info:
        await store.save_answer(attempt, "m2", 1, [0], too_late)
    assert info.value.code is ErrorCode.DEADLINE_PASSED
    with pytest.raises(RuleError):
        await store.save_event(attempt, "e1", "focus_lost", None, too_late, {}, None)
    assert await store.answers(attempt) == {0: [2]}


@pytest.mark.parametrize(
    ("stored", "taken"),
    [
        ("2026-07-24T23:00:00-08:00", True),  # 07:00 UTC: open, though it sorts first as text
        ("2026-07-25T13:00:00+08:00", False),  # 05:00 UTC: over, though it sorts last
        ("2026-07-25T07:00:00Z", True),  # no milliseconds
    ],
)
async def test_an_answer_is_judged_by_its_deadline_in_whatever_form_it_was_stored(
    store: ContractStore, stored: str, taken: bool
) -> None:
    """Answers compare the deadline as text only in the form the store writes; any other
    goes through the rule (`check_write`) itself."""
    attempt = (await seat(store)).attempt.id
    assert isinstance(store, Database)  # the deadline written as text, as no store call does
    await store._write(
        lambda c: c.execute("UPDATE attempts SET ends_at = ? WHERE id = ?", (stored, attempt))
    )
    if taken:
        assert await store.save_answer(attempt, "m1", 0, [2], NOW) is True
        assert await store.save_answer(attempt, "m1", 0, [1], NOW) is False  # a resend
        assert await store.answers(attempt) == {0: [2]}
    else:
        with pytest.raises(RuleError) as info:
            await store.save_answer(attempt, "m1", 0, [2], NOW)
        assert info.value.code is ErrorCode.DEADLINE_PASSED
        assert await store.answers(attempt) == {}


async def test_a_write_to_an_unknown_attempt_is_refused(store: ContractStore) -> None:
    with pytest.raises(KeyError):
        await store.save_answer("a-none", "m1", 0, [1], NOW)
    with pytest.raises(KeyError):
        await store.save_event("a-none", "e1", "focus_lost", None, NOW, {}, None)


@pytest.mark.parametrize(
    "at",
    [
        NOW,
        datetime(2026, 7, 25, 6, 59, 59, 999_999, tzinfo=UTC),  # milliseconds truncated
        datetime(2026, 7, 25, 7, 0, 1, 500_000, tzinfo=UTC),  # the grace crosses the hour
        datetime(2026, 7, 25, 0, 0, 0, 1_000, tzinfo=UTC),  # ... and the day
        datetime(2027, 1, 1, 0, 0, 1, 999_000, tzinfo=UTC),  # ... and the year
        datetime(2028, 3, 1, 0, 0, 0, tzinfo=UTC),  # ... into a leap day
        datetime(2026, 7, 25, 15, 0, 0, 123_000, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_an_answers_cutoff_is_its_time_less_the_grace_on_the_wire(at: datetime) -> None:
    assert not WRITE_GRACE.microseconds  # wire_cutoff carries the milliseconds over as they are
    assert wire_cutoff(to_wire(at), at) == to_wire(at - WRITE_GRACE)
    assert wire_cutoff(to_wire(at), at) == to_wire(at - WRITE_GRACE)  # from its cache


def test_the_cutoffs_remembered_stay_few_and_right() -> None:
    start = datetime(2026, 7, 25, 7, 0, 0, 250_000, tzinfo=UTC)
    for k in range(1000):  # a thousand seconds, each seen once
        at = start + timedelta(seconds=k)
        assert wire_cutoff(to_wire(at), at) == to_wire(at - WRITE_GRACE)
    assert len(_CUTOFFS) <= 256
