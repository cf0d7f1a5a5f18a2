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
        shown: list[p.PaperQuestion] = []
        for k, qi in enumerate(self.order.questions):
            q = self.questions[qi]
            option_ids = self.ids.option_by_index[qi]
            shown.append(
                p.PaperQuestion(
                    id=self.ids.by_index[qi],
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
                self.ids.by_index[qi]: [self.ids.option_by_index[qi][j] for j in choice]
                for qi, choice in saved.items()
                if qi in self.ids.by_index
            },
        )

    def read_answer(self, answer: p.Answer) -> tuple[int, list[int]]:
        """Map an answer's opaque ids to (bank question index, option indexes); RuleError when
        the question is not in this paper or the choice does not fit the question."""
        qi = self.ids.question_ids.get(answer.question)
        if qi is None:
            raise RuleError(
                f"question {answer.question!r} is not in this paper",
                code=ErrorCode.UNKNOWN_QUESTION,
                ref=answer.id,
            )
        options = self.ids.option_ids[answer.question]
        if len(answer.choice) == 1:  # most answers: nothing to sort, nothing chosen twice
            j = options.get(answer.choice[0])
            if j is None:
                raise _not_an_option(answer, answer.choice[0])
            return qi, [j]
        chosen: list[int] = []
        for oid in answer.choice:
            j = options.get(oid)
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
