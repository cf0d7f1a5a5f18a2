"""Per-attempt shuffling (R16) and tracing a leaked paper back to its attempt.

Each attempt gets a random seed that the server records. From the seed come the order of the
questions, the order of the options within each question, and opaque ids that mean nothing
outside this attempt. The stream is SHA-256 in counter mode, so an order computed from a seed
today is the same in any Python version tomorrow.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from shared.questions import Question


def new_seed() -> str:
    return secrets.token_hex(16)


def _stream(seed: str, label: str) -> Iterator[int]:
    counter = 0
    key = bytes.fromhex(seed)
    while True:
        block = hashlib.sha256(key + label.encode() + counter.to_bytes(8, "big")).digest()
        for i in range(0, 32, 8):
            yield int.from_bytes(block[i : i + 8], "big")
        counter += 1


def _permutation(n: int, seed: str, label: str) -> list[int]:
    """Fisher-Yates driven by the seed's stream (64-bit draws: bias below 2**-50)."""
    order = list(range(n))
    draws = _stream(seed, label)
    for i in range(n - 1, 0, -1):
        j = next(draws) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def _opaque(seed: str, label: str, length: int) -> str:
    return hmac.new(bytes.fromhex(seed), label.encode(), hashlib.sha256).hexdigest()[:length]


class PaperOrder(msgspec.Struct, frozen=True):
    """Bank indexes in the order this attempt sees them, and each question's option order."""

    questions: list[int]
    options: list[list[int]]  # options[k] is the option order of the k-th shown question


def order_for(seed: str, questions: Sequence[Question]) -> PaperOrder:
    shown = _permutation(len(questions), seed, "questions")
    return PaperOrder(
        questions=shown,
        options=[_permutation(len(questions[i].options), seed, f"options:{i}") for i in shown],
    )


@dataclass(frozen=True, slots=True)
class PaperIds:
    """Opaque ids of one attempt's paper and the way back to bank indexes."""

    question_ids: dict[str, int]  # opaque question id -> bank index
    option_ids: dict[str, dict[str, int]]  # opaque question id -> opaque option id -> index
    by_index: dict[int, str]  # bank index -> opaque question id
    option_by_index: dict[int, list[str]]  # bank index -> opaque option ids by option index

    @classmethod
    def build(cls, seed: str, questions: Sequence[Question]) -> PaperIds:
        qids: dict[str, int] = {}
        oids: dict[str, dict[str, int]] = {}
        by_index: dict[int, str] = {}
        option_by_index: dict[int, list[str]] = {}
        for i, q in enumerate(questions):
            qid = "q" + _opaque(seed, f"q:{i}", 10)
            qids[qid] = i
            by_index[i] = qid
            option_by_index[i] = [
                "o" + _opaque(seed, f"o:{i}:{j}", 8) for j in range(len(q.options))
            ]
            oids[qid] = {oid: j for j, oid in enumerate(option_by_index[i])}
        return cls(qids, oids, by_index, option_by_index)


@dataclass(frozen=True, slots=True)
class LeakMatch:
    attempt: str
    agreement: float  # share of the leaked positions that this attempt's order explains


def trace_leak(
    leaked_texts: Sequence[str],
    questions: Sequence[Question],
    orders: Mapping[str, PaperOrder],
    leaked_options: Sequence[Sequence[str]] | None = None,
) -> list[LeakMatch]:
    """Rank attempts by how well their recorded order explains a leaked copy of a paper.

    `leaked_texts` are question texts in the order the copy shows them (a partial copy is
    fine); `leaked_options`, when known, the option texts of each of those questions in the
    order shown. The best-explaining attempts come first.
    """
    by_text = {q.text.strip(): i for i, q in enumerate(questions)}
    leaked = [by_text.get(t.strip()) for t in leaked_texts]
    matches: list[LeakMatch] = []
    for attempt, order in orders.items():
        position = {bank_index: k for k, bank_index in enumerate(order.questions)}
        hits = total = 0
        # Relative order of every pair of leaked questions: robust to a partial copy, and
        # an unrelated attempt agrees on about half the pairs only.
        known = [i for i in leaked if i is not None]
        for x, a in enumerate(known):
            for b in known[x + 1 :]:
                total += 1
                hits += position[a] < position[b]
        if leaked_options is not None:
            for i, opts in zip(leaked, leaked_options, strict=False):
                if i is None:
                    continue
                total += 1
                shown = [questions[i].options[j] for j in order.options[position[i]]]
                hits += [o.strip() for o in opts] == [o.strip() for o in shown]
        matches.append(LeakMatch(attempt, hits / total if total else 0.0))
    matches.sort(key=lambda m: -m.agreement)
    return matches
