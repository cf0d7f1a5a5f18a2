"""Attempt states: the transition table, and finished attempts never coming back."""

from __future__ import annotations

import itertools

import pytest

from shared.errors import ErrorCode, InvalidTransition
from shared.states import FINISHED, TRANSITIONS, AttemptState, Effect, Trigger, transition

S, T = AttemptState, Trigger


@pytest.mark.parametrize(
    ("state", "trigger", "new", "effects"),
    [
        (S.WAITING, T.IDENTITY_ACCEPTED, S.VERIFIED, ()),
        (S.VERIFIED, T.PAPER_RELEASED, S.IN_PROGRESS, (Effect.SEND_PAPER,)),
        (S.IN_PROGRESS, T.SUBMIT, S.SUBMITTED, (Effect.SCORE, Effect.NOTIFY_PROCTORS)),
        (S.IN_PROGRESS, T.DEADLINE, S.TIMED_OUT, (Effect.SCORE, Effect.NOTIFY_PROCTORS)),
        (S.WAITING, T.DEADLINE, S.TIMED_OUT, (Effect.SCORE, Effect.NOTIFY_PROCTORS)),
        (S.VERIFIED, T.TERMINATE, S.TERMINATED, (Effect.SCORE, Effect.NOTIFY_PROCTORS)),
    ],
)
def test_allowed_transitions(
    state: AttemptState, trigger: Trigger, new: AttemptState, effects: tuple[Effect, ...]
) -> None:
    assert transition(state, trigger) == (new, effects)


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (S.WAITING, T.SUBMIT),  # no submit before the paper
        (S.WAITING, T.PAPER_RELEASED),  # no paper before the identity photo
        (S.VERIFIED, T.SUBMIT),
        (S.IN_PROGRESS, T.IDENTITY_ACCEPTED),
    ],
)
def test_refused_transitions_are_not_allowed(state: AttemptState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(state, trigger)
    assert info.value.code is ErrorCode.NOT_ALLOWED


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(FINISHED, Trigger)))
def test_a_finished_attempt_never_changes(state: AttemptState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(state, trigger)
    assert info.value.code is ErrorCode.EXAM_OVER


def test_no_transition_leaves_a_finished_state_or_enters_an_unfinished_one_from_it() -> None:
    for (state, _), (new, _) in TRANSITIONS.items():
        assert not state.finished
        assert new is not state
