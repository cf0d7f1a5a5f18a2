"""How many proctors' events the PostgreSQL cluster carries between exam-server processes, and
how late: two `PostgresCluster`s (as two processes would hold them) on a throwaway cluster with
fsync on; one publishes real `joined`/`flag` events, the other receives them. Twice: all at
once (bursts of `--burst` per event-loop turn: the most it carries), then paced at `--rate`
events a second (the latency an event sees at a steady rate).

The baseline, measured in the same run: the same events through the in-process bus (one
process, no database), which is what a proctor on the same process as the candidate gets.

    python bench/cluster_bus.py [--events 20000] [--burst 500] [--rate 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from sitting import load_average, pct

from proctor_server.bus import EventBus
from proctor_server.cluster import signals as cs
from proctor_server.cluster.postgres import PostgresCluster
from shared import proctor_protocol as pp
from shared.states import AttemptState
from shared.timeutil import to_wire
from shared.vocabulary import Mode, ViolationKind
from tests.support.postgres import running_cluster

EXAM = "e-bench"


def events(n: int) -> list[pp.AttemptEvent]:
    now = to_wire(datetime.now(UTC))
    out: list[pp.AttemptEvent] = []
    for i in range(n):
        if i % 2:
            out.append(pp.Joined(exam=EXAM, at=now, attempt=f"a-{i:06d}", candidate=f"C{i:05d}",
                                 name="Z** S****", mode=Mode.EXAM, state=AttemptState.WAITING,
                                 resumed=False))  # fmt: skip
        else:
            out.append(pp.Flag(exam=EXAM, at=now, attempt=f"a-{i:06d}", candidate=f"C{i:05d}",
                               kind=ViolationKind.MULTIPLE_FACES, confidence=0.9, snapshot=None))  # fmt: skip
    return out


class Timed:
    """A receiver that notes when each event arrived."""

    def __init__(self, expected: int) -> None:
        self.arrived: list[float] = []
        self.expected = expected
        self.done = asyncio.Event()

    def on_event(self, exam: str, frame: str) -> None:
        self.arrived.append(time.perf_counter())
        if len(self.arrived) >= self.expected:
            self.done.set()

    async def on_signal(self, signal: cs.AttemptSignal) -> bool:
        return False

    def present(self) -> list[str]:
        return []


async def through_cluster(
    dsn: str, batch: list[pp.AttemptEvent], burst: int, pace: float = 0.0
) -> tuple[float, list[float]]:
    a, b = PostgresCluster(dsn), PostgresCluster(dsn)
    timed = Timed(len(batch))
    await a.start(Timed(0))
    await b.start(timed)
    bus = EventBus(a)
    sent: list[float] = []
    try:
        t0 = time.perf_counter()
        for i in range(0, len(batch), burst):
            for event in batch[i : i + burst]:
                sent.append(time.perf_counter())
                bus.publish(EXAM, event)
            await asyncio.sleep(pace)  # a burst per event-loop turn, as handlers publish
        await asyncio.wait_for(timed.done.wait(), 300)
        wall = time.perf_counter() - t0
    finally:
        await a.close()
        await b.close()
    return wall, [(r - s) * 1000 for s, r in zip(sent, timed.arrived, strict=True)]


async def in_process(batch: list[pp.AttemptEvent], burst: int) -> tuple[float, list[float]]:
    bus = EventBus()
    sub = bus.subscribe(EXAM)
    sub.queue = asyncio.Queue()  # unbounded here: the reader below keeps up anyway
    sent: list[float] = []
    arrived: list[float] = []

    async def read() -> None:
        while len(arrived) < len(batch):
            await sub.get()
            arrived.append(time.perf_counter())

    reader = asyncio.create_task(read())
    t0 = time.perf_counter()
    for i in range(0, len(batch), burst):
        for event in batch[i : i + burst]:
            sent.append(time.perf_counter())
            bus.publish(EXAM, event)
        await asyncio.sleep(0)
    await reader
    return time.perf_counter() - t0, [(r - s) * 1000 for s, r in zip(sent, arrived, strict=True)]


async def run(args: argparse.Namespace) -> None:
    batch = events(args.events)
    size = statistics.mean(len(pp.encode(e)) for e in batch[:100])
    print(
        f"{args.events} events of about {size:.0f} bytes, in bursts of {args.burst}; load {load_average()}"
    )
    base_wall, base = await in_process(batch, args.burst)
    step = 0.01  # paced: rate/100 events every 10 ms
    paced_batch = batch[: int(args.rate * 5)]
    for cluster in running_cluster(durable=True):
        wall, lat = await through_cluster(cluster.create("bus"), batch, args.burst)
        _, paced = await through_cluster(
            cluster.create("paced"), paced_batch, max(1, int(args.rate * step)), step
        )
    for name, w, ms in (
        ("in-process bus (baseline)", base_wall, base),
        ("between processes (NOTIFY)", wall, lat),
    ):
        print(
            f"{name:<28} {len(ms) / w:9.0f} events/s   latency p50 {pct(ms, 0.5):7.2f}  p99 {pct(ms, 0.99):7.2f}  max {max(ms):7.2f} ms"
        )
    print(
        f"paced at {args.rate:g} events/s for 5 s, between processes: latency p50 "
        f"{pct(paced, 0.5):.2f}  p99 {pct(paced, 0.99):.2f}  max {max(paced):.2f} ms"
    )
    print(
        f"ratio: p99 {pct(lat, 0.99) / max(pct(base, 0.99), 1e-3):.0f}x the in-process bus; throughput {args.events / wall:.0f} events/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2000.0, help="events a second, paced")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
