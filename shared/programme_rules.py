"""The candidate's path from registration to certificate (R1, R3–R8, R18–R21), pure.

A registration moves through an explicit transition table, and each staff action is checked by
one function that takes the facts and `now` and raises `RuleBroken` — naming the rule and the
date that applies — when the rules forbid it. Nothing here reads a clock or a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import Sitting, refund_closes
from shared.errors import ConfigError, RuleError


class RegState(StrEnum):
    UNPAID = "unpaid"  # registered, waiting for payment (R4)
    PAID = "paid"  # in its sitting (may be deferred once, R6)
    REFUNDED = "refunded"  # R5
    TICKETED = "ticketed"  # the admission ticket was issued (R8)
    PASSED = "passed"  # R19
    FAILED = "failed"  # R7, R20, R21


class Kind(StrEnum):
    FIRST = "first"  # a paid registration
    RETAKE = "retake"  # the free retake after a failed first attempt (R20)


class Action(StrEnum):
    PAY = "pay"
    REFUND = "refund"
    DEFER = "defer"
    TICKET = "ticket"
    PASS = "pass"
    FAIL = "fail"


TRANSITIONS: dict[tuple[RegState, Action], RegState] = {
    (RegState.UNPAID, Action.PAY): RegState.PAID,
    (RegState.PAID, Action.REFUND): RegState.REFUNDED,
    (RegState.TICKETED, Action.REFUND): RegState.REFUNDED,  # R5 still runs after the ticket
    (RegState.PAID, Action.DEFER): RegState.PAID,  # same state, a later sitting
    (RegState.PAID, Action.TICKET): RegState.TICKETED,
    (RegState.TICKETED, Action.PASS): RegState.PASSED,
    (RegState.TICKETED, Action.FAIL): RegState.FAILED,
}

ACTIVE = frozenset({RegState.UNPAID, RegState.PAID, RegState.TICKETED})


class RuleBroken(RuleError):
    """An action that a numbered rule forbids; `rule` is like "R6", `applies` the date."""

    def __init__(self, rule: str, text: str, applies: datetime | date | None = None):
        super().__init__(f"{rule}: {text}")
        self.rule = rule
        self.applies = applies


def when(moment: datetime | date) -> str:
    """A deadline as staff read it: 2026-07-15T00:00+08:00, or a bare date."""
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="minutes")
    return moment.isoformat()


def transition(state: RegState, action: Action) -> RegState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise RuleError(f"cannot {action.value} a registration that is {state.value}") from None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know about one registration."""

    id: str
    kind: Kind
    state: RegState
    sitting: Sitting
    paid_at: datetime | None = None
    deferred_from: str | None = None  # the sitting it was deferred from (R6)


# ------------------------------------------------------------------ R1: who may register

_PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}[0-9]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_CN_ID = re.compile(r"\d{17}[\dX]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def check_contact(name: str, id_number: str, phone: str, email: str) -> None:
    """R1: a real name, an identity number, a contact phone and e-mail; ConfigError if malformed.

    An 18-character mainland resident ID is checked with its ISO 7064 check digit; other
    documents (passports, permits) need 5–20 letters and digits.
    """
    if not name.strip():
        raise ConfigError("the candidate's real name is empty (R1)")
    number = id_number.strip().upper()
    if _CN_ID.fullmatch(number):
        total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
        if _ID_CHECK[total % 11] != number[17]:
            raise ConfigError(f"identity number {id_number!r} fails its check digit (R1)")
    elif not re.fullmatch(r"[A-Z0-9]{5,20}", number) or len(number) == 18:
        raise ConfigError(f"not an identity number: {id_number!r} (R1)")
    if not _PHONE.fullmatch(phone.strip()):
        raise ConfigError(f"not a phone number: {phone!r} (R1)")
    if not _EMAIL.fullmatch(email.strip()):
        raise ConfigError(f"not an e-mail address: {email!r} (R1)")


def check_identity(verified: bool) -> None:
    if not verified:
        raise RuleBroken(
            "R1", "registering needs a verified identity (the real-name check is not done)"
        )


# ------------------------------------------------------------------ R3, R4: register and pay


def check_register(target: Sitting, now: datetime, active: list[str]) -> None:
    """R3: registration for a sitting closes 10 days before at 00:00; one open registration."""
    if now >= target.registration_closes:
        raise RuleBroken(
            "R3",
            f"registration for the {target.key} sitting closed at {when(target.registration_closes)}",
            target.registration_closes,
        )
    if active:
        raise RuleBroken(
            "R4", f"the candidate already has an open registration ({', '.join(active)})"
        )


def check_pay(facts: Facts, now: datetime) -> None:
    """R4 then R3: pay an unpaid registration before its sitting's registration closes."""
    if facts.state is not RegState.UNPAID:
        raise RuleBroken(
            "R4", f"registration {facts.id} is {facts.state.value}, not awaiting payment"
        )
    closes = facts.sitting.registration_closes
    if now >= closes:
        raise RuleBroken(
            "R3",
            f"registration for the {facts.sitting.key} sitting closed at {when(closes)}",
            closes,
        )


# ------------------------------------------------------------------ R5: refund


def check_refund(facts: Facts, now: datetime) -> None:
    if facts.kind is Kind.RETAKE:
        raise RuleBroken("R20", "a retake is free: there is nothing to refund")
    if facts.state not in (RegState.PAID, RegState.TICKETED) or facts.paid_at is None:
        raise RuleBroken(
            "R5", f"registration {facts.id} is {facts.state.value}: no payment to refund"
        )
    closes = refund_closes(facts.paid_at).astimezone(facts.sitting.tz)
    if now >= closes:
        raise RuleBroken(
            "R5",
            f"a refund without reason was possible until {when(closes)} (5 days after payment)",
            closes,
        )


# ------------------------------------------------------------------ R6: deferral


def check_defer(facts: Facts, target: Sitting, now: datetime) -> None:
    if facts.kind is Kind.RETAKE:
        raise RuleBroken("R6", "a retake can never be deferred (R20)")
    if facts.deferred_from is not None:
        raise RuleBroken(
            "R6", f"registration {facts.id} was already deferred once (from {facts.deferred_from})"
        )
    if facts.state is not RegState.PAID:
        raise RuleBroken(
            "R6", f"only a paid registration can be deferred; {facts.id} is {facts.state.value}"
        )
    closes = facts.sitting.registration_closes
    if now >= closes:
        raise RuleBroken(
            "R6",
            f"a deferral had to be asked before registration for {facts.sitting.key} closed at {when(closes)}",
            closes,
        )
    if target.exam_date <= facts.sitting.exam_date:
        raise ConfigError(
            f"a deferral moves to a later sitting than {facts.sitting.key}, not {target.key}"
        )


# ------------------------------------------------------------------ R7, R8: the exam


def check_tickets(target: Sitting, now: datetime, starts_at: datetime) -> bool:
    """R8: tickets go out once registration has closed and before the exam starts.

    Returns True when they are late (after 24:00 on the Monday of the exam week).
    """
    closes = target.registration_closes
    starts_at = starts_at.astimezone(target.tz)
    if now < closes:
        raise RuleBroken(
            "R3",
            f"registration for {target.key} is open until {when(closes)}; issue tickets after it",
            closes,
        )
    if now >= starts_at:
        raise RuleBroken(
            "R8",
            f"the {target.key} exam started at {when(starts_at)}: too late for tickets",
            starts_at,
        )
    return now >= target.ticket_by


def outcome(has_attempt: bool, passed: bool | None) -> tuple[bool, bool]:
    """R7: (passed, no_show). No attempt at all is a no-show, which is a fail."""
    if not has_attempt:
        return False, True
    return bool(passed), False


def check_publish(target: Sitting, now: datetime, ends_at: datetime) -> None:
    ends_at = ends_at.astimezone(target.tz)
    if now < ends_at:
        raise RuleBroken(
            "R18",
            f"the {target.key} exam ends at {when(ends_at)}; publish results after it",
            ends_at,
        )


# ------------------------------------------------------------------ R19: certificates


def check_certificate_visible(available_from: datetime, now: datetime) -> None:
    if now < available_from:
        raise RuleBroken(
            "R19", f"the e-certificate can be looked up from {when(available_from)}", available_from
        )


# ------------------------------------------------------------------ R20, R21: retake


def check_retake(failed: Facts, target: Sitting, now: datetime, retakes: list[str]) -> None:
    """R20: one free retake after a failed first attempt, sat within 3 months; R21 after that."""
    if failed.kind is Kind.RETAKE:
        if failed.state is RegState.FAILED:
            raise RuleBroken(
                "R21", "the retake was failed: the candidate must register (and pay) again"
            )
        raise RuleBroken("R20", f"{failed.id} is itself a retake")
    if failed.state is not RegState.FAILED:
        raise RuleBroken(
            "R20",
            f"a free retake follows a failed first attempt; {failed.id} is {failed.state.value}",
        )
    if retakes:
        raise RuleBroken("R20", f"the one free retake was already requested ({', '.join(retakes)})")
    if target.exam_date <= failed.sitting.exam_date:
        raise ConfigError(
            f"a retake is a later sitting than {failed.sitting.key}, not {target.key}"
        )
    until = failed.sitting.retake_until
    if target.exam_date > until:
        raise RuleBroken(
            "R20",
            f"the free retake must be sat within 3 months of {failed.sitting.exam_date.isoformat()}, by {when(until)}; "
            f"the {target.key} sitting is on {target.exam_date.isoformat()}",
            until,
        )
    closes = target.retake_request_closes
    if now >= closes:
        raise RuleBroken(
            "R20", f"retake requests for the {target.key} sitting closed at {when(closes)}", closes
        )
