"""`AttemptPaper.read_answer`: an answer's opaque ids back to bank indexes, every wrong choice
refused with the rule it breaks and the answer's id, on one-option and many-option answers
alike."""

from __future__ import annotations

import pytest

from proctor_server.core.paper import AttemptPaper
from shared import protocol as p
from shared.errors import ErrorCode, RuleError
from shared.questions import Question
from shared.shuffle import order_for

SEED = "5eed" * 8
QUESTIONS = [
    Question(id="single", text="One of four", options=["a", "b", "c", "d"], answer=[2]),
    Question(id="multi", text="Some of four", options=["a", "b", "c", "d"], answer=[0, 3]),
]
PAPER = AttemptPaper.build(SEED, QUESTIONS, order_for(SEED, QUESTIONS))
QID = [PAPER.ids.question_ids[i] for i in range(2)]
OID = [PAPER.ids.option_ids(i) for i in range(2)]


@pytest.mark.parametrize(
    ("question", "options", "read"),
    [
        (0, [2], (0, [2])),
        (0, [0], (0, [0])),
        (1, [3], (1, [3])),
        (1, [3, 0], (1, [0, 3])),  # sorted
        (1, [1, 2, 0], (1, [0, 1, 2])),
        (1, [], (1, [])),  # a cleared answer
        (0, [], (0, [])),
    ],
)
def test_a_choice_reads_back_as_sorted_option_indexes(
    question: int, options: list[int], read: tuple[int, list[int]]
) -> None:
    answer = p.Answer(id="a1", question=QID[question], choice=[OID[question][j] for j in options])
    assert PAPER.read_answer(answer) == read


@pytest.mark.parametrize(
    ("question", "choice", "code", "names"),
    [
        ("q-not-there", [], ErrorCode.UNKNOWN_QUESTION, "q-not-there"),
        ("q-not-there", ["o1"], ErrorCode.UNKNOWN_QUESTION, "q-not-there"),
        (0, ["o-nope"], ErrorCode.BAD_CHOICE, "o-nope"),
        (1, ["o-nope"], ErrorCode.BAD_CHOICE, "o-nope"),
        (1, [0, "o-nope"], ErrorCode.BAD_CHOICE, "o-nope"),
        (0, [OID[1][0]], ErrorCode.BAD_CHOICE, OID[1][0]),  # another question's option
        (0, [0, 1], ErrorCode.BAD_CHOICE, "single option"),
        (1, [2, 2], ErrorCode.BAD_CHOICE, "twice"),
        (0, [3, 3], ErrorCode.BAD_CHOICE, "twice"),
    ],
)
def test_a_wrong_choice_is_refused_with_its_rule_and_the_answers_id(
    question: int | str, choice: list[int | str], code: ErrorCode, names: str
) -> None:
    qid = QID[question] if isinstance(question, int) else question
    k = question if isinstance(question, int) else 0
    ids = [OID[k][c] if isinstance(c, int) else c for c in choice]
    with pytest.raises(RuleError) as refused:
        PAPER.read_answer(p.Answer(id="a9", question=qid, choice=ids))
    assert refused.value.code is code
    assert refused.value.ref == "a9"
    assert names in refused.value.message
