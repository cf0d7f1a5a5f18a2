"""The media gateway on aiortc, in the server's own event loop.

Each candidate's offer gets a peer connection that only receives (one video, one audio track).
The gateway's own consumer reads every received track, frame by frame (counting frames,
handing them to the analysis hooks), so the decoded frames never queue; a proctor who watches
gets a peer connection of their own whose tracks the consumer hands each frame to
(watcher_track.py), dropped when they stop watching. Those are unbuffered (the latest frame
only): a slow watcher skips frames, nothing grows. While nobody watches, a frame costs what it
costs a bare receiver that reads it: one wake-up of the reading task.

aiortc decodes in a worker thread per receiver, so the event loop carries packets, not pixels;
docs/architecture.md has the ack latency measured with streams on and off.

A hook that also has `on_encoded` (the evidence clips) gets each received VP8 and Opus frame
as it arrived, before decoding, through a tap on each receiver (receiver_tap.py), which also
asks the sender for a keyframe every `keyframe_interval_s`; where the tap cannot be set it
gets the decoded frames only, as every hook does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame

from proctor_server.media.gateway import (
    MediaError,
    MediaHook,
    StatusCallback,
    StreamKey,
    StreamStats,
    Watcher,
    check_offer,
)
from proctor_server.media.receiver_tap import KEYFRAME_INTERVAL_S, EncodedFrame, tap_receiver
from proctor_server.media.stream_book import StreamBook
from proctor_server.media.watcher_track import WatcherTrack
from shared import protocol as p
from shared.proctor_protocol import MediaStatus

log = logging.getLogger(__name__)

KINDS = ("video", "audio")


def to_aiortc(servers: list[p.IceServer]) -> list[RTCIceServer]:
    return [
        RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in servers
    ]


@dataclass(eq=False)
class _Stream:
    key: StreamKey
    pc: RTCPeerConnection
    on_status: StatusCallback
    sources: dict[str, MediaStreamTrack] = field(default_factory=dict)
    watching: dict[str, set[WatcherTrack]] = field(  # by kind: the watchers' tracks
        default_factory=lambda: {kind: set() for kind in KINDS}
    )
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    video_frames: int = 0
    audio_frames: int = 0
    width: int = 0
    height: int = 0
    live: bool = False
    ended: bool = False
    tapped: set[str] = field(default_factory=set)  # kinds whose frames reach `on_encoded`


@dataclass(eq=False)
class _Link:
    """One proctor watching one attempt: their peer connection while the attempt is live."""

    watcher: Watcher
    pc: RTCPeerConnection | None = None
    proxies: list[MediaStreamTrack] = field(default_factory=list)


class AiortcGateway(StreamBook["_Stream", "_Link"]):
    """Implements :class:`proctor_server.media.gateway.MediaGateway`."""

    enabled = True

    def __init__(
        self,
        ice_servers: list[p.IceServer] | None = None,
        *,
        keyframe_interval_s: float = KEYFRAME_INTERVAL_S,
    ) -> None:
        self._ice_servers = list(ice_servers or [])
        super().__init__()
        self._hooks: list[MediaHook] = []
        self._encoded_hooks: list[Any] = []
        self._keyframe_interval_s = keyframe_interval_s
        self._closed = False

    @property
    def ice_servers(self) -> list[p.IceServer]:
        return list(self._ice_servers)

    def add_hook(self, hook: MediaHook) -> None:
        """Hand every decoded frame of every stream to `hook` (on the event loop: be quick),
        and every received VP8 and Opus frame too when it has `on_encoded`."""
        self._hooks.append(hook)
        if callable(getattr(hook, "on_encoded", None)):
            self._encoded_hooks.append(hook)

    def _peer(self) -> RTCPeerConnection:
        # An explicit list, even empty: aiortc's default would ask a public STUN server.
        return RTCPeerConnection(RTCConfiguration(iceServers=to_aiortc(self._ice_servers)))

    # ------------------------------------------------------------ candidates

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        if self._closed:
            raise MediaError("the server is shutting down")
        check_offer(offer_sdp)
        old = self._streams.pop(key.attempt, None)
        if old is not None:
            await self._close_stream(old, None)
        pc = self._peer()
        stream = _Stream(key, pc, on_status)
        self._streams[key.attempt] = stream

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind not in KINDS or track.kind in stream.sources:
                track.stop()
                return
            stream.sources[track.kind] = track
            if self._encoded_hooks:
                self._tap(stream, pc, track)
            stream.consumers.append(
                asyncio.create_task(self._consume(stream, track), name=f"media-{key.attempt}")
            )

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            state = pc.connectionState
            log.debug("attempt %s: media %s", key.attempt, state)
            if stream.ended:
                return
            if state == "connected":
                await self._offer_all(stream)
            elif state in ("failed", "closed"):
                reason = "the connection failed (ICE)" if state == "failed" else "closed"
                await self._end_stream(stream, reason)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, AssertionError, TypeError) as exc:  # aiortc's word on a bad offer
            await self._end_stream(stream, None)
            raise MediaError(f"the offer cannot be used: {exc}") from None
        description = pc.localDescription
        assert description is not None
        return description.sdp

    def _tap(self, stream: _Stream, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        receiver = next(
            (t.receiver for t in pc.getTransceivers() if t.receiver.track is track), None
        )

        def deliver(frame: EncodedFrame) -> None:
            if stream.ended:
                return
            for hook in self._encoded_hooks:
                try:
                    hook.on_encoded(stream.key, frame)
                except Exception:
                    log.exception("a media hook failed")

        interval = self._keyframe_interval_s
        tap = tap_receiver(receiver, deliver, keyframe_interval_s=interval) if receiver else None
        if tap is not None:
            stream.tapped.add(track.kind)
        else:
            log.warning(
                "attempt %s: no encoded %s frames from aiortc; clips encode",
                stream.key.attempt,
                track.kind,
            )

    async def _consume(self, stream: _Stream, track: MediaStreamTrack) -> None:
        """Read every frame of a received track (nothing queues), count it, hand it on to
        the hooks and to the watchers' tracks."""
        watchers = stream.watching[track.kind]
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    stream.video_frames += 1
                    stream.width, stream.height = frame.width, frame.height
                elif isinstance(frame, AudioFrame):
                    stream.audio_frames += 1
                else:  # pragma: no cover - a relay of decoded tracks carries frames only
                    continue
                if not stream.live and not stream.ended:
                    stream.live = True
                    stream.on_status(MediaStatus.LIVE, None)
                for watcher in watchers:
                    watcher.put(frame)
                for hook in self._hooks:
                    try:
                        hook.on_frame(stream.key, frame)
                    except Exception:
                        log.exception("a media hook failed")
        except MediaStreamError:
            return
        finally:
            track.stop()
            for watcher in list(watchers):
                watcher.end()

    async def add_ice(
        self, attempt: str, candidate: str | None, sdp_mid: str | None, index: int | None
    ) -> None:
        stream = self._streams.get(attempt)
        if stream is not None:
            await _add_candidate(stream.pc, candidate, sdp_mid, index)

    async def _close_link(self, link: _Link) -> None:
        await _close_link(link)

    def _new_link(self, watcher: Watcher) -> _Link:
        return _Link(watcher)

    async def _close_stream(self, stream: _Stream, reason: str | None) -> None:
        """Close a stream's connection and its watchers' ones; report why (None: silently,
        a newer stream of the same attempt takes over)."""
        if stream.ended:
            return
        stream.ended = True
        for link in self._links.get(stream.key.attempt, {}).values():
            await _close_link(link)
        for track in stream.sources.values():
            track.stop()
        await stream.pc.close()
        for task in stream.consumers:
            task.cancel()
        await asyncio.gather(*stream.consumers, return_exceptions=True)
        for hook in self._hooks:
            try:
                await hook.on_end(stream.key)
            except Exception:
                log.exception("a media hook failed at the end of a stream")
        if reason is not None:
            stream.on_status(MediaStatus.NO_LIVE_VIDEO, reason)

    # ------------------------------------------------------------ proctors

    async def watch(self, watcher: Watcher, attempt: str) -> None:
        link = await self._fresh_link(watcher, attempt)
        stream = self._streams.get(attempt)
        if stream is not None and stream.pc.connectionState == "connected":
            await self._offer(link, stream)

    async def _offer_all(self, stream: _Stream) -> None:
        for link in list(self._links.get(stream.key.attempt, {}).values()):
            await self._offer(link, stream)

    async def _offer(self, link: _Link, stream: _Stream) -> None:
        await _close_link(link)
        pc = self._peer()
        for kind in KINDS:
            source = stream.sources.get(kind)
            if source is not None and source.readyState == "live":
                proxy = WatcherTrack(kind, stream.watching[kind])
                link.proxies.append(proxy)
                pc.addTransceiver(proxy, direction="sendonly")
        link.pc = pc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed" and link.pc is pc:
                await _close_link(link)

        await pc.setLocalDescription(await pc.createOffer())
        description = pc.localDescription
        assert description is not None
        if not await link.watcher.send_offer(stream.key.attempt, description.sdp):
            await self.unwatch_all(link.watcher.id)

    def _link(self, watcher_id: str, attempt: str) -> _Link:
        link = self._links.get(attempt, {}).get(watcher_id)
        if link is None or link.pc is None:
            raise MediaError(f"no live video offered for attempt {attempt}")
        return link

    async def watcher_answer(self, watcher_id: str, attempt: str, sdp: str) -> None:
        link = self._link(watcher_id, attempt)
        assert link.pc is not None
        if link.pc.signalingState != "have-local-offer":
            raise MediaError("this offer was answered already")
        try:
            await link.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except (ValueError, AssertionError, TypeError) as exc:
            raise MediaError(f"the answer cannot be used: {exc}") from None

    async def watcher_ice(
        self,
        watcher_id: str,
        attempt: str,
        candidate: str | None,
        sdp_mid: str | None,
        index: int | None,
    ) -> None:
        link = self._link(watcher_id, attempt)
        assert link.pc is not None
        await _add_candidate(link.pc, candidate, sdp_mid, index)

    # ------------------------------------------------------------ figures and shutdown

    def stats(self, attempt: str) -> StreamStats | None:
        stream = self._streams.get(attempt)
        if stream is None:
            return None
        watchers = sum(1 for link in self._links.get(attempt, {}).values() if link.pc is not None)
        return StreamStats(
            video_frames=stream.video_frames,
            audio_frames=stream.audio_frames,
            width=stream.width,
            height=stream.height,
            state=stream.pc.connectionState,
            watchers=watchers,
        )

    @property
    def streams(self) -> int:
        return len(self._streams)

    async def close(self) -> None:
        self._closed = True
        for links in list(self._links.values()):
            for link in list(links.values()):
                await _close_link(link)
        self._links.clear()
        for stream in list(self._streams.values()):
            await self._end_stream(stream, "the server is shutting down")


async def _close_link(link: _Link) -> None:
    pc, link.pc = link.pc, None
    for proxy in link.proxies:
        proxy.stop()
    link.proxies.clear()
    if pc is not None:
        with contextlib.suppress(Exception):
            await pc.close()


async def _add_candidate(
    pc: RTCPeerConnection, candidate: str | None, sdp_mid: str | None, index: int | None
) -> None:
    if not candidate:
        return  # the end of candidates: aiortc needs no word of it
    text = candidate.removeprefix("candidate:")
    try:
        parsed = candidate_from_sdp(text)
    except (ValueError, IndexError) as exc:
        raise MediaError(f"unreadable ICE candidate: {exc}") from None
    parsed.sdpMid = sdp_mid
    parsed.sdpMLineIndex = index
    await pc.addIceCandidate(parsed)
