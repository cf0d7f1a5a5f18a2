"""The question bank file (see docs/protocol.md): loading and validation, and scoring (R17)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from shared.errors import ConfigError


class Question(msgspec.Struct, frozen=True):
    id: str
    text: str
    options: list[str]
    answer: list[int]
    points: int = 1

    @property
    def multiple(self) -> bool:
        return len(self.answer) > 1


class Bank(msgspec.Struct):
    questions: list[Question]


def parse_bank(data: bytes | str, *, source: str = "question bank") -> list[Question]:
    """Decode and validate a question bank; ConfigError names the first problem."""
    try:
        bank = msgspec.json.decode(data, type=Bank)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{source}: malformed JSON ({exc})") from None
    return validate(bank.questions, source=source)


def validate(questions: list[Question], *, source: str = "question bank") -> list[Question]:
    if not questions:
        raise ConfigError(f"{source}: no questions")
    seen: set[str] = set()
    for q in questions:
        where = f"{source}: question {q.id!r}"
        if q.id in seen:
            raise ConfigError(f"{where} appears twice")
        seen.add(q.id)
        if not q.text.strip():
            raise ConfigError(f"{where} has no text")
        if len(q.options) < 2:
            raise ConfigError(f"{where} needs at least two options")
        if not q.answer:
            raise ConfigError(f"{where} has no correct option in 'answer'")
        if len(set(q.answer)) != len(q.answer):
            raise ConfigError(f"{where} lists an answer twice")
        if any(not 0 <= i < len(q.options) for i in q.answer):
            raise ConfigError(f"{where} has an answer index outside its options")
        if q.points < 0:
            raise ConfigError(f"{where} has negative points")
    return questions


def encode_bank(questions: Sequence[Question]) -> bytes:
    return msgspec.json.encode(Bank(questions=list(questions)))


def max_score(questions: Sequence[Question]) -> int:
    return sum(q.points for q in questions)


def score(questions: Sequence[Question], chosen: Mapping[int, frozenset[int]]) -> int:
    """Sum of points of the questions answered with all and only the correct options.

    `chosen` maps a question's index in the bank to the option indexes the candidate chose.
    """
    return sum(
        q.points
        for i, q in enumerate(questions)
        if i in chosen and chosen[i] == frozenset(q.answer)
    )


TRIAL_QUESTIONS: list[Question] = [
    Question(
        id="trial-1",
        text="This is a practice question. Which option says 'practice'?",
        options=["exam", "practice", "result"],
        answer=[1],
    ),
    Question(
        id="trial-2",
        text="Practice a multiple choice: pick both colours.",
        options=["red", "seven", "blue", "table"],
        answer=[0, 2],
    ),
    # Scoring gives the points for all and only the answer's options, so a question that
    # says "pick any option" could not keep its word: this one names the option to pick.
    Question(
        id="trial-3",
        text="Nothing in the trial counts. Which option says 'understood'?",
        options=["not sure", "understood"],
        answer=[1],
    ),
]
