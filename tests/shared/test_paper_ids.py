"""`PaperIds`: a paper's opaque ids kept small, every id found back to its index, and nothing
else taken for one (case, spaces, another question's option, a match across two options)."""

from __future__ import annotations

import tracemalloc

import pytest

from shared.questions import Question
from shared.shuffle import PaperIds

SEED = "a1" * 16
BANK = [
    Question(id=f"q{i}", text=f"Q{i}", options=[f"{i}-{j}" for j in range(2 + i % 17)], answer=[0])
    for i in range(30)
]
IDS = PaperIds.build(SEED, BANK)


def test_every_id_reads_back_as_its_index() -> None:
    assert len(IDS) == len(BANK)
    for i, q in enumerate(BANK):
        assert IDS.by_question_id.get(IDS.question_ids[i]) == i
        options = IDS.option_ids(i)
        assert len(options) == len(q.options) == len(set(options))
        assert [IDS.option_index(i, oid) for oid in options] == list(range(len(q.options)))


QID = IDS.question_ids[3]
OID = IDS.option_ids(3)[1]


@pytest.mark.parametrize(
    "opaque",
    [
        QID.upper(),
        "Q" + QID[1:],
        QID[:5] + " " + QID[6:],  # bytes.fromhex would skip the space
        QID[1:],
        QID + "0",
        QID[:-1],
        "q" + "g" * 10,
        "",
        "q",
        OID,  # an option's id is not a question's
        "o" + QID[1:],
    ],
)
def test_what_is_not_exactly_a_question_id_is_none(opaque: str) -> None:
    assert IDS.by_question_id.get(opaque) is None


@pytest.mark.parametrize(
    "opaque",
    [
        OID.upper(),
        OID[:3] + " " + OID[4:],
        OID[1:],
        OID + "00",
        "q" + OID[1:],
        IDS.option_ids(4)[1],  # another question's option
        IDS.option_ids(2)[0],
        QID,
        "",
    ],
)
def test_what_is_not_one_of_the_questions_options_is_none(opaque: str) -> None:
    assert IDS.option_index(3, opaque) is None


def paper(
    options: str, first: tuple[int, ...], rederived: dict[int, tuple[str, ...]] | None = None
) -> PaperIds:
    qids = tuple(f"q{i:010x}" for i in range(len(first) - 1))
    return PaperIds(qids, {q: i for i, q in enumerate(qids)}, options, first, rederived)


def test_a_match_across_two_options_is_not_an_option() -> None:
    ids = paper("o00aabbccoddeeff00oaabbccddo12345678", (0, 2, 4))
    assert [ids.option_index(0, o) for o in ("o00aabbcc", "oddeeff00")] == [0, 1]
    assert [ids.option_index(1, o) for o in ("oaabbccdd", "o12345678")] == [0, 1]
    assert ids.option_index(0, "ccoddeeff") is None  # the end of one and the start of the next
    assert ids.option_index(0, "00aabbcco") is None
    assert ids.option_index(0, "oaabbccdd") is None  # question 1's
    assert ids.option_index(1, "oddeeff00") is None  # question 0's
    assert ids.option_index(1, "00oaabbcc") is None  # across the two questions


def test_a_question_whose_option_ids_collided_uses_its_own_ids() -> None:
    longer = ("o" + "01" * 8, "o" + "02" * 8)
    ids = paper("oaabbccddoaabbccddo12345678", (0, 2, 3), {0: longer})
    assert ids.option_ids(0) == longer
    assert [ids.option_index(0, oid) for oid in longer] == [0, 1]
    assert ids.option_index(0, "oaabbccdd") is None
    assert ids.option_ids(1) == ("o12345678",)
    assert ids.option_index(1, "o12345678") == 0


def test_a_paper_of_forty_questions_holds_its_ids_in_under_six_kilobytes() -> None:
    """A candidate in the exam keeps their paper's ids for the whole sitting (a dict and a list
    of strings per question took 26 KB for this paper)."""
    bank = [Question(id=f"q{i}", text=f"Q{i}", options=list("abcd"), answer=[0]) for i in range(40)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        papers = [PaperIds.build(f"{k:032x}", bank) for k in range(100)]
        per_paper = (tracemalloc.get_traced_memory()[0] - before) / len(papers)
    finally:
        tracemalloc.stop()
    assert per_paper < 6 * 1024, per_paper
