"""One attempt's paper: building it for the wire, reading answers back into bank indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared import protocol as p
from shared.errors import ErrorCode, RuleError
from shared.questions import Question
from shared.shuffle import PaperIds, PaperOrder
from shared.timeutil import to_wire


@dataclass(frozen=True, slots=True)
class AttemptPaper:
    """The questions of one attempt in its own order, under its own opaque ids."""

    questions: Sequence[Question]
    order: PaperOrder
    ids: PaperIds

    @classmethod
    def build(cls, seed: str, questions: Sequence[Question], order: PaperOrder) -> AttemptPaper:
        return cls(questions, order, PaperIds.build(seed, questions))

    def message(
        self, ends_at: datetime, now: datetime, saved: Mapping[int, Sequence[int]]
    ) -> p.Paper:
        ids = self.ids
        shown: list[p.PaperQuestion] = []
        for k, qi in enumerate(self.order.questions):
            q = self.questions[qi]
            option_ids = ids.option_ids(qi)
            shown.append(
                p.PaperQuestion(
                    id=ids.question_ids[qi],
                    text=q.text,
                    multiple=q.multiple,
                    options=[
                        p.PaperOption(id=option_ids[j], text=q.options[j])
                        for j in self.order.options[k]
                    ],
                    points=q.points,
                )
            )
        return p.Paper(
            questions=shown,
            ends_at=to_wire(ends_at),
            server_time=to_wire(now),
            saved={
                ids.question_ids[qi]: [ids.option_ids(qi)[j] for j in choice]
                for qi, choice in saved.items()
                if 0 <= qi < len(ids)
            },
        )

    def read_answer(self, answer: p.Answer) -> tuple[int, list[int]]:
        """Map an answer's opaque ids to (bank question index, option indexes); RuleError when
        the question is not in this paper or the choice does not fit the question."""
        ids = self.ids
        qi = ids.by_question_id.get(answer.question)
        if qi is None:
            raise RuleError(
                f"question {answer.question!r} is not in this paper",
                code=ErrorCode.UNKNOWN_QUESTION,
                ref=answer.id,
            )
        if len(answer.choice) == 1:  # most answers: nothing to sort, nothing chosen twice
            j = ids.option_index(qi, answer.choice[0])
            if j is None:
                raise _not_an_option(answer, answer.choice[0])
            return qi, [j]
        chosen: list[int] = []
        for oid in answer.choice:
            j = ids.option_index(qi, oid)
            if j is None:
                raise _not_an_option(answer, oid)
            chosen.append(j)
        if len(set(chosen)) != len(chosen):
            raise RuleError("an option is chosen twice", code=ErrorCode.BAD_CHOICE, ref=answer.id)
        if not self.questions[qi].multiple and len(chosen) > 1:
            raise RuleError(
                "this question takes a single option", code=ErrorCode.BAD_CHOICE, ref=answer.id
            )
        return qi, sorted(chosen)


def _not_an_option(answer: p.Answer, oid: str) -> RuleError:
    return RuleError(
        f"option {oid!r} is not an option of question {answer.question!r}",
        code=ErrorCode.BAD_CHOICE,
        ref=answer.id,
    )
