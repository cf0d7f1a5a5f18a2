"""`proctor-server analysis-worker`: processes that take face-analysis jobs from the PostgreSQL
queue of the exam servers started with `serve --analysis-workers queue`."""

from __future__ import annotations

import argparse
import multiprocessing
import signal
from typing import Any

from proctor_server.store.open import is_postgres
from shared.errors import ConfigError


def register(sub: Any) -> None:
    worker = sub.add_parser(
        "analysis-worker", help="take face-analysis jobs from the exam servers' queue"
    )
    worker.add_argument("--db", required=True, help="the servers' database: postgresql://...")
    worker.add_argument(
        "--processes",
        type=int,
        default=max(1, (multiprocessing.cpu_count() or 1)),
        metavar="N",
        help="worker processes, one job each at a time (default: one per core)",
    )
    worker.set_defaults(run=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    if not is_postgres(args.db):
        raise ConfigError("analysis workers take jobs from PostgreSQL: --db postgresql://...")
    if args.processes < 1:
        raise ConfigError("--processes must be at least 1")
    from proctor_server.vision.queue_worker import work

    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=work, args=(args.db,), name=f"analysis-{n}")
        for n in range(args.processes)
    ]
    for child in children:
        child.start()
    print(f"{len(children)} analysis workers started", flush=True)

    def stop(*_: Any) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                child.terminate()  # SIGTERM: each finishes the job in hand

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
    return 0
