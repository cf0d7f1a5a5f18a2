"""Server CPU per join and per acknowledged answer, as ratios to a bare `websockets` server
doing the same I/O, measured in the same run.

The bare server answers a hello with a welcome-sized frame and every message carrying an id
with an ack, and does nothing else (`sitting.BARE_SERVER`). It runs twice: on asyncio's own
event loop (the baseline of the aims) and on uvloop, the exam server's loop (`serve
--event-loop`), so that the exam server's own share shows apart from what its loop saves. Both
run with the C library's allocator set for their cheapest messages (`sitting.CHEAPEST_ALLOCATOR`):
otherwise the one on asyncio pays an mmap and a munmap per message or not, depending on what it
happened to allocate first, and the baseline moves by a fifth from run to run. The exam server
does the real work: ticket lookup, entry rules, attempt creation with its seed and
order, the watermark nonce, each answer validated, committed (grouped transactions,
synchronous=FULL) and then acknowledged.

A third server is the bare one that also keeps what it acknowledges (`sitting.DURABLE_SERVER`):
each message with an id stored once, as a row with a unique (connection, id) key, in SQLite
with synchronous=FULL, in grouped commits on a thread of its own, before its ack. Nothing else.
Its answer against the bare server's is what an acknowledgement that means "stored, once"
costs when done as simply as it can be; the exam server's answer is printed against it too.

The servers run as separate processes; their CPU time (user + system, from /proc) is read
before and after each phase. The load comes from this process over loopback. The servers take
turns, a round at a time, each round in another order; the ratio of each round is printed too
(median, lowest, highest), since on a shared machine one noisy phase moves a whole run's ratio.

    python bench/server_cpu.py [--joins 500] [--candidates 50] [--answers 80] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from sitting import (
    CHEAPEST_ALLOCATOR,
    Proc,
    bare_server,
    durable_server,
    hello,
    into_exam,
    pct,
    sitting,
)
from websockets.asyncio.client import connect

from shared import protocol as p


async def joins(url: str, tickets: list[str], concurrency: int = 20) -> None:
    queue = list(tickets)

    async def worker() -> None:
        while queue:
            ticket = queue.pop()
            async with connect(url, compression=None) as ws:
                await ws.send(hello(ticket))
                reply = await ws.recv()
                assert '"welcome"' in str(reply), reply

    await asyncio.gather(*(worker() for _ in range(concurrency)))


class Measure(Protocol):
    def cpu(self) -> float:
        """Called as the measured answers start and as they end: the server's CPU seconds."""
        ...


class Phase:
    """A server's CPU over a phase (joins, `answer_load`), noting its CPU per thread at the
    same moments."""

    def __init__(self, server: Proc):
        self.server = server
        self.threads: list[dict[str, float]] = []

    def cpu(self) -> float:
        self.threads.append(self.server.thread_cpu())
        return self.server.cpu()

    def by_thread(self) -> dict[str, float]:
        """CPU seconds per thread between the first and the last reading."""
        first, last = self.threads[0], self.threads[-1]
        return {k: v - first.get(k, 0.0) for k, v in last.items()}


def add_up(into: dict[str, float], seconds: dict[str, float]) -> None:
    """Add one phase's CPU seconds per thread to the run's."""
    for thread, spent in seconds.items():
        into[thread] = into.get(thread, 0.0) + spent


async def answer_load(
    url: str, tickets: list[str], answers: int, measure: Measure, acks: list[float]
) -> tuple[float, int]:
    """Enter every candidate (not measured), then send answers and wait for each ack."""
    sockets = []
    papers: list[p.Paper | None] = []
    for ticket in tickets:
        ws = await connect(url, compression=None, max_size=None)
        await ws.send(hello(ticket))
        await ws.recv()
        # the rules accepted and the address given: no paper without them
        paper = None if "bare" in url else await into_exam(ws, ticket)
        sockets.append(ws)
        papers.append(paper)

    async def candidate(ws: object, paper: p.Paper | None) -> None:
        from websockets.asyncio.client import ClientConnection

        assert isinstance(ws, ClientConnection)
        for k in range(answers):
            if paper is not None:
                q = paper.questions[k % len(paper.questions)]
                msg = p.Answer(
                    id=uuid.uuid4().hex, question=q.id, choice=[q.options[k % len(q.options)].id]
                )
            else:
                msg = p.Answer(id=uuid.uuid4().hex, question="q", choice=["o"])
            sent = time.perf_counter()
            await ws.send(p.encode(msg))
            while True:
                reply = p.decode_server(await ws.recv())
                if isinstance(reply, p.Ack) and reply.id == msg.id:
                    break
            acks.append(time.perf_counter() - sent)

    before = measure.cpu()
    await asyncio.gather(*(candidate(ws, paper) for ws, paper in zip(sockets, papers, strict=True)))
    spent = measure.cpu() - before
    for ws in sockets:
        await ws.close()
    return spent, len(tickets) * answers


async def run(args: argparse.Namespace) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="proctor-bench-"))
    db = work / "bench.db"
    per_round = args.joins + args.candidates
    tickets = await sitting(db, per_round * args.rounds, starts_in=-timedelta(minutes=1))

    servers = {
        name: Proc(bare_server(loop=loop), env=CHEAPEST_ALLOCATOR)
        for name, loop in (("bare", "asyncio"), ("bare_uvloop", "uvloop"))
    }
    servers["durable"] = Proc(durable_server(work / "durable.db"), env=CHEAPEST_ALLOCATOR)
    servers["ours"] = Proc(
        [
            sys.executable,
            "-m",
            "proctor_server.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            "0",
            "--analysis",
            "basic",
            *(args.serve_arg or []),
        ]
    )
    for name in ("bare", "bare_uvloop", "durable"):
        servers[name].candidate += "?bare"
    named = list(servers.items())
    # each phase's CPU, a list per server and phase, a round at a time
    rounds: dict[str, list[float]] = {f"{n}_{w}": [] for n in servers for w in ("join", "answer")}
    by_thread: dict[str, float] = {}  # the exam server's join CPU per thread
    answer_threads: dict[str, float] = {}  # and its answer CPU per thread
    answers = 0
    acks: dict[str, list[float]] = {name: [] for name in servers}
    try:
        for r in range(args.rounds):
            mine = tickets[r * per_round : (r + 1) * per_round]
            # each round in another order, so that neither drift nor the position in a round
            # favours one server
            turn = r % len(servers)
            order = named[turn:] + named[:turn]
            for name, server in order:
                phase = Phase(server)
                before = phase.cpu()
                await joins(server.candidate, mine[: args.joins])
                rounds[f"{name}_join"].append(phase.cpu() - before)
                if name == "ours":
                    add_up(by_thread, phase.by_thread())
            for name, server in order:
                phase = Phase(server)
                cpu, count = await answer_load(
                    server.candidate, mine[args.joins :], args.answers, phase, acks[name]
                )
                rounds[f"{name}_answer"].append(cpu)
                if name == "ours":
                    add_up(answer_threads, phase.by_thread())
            answers += count
        joined = args.joins * args.rounds
        return {
            **{f"{name}_join_ms": sum(rounds[f"{name}_join"]) / joined * 1000 for name in servers},
            **{
                f"{name}_answer_ms": sum(rounds[f"{name}_answer"]) / answers * 1000
                for name in servers
            },
            **{f"thread_{k}_join_ms": v / joined * 1000 for k, v in by_thread.items() if v},
            **{f"answer_{k}_ms": v / answers * 1000 for k, v in answer_threads.items() if v},
            **{f"{k}_ack_p{q}": pct(v, q / 100) * 1000 for k, v in acks.items() for q in (50, 99)},
            **{
                f"round_{what}_{r}": ours / bare if bare > 0 else 0.0
                for what in ("join", "answer")
                for r, (ours, bare) in enumerate(
                    zip(rounds[f"ours_{what}"], rounds[f"bare_{what}"], strict=True)
                )
            },
            **{
                f"round_durable_{r}": ours / kept if kept > 0 else 0.0
                for r, (ours, kept) in enumerate(
                    zip(rounds["ours_answer"], rounds["durable_answer"], strict=True)
                )
            },
        }
    finally:
        for server in servers.values():
            server.stop()


def per_thread(f: dict[str, float], prefix: str, suffix: str) -> str:
    """The figures named `prefix` THREAD `suffix`, as "THREAD 0.123 ms, ..."."""
    return ", ".join(
        f"{k[len(prefix) : -len(suffix)]} {v:.3f} ms" for k, v in f.items() if k.startswith(prefix)
    )


def spread(f: dict[str, float], prefix: str) -> str:
    """The ratios of the rounds (the figures named `prefix` N): their median, lowest and
    highest. One noisy phase moves the whole run's ratio; it moves the median of several
    rounds much less."""
    ratios = sorted(v for k, v in f.items() if k.startswith(prefix) and v > 0)
    if not ratios:
        return "no ratio (the rounds are too small to measure)"
    return (
        f"median {median(ratios):.2f}x, from {ratios[0]:.2f}x to {ratios[-1]:.2f}x "
        f"({len(ratios)} rounds)"
    )


def ratio(ours: float, bare: float) -> str:
    """`ours` against `bare`; a run too small for the bare server to register any CPU (one
    clock tick is 10 ms) has no ratio."""
    return f"{ours / bare:.2f}x" if bare > 0 else "no ratio (the run is too small to measure)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=500, help="joins per round")
    parser.add_argument("--candidates", type=int, default=50, help="answering candidates per round")
    parser.add_argument("--answers", type=int, default=80, help="answers per candidate")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--serve-arg", action="append", help="one more argument for `proctor-server serve`"
    )
    args = parser.parse_args()
    f = asyncio.run(run(args))
    for what, aim, count in (
        ("join", 1.5, f"{args.rounds} x {args.joins} joins"),
        ("answer", 2, f"{args.rounds} x {args.candidates} candidates x {args.answers} answers"),
    ):
        ours, bare, bare_uv = (f[f"{n}_{what}_ms"] for n in ("ours", "bare", "bare_uvloop"))
        print(
            f"server CPU per {what}:{' ' * (7 - len(what))}exam server {ours:.3f} ms, bare "
            f"websockets {bare:.3f} ms -> {ratio(ours, bare)} (target <= {aim}x); {count}"
        )
        print(
            f"  against bare websockets on uvloop, the exam server's loop: {bare_uv:.3f} ms -> "
            f"{ratio(ours, bare_uv)}"
        )
        prefix, suffix = ("thread_", "_join_ms") if what == "join" else ("answer_", "_ms")
        print(f"  of which, per thread of the exam server: {per_thread(f, prefix, suffix)}")
        print(f"  round by round, against bare websockets: {spread(f, f'round_{what}_')}")
        if what == "answer":
            kept = f["durable_answer_ms"]
            print(
                f"  against bare websockets that stores each answer once before its ack: "
                f"{kept:.3f} ms -> {ratio(ours, kept)} (that server itself {ratio(kept, bare)} "
                f"the bare one); round by round: {spread(f, 'round_durable_')}"
            )
    print(
        f"answer -> ack: exam server p50 {f['ours_ack_p50']:.1f} p99 {f['ours_ack_p99']:.1f} ms, "
        f"bare p50 {f['bare_ack_p50']:.1f} p99 {f['bare_ack_p99']:.1f} ms, on uvloop p50 "
        f"{f['bare_uvloop_ack_p50']:.1f} p99 {f['bare_uvloop_ack_p99']:.1f} ms"
        + (f"; serve {' '.join(args.serve_arg)}" if args.serve_arg else "")
    )


if __name__ == "__main__":
    main()
