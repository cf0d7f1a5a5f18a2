"""The proctor's first snapshot of an exam of 1,000 attempts, against a bare `websockets`
server sending the same bytes (aim: at most 3x). Figures, not a test.

The exam server (`proctor-server serve`, its own process) holds 1,000 candidates in the exam,
a third of them with a violation; a bare server (its own process) answers every connection
with one text frame, the very bytes the exam server's snapshot was. This process opens
`/ws/proctor?token=T` on each, `--runs` rounds, and times each from the start of the
connection to the whole snapshot received; the servers' CPU (user + system, /proc) is read
around each. The first proctor ever to open the exam, once the candidates are in, waits for a
read of the grid (timed once, "first ever"); from then on the exam is warm
(`console/grid_cache.py`: its grid read again in the background every 2 s). A round: 3.2 s
after the last proctor left (past the 3 s for which a read is given out, so that on a server
without warm exams this proctor would wait for a read of its own), a proctor opens the exam
("first in 3 s"); at once another ("at once after"); then the bare server; then the same
proctor on a second exam server on the same database whose exams are never warm
(`--grid-warm 0`: "cold read", a read of its own, as the first proctor on a process or after
the exam cooled; the candidates are not connected to it, so its snapshot's connection
column is empty, about 5 KB less). Between rounds, with no proctor following, the warm
server's CPU and its store thread's are read: what keeping the exam warm costs.

    python bench/console_snapshot.py [--candidates 1000] [--runs 30] [--warm 600]

`--warm 0` runs the exam server with no warm exams, as before them: "first in 3 s" is then a
read of its own, and the idle CPU that of a server keeping nothing warm.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_load import drain, exam_server, prepare, seat_all
from sitting import CHEAPEST_ALLOCATOR, Proc, load_average
from websockets.asyncio.client import connect

from proctor_server.console.grid_cache import MAX_AGE
from shared import protocol as p
from shared.vocabulary import EventKind

BARE_SERVER = r"""
import asyncio, sys
from websockets.asyncio.server import serve
FRAME = open(sys.argv[1], "rb").read()
async def handler(ws):
    await ws.send(FRAME, text=True)
    async for _ in ws:
        pass
async def main():
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        print("listening on http://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


SERIES = ("first in 3 s", "at once after", "bare", "cold read")


async def first_frame(url: str) -> tuple[float, bytes]:
    """Seconds from the connection's start to its first whole frame, and the frame."""
    start = time.perf_counter()
    async with connect(url, compression=None, max_size=None) as ws:
        frame = await ws.recv(decode=False)
        took = time.perf_counter() - start
    return took, frame


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        s = await prepare(db, args.candidates)
        ours = exam_server(db, "--grid-warm", str(args.warm))
        try:
            await seat_all(ours.ws, s)
            readers = [asyncio.create_task(drain(ws)) for ws in s.candidates]
            # a third with a violation, so that the risk is scored for them
            for ws in s.candidates[: len(s.candidates) // 3]:
                await ws.send(p.encode(p.Event(id=uuid.uuid4().hex, kind=EventKind.FOCUS_LOST)))
            await asyncio.sleep(1)  # their acks and violations stored
            url = f"{ours.ws}/ws/proctor?token={s.proctor_token}"
            first_ever, frame = await first_frame(url)
            snapshot = Path(tmp) / "snapshot.json"
            snapshot.write_bytes(frame)
            bare = Proc([sys.executable, "-c", BARE_SERVER, str(snapshot)], env=CHEAPEST_ALLOCATOR)
            cold = exam_server(db, "--grid-warm", "0")
            cold_url = f"{cold.ws}/ws/proctor?token={s.proctor_token}"
            times: dict[str, list[float]] = {name: [] for name in SERIES}
            cpu = dict.fromkeys(SERIES, 0.0)
            idle = idle_cpu = idle_store = 0.0
            try:
                await first_frame(cold_url)  # its exam loaded, as the warm server's is
                for _ in range(args.runs):
                    before, store, began = ours.cpu(), ours.thread_cpu(), time.perf_counter()
                    await asyncio.sleep(MAX_AGE.total_seconds() + 0.2)  # nobody follows
                    idle += time.perf_counter() - began
                    idle_cpu += ours.cpu() - before
                    idle_store += ours.thread_cpu()["other threads"] - store["other threads"]
                    for name, proc, where in zip(
                        SERIES, (ours, ours, bare, cold), (url, url, bare.ws, cold_url), strict=True
                    ):
                        before = proc.cpu()
                        took, got = await first_frame(where)
                        cpu[name] += proc.cpu() - before
                        assert len(got) > 0.9 * len(frame)
                        times[name].append(took)
            finally:
                bare.stop()
                cold.stop()
            for task in readers:
                task.cancel()
            await s.close()
        finally:
            ours.stop()
    b = statistics.median(times["bare"]) * 1000
    print(f"{args.candidates} attempts in the exam; snapshot {len(frame) / 1024:.0f} KB; "
          f"{args.runs} runs each; load average {load_average()}")  # fmt: skip
    print(f"  first ever (one): {first_ever * 1000:.1f} ms ({first_ever * 1000 / b:.1f}x)")
    for name in SERIES:
        t = sorted(x * 1000 for x in times[name])
        print(f"  {name:>13}: min {t[0]:.1f} / median {statistics.median(t):.1f} / "
              f"max {t[-1]:.1f} ms ({statistics.median(t) / b:.1f}x the bare server); "
              f"server CPU {cpu[name] / args.runs * 1000:.1f} ms a snapshot "
              "(averaged over the runs)")  # fmt: skip
    print(f"  with nobody following, the exam server used {idle_cpu / idle * 1000:.1f} ms of CPU "
          f"a second, its threads but the event loop's (the store's) {idle_store / idle * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--warm",
        type=float,
        default=600.0,
        help="the exam server's --grid-warm (0: exams never warm, every 'first in 3 s' reads)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
