"""The trial's questions keep their word: each one's text says which options score."""

from __future__ import annotations

import pytest

from shared.questions import TRIAL_QUESTIONS, score

TRIAL = {q.id: i for i, q in enumerate(TRIAL_QUESTIONS)}


@pytest.mark.parametrize(
    ("question", "options", "points"),
    [
        ("trial-1", ["practice"], 1),
        ("trial-1", ["exam"], 0),
        ("trial-2", ["red", "blue"], 1),
        ("trial-2", ["red"], 0),
        ("trial-3", ["understood"], 1),  # the option the question names
        ("trial-3", ["not sure"], 0),
    ],
)
def test_each_trial_question_scores_what_it_says(
    question: str, options: list[str], points: int
) -> None:
    index = TRIAL[question]
    q = TRIAL_QUESTIONS[index]
    chosen = {index: frozenset(q.options.index(o) for o in options)}
    assert score(TRIAL_QUESTIONS, chosen) == points * q.points


def test_no_trial_question_promises_any_option() -> None:
    assert not any("any option" in q.text.lower() for q in TRIAL_QUESTIONS)
