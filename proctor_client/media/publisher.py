"""Publishing the camera and the microphone for one connection of the exam's socket.

After `welcome` (when it says the server takes live media) the runtime starts a `Publisher`:
it offers one video and one audio track, send-only, in `rtc_offer` on the candidate socket
(aiortc gathers its ICE candidates before the offer leaves: no trickle), takes the server's
`rtc_answer`, and watches the connection. When it fails or closes, or the server refuses it
or ends it (a media `error`), the status says why and a new offer follows after a back-off;
the exam itself never waits for any of this. The runtime stops the publisher when its
connection ends (the next `welcome` starts a new one) and when it closes.

Bitrate: aiortc has no `RTCRtpSender.setParameters`; its VP8 encoder takes a target bitrate
(between 250 kb/s and 1.5 Mb/s) that the receiver's estimate (REMB) raises. The publisher
clamps that target to `max_bitrate` once a second, so live video stays near 300 kb/s beside
answers and snapshots on a 1 Mb/s line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)

from proctor_client.devices.base import Microphone
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.microphones import SharedMicrophone
from proctor_client.media.tracks import CameraTrack, MicrophoneTrack, VideoSettings
from shared import protocol as p

log = logging.getLogger(__name__)

DEFAULT_MAX_BITRATE = 300_000  # bits per second, video
LIVE = "live"
CONNECTING = "connecting"
NO_LIVE_VIDEO = "no live video"

Signal = Callable[[p.ClientMessage], bool]  # queue a message on the socket; False: not connected
StatusListener = Callable[[str], None]


@dataclass(slots=True)
class MediaSources:
    """What the app publishes: its camera's one reader and its microphone (either may be
    missing), at `video` size and rate, video capped at `max_bitrate`."""

    camera: CameraReader | None = None
    microphone: Microphone | SharedMicrophone | None = None
    video: VideoSettings = field(default_factory=VideoSettings)
    max_bitrate: int = DEFAULT_MAX_BITRATE
    answer_timeout_s: float = 15.0
    connect_timeout_s: float = 20.0
    retry_base_s: float = 1.0  # a new offer after a failure: back-off from this
    retry_cap_s: float = 30.0  # to at most this
    relay_only: bool = False  # through the TURN relay alone (networks where nothing else passes)


def ice_configuration(servers: list[p.IceServer], *, relay_only: bool = False) -> RTCConfiguration:
    # An explicit list, even empty: aiortc's default would ask a public STUN server.
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in servers
        ],
        iceTransportPolicy=(
            RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
        ),
    )


def add_tracks(pc: RTCPeerConnection, sources: MediaSources) -> list[CameraTrack | MicrophoneTrack]:
    tracks: list[CameraTrack | MicrophoneTrack] = []
    if sources.camera is not None:
        tracks.append(CameraTrack(sources.camera, sources.video))
    if sources.microphone is not None:
        tracks.append(MicrophoneTrack(sources.microphone))
    for track in tracks:
        pc.addTransceiver(track, direction="sendonly")
    return tracks


def cap_bitrate(pc: RTCPeerConnection, bitrate: int) -> None:
    """Clamp the video encoders' target bitrate (aiortc keeps the encoder private)."""
    for sender in pc.getSenders():
        encoder = getattr(sender, "_RTCRtpSender__encoder", None)
        target = getattr(encoder, "target_bitrate", None)
        if isinstance(target, int) and target > bitrate:
            encoder.target_bitrate = bitrate  # type: ignore[union-attr]


class Delays(Protocol):
    """Retry delays (the runtime's `Backoff`: exponential with jitter)."""

    def next_delay(self) -> float: ...

    def reset(self) -> None: ...


@dataclass(slots=True)
class Doubling:
    """1, 2, 4 ... up to `cap` seconds: the default when no `Delays` is given."""

    base: float = 1.0
    cap: float = 30.0
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class Publisher:
    def __init__(
        self,
        sources: MediaSources,
        signal: Signal,
        on_status: StatusListener,
        *,
        backoff: Delays | None = None,
    ) -> None:
        self.sources = sources
        self._signal = signal
        self._on_status = on_status
        self.backoff: Delays = backoff or Doubling()
        self._task: asyncio.Task[None] | None = None
        self._reply: asyncio.Future[tuple[bool, str]] | None = None
        self._ended: asyncio.Future[str] | None = None  # the server's word that it ended it
        self.status = ""
        self.offers = 0  # offers sent so far (figures, tests)
        self.pc: RTCPeerConnection | None = None

    def start(self, ice_servers: list[p.IceServer]) -> None:
        """Publish from now on (a running one is replaced)."""
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self._run(ice_servers), name="proctor-client-media")

    def answered(self, sdp: str) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_result((True, sdp))

    def refused(self, message: str) -> None:
        """The server's media `error`: the refusal of the offer awaiting its answer, or, once
        an answer came, the end of the stream the server had taken (it stopped it: the media
        process stopped, ICE failed on its side). Either way a new offer follows. Between
        offers it is about a stream already given up, and changes nothing. (The socket keeps
        order: a stream's end always comes before the answer to a later offer.)"""
        if self._reply is not None and not self._reply.done():
            self._reply.set_result((False, message))
        elif self._ended is not None and not self._ended.done():
            self._ended.set_result(message)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._set_status("")

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self._on_status(status)

    async def _run(self, ice_servers: list[p.IceServer]) -> None:
        while True:
            try:
                reason = await self._publish_once(ice_servers)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let media take the app down
                log.exception("live media failed")
                reason = f"{type(exc).__name__}: {exc}"
            self._set_status(f"{NO_LIVE_VIDEO}: {reason}")
            delay = self.backoff.next_delay()
            log.info("live media down (%s); new offer in %.1f s", reason, delay)
            await asyncio.sleep(delay)

    async def _publish_once(self, ice_servers: list[p.IceServer]) -> str:
        """One offer and its connection, until it ends; returns why it ended."""
        pc = RTCPeerConnection(ice_configuration(ice_servers, relay_only=self.sources.relay_only))
        self.pc = pc
        tracks = add_tracks(pc, self.sources)
        changed = asyncio.Event()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            changed.set()

        loop = asyncio.get_running_loop()
        try:
            if not tracks:
                return "no camera and no microphone"
            self._set_status(CONNECTING)
            await pc.setLocalDescription(await pc.createOffer())
            assert pc.localDescription is not None
            self._reply = loop.create_future()
            if not self._signal(p.RtcOffer(sdp=pc.localDescription.sdp)):
                return "not connected to the server"
            self.offers += 1
            try:
                async with asyncio.timeout(self.sources.answer_timeout_s):
                    accepted, text = await self._reply
            except TimeoutError:
                return "the server did not answer the offer"
            if not accepted:
                return f"the server refused it: {text}"
            ended = self._ended = loop.create_future()
            ended.add_done_callback(lambda _: changed.set())
            await pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
            try:
                async with asyncio.timeout(self.sources.connect_timeout_s):
                    while pc.connectionState not in ("connected", "failed", "closed"):
                        if ended.done():
                            return f"the server ended it: {ended.result()}"
                        changed.clear()
                        await changed.wait()
            except TimeoutError:
                return "no connection (UDP blocked? a TURN server helps)"
            if pc.connectionState != "connected":
                return "the connection failed (UDP blocked? a TURN server helps)"
            self._set_status(LIVE)
            self.backoff.reset()
            while pc.connectionState == "connected" and not ended.done():
                cap_bitrate(pc, self.sources.max_bitrate)
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 1.0)
            if ended.done():
                return f"the server ended it: {ended.result()}"
            return f"the connection {pc.connectionState}"
        finally:
            self._reply = self._ended = None
            for track in tracks:
                track.stop()
            await pc.close()
            if self.pc is pc:
                self.pc = None
