"""Instructions per acknowledged answer, the exam server's and a bare `websockets` server's,
counted by valgrind's callgrind: a measure that does not move with the machine's speed.

`bench/server_cpu.py` measures CPU time, which on a shared or throttled machine drifts by 10 %
or more within the hour, more than most single changes to the answer's path. Instructions do
not drift: the same code and load count the same to a fraction of a per cent, so a change of
a few per cent shows. They are not time: what the kernel does (socket I/O, the WAL's writes
and fsyncs, futexes) is not counted, nor are cache misses, so the aims stay measured by
`server_cpu.py`; this says where the user-space work went.

Each server runs under callgrind in turn, instrumentation off while the candidates enter, on
for their answers. The exam server's threads are counted apart: its event loop (the process's
first thread) and the others (the store's). Needs `valgrind` (Debian's package); each server runs some 50 times
slower under it.

    python bench/server_instructions.py [--candidates 50] [--answers 30] [--serve-arg ARG]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from server_cpu import answer_load
from sitting import Proc, bare_server, sitting


class Counted(Proc):
    """A server process under callgrind, its instrumentation switched on and off from here;
    `cpu()` is the switch, so that `answer_load` turns it on and off around its answers."""

    def __init__(self, args: list[str], out: Path):
        self.out = out
        self.switches = 0
        super().__init__(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--separate-threads=yes",
                f"--callgrind-out-file={out}",
                *args,
            ]
        )

    def cpu(self) -> float:
        self.switches += 1
        state = "on" if self.switches == 1 else "off"
        subprocess.run(
            ["callgrind_control", "-i", state, str(self.proc.pid)], check=True, capture_output=True
        )
        return 0.0

    def instructions(self) -> dict[str, int]:
        """After `stop()`: instructions counted, by "event loop" and "other threads"."""
        counted = {"event loop": 0, "other threads": 0}
        for part in self.out.parent.glob(self.out.name + "-*"):
            found = re.search(r"^totals: (\d+)", part.read_text(errors="replace"), re.M)
            if found:
                thread = "event loop" if part.name.endswith("-01") else "other threads"
                counted[thread] += int(found.group(1))
        return counted


async def count(
    name: str, args: list[str], url_suffix: str, tickets: list[str], answers: int, work: Path
) -> dict[str, int]:
    server = Counted(args, work / f"{name}.callgrind")
    server.candidate += url_suffix
    try:
        await answer_load(server.candidate, tickets, answers, server, [])
    finally:
        server.stop()
    return server.instructions()


async def run(args: argparse.Namespace) -> dict[str, dict[str, int]]:
    work = Path(tempfile.mkdtemp(prefix="proctor-instructions-"))
    db = work / "bench.db"
    tickets = await sitting(db, args.candidates, starts_in=-timedelta(minutes=1))
    counted = {}
    for name, loop in (("bare", "asyncio"), ("bare_uvloop", "uvloop")):
        counted[name] = await count(
            name, bare_server(loop=loop), "?bare", tickets, args.answers, work
        )
    ours = [sys.executable, "-m", "proctor_server.cli", "serve", "--db", str(db)]
    ours += ["--port", "0", "--analysis", "basic", *(args.serve_arg or [])]
    counted["ours"] = await count("ours", ours, "", tickets, args.answers, work)
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--answers", type=int, default=30, help="answers per candidate counted")
    parser.add_argument(
        "--serve-arg", action="append", help="one more argument for `proctor-server serve`"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (Debian: apt-get install valgrind)")
    counted = asyncio.run(run(args))
    n = args.candidates * args.answers
    per = {name: {k: v / n for k, v in c.items()} for name, c in counted.items()}
    total = {name: sum(c.values()) for name, c in per.items()}
    print(
        f"instructions per answer: exam server {total['ours'] / 1000:.1f}k (event loop "
        f"{per['ours']['event loop'] / 1000:.1f}k, other threads "
        f"{per['ours']['other threads'] / 1000:.1f}k), bare websockets "
        f"{total['bare'] / 1000:.1f}k -> {total['ours'] / total['bare']:.2f}x; on uvloop "
        f"{total['bare_uvloop'] / 1000:.1f}k -> {total['ours'] / total['bare_uvloop']:.2f}x; "
        f"{args.candidates} candidates x {args.answers} answers"
    )


if __name__ == "__main__":
    main()
