"""One candidate connection on /ws/candidate: the socket loop and the dispatch. `hello` enters
an attempt (`session.entry`); each later message goes to its handler (`session.writes`,
`session.images`). Malformed input is answered with an error and counted, never fatal."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.core.quota import WriteKind
from proctor_server.heap import release_frames
from proctor_server.sending import send_text
from proctor_server.session import images, media, writes
from proctor_server.session.deps import SessionDeps
from proctor_server.session.entry import enter
from proctor_server.session.live import LiveAttempt
from proctor_server.tasks import Lane
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, ProctorError, ProtocolError, RuleError
from shared.timeutil import to_wire
from shared.vocabulary import CloseCode

log = logging.getLogger(__name__)

MAX_PROTOCOL_ERRORS = 50
_KINDS: dict[type[p.ClientMessage], WriteKind] = {
    p.Answer: WriteKind.ANSWER,
    p.Event: WriteKind.EVENT,
}


class CandidateSession:
    __slots__ = ("deps", "errors", "live", "media", "peer", "ws")  # thousands live at once

    def __init__(self, deps: SessionDeps, ws: ServerConnection):
        self.deps = deps
        self.ws = ws
        self.peer = f"{ws.remote_address}"
        self.live: LiveAttempt | None = None
        # its live media requests, once the candidate offers live media
        self.media: Lane[p.RtcOffer | p.RtcIce] | None = None
        self.errors = 0

    async def send(self, message: p._Msg) -> None:
        try:
            await send_text(self.ws, p.encode_bytes(message))
        except ConnectionClosed:
            pass

    async def close(self, code: CloseCode, reason: str) -> None:
        await self.ws.close(code, reason)

    async def refuse(self, exc: ProctorError) -> None:
        log.info("%s: %s %s", self.peer, exc.code.value, exc.message)
        await self.send(p.error(exc.code, exc.message, exc.ref))

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        try:
            self.live = await self._hello()
            if self.live is not None:
                self.live.runtime.quality.linked(self.live.attempt_id, self.ws)
                await self._serve(self.live)
        except ConnectionClosed as closed:
            release_frames(closed)
        finally:
            if self.media is not None:
                await self.media.close()
            if self.live is not None:
                await self._ended(self.live)

    async def _ended(self, live: LiveAttempt) -> None:
        """The connection is over. Its live media ends and the proctors see the candidate
        leave, unless a newer connection took the attempt over (`ExamRuntime.was_replaced`):
        that one told them it joined, and has the stream, or will offer it; on another process,
        the stream here was ended when this process was told (`signalled`)."""
        runtime = live.runtime
        replaced = runtime.was_replaced(live)
        runtime.detach(live)
        runtime.quality.unlinked(live.attempt_id, self.ws)
        if replaced:
            return
        await media.ended(live)
        # told only when it is still gone (a newer connection may have come meanwhile), and
        # built only when a proctor follows the exam
        if live.attempt_id not in runtime.sessions and runtime.deps.bus.watched(runtime.exam.id):
            runtime.publish(
                pp.Left(
                    exam=runtime.exam.id,
                    at=runtime.wire_now(),
                    attempt=live.attempt_id,
                    candidate=live.code,
                )
            )

    async def _hello(self) -> LiveAttempt | None:
        try:
            async with asyncio.timeout(self.deps.hello_timeout_s):  # no extra task
                raw = await self.ws.recv()
        except TimeoutError:
            await self.refuse(ProtocolError("no hello within the time allowed"))
            await self.close(CloseCode.HELLO_TIMEOUT, "hello timeout")
            return None
        try:
            if isinstance(raw, bytes):
                raise ProtocolError("the first message must be a hello text frame")
            message = p.decode_client(raw)
            if not isinstance(message, p.Hello):
                raise ProtocolError(
                    f"the first message must be hello, not {type(message).__name__}"
                )
            return await enter(message, self.deps, self.send, self.close, self.peer)
        except ProctorError as exc:
            await self.refuse(exc)
            await self.close(CloseCode.HELLO_REFUSED, exc.code.value)
            return None

    # ------------------------------------------------------------ the message loop

    async def _serve(self, live: LiveAttempt) -> None:
        quota = await live.runtime.quota(live.attempt_id)
        recv = self.ws.recv
        while True:  # not `async for`, whose async generator took 3 % of an answer's CPU
            raw = await recv()  # ConnectionClosed (OK or not) ends the session in `run`
            ref: str | None = None  # the message's id, once known, for an error's `ref`
            try:
                if isinstance(raw, bytes):
                    header, image = p.decode_image(raw)
                    ref = header.id
                    quota.admit(
                        WriteKind.IMAGE, self.deps.clock.now(), size=len(image), ref=header.id
                    )
                    if await images.image(live, header, image):
                        quota.stored_image(len(image))
                else:
                    message = p.decode_client(raw)
                    ref = getattr(message, "id", None)
                    now = self.deps.clock.now()  # the message's arrival, for its checks
                    quota.admit(_KINDS.get(type(message), WriteKind.OTHER), now, ref=ref)
                    await self._dispatch(live, message, now)
            except ProctorError as exc:
                await self.refuse(exc)
                if isinstance(exc, ProtocolError):
                    self.errors += 1
                    if self.errors >= MAX_PROTOCOL_ERRORS:
                        await self.close(CloseCode.POLICY_VIOLATION, "too many malformed messages")
                        return
            except ConnectionClosed:
                raise
            except Exception:
                log.exception("%s: internal error", self.peer)
                await self.send(
                    p.error(ErrorCode.INTERNAL_ERROR, "the server failed; try again", ref)
                )
            # A photo (a copy out of its frame) is not held here until the next one comes: with
            # a snapshot every 30 s, that would be a photo in memory for every candidate in the
            # exam. (Its frame goes when the next message arrives: `websockets` keeps the last
            # frame it parsed until then.)
            image = b""

    async def _dispatch(self, live: LiveAttempt, m: p.ClientMessage, now: datetime) -> None:
        """Handle a message that arrived at `now` (answers are checked and stored at it)."""
        match m:
            case p.Answer():  # first: most of what a candidate sends
                await writes.answer(live, m, now)
            case p.Heartbeat():
                await self.send(p.HeartbeatAck(server_time=to_wire(now)))
            case p.Event():
                await writes.event(live, m)
            case p.Profile():
                await writes.profile(live, m)
            case p.Submit():
                await writes.submit(live, m)
            case p.Consent():
                await writes.consent(live, m)
            case p.RtcOffer() | p.RtcIce():
                if self.media is None:
                    self.media = media.media_lane(live)
                await self.media.put(m)
            case p.Hello():
                raise RuleError("already signed in on this connection", code=ErrorCode.NOT_ALLOWED)
