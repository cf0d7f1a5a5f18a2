"""`PostgresCluster`: the processes of one deployment talk through the database they share.

- Signals and proctors' events are NOTIFY payloads on one channel, received by one LISTEN
  connection per process. Whatever queued meanwhile is sent by one statement, packed as JSON
  arrays of up to 7,900 bytes (a notification costs the same whether it carries one event or
  forty: measured in bench/cluster_bus.py); a signal too long for NOTIFY on its own is stored in
  `cluster_overflow` and its row id sent instead.
- An exam's timers are led by the process holding a session-level advisory lock named after the
  exam: PostgreSQL releases it when that process's connection ends (a crash, SIGKILL), and the
  others, which keep asking (`LEAD_POLL_S`), take it over. The lock saves work and keeps timers
  in one place; what makes a deadline count once is the store's transition, which locks the
  attempt's row.
- Replies (`Delivered`) come back on the same channel, addressed by a reference.
- Who is connected where (`present_elsewhere`): each process's `Entered` and `Gone`, and the
  `Roster` each sends when a process starts (`RollCall`). A process is alive while it is heard
  from: every process repeats `Watching` every `WATCH_EVERY_S`, even with nothing to follow,
  and the attempts of one not heard from for `WATCH_EXPIRES_S` count as not connected (a
  process killed mid-exam: its candidates come back through the others).

Fewer moving parts than a broker: the database is already there, already watched, already
backed up (docs/architecture.md gives the reasons and the limits)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from itertools import count
from typing import Any

import msgspec
import psycopg

from proctor_server.cluster import signals as s
from proctor_server.cluster.base import Receiver

log = logging.getLogger(__name__)

CHANNEL = "proctor_cluster"
LOCK_CLASS = 7301  # the first key of the advisory locks this product takes
LEAD_POLL_S = 1.0  # how often a process that does not lead a duty asks for it again
WATCH_EVERY_S = 5.0  # a process repeats which exams its proctors follow this often
WATCH_EXPIRES_S = 3 * WATCH_EVERY_S  # ...and the others forget it after this long
DELIVERY_WAIT_S = 2.0  # how long a proctor's message waits for a process to say it delivered
BATCH = 500  # notifications per statement at most
OVERFLOW_KEEP = "10 minutes"

_OVERFLOW_TABLE = """
CREATE TABLE IF NOT EXISTS cluster_overflow (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


class PostgresCluster:
    alone = False

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._numbers = count(1)
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._receiver: Receiver | None = None
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._send: psycopg.AsyncConnection[Any] | None = None
        self._locks: psycopg.AsyncConnection[Any] | None = None
        self._lock_guard = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._watching: list[str] = []
        self._remote: dict[str, dict[str, float]] = {}  # exam -> origin -> expiry
        self._present: dict[str, str] = {}  # attempt -> the other process holding its connection
        self._heard: dict[str, float] = {}  # origin -> when it was last heard from
        self._pending: dict[str, asyncio.Future[bool]] = {}
        self.received = 0  # signals taken from other processes (for benchmarks)

    # ------------------------------------------------------------ lifecycle

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._send = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        self._locks = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        self._listen = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        async with self._send.transaction():
            await self._send.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            await self._send.execute(_OVERFLOW_TABLE)
        await self._listen.execute(f"LISTEN {CHANNEL}")
        self._queue(s.RollCall(origin=self.origin, n=next(self._numbers)))  # who is connected
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive(), name="cluster-receive"),
            loop.create_task(self._sender(), name="cluster-send"),
            loop.create_task(self._announce(), name="cluster-watching"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for conn in (self._listen, self._send, self._locks):
            if conn is not None:
                with suppress(Exception):
                    await conn.close()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_result(False)

    # ------------------------------------------------------------ sending

    def _queue(self, signal: s.Signal) -> None:
        self._outbox.put_nowait(s.encode(signal))

    def publish(self, exam: str, frame: bytes) -> None:
        self._queue(
            s.Event(origin=self.origin, n=next(self._numbers), exam=exam, frame=frame.decode())
        )

    def tell(self, signal: s.AttemptSignal) -> None:
        self._queue(msgspec.structs.replace(signal, origin=self.origin, n=next(self._numbers)))

    async def deliver(self, exam: str, attempt: str, message: str) -> bool:
        ref = uuid.uuid4().hex
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[ref] = fut
        self.tell(
            s.Deliver(origin=self.origin, exam=exam, attempt=attempt, ref=ref, message=message)
        )
        try:
            return await asyncio.wait_for(fut, DELIVERY_WAIT_S)
        except TimeoutError:
            return False
        finally:
            self._pending.pop(ref, None)

    async def _sender(self) -> None:
        """Send what queued, a batch per statement, in order."""
        assert self._send is not None
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await self._notify(batch)
            except psycopg.Error:
                log.exception("cluster: %d notifications could not be sent", len(batch))

    async def _notify(self, batch: list[str]) -> None:
        assert self._send is not None
        payloads: list[str] = []
        packed: list[str] = []
        size = 2

        def seal() -> None:
            nonlocal size
            if packed:
                payloads.append("[" + ",".join(packed) + "]")
                packed.clear()
                size = 2

        async with self._send.transaction():
            for payload in batch:
                length = len(payload.encode())
                if length + 2 > s.MAX_PAYLOAD:
                    seal()
                    cur = await self._send.execute(
                        "INSERT INTO cluster_overflow (payload) VALUES (%s) RETURNING id",
                        (payload,),
                    )
                    row = await cur.fetchone()
                    assert row is not None
                    payloads.append(f"#{row[0]}")
                    continue
                if size + length + 1 > s.MAX_PAYLOAD:
                    seal()
                packed.append(payload)
                size += length + 1
            seal()
            for payload in payloads:  # a few per batch, packed (an array parameter costs more)
                await self._send.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    # ------------------------------------------------------------ receiving

    async def _receive(self) -> None:
        assert self._listen is not None
        async for note in self._listen.notifies():
            try:
                await self._take(note.payload)
            except (msgspec.ValidationError, msgspec.DecodeError):
                log.error("cluster: a malformed notification was ignored: %.200s", note.payload)
            except Exception:
                log.exception("cluster: a notification could not be handled")

    async def _take(self, payload: str) -> None:
        if payload.startswith("#"):
            await self._act(s.decode(await self._overflow(int(payload[1:]))))
        else:
            for signal in s.decode_many(payload):
                await self._act(signal)

    async def _act(self, signal: s.Signal) -> None:
        if signal.origin == self.origin:
            return
        self.received += 1
        self._heard[signal.origin] = asyncio.get_running_loop().time()
        assert self._receiver is not None
        if isinstance(signal, s.Event):
            self._receiver.on_event(signal.exam, signal.frame)
        elif isinstance(signal, s.Watching):
            self._seen_watching(signal)
        elif isinstance(signal, s.Gone | s.RollCall | s.Roster):
            self._seen_presence(signal)
        elif isinstance(signal, s.Delivered):
            fut = self._pending.get(signal.ref)
            if fut is not None and not fut.done():
                fut.set_result(True)
        else:
            if isinstance(signal, s.Entered):
                self._present[signal.attempt] = signal.origin
            acted = await self._receiver.on_signal(signal)
            if acted and isinstance(signal, s.Deliver):
                self._queue(s.Delivered(origin=self.origin, n=next(self._numbers), ref=signal.ref))

    async def _overflow(self, row_id: int) -> str:
        assert self._send is not None
        cur = await self._send.execute(
            "SELECT payload FROM cluster_overflow WHERE id = %s", (row_id,)
        )
        row = await cur.fetchone()
        if row is None:
            raise LookupError(f"cluster: overflow row {row_id} is gone")
        return str(row[0])

    # ------------------------------------------------------------ who is connected where

    def present_elsewhere(self, attempt: str) -> bool:
        origin = self._present.get(attempt)
        return origin is not None and self._alive(origin)

    def _alive(self, origin: str) -> bool:
        return self._heard.get(origin, 0.0) + WATCH_EXPIRES_S > asyncio.get_running_loop().time()

    def _seen_presence(self, signal: s.Gone | s.RollCall | s.Roster) -> None:
        if isinstance(signal, s.Gone):
            if self._present.get(signal.attempt) == signal.origin:  # not since entered elsewhere
                del self._present[signal.attempt]
        elif isinstance(signal, s.RollCall):
            assert self._receiver is not None
            self._queue(
                s.Roster(
                    origin=self.origin, n=next(self._numbers), attempts=self._receiver.present()
                )
            )
        else:  # the sender's whole roll: what it no longer holds goes
            held = set(signal.attempts)
            for attempt, origin in list(self._present.items()):
                if origin == signal.origin and attempt not in held:
                    del self._present[attempt]
            for attempt in signal.attempts:  # what another live process entered since stays
                current = self._present.get(attempt)
                if current is None or not self._alive(current):
                    self._present[attempt] = signal.origin

    # ------------------------------------------------------------ who follows which exam

    def watching(self, exams: list[str]) -> None:
        self._watching = sorted(exams)
        self._queue(s.Watching(origin=self.origin, n=next(self._numbers), exams=self._watching))

    def remote_watched(self, exam: str) -> bool:
        origins = self._remote.get(exam)
        if not origins:
            return False
        now = asyncio.get_running_loop().time()
        return any(expiry > now for expiry in origins.values())

    def _seen_watching(self, signal: s.Watching) -> None:
        expiry = asyncio.get_running_loop().time() + WATCH_EXPIRES_S
        for exam, origins in list(self._remote.items()):
            if exam not in signal.exams:
                origins.pop(signal.origin, None)
                if not origins:
                    del self._remote[exam]
        for exam in signal.exams:
            self._remote.setdefault(exam, {})[signal.origin] = expiry

    async def _announce(self) -> None:
        """Repeat what this process's proctors follow (nothing, too: the others hear that it
        is alive); forget old overflow rows now and then."""
        assert self._send is not None
        rounds = count()
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            self._queue(s.Watching(origin=self.origin, n=next(self._numbers), exams=self._watching))
            if next(rounds) % 12 == 0:
                with suppress(psycopg.Error):
                    await self._send.execute(
                        f"DELETE FROM cluster_overflow WHERE at < now() - interval '{OVERFLOW_KEEP}'"
                    )

    # ------------------------------------------------------------ leading a duty

    @asynccontextmanager
    async def leading(self, duty: str) -> AsyncIterator[None]:
        # Polled, not waited for: a blocking pg_advisory_lock would hold a connection per duty.
        for _ in count():
            if await self._try_lock("pg_try_advisory_lock", duty):
                break
            await asyncio.sleep(LEAD_POLL_S)
        log.info("cluster: this process leads %s", duty)
        try:
            yield
        finally:
            with suppress(Exception):
                await self._try_lock("pg_advisory_unlock", duty)

    async def _try_lock(self, function: str, duty: str) -> bool:
        assert self._locks is not None
        async with self._lock_guard:
            cur = await self._locks.execute(
                f"SELECT {function}(%s, hashtext(%s))", (LOCK_CLASS, duty)
            )
            row = await cur.fetchone()
        return bool(row and row[0])
