"""Exam-day load: many candidates enter in a short window on flaky links, answer, and submit.

The real exam server runs as a subprocess (`proctor-server serve --analysis basic`) on a fresh
SQLite file, or (`--store postgres`) on a fresh database in a throwaway PostgreSQL cluster with
fsync on, and then as several processes if asked (`--servers N`: candidates spread over them
in turn, as a load balancer would); every candidate is driven from this one process over
loopback. With PostgreSQL the database's own CPU is counted apart from the servers'. Each candidate:
hello -> identity photo (a small real JPEG) -> consent -> profile -> waits for the paper -> answers every
question, each acknowledged, with a think time between answers -> submit -> result. A fraction
drop their connection mid-exam without a closing handshake (the TCP connection is aborted right
after an answer is sent, before its ack) and come back after a random delay, replaying the
unacknowledged answer with the same id.

Candidates are lean scripted clients built on `shared.protocol`, not the app's `ExamRuntime`:
the runtime keeps a SQLite outbox per candidate (a committed write per message on this same
machine's disk), a heartbeat task and a snapshot task per candidate, and has no way to cut a
connection without a closing handshake. A thousand of them would measure the load generator.

The baseline is one lone candidate (a trial attempt on the same server before the entry window)
answering the same questions: latencies under load are printed as ratios to it.

    python bench/load.py [--candidates 1000] [--window 60] [--think 0.2 1.0] [--drop 0.1]
    python bench/load.py --candidates 200 --window 10      # a quick run
    python bench/load.py --store postgres --servers 2      # two processes on PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from load_report import (
    TICK,
    Stats,
    machine_busy,
    modified,
    print_report,
    print_timeline,
    server_peak_rss,
    verify_store,
)
from sitting import cpu_seconds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from ramp import Child
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from shared import protocol as p
from shared.vocabulary import Mode

HEARTBEAT_S = 10.0  # as the app: a heartbeat when nothing else was sent for this long
WAIT_S = 60.0  # the longest a candidate waits for any one reply before giving up
UNPLANNED_RETRY_S = 1.0
MAX_RECONNECTS = 5
MAIL_TO = p.MailTo(
    name="Test Candidate", phone="13800000000", address="1 Test Road", postcode="100000"
)


class GaveUp(Exception):
    """This candidate stops: `code` is what is counted among the errors."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def photo_jpeg() -> bytes:
    """A small real JPEG (320x240, a gradient with noise): accepted by the basic analysis."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    ramp = np.linspace(40, 210, 320, dtype=np.float32)[None, :, None]
    image = np.clip(ramp + rng.normal(0, 12, (240, 320, 3)), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return bytes(data)


class Candidate:
    """One scripted candidate; all figures go into the shared `Stats`."""

    def __init__(
        self,
        url: str,
        ticket: str,
        stats: Stats,
        rng: random.Random,
        *,
        think: tuple[float, float],
        drop_at: int | None = None,
        reconnect_delay: tuple[float, float] = (0.5, 5.0),
        mode: Mode = Mode.EXAM,
        photo: bytes = b"",
    ):
        self.url, self.ticket, self.stats, self.rng = url, ticket, stats, rng
        self.think, self.drop_at, self.reconnect_delay = think, drop_at, reconnect_delay
        self.mode, self.photo = mode, photo
        self.ws: ClientConnection | None = None
        self.paper: p.Paper | None = None
        self.result: p.Result | None = None
        self.last_sent = 0.0
        self.reconnects = 0
        self.latency = 0.0  # of the last acknowledged write
        self.ack_times: list[float] = []  # this candidate's own ack latencies (the baseline)

    # -------------------------------------------------------------- plumbing

    async def _open(self, *, rejoin: bool) -> None:
        started = time.perf_counter()
        try:
            ws = await connect(
                self.url,
                compression=None,
                max_size=p.MAX_FRAME,
                ping_interval=None,  # the server pings; the heartbeat keeps the link busy
                open_timeout=WAIT_S,
                close_timeout=2.0,
            )
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise GaveUp(f"connect_failed:{type(exc).__name__}") from None
        self.ws = ws
        self.stats.connect.append(time.perf_counter() - started)
        started = time.perf_counter()
        await self._send(
            p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=self.ticket, mode=self.mode))
        )
        self.paper = None
        welcome = await self._until(lambda m: isinstance(m, p.Welcome | p.Error) and not _is_ref(m))
        if isinstance(welcome, p.Error):
            raise GaveUp(welcome.code)
        (self.stats.rejoin if rejoin else self.stats.join).append(time.perf_counter() - started)
        if not rejoin:
            self.stats.joined_at.append(time.perf_counter() - self.stats.t0)

    async def _send(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)
        self.last_sent = time.monotonic()

    async def _until(
        self, want: Callable[[p.ServerMessage], bool], limit: float = WAIT_S
    ) -> p.ServerMessage:
        """Read until a message `want`s it; heartbeats while idle; GaveUp after `limit`
        seconds without it."""
        assert self.ws is not None
        waited = 0.0
        while True:
            try:
                frame = await asyncio.wait_for(self.ws.recv(), HEARTBEAT_S)
            except TimeoutError:
                waited += HEARTBEAT_S
                if waited >= limit:
                    raise GaveUp("timeout") from None
                await self._send(p.encode(p.Heartbeat()))
                continue
            message = p.decode_server(frame)
            if isinstance(message, p.Paper):
                self.paper = message
            elif isinstance(message, p.Result):
                self.result = message
            elif isinstance(message, p.Error):
                self.stats.errors[message.code] += 1
            elif isinstance(message, p.Watermark):
                self.stats.watermark_at.append(time.perf_counter() - self.stats.t0)
            if want(message):
                return message

    async def _close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def _reconnect(self, delay: float) -> None:
        self.reconnects += 1
        if self.reconnects > MAX_RECONNECTS:
            raise GaveUp("too_many_reconnects")
        await asyncio.sleep(delay)
        await self._open(rejoin=True)
        if self.paper is None:
            await self._until(lambda m: isinstance(m, p.Paper))

    async def _write(
        self, mid: str, data: str | bytes, *, drop: bool = False, answer: bool = False
    ) -> p.ServerMessage:
        """Send one message with an id until it is acknowledged (or refused), across drops."""
        sent = time.perf_counter()
        replayed = aborted = False
        while True:
            try:
                await self._send(data)
                if drop:  # the link dies before the ack: no closing handshake
                    assert self.ws is not None
                    self.ws.transport.abort()
                    drop, aborted = False, True
                reply = await self._until(
                    lambda m: (
                        isinstance(m, p.Ack | p.Error)
                        and getattr(m, "id", getattr(m, "ref", None)) == mid
                    )
                )
            except ConnectionClosed as exc:
                planned, aborted = aborted, False
                self.ws = None
                if planned:
                    self.stats.drops += 1
                    delay = self.rng.uniform(*self.reconnect_delay)
                else:
                    code = exc.rcvd.code if exc.rcvd is not None else "none"
                    self.stats.errors[f"closed_{code}"] += 1
                    self.stats.unplanned += 1
                    delay = UNPLANNED_RETRY_S
                await self._reconnect(delay)
                sent, replayed = time.perf_counter(), True
                continue
            self.latency = time.perf_counter() - sent
            if answer and not replayed:
                self.stats.ack_at.append((sent - self.stats.t0, self.latency))
            if replayed:
                self.stats.replay_ack.append(self.latency)
            else:
                (self.stats.ack if answer else self.stats.other_ack).append(self.latency)
            return reply

    # -------------------------------------------------------------- the candidate's exam

    async def take(self) -> None:
        try:
            await self._take()
        except GaveUp as exc:
            self.stats.errors[exc.code] += 1
            self.stats.gave_up += 1
        except ConnectionClosed as exc:  # outside an acknowledged write
            code = exc.rcvd.code if exc.rcvd is not None else "none"
            self.stats.errors[f"closed_{code}"] += 1
            self.stats.gave_up += 1
        finally:
            try:
                await self._close()
            except Exception:  # closing a dead link: the figures are what matter
                pass

    async def _take(self) -> None:
        await self._open(rejoin=False)
        photo_id = uuid.uuid4().hex
        started = time.perf_counter()
        await self._send(
            p.encode_image(p.ImageHeader(type="identity_photo", id=photo_id), self.photo)
        )
        verdict = await self._until(lambda m: isinstance(m, p.IdentityResult) and m.id == photo_id)
        assert isinstance(verdict, p.IdentityResult)
        self.stats.photo.append(time.perf_counter() - started)
        if not verdict.accepted:
            raise GaveUp("identity_refused")
        cid = uuid.uuid4().hex  # the rules of conduct accepted, as the app's screen has it
        if isinstance(
            await self._write(cid, p.encode(p.Consent(id=cid, version="bench"))), p.Error
        ):
            raise GaveUp("consent_refused")
        pid = uuid.uuid4().hex
        if isinstance(
            await self._write(pid, p.encode(p.Profile(id=pid, mail_to=MAIL_TO))), p.Error
        ):
            raise GaveUp("profile_refused")
        if self.paper is None:
            waited = time.perf_counter()
            until_start = self.stats.t0 + self.stats.start_s - waited  # early entrants wait
            await self._until(lambda m: isinstance(m, p.Paper), max(0.0, until_start) + WAIT_S)
            now = time.perf_counter()
            self.stats.paper_wait.append(now - waited)
            if now - self.stats.t0 >= self.stats.start_s:  # was waiting when the exam started
                self.stats.paper_after_start.append(now - self.stats.t0 - self.stats.start_s)
        assert self.paper is not None
        for k, q in enumerate(self.paper.questions):
            await asyncio.sleep(self.rng.uniform(*self.think))
            if q.multiple:
                chosen = self.rng.sample(q.options, self.rng.randint(1, len(q.options)))
            else:
                chosen = [self.rng.choice(q.options)]
            aid = uuid.uuid4().hex
            msg = p.encode(p.Answer(id=aid, question=q.id, choice=[o.id for o in chosen]))
            reply = await self._write(aid, msg, drop=k == self.drop_at, answer=True)
            if isinstance(reply, p.Ack):
                self.stats.acked.add(aid)
                self.ack_times.append(self.latency)
        sid = uuid.uuid4().hex
        await self._write(sid, p.encode(p.Submit(id=sid)))
        if self.result is None:
            await self._until(lambda m: isinstance(m, p.Result))
        self.stats.finished += 1


def _is_ref(message: p.ServerMessage) -> bool:
    return isinstance(message, p.Error) and message.ref is not None


# ------------------------------------------------------------------ setup and the run


def question_bank(count: int) -> bytes:
    questions = [
        {
            "id": f"q{i}",
            "text": f"Question {i}: which option is right?",
            "options": ["first", "second", "third", "fourth"],
            "answer": [i % 4] if i % 5 else [i % 4, (i + 1) % 4],
            "points": 1 + i % 3,
        }
        for i in range(count)
    ]
    return json.dumps({"questions": questions}).encode()


async def create_exam(
    db: Path | str, bank: bytes, starts_at: datetime, count: int, data_dir: Path
) -> tuple[str, list[str]]:
    """The exam and count+2 tickets (the last two: the baseline's, the probe's), in one transaction."""
    from proctor_server import admin
    from proctor_server.store import open_store
    from shared.questions import parse_bank

    store = await open_store(db, data_dir)
    try:
        questions = parse_bank(bank)
        exam = await admin.create_exam(
            store,
            title="Load test",
            starts_at=starts_at,
            duration=timedelta(minutes=60),
            questions=questions,
            trial_questions=questions,
        )
        issued = await admin.issue_tickets(
            store,
            exam.id,
            [
                admin.TicketRequest(f"Candidate {i}", candidate_code=f"C{i + 1:05d}")
                for i in range(count + 2)
            ],
        )
        tokens = [t.token for t in issued]
        return exam.id, tokens
    finally:
        await store.close()


class Server:
    def __init__(self, db: Path | str, work: Path, n: int = 0):
        self.log = work / f"server-{n}.log"
        out = work / f"server-{n}.out"
        with out.open("w") as stdout, self.log.open("w") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "proctor_server.cli",
                    "serve",
                    "--db",
                    str(db),
                    "--data-dir",
                    str(work / "files"),
                    "--port",
                    "0",
                    "--analysis",
                    "basic",
                ],
                stdout=stdout,
                stderr=stderr,
                cwd=Path(__file__).resolve().parent.parent,  # this checkout's server
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = out.read_text()
            if "listening on" in text:
                base = text.split("listening on", 1)[1].split()[0]
                self.url = base.replace("http://", "ws://") + "/ws/candidate"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        raise SystemExit(f"load: the server did not start; see {self.log}")

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def start_probe(url: str, ticket: str) -> tuple[Child, float]:
    """A connected candidate who only sends WebSocket pings, 10 a second, from a process of its own
    (so the load generator's busy loop does not delay it): the server answers them without the
    database, so their round trip is the server's event-loop delay. Returns the probe and its
    time origin (epoch seconds: the samples are seconds after it)."""
    child = Child("probe")
    t0 = time.time()
    child.send({"url": url, "ticket": ticket, "t0": t0})
    assert child.read() == "ready"
    return child, t0


def stop_probe(child: Child, t0: float, stats: Stats) -> None:
    """Stop the probe and file its samples on the load run's clock."""
    child.tell()
    shift = t0 - stats.t0_epoch
    stats.heartbeat_at.extend((t + shift, h) for t, h in child.read())
    child.wait()


def servers_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


async def sample(
    stats: Stats,
    pids: list[int],
    db: Path | None,
    stop: asyncio.Event,
    db_cpu: Callable[[], float],
) -> None:
    """Each second: servers' CPU, the whole machine's busy CPU (others share it), and how late
    this loop's 100 ms sleeps woke (the load generator's own delay). Every 100 ms: whether the
    SQLite file itself was written (a WAL checkpoint; commits only append to the WAL)."""
    mtime = modified(db) if db else 0
    last_cpu, last_busy, last_t = servers_cpu(pids), machine_busy(), time.perf_counter()
    worst = 0.0
    while not stop.is_set():
        planned = time.perf_counter()
        await asyncio.sleep(0.1)
        now = time.perf_counter()
        late = now - planned - 0.1
        stats.loop_lag.append(late)
        if db and (m := modified(db)) != mtime:
            stats.checkpoints.append(now - stats.t0)
            mtime = m
        worst = max(worst, late)
        if stats.cpu_at_start is None and now - stats.t0 >= stats.start_s:
            stats.cpu_at_start = (servers_cpu(pids), db_cpu())
        if now - last_t >= 1.0:
            cpu, busy = servers_cpu(pids), machine_busy()
            span = now - last_t
            stats.series.append(
                (last_t - stats.t0, (cpu - last_cpu) / span, (busy - last_busy) / span, worst)
            )
            stats.cpu_peak = max(stats.cpu_peak, (cpu - last_cpu) / span)
            last_cpu, last_busy, last_t, worst = cpu, busy, now, 0.0
            stats.rss_peak = max(stats.rss_peak, *(server_peak_rss(pid) for pid in pids))


def database_cpu(data: Path) -> float:
    """CPU seconds of a PostgreSQL cluster: its postmaster, the backends that ended (counted in
    the postmaster's children's time) and those still running."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(v) for v in fields[11:15]) / TICK
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        with contextlib.suppress(OSError):
            total += cpu_seconds(int(child))
    return total


async def run(args: argparse.Namespace) -> int:
    if args.store == "postgres":
        from tests.support.postgres import running_cluster

        for cluster in running_cluster(durable=True):
            return await run_on(args, cluster.create("load"), cluster.data)
    return await run_on(args, None, None)


async def run_on(args: argparse.Namespace, dsn: str | None, pg_data: Path | None) -> int:
    limit = raise_open_files(2 * args.candidates + 256)  # the server inherits it
    if limit < args.candidates + 64:
        raise SystemExit(f"load: only {limit} open files allowed; lower --candidates")
    work = Path(tempfile.mkdtemp(prefix="proctor-load-"))
    db: Path | str = dsn or work / "load.db"
    photo = photo_jpeg()
    rng = random.Random(args.seed)
    stats = Stats()

    setup_started = time.perf_counter()
    lead = 15.0 + args.candidates * 0.01  # setup, server start and the baseline fit in here
    start_offset = args.window * args.start
    entry_begins = datetime.now(UTC) + timedelta(seconds=lead)
    exam_id, tokens = await create_exam(
        db,
        question_bank(args.questions),
        entry_begins + timedelta(seconds=start_offset),
        args.candidates,
        work / "files",
    )
    tickets_s = time.perf_counter() - setup_started
    servers = [Server(db, work, n) for n in range(args.servers)]
    server, pids = servers[0], [s.proc.pid for s in servers]
    try:
        # the baseline: one candidate alone, in a trial of the same questions
        lone = Candidate(
            server.url,
            tokens[-2],
            Stats(),
            random.Random(1),
            think=(0.0, 0.0),
            mode=Mode.TRIAL,
            photo=photo,
        )
        await lone.take()
        baseline = {"ack": lone.ack_times, "join": lone.stats.join}
        if lone.stats.errors:
            print(f"baseline trial failed: {dict(lone.stats.errors)}", file=sys.stderr)

        wait = (entry_begins - datetime.now(UTC)).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        offsets = sorted(rng.uniform(0, args.window) for _ in range(args.candidates))
        droppers = set(rng.sample(range(args.candidates), round(args.candidates * args.drop)))
        stop = asyncio.Event()

        def db_cpu() -> float:
            return database_cpu(pg_data) if pg_data else 0.0

        prober, probe_t0 = start_probe(server.url, tokens[-1])
        cpu_before, usage_before = servers_cpu(pids), resource.getrusage(resource.RUSAGE_SELF)
        db_cpu_before = db_cpu()
        stats.cpu_at_begin = (cpu_before, db_cpu_before)
        t0 = stats.t0 = time.perf_counter()
        stats.t0_epoch = time.time()
        stats.start_s = start_offset
        sampler = asyncio.create_task(sample(stats, pids, None if dsn else Path(db), stop, db_cpu))

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, offsets[i] - (time.perf_counter() - t0)))
            c_rng = random.Random(rng.random() + i)
            candidate = Candidate(
                servers[i % len(servers)].url,  # in turn, as a load balancer would
                tokens[i],
                stats,
                c_rng,
                think=(args.think[0], args.think[1]),
                drop_at=c_rng.randrange(1, args.questions) if i in droppers else None,
                reconnect_delay=(args.reconnect[0], args.reconnect[1]),
                photo=photo,
            )
            await candidate.take()

        budget = start_offset + args.window + args.questions * args.think[1] * 2 + 120
        tasks = [asyncio.create_task(one(i)) for i in range(args.candidates)]
        _, pending = await asyncio.wait(tasks, timeout=budget)
        for task in pending:
            task.cancel()
        if pending:
            stats.errors["still_running_at_budget"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
        wall = time.perf_counter() - t0
        stats.server_cpu_s = servers_cpu(pids) - cpu_before
        stats.db_cpu_s = database_cpu(pg_data) - db_cpu_before if pg_data else 0.0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats.client_cpu_s = (
            usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime
        )
        stats.rss_peak = max(stats.rss_peak, *(server_peak_rss(pid) for pid in pids))
        stop.set()
        await sampler
        try:
            stop_probe(prober, probe_t0, stats)
        except (ValueError, OSError) as exc:  # the probe lost its connection: no report
            stats.errors[f"probe_{type(exc).__name__}"] += 1
    finally:
        codes = [s.stop() for s in servers]
        code = next((c for c in codes if c != 0), 0)
    log_text = "".join(s.log.read_text(errors="replace") for s in servers)
    verdict = verify_store(db, exam_id, stats.acked, exclude=tokens[-1])
    keep = args.keep or not verdict.complete(args.candidates)
    settings: dict[str, Any] = vars(args) | {
        "tickets_s": tickets_s,
        "work": str(work) if keep else "(removed; --keep keeps them)",
        "server_exit": code,
    }
    ok = print_report(stats, baseline, verdict, settings, wall, log_text)
    if args.timeline:
        print_timeline(stats, args.timeline)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument(
        "--window", type=float, default=60.0, help="entry window in seconds (real: 1800)"
    )
    parser.add_argument(
        "--start",
        type=float,
        default=1.0,
        help="exam start as a fraction of the window (1: at its end)",
    )
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--think", type=float, nargs=2, default=[0.2, 1.0], metavar=("MIN", "MAX"))
    parser.add_argument("--drop", type=float, default=0.1, help="fraction who drop mid-exam")
    parser.add_argument(
        "--reconnect", type=float, nargs=2, default=[0.5, 5.0], metavar=("MIN", "MAX")
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the servers' database (postgres: a throwaway cluster, fsync on)",
    )
    parser.add_argument("--servers", type=int, default=1, help="exam-server processes")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database and server log (kept anyway on a failed check)",
    )
    parser.add_argument(
        "--timeline",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also print figures per slice",
    )
    args = parser.parse_args()
    problems = [
        args.candidates < 1 and "--candidates must be at least 1",
        args.servers < 1 and "--servers must be at least 1",
        args.servers > 1 and args.store == "sqlite" and "--servers > 1 needs --store postgres",
        args.window <= 0 and "--window must be positive",
        not 0 <= args.start <= 2 and "--start must be between 0 and 2",
        args.questions < 2 and "--questions must be at least 2",
        not 0 <= args.think[0] <= args.think[1] and "--think needs 0 <= MIN <= MAX",
        not 0 <= args.drop <= 1 and "--drop must be between 0 and 1",
        not 0 <= args.reconnect[0] <= args.reconnect[1] and "--reconnect needs 0 <= MIN <= MAX",
    ]
    for problem in problems:
        if problem:
            print(f"load: {problem}", file=sys.stderr)
            raise SystemExit(2)
    try:
        raise SystemExit(asyncio.run(run(args)))
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
