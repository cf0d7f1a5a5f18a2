"""What the server benchmarks share: an exam with a 40-question bank and its tickets, written
in-process in one transaction, the identity photo their candidates send, their `hello`, and
the server processes they start and measure (CPU time from /proc, the load average)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from shared.protocol import Paper


async def sitting(
    db: Path, count: int, *, starts_in: timedelta, title: str = "Bench", questions: int = 40
) -> list[str]:
    """An exam of `questions` four-option questions starting `starts_in` from now (negative:
    already started), and `count` tickets."""
    from proctor_server import admin
    from proctor_server.store import SqliteStore
    from shared.questions import Question

    store = SqliteStore(db)
    await store.open()
    try:
        exam = await admin.create_exam(
            store,
            title=title,
            starts_at=datetime.now(UTC) + starts_in,
            duration=timedelta(hours=2),
            questions=[
                Question(
                    id=f"q{i}", text=f"Question {i}", options=["a", "b", "c", "d"], answer=[i % 4]
                )
                for i in range(questions)
            ],
        )
        issued = await admin.issue_tickets(
            store, exam.id, [admin.TicketRequest(f"Candidate {i}") for i in range(count)]
        )
        return [t.token for t in issued]
    finally:
        await store.close()


@functools.cache
def identity_photo() -> bytes:
    """A plain 320×240 JPEG the basic identity check accepts."""
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((240, 320, 3), 120, np.uint8))
    assert ok
    return bytes(data)


# The baseline of the server benchmarks, a bare `websockets` server in a process of its own
# (`python -c BARE_SERVER SIZE BACKLOG LOOP`): a hello gets a welcome padded with SIZE bytes,
# a heartbeat its ack, any other message with an id an ack, and nothing else happens; BACKLOG
# is its listen backlog (0: asyncio's own), LOOP its event loop, asyncio or uvloop.
BARE_SERVER = r"""
import asyncio, json, sys
from websockets.asyncio.server import serve
WELCOME = json.dumps({"type": "welcome", "pad": "x" * int(sys.argv[1])})
async def handler(ws):
    async for message in ws:
        if isinstance(message, bytes):
            continue
        m = json.loads(message)
        if m.get("type") == "hello":
            await ws.send(WELCOME)
        elif m.get("type") == "heartbeat":
            await ws.send('{"type": "heartbeat_ack", "server_time": "2026-01-01T00:00:00Z"}')
        elif "id" in m:
            await ws.send(json.dumps({"type": "ack", "id": m["id"]}))
async def main():
    backlog = int(sys.argv[2])
    kwargs = {"backlog": backlog} if backlog else {}
    async with serve(handler, "127.0.0.1", 0, compression=None, **kwargs) as server:
        print("listening on http://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
if sys.argv[3] == "uvloop":
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
"""


WELCOME_SIZE = 600  # the bare server's welcome padding: about the size of a real welcome


# The bare server that also keeps what it acknowledges (`python -c DURABLE_SERVER SIZE DB`, on
# asyncio's loop): each message with an id is stored once before its ack, as the exam server's
# rule says (docs/architecture.md: nothing acknowledged is ever lost). A thread of its own takes
# everything queued, inserts it as a row keyed once by (connection, id) in SQLite (WAL,
# synchronous=FULL, as the exam server's store), commits the group and hands the acks back with
# one wake-up of the event loop. Nothing else: no rules, no attempt, no paper. What it costs
# beyond the bare server is what storing an answer durably and once costs, done simply.
DURABLE_SERVER = r"""
import asyncio, json, queue, sqlite3, sys, threading, uuid
from websockets.asyncio.server import serve
WELCOME = json.dumps({"type": "welcome", "pad": "x" * int(sys.argv[1])})
jobs = queue.SimpleQueue()
def done(futures):
    for future in futures:
        future.set_result(None)
def store(loop):
    db = sqlite3.connect(sys.argv[2], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS kept (conn TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS kept_once ON kept(conn, id)")
    while True:
        group = [jobs.get()]
        while True:
            try:
                group.append(jobs.get_nowait())
            except queue.Empty:
                break
        db.execute("BEGIN IMMEDIATE")
        for conn, ident, body, _ in group:
            db.execute("INSERT INTO kept VALUES (?,?,?) ON CONFLICT DO NOTHING", (conn, ident, body))
        db.execute("COMMIT")
        loop.call_soon_threadsafe(done, [future for *_, future in group])
async def handler(ws):
    conn, loop = uuid.uuid4().hex[:16], asyncio.get_running_loop()
    async for message in ws:
        if isinstance(message, bytes):
            continue
        m = json.loads(message)
        if m.get("type") == "hello":
            await ws.send(WELCOME)
        elif m.get("type") == "heartbeat":
            await ws.send('{"type": "heartbeat_ack", "server_time": "2026-01-01T00:00:00Z"}')
        elif "id" in m:
            future = loop.create_future()
            jobs.put((conn, m["id"], message, future))
            await future
            await ws.send(json.dumps({"type": "ack", "id": m["id"]}))
async def main():
    threading.Thread(target=store, args=(asyncio.get_running_loop(),), daemon=True).start()
    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        print("listening on http://127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


def durable_server(db: Path) -> list[str]:
    """The command line of the bare server that stores what it acknowledges (`DURABLE_SERVER`)."""
    return [sys.executable, "-c", DURABLE_SERVER, str(WELCOME_SIZE), str(db)]


def bare_server(backlog: int = 0, loop: str = "asyncio") -> list[str]:
    """The command line of the bare server (`BARE_SERVER`) with a welcome-sized welcome."""
    return [sys.executable, "-c", BARE_SERVER, str(WELCOME_SIZE), str(backlog), loop]


# The C library's allocator settings that give the bare server its cheapest messages, whatever
# it allocated before. asyncio's transport reads into a new 256 KiB buffer each time; glibc
# serves that with mmap and munmap (and two page faults) until some earlier free has raised its
# dynamic mmap threshold, and a fixed threshold alone makes it grow and trim the heap instead.
# Measured per answer on one machine: 39-45 us without, 32-35 us with both (one bench run of
# the same server with neither syscall: 31.9 us). CPU baselines use it, so that a ratio does not
# depend on what the bare server happened to do first.
CHEAPEST_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "8388608"}


ROOT = Path(__file__).resolve().parent.parent  # this checkout: its server is the one started
TICK = os.sysconf("SC_CLK_TCK")


def _task_seconds(task: Path) -> float | None:
    """One thread's CPU time (user + system) to the nanosecond, from the scheduler's own
    account (`schedstat`); None when the thread ended meanwhile."""
    try:
        return int((task / "schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of a process's main thread (its event loop) and of all its other threads
    together (the store's, the executors'). Read per thread from `schedstat`, in nanoseconds:
    the clock ticks of `/proc/PID/stat` (10 ms each) leave a phase of a few hundred
    milliseconds of a fast machine's CPU off by 10-20 %. A thread that ended before the second
    reading drops out of it: the servers measured keep theirs."""
    spent = {"event loop": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        seconds = _task_seconds(task)
        if seconds is not None:
            spent["event loop" if task.name == str(pid) else "other threads"] += seconds
    return spent


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process, the threads that ended included, in clock
    ticks: for long phases and processes whose threads come and go (codecs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Proc:
    """A server process that prints "listening on http://HOST:PORT" once it accepts: `http`
    and `ws` are its addresses, `candidate` its candidate socket's."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=None if env is None else {**os.environ, **env},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on"), line
        self.http = line.split()[-1]
        self.ws = self.http.replace("http://", "ws://")
        self.candidate = self.ws + "/ws/candidate"

    def cpu(self) -> float:
        """The server's CPU seconds to the nanosecond (`thread_cpu_seconds`)."""
        return sum(thread_cpu_seconds(self.proc.pid).values())

    def thread_cpu(self) -> dict[str, float]:
        return thread_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def hello(ticket: str) -> str:
    from shared import protocol as p

    return p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=ticket))


async def into_exam(ws: ClientConnection, ticket: str) -> Paper:
    """After the welcome, what the app gives before the paper: the rules accepted, the
    address, the identity photo; then the paper, once it comes."""
    from shared import protocol as p

    mail = p.MailTo(name="Bench", phone="13800000000", address="1 Road", postcode="100000")
    await ws.send(p.encode(p.Consent(id="c-" + ticket[:8], version="bench")))
    await ws.send(p.encode(p.Profile(id="m-" + ticket[:8], mail_to=mail)))
    header = p.ImageHeader(type="identity_photo", id="id-" + ticket[:8])
    await ws.send(p.encode_image(header, identity_photo()))
    while True:
        m = p.decode_server(await ws.recv())
        if isinstance(m, p.Paper):
            return m


def pct(values: list[float], q: float) -> float:
    """The q-quantile of the values, the lower of two neighbours (0 for none)."""
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
