"""Server memory per candidate sitting the exam, against a bare server's idle connection.

`ramp.py` measures candidates idle after `welcome`, before the paper. A candidate reading a
question is just as idle on the wire, but the server then also holds their attempt: its paper
under its own ids, its order, its quota. This benchmark enters N candidates (default 2,000) all
the way into the exam: hello, the rules accepted, the mailing address, the identity photo, the
paper received, then a heartbeat. They then stay connected, idle, and the server's resident
memory per candidate is read (VmRSS after minus before, over N; as `ramp.py` reads it). The bare
server (`sitting.BARE_SERVER`) gets the same number of connections, each after a hello and its
welcome. The two servers take turns over the rounds, each in a fresh process.

The exam's paper has 40 questions of four options (`sitting.sitting`), or `--questions`.

    python bench/exam_memory.py [--candidates 2000] [--rounds 2] [--questions 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from ramp import rss
from sitting import Proc, bare_server, hello, into_exam, sitting
from websockets.asyncio.client import ClientConnection, connect

from shared import protocol as p

CONCURRENCY = 50  # candidates entering at once


async def enter(url: str, ticket: str, in_exam: bool) -> ClientConnection:
    """One candidate, connected and idle: in the exam with its paper, or only welcomed."""
    ws = await connect(url, compression=None, max_size=None)
    await ws.send(hello(ticket))
    await ws.recv()
    if in_exam:
        await into_exam(ws, ticket)
    # then a heartbeat, as the app sends them: `websockets` keeps the last frame it parsed (the
    # photo's, until then) until the next one arrives
    await ws.send(p.encode(p.Heartbeat()))
    while not isinstance(p.decode_server(await ws.recv()), p.HeartbeatAck):
        pass
    return ws


async def per_candidate(server: Proc, url: str, tickets: list[str], in_exam: bool) -> float:
    """Bytes of the server's resident memory per connected candidate. One candidate enters
    first and is not counted: what the first entry loads once (the identity check's code, the
    exam's questions) is not a candidate's."""
    first = await enter(url, tickets[-1], in_exam)
    await asyncio.sleep(1.0)  # the server settles
    before = rss(server.proc.pid)
    queue = tickets[:-1]
    sockets: list[ClientConnection] = [first]

    async def worker() -> None:
        while queue:
            sockets.append(await enter(url, queue.pop(), in_exam))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    await asyncio.sleep(2.0)  # everyone idle: what the entry left behind is collected
    spent = (rss(server.proc.pid) - before) / (len(tickets) - 1)
    for ws in sockets:
        await ws.close()
    return spent


async def run(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    work = Path(tempfile.mkdtemp(prefix="proctor-bench-"))
    ours: list[float] = []
    bare: list[float] = []
    for r in range(args.rounds):
        db = work / f"round-{r}.db"
        tickets = await sitting(
            db, args.candidates, starts_in=-timedelta(minutes=1), questions=args.questions
        )
        turns = [("ours", True), ("bare", False)]
        for name, in_exam in turns if r % 2 == 0 else turns[::-1]:
            if name == "ours":
                command = [sys.executable, "-m", "proctor_server.cli", "serve", "--db", str(db)]
                server = Proc([*command, "--port", "0", "--analysis", "basic"])
                url = server.candidate
            else:
                server = Proc(bare_server())
                url = server.candidate
            try:
                spent = await per_candidate(server, url, tickets, in_exam)
            finally:
                server.stop()
            (ours if name == "ours" else bare).append(spent)
            print(f"round {r + 1}, {name}: {spent / 1024:.1f} KiB a candidate", flush=True)
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=40, help="questions in the paper")
    args = parser.parse_args()
    ours, bare = asyncio.run(run(args))
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    print(
        f"memory per candidate in the exam: ours {median(ours) / 1024:.1f} KiB "
        f"({args.questions} questions), bare websockets {median(bare) / 1024:.1f} KiB "
        f"-> {median(ratios):.2f}x (rounds {', '.join(f'{x:.2f}x' for x in ratios)}); "
        f"{args.rounds} x {args.candidates} candidates"
    )


if __name__ == "__main__":
    main()
