"""Times on the wire and in the store (`to_wire`, which formats each second once): exactly
the text of formatting each moment in full (`_formatted`), across seconds, days and offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.timeutil import to_wire

BASE = datetime(2026, 7, 25, 23, 59, 59, 999_999, tzinfo=UTC)


def _formatted(moment: datetime) -> str:
    """The moment formatted in full, each time: what `to_wire` must write."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (BASE, "2026-07-25T23:59:59.999Z"),  # milliseconds truncated
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
    assert to_wire(moment) == text == _formatted(moment)


def test_moments_of_one_second_and_of_many_match_their_full_formatting() -> None:
    for k in range(5_000):  # many within a second, then across seconds, minutes and days
        moment = BASE + timedelta(microseconds=k * 997) + timedelta(seconds=k * k)
        assert to_wire(moment) == _formatted(moment)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        to_wire(datetime(2026, 7, 25, 6, 0))
