"""Answer-ack latency with a busy neighbour and no live media at all: is an ack tail seen with
live streams the media's, or the machine's?

The exam server (`serve --no-media`) and this process run on CPU 0; between series of acks, a
process that sorts and rewrites a 64 MB array (more than the caches hold) runs at niceness 10
on CPU 1, as the media process's decoding would. Each series is answered by 3 fresh
candidates (within the answer quota), 900 acks, the phases alternating.

    python bench/ack_neighbour.py [--rounds 2] [--answers 900]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import SERIES_PART, ack_latencies, enter, p99, series
from sitting import Proc, load_average, sitting

NEIGHBOUR = (
    "import numpy as np\n"
    "a = np.random.rand(8_000_000)\n"
    "while True:\n"
    "    a.sort()\n"
    "    a[:] = np.random.rand(a.size)\n"
)


async def run(rounds: int, answers: int) -> None:
    os.sched_setaffinity(0, {0})
    per = -(-answers // SERIES_PART)
    phases = ["alone", "busy neighbour"] * rounds
    work = Path(tempfile.mkdtemp(prefix="proctor-bench-neighbour-"))
    tickets = await sitting(
        work / "bench.db", per * len(phases) + 1, starts_in=-timedelta(minutes=1)
    )
    server = Proc(
        [
            *("taskset", "-c", "0", sys.executable, "-m", "proctor_server.cli", "serve"),
            *("--db", str(work / "bench.db"), "--port", "0", "--analysis", "basic"),
            "--no-media",
        ]
    )
    try:
        warm = await enter(server.candidate, tickets[-1])
        await ack_latencies(*warm, 100)
        for k, phase in enumerate(phases):
            candidates = [
                await enter(server.candidate, t) for t in tickets[per * k : per * k + per]
            ]
            neighbour = None
            if phase != "alone":
                neighbour = subprocess.Popen(  # noqa: ASYNC220 - outside the timed series
                    ["taskset", "-c", "1", "nice", "-n", "10", sys.executable, "-c", NEIGHBOUR]
                )
            await asyncio.sleep(3)
            try:
                acks = await series(candidates, answers)
            finally:
                if neighbour is not None:
                    neighbour.terminate()
                    neighbour.wait()
            print(
                f"{phase:15s} ack p50 {statistics.median(acks):.2f} ms, p99 {p99(acks):.2f} ms "
                f"({len(acks)} acks; load average {load_average()})",
                flush=True,
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--answers", type=int, default=900)
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two CPUs: 0 for the server, 1 for the neighbour")
    asyncio.run(run(args.rounds, args.answers))


if __name__ == "__main__":
    main()
