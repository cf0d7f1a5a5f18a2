"""The store alone, without the server or the network: many candidates' answers written at once
(each candidate's answers one after the other, the candidates concurrently, as the server's
sessions send them), then every attempt submitted (a transition that scores). Prints wall time,
writes per second, the CPU of this process per write (the store's thread and the event loop
both run here) and how many writes each transaction held.

    python bench/store_ops.py                        # SQLite, in a temporary folder
    python bench/store_ops.py --postgres             # also a throwaway PostgreSQL cluster
    python bench/store_ops.py --candidates 500 --answers 40 --rounds 3

Compare engines, or code versions (run it with PYTHONPATH pointing at another checkout), in the
same run: the figures depend on the machine's load."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.states import Trigger
from tests.store.conftest import NOW, PASS, QUESTIONS, seat


async def one_round(store: Any, candidates: int, answers: int) -> dict[str, float]:
    exam = (await seat(store, code="C0")).exam
    attempts = [
        (await seat(store, exam=exam, code=f"C{i + 1}")).attempt.id for i in range(candidates)
    ]

    async def candidate(attempt: str) -> None:
        for i in range(answers):
            assert await store.save_answer(attempt, f"a{i}", i % len(QUESTIONS), [i % 3], NOW)

    commits, writes = store.commits, store.writes
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(candidate(a) for a in attempts))
    answer_wall, answer_cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = candidates * answers
    grouped = (store.writes - writes) / max(1, store.commits - commits)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(
        *(
            store.transition(a, Trigger.SUBMIT, NOW, "bench", questions=QUESTIONS, pass_score=PASS)
            for a in attempts
        )
    )
    submit_wall, submit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "answers/s": n / answer_wall,
        "cpu us/answer": answer_cpu / n * 1e6,
        "writes/commit": grouped,
        "submits/s": candidates / submit_wall,
        "cpu us/submit": submit_cpu / candidates * 1e6,
    }


async def measure(opener: Callable[[], Any], args: argparse.Namespace) -> dict[str, float]:
    results = []
    for _ in range(args.rounds):
        store = opener()
        await store.open()
        try:
            results.append(await one_round(store, args.candidates, args.answers))
        finally:
            await store.close()
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def show(name: str, figures: dict[str, float]) -> None:
    print(f"{name:<12}" + "  ".join(f"{k} {v:8.1f}" for k, v in figures.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--answers", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="the median of this many")
    parser.add_argument("--postgres", action="store_true", help="also a throwaway cluster")
    args = parser.parse_args()

    from proctor_server.store import SqliteStore

    with tempfile.TemporaryDirectory(prefix="store-ops-") as tmp:
        counter = iter(range(1_000_000))
        show(
            "sqlite",
            asyncio.run(measure(lambda: SqliteStore(Path(tmp) / f"s{next(counter)}.db"), args)),
        )
    if args.postgres:
        postgres(args)


def postgres(args: argparse.Namespace) -> None:
    from proctor_server.store import make_store
    from tests.support.postgres import running_cluster

    with contextlib.contextmanager(running_cluster)(durable=True) as cluster:
        with tempfile.TemporaryDirectory(prefix="store-ops-") as tmp:
            figures = asyncio.run(
                measure(lambda: make_store(cluster.create("bench"), Path(tmp)), args)
            )
        show("postgresql", figures)


if __name__ == "__main__":
    main()
