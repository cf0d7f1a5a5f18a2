"""Write quotas, table-driven on a clock given by the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proctor_server.core.quota import AttemptQuota, Bucket, Limits, Rate, WriteKind
from shared.errors import RuleError

T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("takes", "expected"),
    [
        # a burst of 3, then one a second (60 a minute)
        ([0, 0, 0], [True, True, True]),
        ([0, 0, 0, 0], [True, True, True, False]),
        ([0, 0, 0, 0, 1], [True, True, True, False, True]),
        ([0, 0, 0, 0.5, 1.0, 1.0], [True, True, True, False, True, False]),
        ([0, 0, 0, 10, 10, 10, 10], [True, True, True, True, True, True, False]),  # refills to 3
    ],
)
def test_a_bucket_allows_a_burst_then_its_rate(takes: list[float], expected: list[bool]) -> None:
    bucket = Bucket(Rate(per_minute=60, burst=3))
    assert [bucket.take(s(t)) for t in takes] == expected


def test_an_honest_app_never_meets_its_limits() -> None:
    quota = AttemptQuota(Limits.for_exam(snapshot_interval_s=30))
    for minute in range(90):  # a 90-minute exam
        at = s(minute * 60)
        quota.admit(WriteKind.IMAGE, at, size=60_000)
        quota.admit(WriteKind.IMAGE, at + timedelta(seconds=30), size=60_000)
        for n in range(3):
            quota.admit(WriteKind.ANSWER, at + timedelta(seconds=n * 15))
        quota.admit(WriteKind.EVENT, at + timedelta(seconds=5))
        quota.admit(WriteKind.OTHER, at + timedelta(seconds=20))
        quota.stored_image(120_000)
    # and a reconnect replays a hundred answers and twenty events at once
    for _ in range(100):
        quota.admit(WriteKind.ANSWER, s(90 * 60))
    for _ in range(20):
        quota.admit(WriteKind.EVENT, s(90 * 60))


def test_a_flood_is_refused_with_rate_limited_and_a_ref() -> None:
    quota = AttemptQuota(Limits.for_exam(snapshot_interval_s=30))
    codes = []
    for n in range(260):
        try:
            quota.admit(WriteKind.EVENT, T0, ref=f"e{n}")
        except RuleError as exc:
            codes.append((exc.code.value, exc.ref))
    assert len(codes) == 60 and codes[0] == ("rate_limited", "e200")


def test_image_bytes_have_a_rate_and_an_attempt_has_a_storage_ceiling() -> None:
    limits = Limits.for_exam(snapshot_interval_s=30)
    quota = AttemptQuota(limits)
    with pytest.raises(RuleError) as flood:
        for n in range(100):  # 2 MB images as fast as the socket goes
            quota.admit(WriteKind.IMAGE, s(n * 0.01), size=2_000_000)
    assert flood.value.code.value == "rate_limited"
    full = AttemptQuota(limits, stored=limits.stored_bytes - 1000)
    with pytest.raises(RuleError) as ceiling:
        full.admit(WriteKind.IMAGE, T0, size=60_000, ref="s1")
    assert (ceiling.value.code.value, ceiling.value.ref) == ("quota_exceeded", "s1")
