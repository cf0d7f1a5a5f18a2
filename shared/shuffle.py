"""Per-attempt shuffling (R16) and tracing a leaked paper back to its attempt.

Each attempt gets a random seed that the server records. From the seed come the order of the
questions, the order of the options within each question, and opaque ids that mean nothing
outside this attempt. The draws come from SHAKE-256 under the seed, so an order computed from a seed
today is the same in any Python version tomorrow.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from shared.questions import Question

SEED_BYTES = 16  # an attempt's seed: this many random bytes, drawn by the caller, as hex


def _draws(seed: str, count: int) -> tuple[int, ...]:
    """`count` 64-bit draws from SHAKE-256 under the attempt's seed (one hash call)."""
    data = hashlib.shake_256(b"proctor-order:" + bytes.fromhex(seed)).digest(8 * max(count, 1))
    return struct.unpack(f">{max(count, 1)}Q", data)


SMALL = 6  # up to 6! = 720 orders: pick one from a table with a single draw


@functools.cache
def _all_orders(n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.permutations(range(n)))


@functools.cache
def _shared_lists(n: int) -> tuple[list[int], ...]:
    """One list per order of n <= SMALL items, in `_all_orders` order, shared by every paper
    that uses it (orders are never changed in place): a live attempt's option orders cost a
    pointer each, not a list."""
    return tuple(list(order) for order in _all_orders(n))


@functools.cache
def _shared_orders(n: int) -> dict[tuple[int, ...], list[int]]:
    """The shared list of each order of n <= SMALL items, by the order."""
    return dict(zip(_all_orders(n), _shared_lists(n), strict=True))


@functools.cache
def _small_tables() -> tuple[tuple[list[int], ...], ...]:
    """`_shared_lists(m)` for every m <= SMALL, by m."""
    return tuple(_shared_lists(m) for m in range(SMALL + 1))


def compact(order: PaperOrder) -> PaperOrder:
    """The same order with its small option orders shared (see `_shared_lists`)."""
    return PaperOrder(
        questions=order.questions,
        options=[
            _shared_orders(len(o)).get(tuple(o), o) if len(o) <= SMALL else o for o in order.options
        ],
    )


def _shuffled(n: int, draws: Sequence[int], at: int) -> list[int]:
    """Fisher-Yates over n > SMALL items with draws[at:at + n - 1] (64-bit draws: bias below
    2**-50)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = draws[at] % (i + 1)
        at += 1
        order[i], order[j] = order[j], order[i]
    return order


def _digest(seed: str, label: str, size: int) -> str:
    """A keyed hash of `label` under the attempt's seed, as `size` bytes of hex."""
    return hashlib.blake2b(label.encode(), key=bytes.fromhex(seed), digest_size=size).hexdigest()


class PaperOrder(msgspec.Struct, frozen=True):
    """Bank indexes in the order this attempt sees them, and each question's option order."""

    questions: list[int]
    options: list[list[int]]  # options[k] is the option order of the k-th shown question


def order_for(seed: str, questions: Sequence[Question]) -> PaperOrder:
    """The order of the questions, then of each shown question's options, from one stream of
    draws: a uniformly drawn order of n items takes one draw from the table of all orders when
    n <= SMALL (option lists), n - 1 draws of Fisher-Yates otherwise. (Written out in one loop:
    it runs in every candidate's entry.)"""
    sizes = [len(q.options) for q in questions]
    n = len(sizes)
    draws = _draws(seed, sum(1 if k <= SMALL else k - 1 for k in (n, *sizes)))
    tables = _small_tables()
    if n <= SMALL:
        table = tables[n]
        shown, at = table[draws[0] % len(table)], 1
    else:
        shown, at = _shuffled(n, draws, 0), n - 1
    options: list[list[int]] = []
    for i in shown:
        m = sizes[i]
        if m <= SMALL:
            table = tables[m]
            options.append(table[draws[at] % len(table)])
            at += 1
        else:
            options.append(_shuffled(m, draws, at))
            at += m - 1
    return PaperOrder(questions=shown, options=options)


OID = 9  # an option's opaque id: "o" and 4 bytes of its question's keyed hash in hex


@dataclass(frozen=True, slots=True)
class PaperIds:
    """Opaque ids of one attempt's paper and the way back to bank indexes.

    Every candidate in the exam holds their paper's ids for the whole sitting: 5.5 KB for 40
    questions of four options, where a dict and a list of strings per question took 26 KB. The
    questions' ids are looked up in a dict (one per answer); the options' ids are kept end to
    end in one string and found with `str.find` among their question's few. Each option id
    starts with its only "o" and goes on in hex digits, so a match of an id's length can only
    start where an id starts."""

    question_ids: tuple[str, ...]  # by bank index
    by_question_id: dict[str, int]  # bank index by question id
    options: str  # OID characters per option, question after question, by option index
    first: tuple[int, ...]  # where each question's options start in `options` (one more: end)
    # the questions whose options' 4-byte ids collided: their ids, derived otherwise (see
    # `build`); None when there are none, as almost always
    rederived: Mapping[int, tuple[str, ...]] | None

    @classmethod
    def build(cls, seed: str, questions: Sequence[Question]) -> PaperIds:
        """One keyed hash per question gives its id (5 bytes) and its options' ids (4 bytes
        each; a further hash per 14 options)."""
        qids: list[str] = []
        oids: list[str] = []
        first = [0]
        rederived: dict[int, tuple[str, ...]] = {}
        for i, q in enumerate(questions):
            n = len(q.options)
            stream = _digest(seed, f"q:{i}", min(64, 5 + 4 * n))
            for part in range(1, (n - 1) // 14 + 1 if n > 14 else 1):
                stream += _digest(seed, f"q:{i}:{part}", 64)
            qids.append("q" + stream[:10])
            options = ["o" + stream[10 + 8 * j : 18 + 8 * j] for j in range(n)]
            if len(set(options)) != n:  # a 32-bit collision inside one question: 8 bytes each
                rederived[i] = tuple("o" + _digest(seed, f"o:{i}:{j}", 8) for j in range(n))
            oids.extend(options)
            first.append(first[-1] + n)
        by_id = {qid: i for i, qid in enumerate(qids)}
        return cls(tuple(qids), by_id, "".join(oids), tuple(first), rederived or None)

    def __len__(self) -> int:
        return len(self.question_ids)

    def option_ids(self, index: int) -> tuple[str, ...]:
        """The opaque ids of question `index`'s options, by option index."""
        if self.rederived is not None and index in self.rederived:
            return self.rederived[index]
        text, first = self.options, self.first
        return tuple(
            text[k : k + OID] for k in range(OID * first[index], OID * first[index + 1], OID)
        )

    def option_index(self, index: int, opaque: str) -> int | None:
        """The option index of question `index`'s option with this opaque id; None when the
        question has no such option."""
        if self.rederived is not None and index in self.rederived:
            ids = self.rederived[index]
            return ids.index(opaque) if opaque in ids else None
        if len(opaque) != OID:
            return None
        first = self.first
        start = OID * first[index]
        at = self.options.find(opaque, start, OID * first[index + 1]) - start
        return at // OID if at >= 0 and not at % OID else None


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
