"""The question bank file and scoring (R17)."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.questions import Question, max_score, parse_bank, score

BANK = [
    Question(id="a", text="single", options=["x", "y", "z"], answer=[1], points=5),
    Question(id="b", text="multiple", options=["x", "y", "z"], answer=[0, 2], points=3),
]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({}, 0),
        ({0: frozenset({1})}, 5),
        ({0: frozenset({0})}, 0),
        ({1: frozenset({0, 2})}, 3),
        ({1: frozenset({0})}, 0),  # multiple choice: all and only the correct options
        ({1: frozenset({0, 1, 2})}, 0),
        ({0: frozenset({1}), 1: frozenset({2, 0})}, 8),
    ],
)
def test_score(chosen: dict[int, frozenset[int]], expected: int) -> None:
    assert score(BANK, chosen) == expected
    assert max_score(BANK) == 8


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "malformed"),
        ('{"questions": []}', "no questions"),
        (
            '{"questions": [{"id": "a", "text": "t", "options": ["x"], "answer": [0]}]}',
            "two options",
        ),
        (
            '{"questions": [{"id": "a", "text": "t", "options": ["x", "y"], "answer": [2]}]}',
            "outside",
        ),
        (
            '{"questions": [{"id": "a", "text": "t", "options": ["x", "y"], "answer": []}]}',
            "no correct",
        ),
        (
            '{"questions": [{"id": "a", "text": " ", "options": ["x", "y"], "answer": [0]}]}',
            "no text",
        ),
        (
            '{"questions": [{"id": "a", "text": "t", "options": ["x", "y"], "answer": [0]},'
            ' {"id": "a", "text": "u", "options": ["x", "y"], "answer": [0]}]}',
            "twice",
        ),
        (
            '{"questions": [{"id": "a", "text": "t", "options": ["x", "y"], "answer": ["0"]}]}',
            "int",
        ),
    ],
)
def test_bad_banks_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_bank(text, source="bank.json")
    assert fragment in info.value.message
    assert info.value.message.startswith("bank.json")


def test_the_documented_example_parses() -> None:
    bank = parse_bank(
        '{"questions": [{"id": "q1", "text": "Which port does HTTPS use by default?",'
        ' "options": ["21", "80", "443", "8080"], "answer": [2], "points": 5}]}'
    )
    assert bank[0].points == 5 and not bank[0].multiple
