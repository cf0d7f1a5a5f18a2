"""The two other ends of live media in tests: a candidate publishing from test sources, and a
proctor watching over /ws/proctor with an aiortc peer of its own (as a browser would)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import aioice.ice
import aioice.stun
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.microphones import ToneMicrophone
from proctor_client.media.publisher import MediaSources, Publisher
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.media.fakes import PaletteCamera

if TYPE_CHECKING:
    from tests.server.scripted import Candidate

TONE_HZ = 1000.0
T = TypeVar("T")


def consent_soonest_s() -> float:
    """The soonest aioice gives up on a peer that no longer answers (RFC 7675 consent):
    `CONSENT_FAILURES` checks in a row, each sent at least 0.8 × `CONSENT_INTERVAL` after the
    last (6 × 4 = 24 s). An app that notices a dead stream sooner was told."""
    return aioice.ice.CONSENT_FAILURES * 0.8 * aioice.ice.CONSENT_INTERVAL


def palette_sources() -> MediaSources:
    return MediaSources(
        camera=CameraReader(PaletteCamera()),
        microphone=ToneMicrophone(frequency=TONE_HZ, level=0.5),
        answer_timeout_s=5.0,
        connect_timeout_s=10.0,
        retry_base_s=0.2,
        retry_cap_s=0.5,
    )


@dataclass
class ProctorPeer:
    """A proctor's feed and, once it watches, the relayed frames it receives."""

    ws: ClientConnection
    events: list[pp.FeedMessage] = field(default_factory=list)
    video: list[VideoFrame] = field(default_factory=list)
    audio: list[AudioFrame] = field(default_factory=list)
    pcs: list[RTCPeerConnection] = field(default_factory=list)
    offers: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._read()))

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                message = pp.decode_feed(raw)
                self.events.append(message)
                if isinstance(message, pp.RtcOffer):
                    await self._answer(message)
                self._changed.set()

    async def _answer(self, offer: pp.RtcOffer) -> None:
        self.offers += 1
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.create_task(self._collect(track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        assert pc.localDescription is not None
        answer = pp.RtcAnswer(attempt=offer.attempt, sdp=pc.localDescription.sdp)
        await self.ws.send(pp.encode(answer).decode())

    async def _collect(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self.video.append(frame)
                elif isinstance(frame, AudioFrame):
                    self.audio.append(frame)
                self._changed.set()

    async def command(self, message: pp.Command) -> None:
        await self.ws.send(pp.encode(message).decode())

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate` holds after some message or frame (bound it with a timeout)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    def of_type(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()
        await self.ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def proctor(url: str) -> AsyncIterator[ProctorPeer]:
    async with connect(url) as ws:
        peer = ProctorPeer(ws)
        peer.start()
        try:
            yield peer
        finally:
            await peer.close()


async def poll(condition: Callable[[], Awaitable[bool] | bool], interval: float = 0.05) -> None:
    """Wait until `condition` holds, checking every `interval` seconds: for counters that
    have no event of their own (the gateway's, the store's). Bound it with a timeout."""
    while True:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(interval)


class Streaming:
    """A scripted candidate's connection publishing a real stream from the test sources, as
    the app does (its `Publisher`): the offer and the server's answer go through the
    connection, the media through aiortc. It reads the connection meanwhile."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate
        self._sends: set[asyncio.Task[None]] = set()
        self.publisher = Publisher(palette_sources(), self._signal, lambda _: None)
        self._reader = asyncio.create_task(self._read())
        self.publisher.start([])

    def _signal(self, message: p.ClientMessage) -> bool:
        task = asyncio.create_task(self.candidate.send(message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        return True

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                m = await self.candidate.ws.recv()
                message = p.decode_server(m)
                if isinstance(message, p.RtcAnswer):
                    self.publisher.answered(message.sdp)
                elif isinstance(message, p.Error) and message.ref == p.MEDIA_REF:
                    self.publisher.refused(message.message)

    async def stop(self) -> None:
        await self.publisher.stop()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
