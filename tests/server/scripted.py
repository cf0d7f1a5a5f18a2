"""A scripted candidate for server tests: speaks the wire protocol over a real socket."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

import cv2
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from shared import protocol as p
from shared.vocabulary import Mode

M = TypeVar("M")
WAIT = 10.0  # seconds: generous upper bound for a reply on loopback


def jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data)


class Candidate:
    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.inbox: list[p.ServerMessage] = []  # messages received while waiting for others

    @classmethod
    async def connect(cls, ws_url: str) -> Candidate:
        return cls(
            await connect(ws_url + "/ws/candidate", compression=None, max_size=None, max_queue=None)
        )

    async def close(self) -> None:
        await self.ws.close()

    def vanish(self) -> None:
        """Drop the TCP connection without a closing handshake, like a lost network."""
        self.ws.transport.abort()

    async def send(self, message: p._Msg) -> None:
        await self.ws.send(p.encode(message))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def close_code(self) -> int | None:
        """Read on, dropping what arrives, until the connection closes: the code it was closed
        with (None: no closing frame came)."""
        try:
            while True:
                await self.recv()
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code

    async def recv(self) -> p.ServerMessage:
        if self.inbox:
            return self.inbox.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), WAIT)
        return p.decode_server(raw)

    async def expect(self, kind: type[M], timeout: float = WAIT) -> M:
        """The next message of this type; others are kept in order for later."""
        for i, m in enumerate(self.inbox):
            if isinstance(m, kind):
                return self.inbox.pop(i)  # type: ignore[return-value]
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            m = p.decode_server(raw)
            if isinstance(m, kind):
                return m
            self.inbox.append(m)

    async def expect_error(self, code: str) -> p.Error:
        err = await self.expect(p.Error)
        assert err.code == code, f"expected {code}, got {err.code}: {err.message}"
        return err

    async def hello(
        self, ticket: str, mode: Mode = Mode.EXAM, *, ready: bool = True, **client: Any
    ) -> p.Welcome | p.Error:
        """Sign in. `ready`: then give what is owed before the paper, as the app does: the
        rules of conduct accepted (R16) and, for the exam, the postal address (R14)."""
        await self.send(
            p.Hello(protocol=p.PROTOCOL_VERSION, ticket=ticket, mode=mode, client=client)
        )
        m = await self.recv()
        assert isinstance(m, p.Welcome | p.Error), m
        if ready and isinstance(m, p.Welcome) and not m.state.endswith("ed"):
            await self.get_ready(m)
        return m

    async def get_ready(self, welcome: p.Welcome) -> None:
        """Accept the rules and give the address, each acknowledged (anything else that
        arrives meanwhile is kept in order for later reads)."""
        if welcome.consent_version is None:
            await self.expect_ack(await self.consent())
        if welcome.mode is Mode.EXAM and not welcome.profile_saved:
            await self.expect_ack(await self.profile())

    async def consent(self, version: str = "2026-11") -> str:
        ident = new_id()
        await self.send(p.Consent(id=ident, version=version))
        return ident

    async def profile(self) -> str:
        ident = new_id()
        mail = p.MailTo(
            name="A Candidate", phone="13800000000", address="1 Road", postcode="100000"
        )
        await self.send(p.Profile(id=ident, mail_to=mail))
        return ident

    async def identity(
        self, photo: bytes | None = None, ident: str | None = None
    ) -> p.IdentityResult:
        ident = ident or new_id()
        await self.ws.send(
            p.encode_image(p.ImageHeader(type="identity_photo", id=ident), photo or jpeg())
        )
        await self.expect_ack(ident)
        return await self.expect(p.IdentityResult)

    async def snapshot(self, ident: str | None = None, photo: bytes | None = None) -> str:
        ident = ident or new_id()
        await self.ws.send(
            p.encode_image(p.ImageHeader(type="snapshot", id=ident), photo or jpeg(seed=1))
        )
        return ident

    async def expect_ack(self, ident: str) -> p.Ack:
        for i, m in enumerate(self.inbox):
            if isinstance(m, p.Ack) and m.id == ident:
                return self.inbox.pop(i)  # type: ignore[return-value]
            if isinstance(m, p.Error) and m.ref == ident:
                raise AssertionError(f"error instead of ack for {ident}: {m.code} {m.message}")
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), WAIT)
            m = p.decode_server(raw)
            if isinstance(m, p.Ack) and m.id == ident:
                return m
            if isinstance(m, p.Error) and m.ref == ident:
                raise AssertionError(f"error instead of ack for {ident}: {m.code} {m.message}")
            self.inbox.append(m)

    async def answer(self, question: str, choice: list[str], ident: str | None = None) -> str:
        ident = ident or new_id()
        await self.send(p.Answer(id=ident, question=question, choice=choice))
        return ident

    async def enter(self, ticket: str) -> tuple[p.Welcome, p.Paper]:
        """hello + identity photo + paper: the usual way in once the exam has started."""
        welcome = await self.hello(ticket)
        assert isinstance(welcome, p.Welcome), welcome
        result = await self.identity()
        assert result.accepted, result.reasons
        return welcome, await self.expect(p.Paper)


def new_id() -> str:
    return uuid.uuid4().hex
