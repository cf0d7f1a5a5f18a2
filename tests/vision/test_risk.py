"""The risk score per attempt (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from proctor_server.store.base import ViolationRecord
from proctor_server.vision.risk import LABELS, WEIGHTS, risk_score
from shared.vocabulary import Source, ViolationKind

T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)


def v(
    kind: ViolationKind, confidence: float = 0.9, minutes: float | None = 1.0, at: float = 0
) -> ViolationRecord:
    start = T0 + timedelta(minutes=at)
    end = None if minutes is None else start + timedelta(minutes=minutes)
    return ViolationRecord(0, "a1", kind, Source.SERVER, start, None, end, confidence, {})


def test_no_violations_no_risk() -> None:
    risk = risk_score([])
    assert risk.score == 0.0 and risk.reasons == []


def test_poor_evidence_carries_no_weight_but_is_listed() -> None:
    risk = risk_score([v(ViolationKind.LOW_EVIDENCE_QUALITY, 1.0, 30)])
    assert risk.score == 0.0
    assert risk.reasons == [
        "poor camera picture (not counted): 1 time, 30 min in all (confidence up to 100%)"
    ]


def test_order_follows_severity() -> None:
    calm = risk_score([v(ViolationKind.LOOKING_AWAY, 0.6, 0.5)])
    absent = risk_score([v(ViolationKind.FACE_ABSENT, 0.8, 2)])
    impostor = risk_score([v(ViolationKind.IDENTITY_MISMATCH, 0.9, 5)])
    assert 0 < calm.score < absent.score < impostor.score <= 100


def test_longer_and_repeated_conditions_weigh_more_with_diminishing_returns() -> None:
    short = risk_score([v(ViolationKind.MULTIPLE_FACES, 0.9, 0.5)]).score
    long = risk_score([v(ViolationKind.MULTIPLE_FACES, 0.9, 20)]).score
    many = risk_score([v(ViolationKind.MULTIPLE_FACES, 0.9, 1, at=i * 5) for i in range(10)]).score
    more = risk_score([v(ViolationKind.MULTIPLE_FACES, 0.9, 1, at=i * 5) for i in range(20)]).score
    assert short < long and long < many < more
    assert more - many < many - long or more < 100


def test_reasons_are_strongest_first_and_open_violations_count_up_to_now() -> None:
    risk = risk_score(
        [
            v(ViolationKind.LOOKING_AWAY, 0.6),
            v(ViolationKind.IDENTITY_MISMATCH, 0.9, None),
            v(ViolationKind.FACE_ABSENT, 0.8, 3),
        ],
        now=T0 + timedelta(minutes=10),
    )
    assert risk.reasons[0].startswith("not the registered person: 1 time, 10 min in all")
    assert list(risk.by_kind) == ["looking_away", "identity_mismatch", "face_absent"]
    assert risk.reasons[-1].startswith("looking away")


def test_every_violation_kind_has_a_weight_and_words() -> None:
    assert set(WEIGHTS) == set(ViolationKind) == set(LABELS)


def test_leaving_the_exam_screen_is_named_as_such() -> None:
    risk = risk_score([v(ViolationKind.LEFT_EXAM_WINDOW, 1.0, None)])
    assert risk.reasons[0].startswith("left the exam screen: 1 time")
    assert 0 < risk.score < risk_score([v(ViolationKind.FACE_ABSENT, 1.0, None)]).score
