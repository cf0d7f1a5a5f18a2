"""The pure rules of the candidate's path (R1, R3–R8, R19–R21), with their boundary moments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.calendar import Sitting, sitting
from shared.errors import ConfigError, RuleError
from shared.programme_rules import (
    Action,
    Facts,
    Kind,
    RegState,
    RuleBroken,
    check_certificate_visible,
    check_contact,
    check_defer,
    check_identity,
    check_pay,
    check_publish,
    check_refund,
    check_register,
    check_retake,
    check_tickets,
    outcome,
    transition,
)

SH = ZoneInfo("Asia/Shanghai")
JULY = sitting(2026, 7, frozenset(), SH)  # exam Saturday 25 July 2026
AUGUST = sitting(2026, 8, frozenset(), SH)  # 29 August
OCTOBER = sitting(2026, 10, frozenset(), SH)  # 31 October
NOVEMBER = sitting(2026, 11, frozenset(), SH)  # 28 November
TICK = timedelta(microseconds=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def facts(
    state: RegState = RegState.PAID,
    kind: Kind = Kind.FIRST,
    sit: Sitting = JULY,
    paid_at: datetime | None = None,
    deferred_from: str | None = None,
) -> Facts:
    paid = paid_at if paid_at is not None else at("2026-07-01T10:00:00+08:00")
    return Facts(
        "#1", kind, state, sit, paid if state is not RegState.UNPAID else None, deferred_from
    )


def broken(rule: str, fn: object, *args: object) -> RuleBroken:
    with pytest.raises(RuleBroken) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.rule == rule
    assert info.value.message.startswith(f"{rule}: ")
    return info.value


# ------------------------------------------------------------------ R1


def test_r1_identity_must_be_verified() -> None:
    check_identity(True)
    err = broken("R1", check_identity, False)
    assert isinstance(err, RuleError)


@pytest.mark.parametrize(
    ("name", "id_number", "phone", "email"),
    [
        ("张三", "11010519491231002X", "13800138000", "zhang@example.cn"),
        ("Li Si", "11010519491231002x", "+86 138-0013-8000", "li.si@mail.example.com"),
        ("Jane Roe", "E12345678", "+44 20 7946 0958", "jane@example.co.uk"),  # a passport
    ],
)
def test_r1_contact_details_accepted(name: str, id_number: str, phone: str, email: str) -> None:
    check_contact(name, id_number, phone, email)


@pytest.mark.parametrize(
    ("name", "id_number", "phone", "email", "what"),
    [
        ("  ", "11010519491231002X", "13800138000", "a@b.cn", "name"),
        ("A", "110105194912310021", "13800138000", "a@b.cn", "check digit"),
        ("A", "1234", "13800138000", "a@b.cn", "identity number"),
        ("A", "11010519491231002X", "phone", "a@b.cn", "phone"),
        ("A", "11010519491231002X", "123", "a@b.cn", "phone"),
        ("A", "11010519491231002X", "13800138000", "not-an-email", "e-mail"),
        ("A", "11010519491231002X", "13800138000", "a@b", "e-mail"),
    ],
)
def test_r1_bad_contact_details(
    name: str, id_number: str, phone: str, email: str, what: str
) -> None:
    with pytest.raises(ConfigError, match=what):
        check_contact(name, id_number, phone, email)


# ------------------------------------------------------------------ R3, R4


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        ("2026-07-14T12:00:00+08:00", True),  # the day before
        ("2026-07-14T23:59:59.999999+08:00", True),
        ("2026-07-15T00:00:00+08:00", False),  # the day: closed at 00:00
        ("2026-07-14T16:00:00+00:00", False),  # the same instant seen from UTC
        ("2026-07-16T09:00:00+08:00", False),  # the day after
    ],
)
def test_r3_registration_closes_10_days_before_at_midnight(now: str, allowed: bool) -> None:
    if allowed:
        check_register(JULY, at(now), [])
        check_pay(facts(RegState.UNPAID), at(now))
    else:
        err = broken("R3", check_register, JULY, at(now), [])
        assert "2026-07-15T00:00+08:00" in err.message
        assert err.applies == JULY.registration_closes
        broken("R3", check_pay, facts(RegState.UNPAID), at(now))


def test_r4_one_open_registration_and_pay_only_unpaid() -> None:
    broken("R4", check_register, JULY, at("2026-07-01T00:00:00+08:00"), ["#3 for 2026-07, paid"])
    broken("R4", check_pay, facts(RegState.PAID), at("2026-07-01T00:00:00+08:00"))


# ------------------------------------------------------------------ R5


PAID = at("2026-07-01T10:00:00+08:00")


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        ("2026-07-05T10:00:00+08:00", True),  # the day before the window ends
        ("2026-07-06T09:59:59+08:00", True),
        ("2026-07-06T10:00:00+08:00", False),  # exactly 5 days after payment
        ("2026-07-07T10:00:00+08:00", False),  # the day after
    ],
)
def test_r5_refund_within_5_days_of_payment(now: str, allowed: bool) -> None:
    f = facts(paid_at=PAID)
    if allowed:
        check_refund(f, at(now))
        check_refund(facts(RegState.TICKETED, paid_at=PAID), at(now))
    else:
        err = broken("R5", check_refund, f, at(now))
        assert "2026-07-06T10:00+08:00" in err.message


def test_r5_nothing_to_refund() -> None:
    broken("R5", check_refund, facts(RegState.UNPAID), PAID)
    broken("R5", check_refund, facts(RegState.REFUNDED), PAID)
    broken("R20", check_refund, facts(kind=Kind.RETAKE), PAID)


# ------------------------------------------------------------------ R6


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        ("2026-07-14T00:00:00+08:00", True),
        ("2026-07-14T23:59:59+08:00", True),
        ("2026-07-15T00:00:00+08:00", False),
        ("2026-07-16T00:00:00+08:00", False),
    ],
)
def test_r6_defer_before_the_registration_deadline(now: str, allowed: bool) -> None:
    if allowed:
        check_defer(facts(), AUGUST, at(now))
    else:
        err = broken("R6", check_defer, facts(), AUGUST, at(now))
        assert "2026-07-15T00:00+08:00" in err.message


def test_r6_only_once_never_a_retake_only_when_paid_and_only_later() -> None:
    now = at("2026-07-01T00:00:00+08:00")
    err = broken("R6", check_defer, facts(sit=AUGUST, deferred_from="2026-07"), OCTOBER, now)
    assert "once" in err.message
    err = broken("R6", check_defer, facts(kind=Kind.RETAKE), AUGUST, now)
    assert "retake" in err.message
    broken("R6", check_defer, facts(RegState.UNPAID), AUGUST, now)
    broken("R6", check_defer, facts(RegState.TICKETED), AUGUST, now)
    with pytest.raises(ConfigError, match="later sitting"):
        check_defer(facts(), JULY, now)


# ------------------------------------------------------------------ R7, R8, R18


def test_r7_no_show_is_a_fail() -> None:
    assert outcome(False, None) == (False, True)
    assert outcome(True, True) == (True, False)
    assert outcome(True, False) == (False, False)
    assert outcome(True, None) == (False, False)  # finished without a score


STARTS = at("2026-07-25T14:00:00+08:00")


@pytest.mark.parametrize(
    ("now", "result"),
    [
        ("2026-07-14T23:59:59+08:00", "R3"),  # registration still open
        ("2026-07-15T00:00:00+08:00", False),
        ("2026-07-20T23:59:59+08:00", False),  # Monday of the exam week, before 24:00
        ("2026-07-21T00:00:00+08:00", True),  # 24:00 Monday: late
        ("2026-07-25T13:59:59+08:00", True),
        ("2026-07-25T14:00:00+08:00", "R8"),  # the exam has started
    ],
)
def test_r8_tickets_after_registration_and_by_monday(now: str, result: object) -> None:
    if isinstance(result, str):
        broken(result, check_tickets, JULY, at(now), STARTS)
    else:
        assert check_tickets(JULY, at(now), STARTS) is result


def test_r18_results_only_after_the_exam() -> None:
    ends = at("2026-07-25T16:00:00+08:00")
    broken("R18", check_publish, JULY, ends - TICK, ends)
    check_publish(JULY, ends, ends)


# ------------------------------------------------------------------ R19


def test_r19_e_certificate_visible_from() -> None:
    start = JULY.e_certificate_from()
    err = broken("R19", check_certificate_visible, start, start - TICK)
    assert "2026-07-30T00:00+08:00" in err.message
    check_certificate_visible(start, start)
    check_certificate_visible(start, start + timedelta(days=1))


# ------------------------------------------------------------------ R20, R21


def failed(kind: Kind = Kind.FIRST, state: RegState = RegState.FAILED) -> Facts:
    return facts(state, kind)


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        (AUGUST, True),
        (OCTOBER, False),  # 31 October: after 25 October, the 3 months' end
        (NOVEMBER, False),
    ],
)
def test_r20_retake_within_three_months(target: Sitting, allowed: bool) -> None:
    now = at("2026-08-05T00:00:00+08:00")
    if allowed:
        check_retake(failed(), target, now, [])
    else:
        err = broken("R20", check_retake, failed(), target, now, [])
        assert "2026-10-25" in err.message


def test_r20_the_boundary_day_of_the_three_months() -> None:
    now = at("2026-08-05T00:00:00+08:00")
    on_the_day = Sitting(2026, 10, date(2026, 10, 24), SH)  # a Saturday before 25 October
    check_retake(failed(), on_the_day, now, [])
    exactly = Sitting(2026, 10, date(2026, 10, 25), SH)
    check_retake(failed(), exactly, now, [])
    after = Sitting(2026, 10, date(2026, 10, 26), SH)
    broken("R20", check_retake, failed(), after, now, [])


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        ("2026-08-18T23:59:59+08:00", True),
        ("2026-08-19T00:00:00+08:00", False),  # 10 days before 29 August
        ("2026-08-20T00:00:00+08:00", False),
    ],
)
def test_r20_retake_request_closes_10_days_before(now: str, allowed: bool) -> None:
    if allowed:
        check_retake(failed(), AUGUST, at(now), [])
    else:
        err = broken("R20", check_retake, failed(), AUGUST, at(now), [])
        assert "2026-08-19T00:00+08:00" in err.message


def test_r20_r21_who_may_retake() -> None:
    now = at("2026-08-01T00:00:00+08:00")
    broken("R21", check_retake, failed(Kind.RETAKE), AUGUST, now, [])
    broken("R20", check_retake, failed(Kind.RETAKE, RegState.PAID), AUGUST, now, [])
    broken("R20", check_retake, failed(state=RegState.PASSED), AUGUST, now, [])
    broken("R20", check_retake, failed(), AUGUST, now, ["#9 for 2026-08"])
    with pytest.raises(ConfigError, match="later sitting"):
        check_retake(failed(), JULY, now, [])


# ------------------------------------------------------------------ the transition table


def test_transitions() -> None:
    assert transition(RegState.UNPAID, Action.PAY) is RegState.PAID
    assert transition(RegState.PAID, Action.TICKET) is RegState.TICKETED
    assert transition(RegState.TICKETED, Action.FAIL) is RegState.FAILED
    for state in (RegState.PASSED, RegState.FAILED, RegState.REFUNDED):
        for action in Action:
            with pytest.raises(RuleError):
                transition(state, action)
    with pytest.raises(RuleError, match="cannot pay"):
        transition(RegState.PAID, Action.PAY)
