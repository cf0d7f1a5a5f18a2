"""The store alone, without the server or the network: many candidates' answers written at once
(each candidate's answers one after the other, the candidates concurrently, as the server's
sessions send them), then every attempt submitted (a transition that scores). Prints wall time,
writes per second, the CPU of this process per write (the store's thread and the event loop
both run here) and how many writes each transaction held.

    python bench/store_ops.py                        # SQLite, in a temporary folder
    python bench/store_ops.py --postgres             # also a throwaway PostgreSQL cluster
    python bench/store_ops.py --candidates 500 --answers 40 --rounds 3
    python bench/store_ops.py --parts --candidates 50 --answers 80 --rounds 6

`--parts` splits SQLite's CPU per answer by what "acknowledged = stored" makes it do: the
same rounds as they are, without the sync at each commit (`synchronous=OFF`), and without
the history's unique index on (attempt, client id), which makes a resend count once. The
variants take turns, a round each; neither is a setting of the product. With 50 candidates a
commit holds about as many answers as in `bench/server_cpu.py`.

Compare engines, or code versions (run it with PYTHONPATH pointing at another checkout), in the
same run: the figures depend on the machine's load."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sitting import thread_cpu_seconds

from shared.states import Trigger
from tests.store.conftest import NOW, PASS, QUESTIONS, seat


async def one_round(store: Any, candidates: int, answers: int) -> dict[str, float]:
    exam = (await seat(store, code="C0")).exam
    attempts = [
        (await seat(store, exam=exam, code=f"C{i + 1}")).attempt.id for i in range(candidates)
    ]

    async def candidate(attempt: str) -> None:
        for i in range(answers):  # message ids as the app makes them (random, 32 hex digits)
            ident = uuid.uuid4().hex
            assert await store.save_answer(attempt, ident, i % len(QUESTIONS), [i % 3], NOW)

    commits, writes = store.commits, store.writes
    threads = thread_cpu_seconds(os.getpid())
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(candidate(a) for a in attempts))
    answer_wall, answer_cpu = time.perf_counter() - wall, time.process_time() - cpu
    store_thread = thread_cpu_seconds(os.getpid())["other threads"] - threads["other threads"]
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
        "store thread us/answer": store_thread / n * 1e6,
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


def variant(*statements: str) -> type[Any]:
    """SqliteStore whose connection runs `statements` once open (after its migrations)."""
    from proctor_server.store import SqliteStore

    class Variant(SqliteStore):
        def _open_connection(self) -> sqlite3.Connection:
            conn = super()._open_connection()
            for statement in statements:
                conn.execute(statement)
            return conn

    return Variant


PARTS = {
    "as is": variant(),
    "no sync": variant("PRAGMA synchronous=OFF"),
    "no index": variant("DROP INDEX answer_log_once"),
}


async def parts(tmp: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Each variant's medians over `args.rounds` rounds, the variants in turn each round."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in PARTS}
    for r in range(args.rounds):
        names = list(PARTS)[r % len(PARTS) :] + list(PARTS)[: r % len(PARTS)]
        for name in names:
            store = PARTS[name](tmp / f"{name.replace(' ', '-')}-{r}.db")
            await store.open()
            try:
                results[name].append(await one_round(store, args.candidates, args.answers))
            finally:
                await store.close()
    return {
        name: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        for name, rounds in results.items()
    }


def show_parts(figures: dict[str, dict[str, float]]) -> None:
    for name, f in figures.items():
        show(name, f)
    key = "store thread us/answer"
    whole = figures["as is"][key]
    for name, what in (("no sync", "the sync at each commit"), ("no index", "the unique index")):
        saved = whole - figures[name][key]
        print(
            f"{what}: {saved:.1f} us of the store thread's {whole:.1f} us an answer "
            f"({saved / whole:.0%})"
        )


def show(name: str, figures: dict[str, float]) -> None:
    print(f"{name:<12}" + "  ".join(f"{k} {v:8.1f}" for k, v in figures.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--answers", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="the median of this many")
    parser.add_argument("--postgres", action="store_true", help="also a throwaway cluster")
    parser.add_argument("--parts", action="store_true", help="SQLite's CPU per answer, split")
    args = parser.parse_args()

    from proctor_server.store import SqliteStore

    if args.parts:
        with tempfile.TemporaryDirectory(prefix="store-ops-") as tmp:
            show_parts(asyncio.run(parts(Path(tmp), args)))
        return
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
