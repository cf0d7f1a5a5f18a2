"""Attempt states: an enum, an explicit transition table, and one function that changes state.

A finished attempt (submitted, timed out, terminated) never returns to an unfinished state.
Side effects of a transition come back as values for the shell to carry out.
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import ErrorCode, InvalidTransition


class AttemptState(StrEnum):
    WAITING = "waiting"  # entered; identity photo not yet accepted
    VERIFIED = "verified"  # identity accepted; the paper is not out yet
    IN_PROGRESS = "in_progress"  # the paper was released to this attempt
    SUBMITTED = "submitted"
    TIMED_OUT = "timed_out"
    TERMINATED = "terminated"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({AttemptState.SUBMITTED, AttemptState.TIMED_OUT, AttemptState.TERMINATED})


class Trigger(StrEnum):
    IDENTITY_ACCEPTED = "identity_accepted"
    PAPER_RELEASED = "paper_released"
    SUBMIT = "submit"
    DEADLINE = "deadline"
    TERMINATE = "terminate"


class Effect(StrEnum):
    SEND_PAPER = "send_paper"
    SCORE = "score"  # score the attempt and report the result
    NOTIFY_PROCTORS = "notify_proctors"


S, T, E = AttemptState, Trigger, Effect

TRANSITIONS: dict[tuple[AttemptState, Trigger], tuple[AttemptState, tuple[Effect, ...]]] = {
    (S.WAITING, T.IDENTITY_ACCEPTED): (S.VERIFIED, ()),
    (S.WAITING, T.DEADLINE): (S.TIMED_OUT, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.WAITING, T.TERMINATE): (S.TERMINATED, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.VERIFIED, T.PAPER_RELEASED): (S.IN_PROGRESS, (E.SEND_PAPER,)),
    (S.VERIFIED, T.DEADLINE): (S.TIMED_OUT, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.VERIFIED, T.TERMINATE): (S.TERMINATED, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.IN_PROGRESS, T.SUBMIT): (S.SUBMITTED, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.IN_PROGRESS, T.DEADLINE): (S.TIMED_OUT, (E.SCORE, E.NOTIFY_PROCTORS)),
    (S.IN_PROGRESS, T.TERMINATE): (S.TERMINATED, (E.SCORE, E.NOTIFY_PROCTORS)),
}


def transition(state: AttemptState, trigger: Trigger) -> tuple[AttemptState, tuple[Effect, ...]]:
    """The one way to change an attempt's state; InvalidTransition when the table forbids it."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        code = ErrorCode.EXAM_OVER if state.finished else ErrorCode.NOT_ALLOWED
        raise InvalidTransition(f"cannot {trigger.value} while {state.value}", code=code) from None
