"""The exam calendar as pure functions of dates, a holiday set and the exam body's time zone.

- R2: one sitting a month, on the last Saturday of the month (the Saturday of the month's last
  week: the guide's example, 25 July 2020, is the last Saturday although that week ended in
  August); when that Saturday is a public holiday the sitting moves one week earlier (and again,
  should that Saturday be a holiday too).
- R3 (and R20 for retake requests): registration closes 10 days before the exam, at 00:00.
- R8: the admission ticket is due 5 days before, at the latest by 24:00 on the Monday of the
  exam week. 24:00 on Monday is written as 00:00 on Tuesday.
- R18: the result notice within 7 working days after the exam.
- R19: the e-certificate once 3 working days have passed after the exam; the paper certificate
  within 30 days; a certificate is valid for 2 years from the day its result was published.
- R20: a free retake within 3 months of the failed exam.

Working days are Monday to Friday minus the holiday list. Every deadline is an aware datetime
in the exam body's zone (a `zoneinfo.ZoneInfo`, Asia/Shanghai by default). Nothing here reads
a clock: callers pass `now`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import ConfigError
from shared.holidays import NO_HOLIDAYS, Holidays

DEFAULT_TZ = "Asia/Shanghai"
SATURDAY = 5

REGISTRATION_CLOSES_BEFORE = timedelta(days=10)  # R3, R20
TICKET_DAYS_BEFORE = 5  # R8
RESULT_NOTICE_WORKING_DAYS = 7  # R18
E_CERTIFICATE_WORKING_DAYS = 3  # R19
PAPER_CERTIFICATE_DAYS = 30  # R19
CERTIFICATE_VALID_YEARS = 2  # R19
REFUND_WINDOW = timedelta(days=5)  # R5
RETAKE_WITHIN_MONTHS = 3  # R20

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def exam_zone(name: str | None = None) -> ZoneInfo:
    """The exam body's time zone by IANA name; ConfigError when there is no such zone."""
    key = name or DEFAULT_TZ
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone: {key!r} (use an IANA name such as {DEFAULT_TZ})"
        ) from None


def parse_month(text: str) -> tuple[int, int]:
    """`YYYY-MM` → (year, month); ConfigError otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise ConfigError(f"a sitting is a month written YYYY-MM, got {text!r}")
    return int(found.group(1)), int(found.group(2))


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def days_in_month(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - timedelta(days=1)).day


def last_saturday(year: int, month: int) -> date:
    last = date(year, month, days_in_month(year, month))
    return last - timedelta(days=(last.weekday() - SATURDAY) % 7)


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 at the start of `day` in the exam body's zone."""
    return datetime.combine(day, time(0), tzinfo=tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day of an aware moment in the exam body's zone."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(tz).date()


def is_working_day(day: date, holidays: Holidays = NO_HOLIDAYS) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def add_working_days(day: date, count: int, holidays: Holidays = NO_HOLIDAYS) -> date:
    """The `count`-th working day after `day` (`day` itself never counts)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    left = count
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def anniversary(day: date, years: int) -> date:
    """`day` moved by whole years; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return date(day.year + years, 3, 1)


def sitting_date(year: int, month: int, holidays: Holidays = NO_HOLIDAYS) -> date:
    """R2: the last Saturday of the month, a week earlier for each holiday it lands on."""
    day = last_saturday(year, month)
    while day in holidays:
        day -= timedelta(days=7)
    if day.month != month:
        raise ConfigError(f"every Saturday of {month_key(year, month)} is a holiday: no sitting")
    return day


@dataclass(frozen=True, slots=True)
class Sitting:
    """One month's sitting and the deadlines around it."""

    year: int
    month: int
    exam_date: date
    tz: ZoneInfo

    @property
    def key(self) -> str:
        return month_key(self.year, self.month)

    @property
    def moved_for_holiday(self) -> bool:
        return self.exam_date != last_saturday(self.year, self.month)

    @property
    def registration_closes(self) -> datetime:
        """R3: 00:00 ten days before the exam (exam on 25 July → 15 July 00:00)."""
        return midnight(self.exam_date - REGISTRATION_CLOSES_BEFORE, self.tz)

    @property
    def retake_request_closes(self) -> datetime:
        """R20: a retake request for this sitting closes like registration, 10 days before."""
        return self.registration_closes

    @property
    def ticket_by(self) -> datetime:
        """R8: 24:00 on the Monday of the exam week (5 days before a Saturday exam)."""
        monday = self.exam_date - timedelta(days=self.exam_date.weekday())
        return midnight(monday + timedelta(days=1), self.tz)

    @property
    def ticket_day(self) -> date:
        """R8: the day the ticket is due, 5 days before the exam."""
        return self.exam_date - timedelta(days=TICKET_DAYS_BEFORE)

    def result_notice_by(self, holidays: Holidays = NO_HOLIDAYS) -> datetime:
        """R18: by the end of the 7th working day after the exam."""
        last = add_working_days(self.exam_date, RESULT_NOTICE_WORKING_DAYS, holidays)
        return midnight(last + timedelta(days=1), self.tz)

    def e_certificate_from(self, holidays: Holidays = NO_HOLIDAYS) -> datetime:
        """R19: once 3 whole working days after the exam have passed."""
        third = add_working_days(self.exam_date, E_CERTIFICATE_WORKING_DAYS, holidays)
        return midnight(third + timedelta(days=1), self.tz)

    @property
    def paper_certificate_by(self) -> datetime:
        """R19: the paper certificate is mailed by the end of the 30th day after the exam."""
        return midnight(self.exam_date + timedelta(days=PAPER_CERTIFICATE_DAYS + 1), self.tz)

    @property
    def retake_until(self) -> date:
        """R20: the last exam day on which a free retake may be sat (3 months later)."""
        return add_months(self.exam_date, RETAKE_WITHIN_MONTHS)


def sitting(
    year: int, month: int, holidays: Holidays = NO_HOLIDAYS, tz: ZoneInfo | None = None
) -> Sitting:
    zone = tz if tz is not None else exam_zone()
    return Sitting(year, month, sitting_date(year, month, holidays), zone)


def sitting_of(key: str, holidays: Holidays = NO_HOLIDAYS, tz: ZoneInfo | None = None) -> Sitting:
    """The sitting of a `YYYY-MM` month."""
    year, month = parse_month(key)
    return sitting(year, month, holidays, tz)


def next_month(key: str) -> str:
    year, month = parse_month(key)
    return month_key(year + month // 12, month % 12 + 1)


def year_calendar(
    year: int, holidays: Holidays = NO_HOLIDAYS, tz: ZoneInfo | None = None
) -> list[Sitting]:
    return [sitting(year, month, holidays, tz) for month in range(1, 13)]


def certificate_expires(published: date) -> date:
    """R19: the first day on which a certificate is no longer valid (2 years after its result)."""
    return anniversary(published, CERTIFICATE_VALID_YEARS)


def refund_closes(paid_at: datetime) -> datetime:
    """R5: a refund without reason is possible until 5 days (120 hours) after payment."""
    return paid_at + REFUND_WINDOW
