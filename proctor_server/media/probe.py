"""/ws/media-probe: the environment check's live-media test, outside any exam.

The server first sends a `media_report` carrying its ICE servers; the client sends `rtc_offer`
(its camera and microphone, as in the exam), gets `rtc_answer`, then `media_report` twice a second with what the server has received so far, for at most
`PROBE_MAX_S` seconds. No ticket is needed, so probes are few at a time and short."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.heap import release_frames
from proctor_server.media.gateway import MediaError, MediaGateway, StreamKey
from shared import protocol as p
from shared.errors import ErrorCode, ProtocolError
from shared.proctor_protocol import MediaStatus
from shared.vocabulary import CloseCode

log = logging.getLogger(__name__)

PROBE_MAX_S = 15.0
PROBE_REPORT_S = 0.5
MAX_PROBES = 8  # at once
PROBE_EXAM = "media-probe"


class MediaProbes:
    def __init__(self, gateway: MediaGateway, *, max_probes: int = MAX_PROBES) -> None:
        self.gateway = gateway
        self.max_probes = max_probes
        self.running = 0
        self._ids = itertools.count(1)

    async def serve(self, ws: ServerConnection) -> None:
        if self.running >= self.max_probes:
            await _send(
                ws, p.error(ErrorCode.NOT_ALLOWED, "too many media probes; retry", p.MEDIA_REF)
            )
            await ws.close(CloseCode.GOING_AWAY, "busy")
            return
        self.running += 1
        key = StreamKey(exam=PROBE_EXAM, attempt=f"probe-{next(self._ids)}")
        try:
            await self._probe(ws, key)
        except ConnectionClosed as closed:
            release_frames(closed)
        finally:
            self.running -= 1
            await self.gateway.finish(key.attempt)

    async def _probe(self, ws: ServerConnection, key: StreamKey) -> None:
        hello = p.MediaReport(
            video_frames=0, audio_frames=0, state="new", ice_servers=self.gateway.ice_servers
        )
        await _send(ws, hello)
        async with asyncio.timeout(PROBE_MAX_S):
            try:
                offer = p.decode_client(await ws.recv())
                if not isinstance(offer, p.RtcOffer):
                    raise ProtocolError("a media probe starts with rtc_offer")
                answer = await self.gateway.publish(key, offer.sdp, _ignore)
            except (ProtocolError, MediaError) as exc:
                await _send(ws, p.error(exc.code, exc.message, p.MEDIA_REF))
                return
            await _send(ws, p.RtcAnswer(sdp=answer))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PROBE_MAX_S):
                reader = asyncio.create_task(_drain(ws))
                try:
                    while not reader.done():
                        stats = self.gateway.stats(key.attempt)
                        await _send(
                            ws,
                            p.MediaReport(
                                video_frames=stats.video_frames if stats else 0,
                                audio_frames=stats.audio_frames if stats else 0,
                                width=stats.width if stats else 0,
                                height=stats.height if stats else 0,
                                state=stats.state if stats else "closed",
                            ),
                        )
                        await asyncio.wait([reader], timeout=PROBE_REPORT_S)
                finally:
                    reader.cancel()
        await ws.close()


async def _drain(ws: ServerConnection) -> None:
    """Read (and ignore) until the client closes: a trickled candidate has nowhere to go."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def _send(ws: ServerConnection, message: p._Msg) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(p.encode(message))


def _ignore(status: MediaStatus, reason: str | None) -> None:
    return None
