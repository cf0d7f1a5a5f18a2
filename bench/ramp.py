"""The first minutes of a sitting: thousands of candidates ramping in, against a bare server.

N candidates (default 10,000) connect over W seconds (default 10), each at its own random
moment, send `hello` and wait for `welcome`; then they stay connected, idle. The same ramp runs
against the exam server (`proctor-server serve`, a fresh process each round, on a database with
fresh tickets for an exam whose entry window is open) and against a bare `websockets` server
that answers a hello with a welcome-sized frame and does nothing else, the two alternating over
the rounds, so the machine's noise hits both alike. Both servers get the same listen backlog.

Per round and server it prints: the share of candidates welcomed within W seconds of the ramp's
start, the join time (from the candidate's planned moment to its welcome, so a connection
waiting in the kernel's queue counts) p50/p99/max, the kernel's listen-queue overflows during
the ramp (`netstat -s` counters from /proc/net/netstat), the longest gap seen by a probe (one
more connection, in its own process, sending a WebSocket ping every 100 ms: the longest the
server's event loop did not answer; a ping, not the app's heartbeat, which the server rate-limits
as a client's message), and the server's resident memory per idle candidate
once everyone is in (VmRSS after minus before, over N).

The load comes from worker processes (default 2), so the generator is not one busy event loop.

    python bench/ramp.py [--candidates 10000] [--window 10] [--rounds 3] [--backlog 4096]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's code, not an installed copy

from sitting import bare_server, sitting  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from shared import protocol as p  # noqa: E402

# ------------------------------------------------------------------ the worker processes


def _frame(text: str) -> bytes:
    """A client's text frame: FIN, masked with a zero key (legal, and the payload stays as is)."""
    data = text.encode()
    n = len(data)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return b"\x81" + size + b"\0\0\0\0" + data


async def _read_text(reader: asyncio.StreamReader) -> bytes:
    """The next text frame from the server (pings and other frames skipped)."""
    while True:
        head = await reader.readexactly(2)
        n = head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(await reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(n)
        if head[0] & 0x0F == 0x1:
            return payload


async def _worker(job: dict[str, Any]) -> None:
    """Join the tickets at their moments, report, hold the connections until told to close.

    Each candidate is a bare WebSocket client over asyncio streams (a fixed upgrade request,
    one masked frame out, one frame in): a full client library per connection would make the
    load generator, not the server, the bottleneck of 1,000 joins a second on 2 cores."""
    url, t0 = job["url"], job["t0"]
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    upgrade = (
        f"GET /ws/candidate HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    results: list[tuple[float, float, str]] = []  # (planned offset, join seconds, error)
    writers: list[asyncio.StreamWriter] = []

    async def one(ticket: str, offset: float) -> None:
        await asyncio.sleep(max(0.0, t0 + offset - time.time()))
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writers.append(writer)
            writer.write(upgrade)
            response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 120)
            if b" 101 " not in response.split(b"\r\n", 1)[0]:
                raise ConnectionError("refused")
            writer.write(_frame(p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=ticket))))
            reply = await asyncio.wait_for(_read_text(reader), 120)
            error = "" if b'"welcome"' in reply else reply[:80].decode(errors="replace")
        except Exception as exc:  # counted, not fatal: the figures are what matter
            error = type(exc).__name__
        results.append((offset, time.time() - t0 - offset, error))

    await asyncio.gather(*(one(t, o) for t, o in zip(job["tickets"], job["offsets"], strict=True)))
    print(json.dumps(results), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for writer in writers:
        writer.transport.abort()


async def _probe(job: dict[str, Any]) -> None:
    """One connection sending a WebSocket ping every 100 ms until told to stop; reports the gaps.
    A ping is answered by the server's event loop like any message, but is not one of the app's
    messages, whose rate the server limits (10 heartbeats a second would be refused)."""
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, lambda: (sys.stdin.readline(), loop.call_soon_threadsafe(stop.set)))
    async with connect(job["url"], compression=None, ping_interval=None) as ws:
        await ws.send(p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=job["ticket"])))
        await ws.recv()
        print("ready", flush=True)

        async def drain() -> None:  # read what the server sends, so its pongs are read too
            async for _ in ws:
                pass

        reader = asyncio.create_task(drain())
        while not stop.is_set():
            sent = time.perf_counter()
            await (await ws.ping())
            samples.append((time.time() - job["t0"], time.perf_counter() - sent))
            await asyncio.sleep(0.1)
        reader.cancel()
    print(json.dumps(samples), flush=True)


def worker_main(kind: str) -> None:
    print("ready", flush=True)  # imports done: the job (with its start time) comes next
    job = json.loads(sys.stdin.readline())
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_worker(job) if kind == "worker" else _probe(job))


class Child:
    def __init__(self, kind: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), f"--{kind}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE.parent,
            env=os.environ | {"PYTHONPATH": str(HERE.parent)},
        )
        assert self.read() == "ready"

    def send(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        return line.strip() if line.strip() == "ready" else json.loads(line)

    def tell(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self) -> None:
        self.proc.wait(timeout=120)


# ------------------------------------------------------------------ servers and measures


def rss(pid: int) -> int:
    for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
        if ln.startswith("VmRSS:"):
            return int(ln.split()[1]) * 1024
    return 0


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def listen_overflows() -> int:
    """TcpExt ListenOverflows, machine-wide (only this benchmark listens on loopback here)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for head, vals in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            names, values = head.split()[1:], vals.split()[1:]
            return int(dict(zip(names, values, strict=True))["ListenOverflows"])
    return 0


class Proc:
    def __init__(self, args: list[str]):
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE.parent
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on"), line
        self.ws = line.split()[-1].replace("http://", "ws://") + "/ws/candidate"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(name: str, db: Path, backlog: int, extra: list[str], bare_loop: str) -> Proc:
    if name == "bare":
        return Proc(bare_server(backlog, bare_loop))
    args = [sys.executable, "-m", "proctor_server.cli", "serve", "--db", str(db), "--port", "0"]
    args += ["--analysis", "basic"] + (["--backlog", str(backlog)] if backlog else []) + extra
    return Proc(args)


@dataclass
class Round:
    server: str
    within: float  # share welcomed within the window
    p50: float
    p99: float
    worst: float
    errors: dict[str, int]
    overflows: int
    stall: float  # the probe's longest heartbeat round trip, seconds
    per_idle: float  # bytes of server RSS per idle candidate
    extra: dict[str, float] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def one_round(name: str, server: Proc, tickets: list[str], args: argparse.Namespace) -> Round:
    rng = random.Random(args.seed)
    n = len(tickets) - 1  # the last ticket is the probe's
    offsets = [rng.uniform(0, args.window) for _ in range(n)]
    time.sleep(1.0)  # the server settles after start-up
    base_rss = rss(server.proc.pid)
    probe = Child("probe")
    workers = [Child("worker") for _ in range(args.workers)]
    t0 = time.time() + 1.0
    probe.send({"url": server.ws, "ticket": tickets[-1], "t0": t0})
    assert probe.read() == "ready"
    before_overflows, busy_before, started = listen_overflows(), machine_busy(), time.time()
    for k, w in enumerate(workers):
        w.send(
            {
                "url": server.ws,
                "t0": t0,
                "tickets": tickets[k : n : args.workers],
                "offsets": offsets[k : n : args.workers],
            }
        )
    results: list[tuple[float, float, str]] = []
    for w in workers:
        results.extend(w.read())
    overflows = listen_overflows() - before_overflows
    busy = (machine_busy() - busy_before) / (time.time() - started)
    time.sleep(2.0)  # everyone idle
    per_idle = (rss(server.proc.pid) - base_rss) / n
    probe.tell()
    samples: list[tuple[float, float]] = probe.read()
    for w in [*workers, probe]:
        if w is not probe:
            w.tell()
        w.wait()
    errors: dict[str, int] = {}
    for _, _, error in results:
        if error:
            errors[error] = errors.get(error, 0) + 1
    joined = [(o, s) for o, s, e in results if not e]
    within = sum(1 for o, s in joined if o + s <= args.window) / n
    times = [s for _, s in joined] or [0.0]
    during = [h for t, h in samples if t <= args.window + 5] or [0.0]
    return Round(
        name,
        within,
        pct(times, 0.5),
        pct(times, 0.99),
        max(times),
        errors,
        overflows,
        max(during),
        per_idle,
        {"busy": busy},
    )


def run(args: argparse.Namespace) -> list[Round]:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    work = Path(tempfile.mkdtemp(prefix="proctor-ramp-"))
    db = work / "ramp.db"
    per_round = args.candidates + 1
    # entry open, nobody gets a paper
    tickets = asyncio.run(
        sitting(db, per_round * args.rounds, starts_in=timedelta(minutes=20), title="Ramp")
    )
    out: list[Round] = []
    extra = args.serve_arg or []
    for r in range(args.rounds):
        mine = tickets[r * per_round : (r + 1) * per_round]
        order = ("bare", "ours") if r % 2 == 0 else ("ours", "bare")
        for name in order:
            server = start_server(name, db, args.backlog, extra, args.bare_loop)
            try:
                result = one_round(name, server, mine, args)
            finally:
                server.stop()
            out.append(result)
            print(describe(result, args), flush=True)
    return out


def describe(r: Round, args: argparse.Namespace) -> str:
    errors = ", ".join(f"{k} {v}" for k, v in r.errors.items()) or "none"
    return (
        f"{r.server:<4}  within {args.window:g} s {r.within:6.1%}  join p50 {r.p50 * 1000:6.0f} "
        f"p99 {r.p99 * 1000:6.0f} max {r.worst * 1000:6.0f} ms  overflows {r.overflows:5d}  "
        f"probe max {r.stall * 1000:5.0f} ms  {r.per_idle / 1024:5.1f} KiB/idle  "
        f"machine busy {r.extra.get('busy', 0.0):.2f} cores  errors: {errors}"
    )


def summary(rounds: list[Round]) -> None:
    bare = [r for r in rounds if r.server == "bare"]
    ours = [r for r in rounds if r.server == "ours"]

    def spread(values: list[float], fmt: str) -> str:
        v = sorted(values)
        return f"{fmt.format(v[0])} / {fmt.format(v[len(v) // 2])} / {fmt.format(v[-1])}"

    pairs = list(zip(bare, ours, strict=True))
    print("min / median / max over the rounds (each ratio against the bare server of its round):")
    print(
        f"  share within the window: ours {spread([o.within for o in ours], '{:.1%}')}, "
        f"bare {spread([b.within for b in bare], '{:.1%}')}, ratio "
        f"{spread([o.within / b.within if b.within else 0.0 for b, o in pairs], '{:.2f}')} "
        "(target >= 0.95)"
    )
    print(
        f"  join p99: ours {spread([o.p99 * 1000 for o in ours], '{:.0f}')} ms, bare "
        f"{spread([b.p99 * 1000 for b in bare], '{:.0f}')} ms, ratio "
        f"{spread([o.p99 / b.p99 for b, o in pairs], '{:.2f}')} (target <= 2)"
    )
    print(
        f"  memory per idle candidate: ours {spread([o.per_idle / 1024 for o in ours], '{:.1f}')} "
        f"KiB, bare {spread([b.per_idle / 1024 for b in bare], '{:.1f}')} KiB, ratio "
        f"{spread([o.per_idle / b.per_idle for b, o in pairs], '{:.2f}')} (target <= 1.2)"
    )
    print(
        f"  probe's longest wait: ours {spread([o.stall * 1000 for o in ours], '{:.0f}')} ms, "
        f"bare {spread([b.stall * 1000 for b in bare], '{:.0f}')} ms"
    )


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] in ("--worker", "--probe"):
        worker_main(sys.argv[1][2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=10.0, help="ramp length in seconds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--backlog", type=int, default=0, help="listen backlog for both servers (0: their default)"
    )
    parser.add_argument(
        "--serve-arg", action="append", help="one more argument for `proctor-server serve`"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--bare-loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the bare server's event loop (default asyncio's, the aims' baseline; uvloop is "
        "the exam server's)",
    )
    args = parser.parse_args()
    print(
        f"ramp: {args.candidates} candidates over {args.window:g} s, {args.rounds} rounds, "
        f"{args.workers} load processes, backlog {args.backlog or 'default'}, bare server on "
        f"{args.bare_loop}; "
        f"net.core.somaxconn {Path('/proc/sys/net/core/somaxconn').read_text().strip()}; "
        f"{os.cpu_count()} cores"
    )
    summary(run(args))


if __name__ == "__main__":
    main()
