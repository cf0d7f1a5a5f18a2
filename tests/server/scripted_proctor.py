"""A scripted proctor for server tests: signs in to /ws/proctor over a real socket, sends
commands with client ids and reads the feed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from websockets.asyncio.client import ClientConnection, connect

from proctor_server.console.grid_cache import MAX_AGE
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.server.scripted import WAIT

M = TypeVar("M")

# Past this, a proctor's snapshot is a read of its own rather than the journal of an earlier
# proctor's read (`proctor_server.console.grid_cache`): for tests of what the store reads.
GRID_REUSE = MAX_AGE + timedelta(seconds=1)


class Reachable(Protocol):
    """A server in this process (`Server`) or in another (`ws_url` is all a proctor needs)."""

    @property
    def ws_url(self) -> str: ...


class Proctor:
    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.inbox: list[pp.FeedMessage] = []  # events received while waiting for others

    @classmethod
    async def sign_in(
        cls,
        server: Reachable,
        token: str | None = None,
        *,
        exam: str | None = None,
        cookie: str | None = None,
    ) -> tuple[Proctor, pp.Snapshot]:
        """Connect (by token or cookie) and read the snapshot."""
        proctor = await cls.open(server, token, exam=exam, cookie=cookie)
        snapshot = await proctor.recv()
        assert isinstance(snapshot, pp.Snapshot), snapshot
        return proctor, snapshot

    @classmethod
    async def open(
        cls,
        server: Reachable,
        token: str | None = None,
        *,
        exam: str | None = None,
        cookie: str | None = None,
    ) -> Proctor:
        query = [f"token={token}"] if token else []
        query += [f"exam={exam}"] if exam else []
        url = f"{server.ws_url}/ws/proctor" + ("?" + "&".join(query) if query else "")
        headers = {"Cookie": cookie} if cookie else None
        return cls(await connect(url, additional_headers=headers))

    async def close(self) -> None:
        await self.ws.close()

    async def recv(self) -> pp.FeedMessage:
        if self.inbox:
            return self.inbox.pop(0)
        return pp.decode_feed(await asyncio.wait_for(self.ws.recv(), WAIT))

    async def expect(self, kind: type[M]) -> M:
        """The next message of this type; the others are kept in order."""
        for i, m in enumerate(self.inbox):
            if isinstance(m, kind):
                return self.inbox.pop(i)  # type: ignore[return-value]
        while True:
            m = pp.decode_feed(await asyncio.wait_for(self.ws.recv(), WAIT))
            if isinstance(m, kind):
                return m
            self.inbox.append(m)

    async def send(self, kind: str, ident: str | None = None, **fields: Any) -> str:
        ident = ident or uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": kind, "id": ident, **fields}))
        return ident

    async def reply(self, ident: str) -> p.Ack | p.Error:
        """The answer to the command sent as `ident`."""
        for i, m in enumerate(self.inbox):
            if (isinstance(m, p.Ack) and m.id == ident) or (
                isinstance(m, p.Error) and m.ref == ident
            ):
                return self.inbox.pop(i)  # type: ignore[return-value]
        while True:
            m = pp.decode_feed(await asyncio.wait_for(self.ws.recv(), WAIT))
            if (isinstance(m, p.Ack) and m.id == ident) or (
                isinstance(m, p.Error) and m.ref == ident
            ):
                return m
            self.inbox.append(m)

    async def command(self, kind: str, ident: str | None = None, **fields: Any) -> p.Ack | p.Error:
        return await self.reply(await self.send(kind, ident, **fields))

    async def ok(self, kind: str, ident: str | None = None, **fields: Any) -> None:
        answer = await self.command(kind, ident, **fields)
        assert isinstance(answer, p.Ack), answer

    async def refused(self, kind: str, **fields: Any) -> p.Error:
        answer = await self.command(kind, **fields)
        assert isinstance(answer, p.Error), answer
        return answer
