"""The candidates of the hostile soak (`bench/hostile_soak.py`): well-behaved ones built on
`bench/load.py`'s scripted candidate (answers with think time, a snapshot every interval, for a
set time), and hostile ones, each repeating one behaviour the server must survive:

- `resend`: a snapshot, then the same id with other bytes (the first must stay, byte for byte)
- `bomb`: a 600-byte JPEG declaring 16000×16000, as identity photo and as snapshot
- `strip`: a 16×4000 JPEG (an absurd aspect ratio)
- `snapshot_flood`, `event_flood`: writes far beyond the quotas
- `oversized`: a frame over the size limit; `nested`: JSON nested 1,000 deep
- `bandwidth`: the speed test's GET asking for 20 MB, a 20 MB download left unread, an upload
  cut half-way
- `reconnect_storm`: hello and abort, over and over; `malformed`: garbage until closed

Every reply is counted by behaviour and code; every write acknowledged is remembered for the
read-back after the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import struct
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from load import MAIL_TO, Candidate, GaveUp
from load_report import Stats
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from shared import protocol as p
from shared.vocabulary import EventKind

BEHAVIOURS = (
    "resend",
    "bomb",
    "strip",
    "snapshot_flood",
    "event_flood",
    "oversized",
    "nested",
    "bandwidth",
    "reconnect_storm",
    "malformed",
)
REPLY_S = 10.0


@dataclass
class SoakStats(Stats):
    """`Stats` of the well-behaved, plus what the soak reads back and counts."""

    snapshots: set[str] = field(default_factory=set)  # acked snapshot ids (anyone's)
    events: set[str] = field(default_factory=set)  # acked event ids
    first_bytes: dict[str, str] = field(default_factory=dict)  # resent id -> first sha256
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)  # (who, code)
    closes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (who, close code)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (s after t0, bytes)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (s after t0, cores)
    workers_rss: list[int] = field(default_factory=list)  # the analysis workers', summed
    machine_cores: float = 0.0  # the whole machine's busy cores over the phase


class Steady(Candidate):
    """A well-behaved candidate for `until` (perf_counter): enters, answers with think time,
    sends a snapshot every `every` seconds, submits at the end."""

    def __init__(
        self,
        url: str,
        ticket: str,
        stats: SoakStats,
        rng: random.Random,
        *,
        think: tuple[float, float],
        photo: bytes,
        until: float,
        every: float,
        scene: bytes,
    ):
        super().__init__(url, ticket, stats, rng, think=think, photo=photo)
        self.until, self.every, self.scene = until, every, scene

    async def _take(self) -> None:
        stats = self.stats
        assert isinstance(stats, SoakStats)
        await self._open(rejoin=False)
        photo_id = uuid.uuid4().hex
        await self._send(
            p.encode_image(p.ImageHeader(type="identity_photo", id=photo_id), self.photo)
        )
        verdict = await self._until(lambda m: isinstance(m, p.IdentityResult) and m.id == photo_id)
        if not isinstance(verdict, p.IdentityResult) or not verdict.accepted:
            raise GaveUp("identity_refused")
        cid, pid = uuid.uuid4().hex, uuid.uuid4().hex  # the rules accepted, the address given
        await self._write(cid, p.encode(p.Consent(id=cid, version="bench")))
        await self._write(pid, p.encode(p.Profile(id=pid, mail_to=MAIL_TO)))
        if self.paper is None:
            await self._until(lambda m: isinstance(m, p.Paper))
        assert self.paper is not None
        next_snapshot = time.perf_counter() + self.rng.uniform(0, self.every)
        while time.perf_counter() < self.until:
            await asyncio.sleep(self.rng.uniform(*self.think))
            q = self.rng.choice(self.paper.questions)
            aid = uuid.uuid4().hex
            msg = p.encode(p.Answer(id=aid, question=q.id, choice=[self.rng.choice(q.options).id]))
            if isinstance(await self._write(aid, msg, answer=True), p.Ack):
                stats.acked.add(aid)
            if time.perf_counter() >= next_snapshot:
                next_snapshot += self.every
                sid = uuid.uuid4().hex
                frame = p.encode_image(p.ImageHeader(type="snapshot", id=sid), self.scene)
                if isinstance(await self._write(sid, frame), p.Ack):
                    stats.snapshots.add(sid)
        sid = uuid.uuid4().hex
        await self._write(sid, p.encode(p.Submit(id=sid)))
        stats.finished += 1


def declaring(jpeg: bytes, width: int, height: int) -> bytes:
    """A real small JPEG whose header claims another size (what an image bomb looks like)."""
    data = bytearray(jpeg)
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


class Hostile:
    """One ticket holder repeating `behaviour` until `until`; never raises."""

    def __init__(
        self,
        url: str,
        ticket: str,
        behaviour: str,
        stats: SoakStats,
        rng: random.Random,
        *,
        until: float,
        photo: bytes,
        scene: bytes,
    ):
        self.url, self.ticket, self.behaviour = url, ticket, behaviour
        self.stats, self.rng, self.until = stats, rng, until
        self.photo, self.scene = photo, scene
        self.bomb_jpeg = declaring(scene, 16000, 16000)
        self.strip_jpeg = declaring(scene, 16, 4000)
        self.verified = False
        self.ws: ClientConnection | None = None
        self.http = url.split("/ws/")[0]

    async def run(self) -> None:
        act = getattr(self, self.behaviour)
        while time.perf_counter() < self.until:
            try:
                await act()
            except ConnectionClosed as exc:
                code = str(exc.rcvd.code) if exc.rcvd is not None else "none"
                self.stats.closes[(self.behaviour, code)] += 1
            except Exception as exc:  # refused handshakes, resets, timeouts: counted, never fatal
                self.stats.closes[(self.behaviour, type(exc).__name__)] += 1
            finally:
                if self.ws is not None:
                    self.ws.transport.abort()
                    self.ws = None
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))

    # -------------------------------------------------------------- plumbing

    async def enter(self) -> ClientConnection:
        ws = self.ws = await connect(
            self.url, compression=None, max_size=p.MAX_FRAME, open_timeout=REPLY_S
        )
        hello = p.Hello(protocol=p.PROTOCOL_VERSION, ticket=self.ticket)
        await ws.send(p.encode(hello))
        welcome = await self.reply(lambda m: isinstance(m, p.Welcome))
        if not self.verified and not (isinstance(welcome, p.Welcome) and welcome.identity_accepted):
            pid = uuid.uuid4().hex
            await ws.send(p.encode_image(p.ImageHeader(type="identity_photo", id=pid), self.photo))
            verdict = await self.reply(lambda m: isinstance(m, p.IdentityResult))
            self.verified = isinstance(verdict, p.IdentityResult) and verdict.accepted
        return ws

    async def reply(
        self, want: Callable[[p.ServerMessage], bool], limit: float = REPLY_S
    ) -> p.ServerMessage | None:
        """Read until `want(message)`, counting every error; None when `limit` passes."""
        assert self.ws is not None
        deadline = time.perf_counter() + limit
        while (left := deadline - time.perf_counter()) > 0:
            try:
                frame = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                return None
            message = p.decode_server(frame)
            if isinstance(message, p.Error):
                self.stats.refusals[(self.behaviour, message.code)] += 1
            if want(message):
                return message
        return None

    async def image(self, kind: p.ImageKind, data: bytes, ident: str | None = None) -> str:
        ident = ident or uuid.uuid4().hex
        assert self.ws is not None
        await self.ws.send(p.encode_image(p.ImageHeader(type=kind, id=ident), data))
        return ident

    async def outcome(self, ident: str) -> p.ServerMessage | None:
        return await self.reply(
            lambda m: (
                (isinstance(m, p.Ack) and m.id == ident)
                or (isinstance(m, p.Error) and m.ref == ident)
                or (isinstance(m, p.IdentityResult) and m.id == ident)
            )
        )

    async def drain(self, seconds: float) -> list[p.ServerMessage]:
        seen: list[p.ServerMessage] = []

        def keep(message: p.ServerMessage) -> bool:
            seen.append(message)
            return False

        await self.reply(keep, seconds)
        return seen

    # -------------------------------------------------------------- behaviours

    async def resend(self) -> None:
        await self.enter()
        for _ in range(5):
            ident = await self.image("snapshot", self.scene)
            if isinstance(await self.outcome(ident), p.Ack):
                self.stats.snapshots.add(ident)
                self.stats.first_bytes[ident] = hashlib.sha256(self.scene).hexdigest()
                other = self.scene[:-2] + bytes([self.rng.randrange(256)]) + self.scene[-1:]
                await self.image("snapshot", other, ident)
                await self.outcome(ident)
            await asyncio.sleep(6)

    async def bomb(self) -> None:
        await self.enter()
        await self.outcome(await self.image("identity_photo", self.bomb_jpeg))
        await self.outcome(await self.image("snapshot", self.bomb_jpeg))

    async def strip(self) -> None:
        await self.enter()
        await self.outcome(await self.image("snapshot", self.strip_jpeg))
        await self.outcome(await self.image("identity_photo", self.strip_jpeg))

    async def snapshot_flood(self) -> None:
        await self.enter()
        ids = [await self.image("snapshot", self.scene) for _ in range(100)]
        for m in await self.drain(5):
            if isinstance(m, p.Ack) and m.id in ids:
                self.stats.snapshots.add(m.id)

    async def event_flood(self) -> None:
        ws = await self.enter()
        ids = []
        for _ in range(600):
            ids.append(uuid.uuid4().hex)
            await ws.send(p.encode(p.Event(id=ids[-1], kind=EventKind.APP_ACTIVE)))
        for m in await self.drain(5):
            if isinstance(m, p.Ack) and m.id in ids:
                self.stats.events.add(m.id)

    async def oversized(self) -> None:
        ws = await self.enter()
        await ws.send("x" * (p.MAX_TEXT_FRAME + 10))  # over the text limit, under the frame's
        await self.drain(1)
        await ws.send(b"\x00" * (p.MAX_FRAME + 1))  # over the socket's max_size: closed
        await self.drain(3)

    async def nested(self) -> None:
        ws = await self.enter()
        deep = "[" * 1000 + "]" * 1000
        await ws.send(f'{{"type":"answer","id":"n1","question":"q1","choice":{deep}}}')
        await ws.send(
            '{"type":"event","id":"n2","kind":"app_active","detail":'
            + '{"a":' * 900
            + "1"
            + "}" * 901
        )
        await self.drain(2)

    async def bandwidth(self) -> None:
        host, port = self.http.removeprefix("ws://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /bandwidth?bytes=20000000 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        got = 0
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), REPLY_S):
                got += len(chunk)
        except TimeoutError:
            pass
        writer.close()
        self.stats.refusals[(self.behaviour, f"get_{'bounded' if got < 1 << 20 else 'big'}")] += 1
        try:  # a page of another site
            await connect(
                self.http + "/ws/bandwidth", origin=Origin("http://evil.example"), open_timeout=5
            )
            self.stats.refusals[(self.behaviour, "foreign_origin_let_in")] += 1
        except InvalidHandshake:
            self.stats.refusals[(self.behaviour, "foreign_origin_refused")] += 1
        ws = self.ws = await connect(
            self.http + "/ws/bandwidth", compression=None, open_timeout=REPLY_S
        )
        await ws.send('{"type": "download", "bytes": 20000000}')
        await asyncio.sleep(2)  # never read: the server must not buffer 20 MB for us
        ws.transport.abort()
        ws = self.ws = await connect(
            self.http + "/ws/bandwidth", compression=None, open_timeout=REPLY_S
        )

        async def parts() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"\x00" * (1 << 20)
            await asyncio.sleep(30)  # the upload is left half-way
            yield b""

        upload = asyncio.create_task(ws.send(parts()))
        await asyncio.sleep(1.5)
        ws.transport.abort()
        upload.cancel()
        await asyncio.gather(upload, return_exceptions=True)
        self.ws = None

    async def reconnect_storm(self) -> None:
        for _ in range(20):
            ws = await connect(self.url, compression=None, open_timeout=REPLY_S)
            await ws.send(p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=self.ticket)))
            ws.transport.abort()
            self.stats.closes[(self.behaviour, "hello_then_aborted_by_us")] += 1

    async def malformed(self) -> None:
        ws = await self.enter()
        junk = [
            "not json",
            '{"type": "answer"}',
            '{"type": "no_such_type", "id": "x"}',
            '{"type": "answer", "id": 5, "question": [], "choice": "a"}',
            "\ud7ff" * 100,
            "[" * 50,
        ]
        for k in range(60):  # beyond 50 errors the socket is closed (1008)
            await ws.send(junk[k % len(junk)])
        await self.drain(15)  # the close comes after the server's close timeout (10 s)


# ------------------------------------------------------------------ a process of their own


async def hostile_process(job: dict[str, Any]) -> dict[str, Any]:
    """Run the hostile candidates of `job` until its end; their figures as JSON-able values.
    They run in a process of their own, so that their floods do not delay the well-behaved
    candidates' event loop (whose ack latencies are the measure)."""
    stats = SoakStats()
    until = time.perf_counter() + job["seconds"]
    rng = random.Random(job["seed"])
    photo, scene = bytes.fromhex(job["photo"]), bytes.fromhex(job["scene"])

    async def one(k: int, ticket: str) -> None:
        await asyncio.sleep(rng.uniform(0, job["ramp"]))
        hostile = Hostile(
            job["url"],
            ticket,
            job["behaviours"][k % len(job["behaviours"])],
            stats,
            random.Random(job["seed"] + k),
            until=until,
            photo=photo,
            scene=scene,
        )
        await hostile.run()

    await asyncio.gather(*(one(k, t) for k, t in enumerate(job["tickets"])))
    return {
        "snapshots": sorted(stats.snapshots),
        "events": sorted(stats.events),
        "first_bytes": stats.first_bytes,
        "refusals": [[w, c, n] for (w, c), n in stats.refusals.items()],
        "closes": [[w, c, n] for (w, c), n in stats.closes.items()],
    }


def merge(stats: SoakStats, found: dict[str, Any]) -> None:
    """The hostile process's figures into the phase's."""
    stats.snapshots.update(found["snapshots"])
    stats.events.update(found["events"])
    stats.first_bytes.update(found["first_bytes"])
    for w, c, n in found["refusals"]:
        stats.refusals[(w, c)] += n
    for w, c, n in found["closes"]:
        stats.closes[(w, c)] += n


if __name__ == "__main__":
    result = asyncio.run(hostile_process(json.loads(sys.stdin.read())))
    sys.stdout.write(json.dumps(result))
