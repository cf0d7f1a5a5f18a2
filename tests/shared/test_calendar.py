"""The exam calendar (R2, R3, R8, R18, R19, R20), table-driven, with its boundary days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.calendar import (
    Sitting,
    add_months,
    add_working_days,
    anniversary,
    certificate_expires,
    exam_zone,
    is_working_day,
    last_saturday,
    local_date,
    next_month,
    parse_month,
    refund_closes,
    sitting,
    sitting_date,
    sitting_of,
    year_calendar,
)
from shared.errors import ConfigError

SH = ZoneInfo("Asia/Shanghai")
D = date.fromisoformat


# ------------------------------------------------------------------ R2: the sitting date


@pytest.mark.parametrize(
    ("year", "month", "holidays", "expected"),
    [
        # the guide's example: 25 July 2020, the last Saturday although 31 July was a Friday
        (2020, 7, (), "2020-07-25"),
        (2026, 1, (), "2026-01-31"),  # the last day of the month is itself a Saturday
        (2026, 7, (), "2026-07-25"),
        (2026, 10, (), "2026-10-31"),
        (2020, 2, (), "2020-02-29"),  # leap year: 29 February is the last Saturday
        (2024, 2, (), "2024-02-24"),  # leap year, 29 February a Thursday
        (2023, 2, (), "2023-02-25"),  # common year
        (2026, 12, ("2026-12-26",), "2026-12-19"),  # R2: holiday → one week earlier
        (2026, 12, ("2026-12-25", "2026-12-27"), "2026-12-26"),  # holidays around it: no move
        (2026, 12, ("2026-12-26", "2026-12-19"), "2026-12-12"),  # that one too: again earlier
        (2020, 2, ("2020-02-29",), "2020-02-22"),  # leap day a holiday
        (2026, 7, ("2025-07-26",), "2026-07-25"),  # last year's holiday changes nothing
    ],
)
def test_r2_sitting_date(year: int, month: int, holidays: tuple[str, ...], expected: str) -> None:
    assert sitting_date(year, month, frozenset(map(D, holidays))) == D(expected)
    assert sitting_date(year, month, frozenset(map(D, holidays))).weekday() == 5


def test_r2_a_month_of_holiday_saturdays_has_no_sitting() -> None:
    saturdays = frozenset(D(d) for d in ("2026-12-05", "2026-12-12", "2026-12-19", "2026-12-26"))
    with pytest.raises(ConfigError, match="2026-12"):
        sitting_date(2026, 12, saturdays)


def test_r2_every_month_of_a_year_is_its_last_saturday() -> None:
    for s in year_calendar(2027):
        assert s.exam_date.weekday() == 5
        assert s.exam_date.month == s.month
        assert (s.exam_date + timedelta(days=7)).month != s.month
        assert not s.moved_for_holiday


def test_r2_moved_flag() -> None:
    assert sitting(2026, 12, frozenset({D("2026-12-26")}), SH).moved_for_holiday
    assert last_saturday(2026, 12) == D("2026-12-26")


# ------------------------------------------------------------------ R3, R8: deadlines


@pytest.mark.parametrize(
    ("exam", "closes", "ticket_by"),
    [
        # the guide: exam on 25 July → registration closes 15 July 00:00
        ("2020-07-25", "2020-07-15T00:00:00+08:00", "2020-07-21T00:00:00+08:00"),
        ("2026-07-25", "2026-07-15T00:00:00+08:00", "2026-07-21T00:00:00+08:00"),
        # 10 days back across a leap day and across a common February's end
        ("2024-03-09", "2024-02-28T00:00:00+08:00", "2024-03-05T00:00:00+08:00"),
        ("2023-03-11", "2023-03-01T00:00:00+08:00", "2023-03-07T00:00:00+08:00"),
        ("2024-03-02", "2024-02-21T00:00:00+08:00", "2024-02-27T00:00:00+08:00"),
        # across a year end
        ("2027-01-02", "2026-12-23T00:00:00+08:00", "2026-12-29T00:00:00+08:00"),
    ],
)
def test_r3_r8_deadlines(exam: str, closes: str, ticket_by: str) -> None:
    day = D(exam)
    s = Sitting(day.year, day.month, day, SH)
    assert s.registration_closes == datetime.fromisoformat(closes)
    assert s.registration_closes.isoformat() == closes
    assert s.retake_request_closes == s.registration_closes  # R20: same 10-day rule
    assert s.ticket_by.isoformat() == ticket_by
    # R8: 5 days before a Saturday exam is the Monday of its week; 24:00 Monday = Tue 00:00
    assert s.ticket_day == day - timedelta(days=5)
    assert s.ticket_day.weekday() == 0
    assert s.ticket_by == datetime.combine(
        s.ticket_day + timedelta(days=1), datetime.min.time(), SH
    )


def test_r3_deadline_is_midnight_in_the_exam_zone_whatever_the_zone() -> None:
    ny = exam_zone("America/New_York")
    s = sitting(2026, 7, frozenset(), ny)
    assert s.registration_closes.isoformat() == "2026-07-15T00:00:00-04:00"
    s = sitting(2026, 1, frozenset(), ny)
    assert s.registration_closes.isoformat() == "2026-01-21T00:00:00-05:00"
    assert sitting(2026, 7).tz.key == "Asia/Shanghai"  # the default zone


@pytest.mark.parametrize("bad", ["Mars/Olympus", "not a zone", "../../etc/passwd"])
def test_unknown_zone_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="time zone"):
        exam_zone(bad)


# ------------------------------------------------------------------ working days (R18, R19)


@pytest.mark.parametrize(
    ("start", "count", "holidays", "expected"),
    [
        ("2026-07-24", 1, (), "2026-07-27"),  # Friday + 1 → Monday (the weekend skipped)
        ("2026-07-25", 1, (), "2026-07-27"),  # from a Saturday
        ("2026-07-25", 5, (), "2026-07-31"),
        ("2026-07-25", 7, (), "2026-08-04"),
        ("2026-07-25", 1, ("2026-07-27",), "2026-07-28"),  # Monday a holiday
        # National Day week: 1–7 October 2026 are holidays
        ("2026-09-26", 7, tuple(f"2026-10-0{d}" for d in range(1, 8)), "2026-10-13"),
        ("2024-02-24", 3, (), "2024-02-28"),
        ("2024-02-24", 4, (), "2024-02-29"),  # the leap day is a Thursday and counts
    ],
)
def test_working_days(start: str, count: int, holidays: tuple[str, ...], expected: str) -> None:
    assert add_working_days(D(start), count, frozenset(map(D, holidays))) == D(expected)


def test_working_day_predicate_and_bad_count() -> None:
    assert is_working_day(D("2026-07-24"))
    assert not is_working_day(D("2026-07-25"))
    assert not is_working_day(D("2026-07-26"))
    assert not is_working_day(D("2026-10-01"), frozenset({D("2026-10-01")}))
    with pytest.raises(ValueError):
        add_working_days(D("2026-07-24"), 0)


def test_r18_result_notice_by_the_end_of_the_7th_working_day() -> None:
    s = sitting(2026, 7, frozenset(), SH)
    assert s.result_notice_by().isoformat() == "2026-08-05T00:00:00+08:00"
    national = frozenset(D(f"2026-10-0{d}") for d in range(1, 8))
    s = sitting(2026, 9, national, SH)
    assert s.exam_date == D("2026-09-26")
    assert s.result_notice_by(national).isoformat() == "2026-10-14T00:00:00+08:00"


def test_r19_e_certificate_after_3_working_days_and_paper_within_30_days() -> None:
    s = sitting(2026, 7, frozenset(), SH)  # exam Saturday 25 July
    # Mon 27, Tue 28, Wed 29 are the three working days: visible from Thursday 00:00
    assert s.e_certificate_from().isoformat() == "2026-07-30T00:00:00+08:00"
    # a holiday on the Tuesday pushes it a day
    assert s.e_certificate_from(frozenset({D("2026-07-28")})).isoformat() == (
        "2026-07-31T00:00:00+08:00"
    )
    # the third working day a Friday: the lookup opens on the Saturday (a weekend)
    assert s.e_certificate_from(frozenset({D("2026-07-27"), D("2026-07-28")})).isoformat() == (
        "2026-08-01T00:00:00+08:00"
    )
    # mailed by the end of the 30th day after the exam (24 August)
    assert s.paper_certificate_by.isoformat() == "2026-08-25T00:00:00+08:00"


@pytest.mark.parametrize(
    ("published", "expires"),
    [
        ("2026-07-30", "2028-07-30"),
        ("2024-02-29", "2026-03-01"),  # leap day: valid through 28 February two years on
        ("2026-02-28", "2028-02-28"),
        ("2026-12-31", "2028-12-31"),
    ],
)
def test_r19_certificate_valid_two_years(published: str, expires: str) -> None:
    assert certificate_expires(D(published)) == D(expires)


def test_anniversary_of_a_leap_day_in_a_leap_year_stays() -> None:
    assert anniversary(D("2024-02-29"), 4) == D("2028-02-29")


# ------------------------------------------------------------------ R20: three months


@pytest.mark.parametrize(
    ("failed", "until"),
    [
        ("2026-07-25", "2026-10-25"),
        ("2026-11-28", "2027-02-28"),
        ("2025-11-29", "2026-02-28"),  # no 29 February in 2026: clamped to the month's end
        ("2023-11-25", "2024-02-25"),
        ("2026-10-31", "2027-01-31"),
    ],
)
def test_r20_retake_window(failed: str, until: str) -> None:
    day = D(failed)
    assert Sitting(day.year, day.month, day, SH).retake_until == D(until)


def test_add_months_clamps_and_crosses_years() -> None:
    assert add_months(D("2024-11-30"), 3) == D("2025-02-28")
    assert add_months(D("2023-11-30"), 3) == D("2024-02-29")
    assert add_months(D("2026-01-31"), 1) == D("2026-02-28")
    assert add_months(D("2026-12-15"), 1) == D("2027-01-15")


# ------------------------------------------------------------------ R5: five days


def test_r5_refund_closes_120_hours_after_payment_weekend_or_not() -> None:
    paid = datetime(2026, 7, 6, 10, 0, tzinfo=SH)  # a Monday
    closes = refund_closes(paid)
    assert closes == datetime(2026, 7, 11, 10, 0, tzinfo=SH)  # a Saturday: it still counts
    assert closes.weekday() == 5


# ------------------------------------------------------------------ months


@pytest.mark.parametrize(
    "good", [("2026-07", (2026, 7)), ("2026-12", (2026, 12)), (" 2027-01 ", (2027, 1))]
)
def test_parse_month(good: tuple[str, tuple[int, int]]) -> None:
    assert parse_month(good[0]) == good[1]


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-7", "July", "", "2026/07", "0000-01"])
def test_parse_month_rejects(bad: str) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM"):
        parse_month(bad)


def test_next_month_and_sitting_of() -> None:
    assert next_month("2026-12") == "2027-01"
    assert next_month("2026-07") == "2026-08"
    assert sitting_of("2026-07").key == "2026-07"


def test_local_date_uses_the_exam_zone() -> None:
    moment = datetime.fromisoformat("2026-07-14T16:30:00+00:00")  # 00:30 on 15 July in Shanghai
    assert local_date(moment, SH) == D("2026-07-15")
    with pytest.raises(ValueError):
        local_date(datetime(2026, 7, 14), SH)
