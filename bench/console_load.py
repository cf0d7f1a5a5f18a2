"""What the console's benchmarks share: a sitting of N candidates in the exam (the server in a
process of its own, `proctor-server serve`, on a database set up by `bench/sitting.py`), a
proctor's token, and a bare `websockets` server to compare with."""

from __future__ import annotations

import asyncio
import sys
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sitting import Proc, identity_photo, sitting
from websockets.asyncio.client import ClientConnection, connect

from shared import protocol as p


def exam_server(db: Path, *options: str) -> Proc:
    return Proc(
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
            *options,
        ]
    )


@dataclass
class Sitting:
    exam: str
    proctor_token: str
    tickets: list[str]
    codes: dict[str, str]  # ticket -> candidate code (what the feed names)
    candidates: list[ClientConnection] = field(default_factory=list)
    seated: list[tuple[str, ClientConnection]] = field(default_factory=list)  # (code, socket)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.candidates), return_exceptions=True)


async def prepare(db: Path, count: int) -> Sitting:
    """An exam that started 5 minutes ago, `count` tickets and a proctor (before the server)."""
    from proctor_server.console import staff
    from proctor_server.core.session import ticket_key
    from proctor_server.store import SqliteStore

    tickets = await sitting(db, count, starts_in=timedelta(minutes=-5), title="Console bench")
    store = SqliteStore(db)
    await store.open()
    try:
        ticket = await store.get_ticket(ticket_key(tickets[0]))  # the store keeps keys
        assert ticket is not None
        _, token = await staff.add_proctor(store, name="Bench", exam_id=ticket.exam_id)
        by_key = {t.token: t.candidate_code for t in await store.tickets_of_exam(ticket.exam_id)}
        codes = {raw: by_key[ticket_key(raw)] for raw in tickets}
    finally:
        await store.close()
    return Sitting(ticket.exam_id, token, tickets, codes)


async def seat(url: str, ticket: str) -> ClientConnection:
    """One candidate through entry as the app goes: hello, rules, address, identity photo,
    then the paper."""
    ws = await connect(f"{url}/ws/candidate", compression=None, max_size=None)
    await ws.send(p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=ticket)))
    mail = p.MailTo(name="Bench", phone="13800000000", address="1 Road", postcode="100000")
    await ws.send(p.encode(p.Consent(id=uuid.uuid4().hex, version="bench")))
    await ws.send(p.encode(p.Profile(id=uuid.uuid4().hex, mail_to=mail)))
    header = p.ImageHeader(type="identity_photo", id=uuid.uuid4().hex)
    await ws.send(p.encode_image(header, identity_photo()))
    while not isinstance(p.decode_server(await ws.recv()), p.Paper):
        pass
    return ws


async def seat_all(url: str, s: Sitting, concurrency: int = 40) -> None:
    queue = list(s.tickets)

    async def worker() -> None:
        while queue:
            ticket = queue.pop()
            ws = await seat(url, ticket)
            s.candidates.append(ws)
            s.seated.append((s.codes[ticket], ws))

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def drain(ws: ClientConnection) -> None:
    """Read and drop what the server pushes (watermarks), so no buffer fills."""
    try:
        async for _ in ws:
            pass
    except Exception:
        return
