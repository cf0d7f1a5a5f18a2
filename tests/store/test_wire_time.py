"""The store's times as text (`rows.wire_time`): exactly `to_wire`'s text, sooner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from proctor_server.store.sql.rows import wire_time
from shared.timeutil import to_wire

BASE = datetime(2026, 7, 25, 23, 59, 59, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (BASE, "2026-07-25T23:59:59.999Z"),  # milliseconds truncated, as to_wire does
        (BASE + timedelta(microseconds=1), "2026-07-26T00:00:00.000Z"),  # the next day
        (BASE.replace(microsecond=1_000), "2026-07-25T23:59:59.001Z"),
        (BASE.replace(microsecond=999), "2026-07-25T23:59:59.000Z"),
        (
            datetime(2026, 12, 31, 16, tzinfo=timezone(timedelta(hours=-8))),
            "2027-01-01T00:00:00.000Z",
        ),
        (
            datetime(2026, 1, 1, 8, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=8))),
            "2026-01-01T00:00:00.123Z",
        ),
    ],
)
def test_a_moment_is_written_as_to_wire_writes_it(moment: datetime, text: str) -> None:
    assert wire_time(moment) == text == to_wire(moment)


def test_moments_of_one_second_and_of_many_match_to_wire() -> None:
    for k in range(5_000):  # many within a second, then across seconds, minutes and days
        moment = BASE + timedelta(microseconds=k * 997) + timedelta(seconds=k * k)
        assert wire_time(moment) == to_wire(moment)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        wire_time(datetime(2026, 7, 25, 6, 0))
