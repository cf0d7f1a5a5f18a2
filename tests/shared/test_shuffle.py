"""Per-attempt shuffling (R16): stable per seed, different across attempts, traceable leaks."""

from __future__ import annotations

import hashlib
import json
import secrets

from shared.questions import Question
from shared.shuffle import SEED_BYTES, PaperIds, order_for, trace_leak

BANK = [
    Question(
        id=f"q{i}",
        text=f"Question {i}?",
        options=[f"{i}-a", f"{i}-b", f"{i}-c", f"{i}-d"],
        answer=[0],
    )
    for i in range(20)
]


def test_the_same_seed_gives_the_same_order_and_ids() -> None:
    seed = secrets.token_hex(SEED_BYTES)
    assert order_for(seed, BANK) == order_for(seed, BANK)
    assert PaperIds.build(seed, BANK) == PaperIds.build(seed, BANK)


def test_a_fixed_seed_gives_a_fixed_order_forever() -> None:
    # Recorded seeds must keep meaning the same paper in every later version.
    order = order_for("00" * 16, BANK[:5])
    assert order.questions == [2, 4, 3, 1, 0]
    assert order.options == [[1, 3, 2, 0], [2, 0, 3, 1], [3, 0, 1, 2], [3, 1, 0, 2], [2, 3, 0, 1]]
    ids = PaperIds.build("00" * 16, BANK[:1])
    assert ids.question_ids[0] == "q2b90c0296f"
    assert ids.option_ids(0) == ("o062b788b", "o58ec3f6f", "o7f42ce65", "o1b30eaf2")


def test_fixed_seeds_give_fixed_ids_for_any_number_of_options_forever() -> None:
    """Ids of questions of 2 to 32 options (past 14, more than one hash each) under 100
    recorded seeds, fixed by a digest: the paper sent after a reconnect, and answers in an
    outbox, keep their ids from one server version to the next."""
    mixed = [
        Question(
            id=f"m{i}", text=f"M{i}", options=[f"{i}-{j}" for j in range(2 + i % 31)], answer=[0]
        )
        for i in range(40)
    ]
    fixed = [hashlib.sha256(f"golden-{k}".encode()).hexdigest()[:32] for k in range(100)]
    papers = [PaperIds.build(seed, mixed) for seed in fixed]
    ids = [[[a.question_ids[i], list(a.option_ids(i))] for i in range(len(mixed))] for a in papers]
    assert (
        hashlib.sha256(json.dumps(ids).encode()).hexdigest()
        == "95da1620b621217289c82a73aca5cf5abfe7e8fc785747570e050b9301e97244"
    )


def test_fixed_seeds_give_fixed_orders_of_any_size_forever() -> None:
    """Questions past the small-order table (Fisher-Yates), option lists of 2 to 10 (both
    ways): 200 recorded seeds, their orders fixed by a digest."""
    mixed = [
        Question(
            id=f"m{i}", text=f"M{i}", options=[f"{i}-{j}" for j in range(2 + i % 9)], answer=[0]
        )
        for i in range(23)
    ]
    fixed = [hashlib.sha256(f"golden-{k}".encode()).hexdigest()[:32] for k in range(200)]
    orders = [order_for(seed, mixed) for seed in fixed]
    assert orders[0].questions[:8] == [4, 21, 3, 7, 8, 6, 2, 13]
    assert orders[0].options[8] == [1, 2, 0]
    text = json.dumps([[o.questions, o.options] for o in orders])
    assert (
        hashlib.sha256(text.encode()).hexdigest()
        == "496050212fea9501a12c271919adfce2c353e49d857c87afcd3dffd03b67b6d2"
    )


def test_orders_are_permutations_and_differ_between_attempts() -> None:
    orders = [order_for(secrets.token_hex(SEED_BYTES), BANK) for _ in range(50)]
    for order in orders:
        assert sorted(order.questions) == list(range(20))
        assert all(sorted(o) == [0, 1, 2, 3] for o in order.options)
    assert len({tuple(o.questions) for o in orders}) == 50
    # option orders are shuffled too
    assert len({tuple(o.options[0]) for o in orders}) > 1


def test_ids_are_opaque_and_per_attempt() -> None:
    a, b = (
        PaperIds.build(secrets.token_hex(SEED_BYTES), BANK),
        PaperIds.build(secrets.token_hex(SEED_BYTES), BANK),
    )
    qids = [a.question_ids[i] for i in range(len(BANK))]
    assert set(qids).isdisjoint(b.question_ids[i] for i in range(len(BANK)))
    assert all(len(qid) == 11 for qid in qids)


def seeds(count: int) -> list[str]:
    """Fixed seeds, so that how close the runner-up comes is the same on every run."""
    return [
        hashlib.sha256(f"seed-{k}".encode()).hexdigest()[: 2 * SEED_BYTES] for k in range(count)
    ]


def test_a_leaked_paper_is_traced_to_its_attempt() -> None:
    orders = {f"attempt-{k}": order_for(seed, BANK) for k, seed in enumerate(seeds(300))}
    culprit = orders["attempt-137"]
    leaked_texts = [BANK[i].text for i in culprit.questions]
    ranked = trace_leak(leaked_texts, BANK, orders)
    assert ranked[0].attempt == "attempt-137"
    assert ranked[0].agreement == 1.0
    assert ranked[1].agreement < 0.8


def test_a_partial_leak_with_option_orders_is_still_traced() -> None:
    orders = {f"attempt-{k}": order_for(seed, BANK) for k, seed in enumerate(seeds(300))}
    culprit = orders["attempt-5"]
    shown = culprit.questions[4:12]  # eight questions copied, in the culprit's order
    texts = [BANK[i].text for i in shown]
    options = [
        [BANK[i].options[j] for j in culprit.options[culprit.questions.index(i)]] for i in shown
    ]
    ranked = trace_leak(texts, BANK, orders, leaked_options=options)
    assert ranked[0].attempt == "attempt-5"
    assert ranked[0].agreement == 1.0
    assert ranked[1].agreement < 1.0


def test_orders_are_uniform_enough() -> None:
    """Every order of four options appears, none far more often than the others."""
    from collections import Counter

    counts = Counter(
        tuple(order_for(secrets.token_hex(SEED_BYTES), BANK[:2]).options[0]) for _ in range(4800)
    )
    assert len(counts) == 24
    assert max(counts.values()) < 2 * min(counts.values())
    long = Counter(
        order_for(secrets.token_hex(SEED_BYTES), BANK[:8]).questions[0] for _ in range(4000)
    )
    assert len(long) == 8 and max(long.values()) < 2 * min(long.values())
