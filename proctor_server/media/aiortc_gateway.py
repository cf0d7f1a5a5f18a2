"""The media gateway on aiortc, in the server's own event loop (or the media process's).

Each candidate's offer gets a peer connection that only receives (one video, one audio track).
A tap on each receiver (receiver_tap.py) takes every VP8 frame and Opus packet as it arrives,
before decoding: the stream's figures (frames, the picture's size from its keyframes) and its
first-frame `live` status come from them; the hooks with `on_encoded` get them (the evidence
clips keep them; the live analysis decodes a keyframe alone now and then, asking for one
through the `KeyframeAsk` it is handed); and a proctor who watches gets a peer connection of
their own whose tracks relay them as packets (watcher_track.py `PacketTrack`): nothing is
decoded or encoded again for a watcher, and a watcher's keyframe asks go on to the candidate.

Neither video nor sound is decoded while no hook needs it decoded (`needs_decoded`: the clips,
the live analysis and voice activity all take the encoded frames, voice activity decoding its
Opus packets itself): the taps keep VP8 frames and Opus packets from aiortc's decoder thread,
which then decodes nothing. A hook that needs a kind decoded (tests') turns its decoding back
on, for the streams there are and the next ones. Every received track is still read by the
gateway's own consumer (nothing queues; it ends with the track), which hands the decoded
frames there are to the hooks' `on_frame`.

Where the tap cannot be set (another aiortc), a kind falls back to decoded frames: figures
and status from them, and the watchers get them re-encoded (`WatcherTrack`, the latest frame
only: a slow watcher skips frames, nothing grows).

aiortc decodes in a worker thread per receiver, so the event loop carries packets, not pixels;
docs/architecture.md and docs/benchmarks.md have the costs and the ack latency measured.
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
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame

from proctor_server.media.gateway import (
    CLOSED,
    ICE_FAILED,
    SHUTTING_DOWN,
    MediaError,
    MediaHook,
    StatusCallback,
    StreamKey,
    StreamStats,
    Watcher,
    check_offer,
    needs_decoded,
)
from proctor_server.media.receiver_tap import (
    KEYFRAME_INTERVAL_S,
    EncodedFrame,
    ReceiverTap,
    Vp8Frame,
    tap_receiver,
    vp8_keyframe_size,
)
from proctor_server.media.stream_book import StreamBook
from proctor_server.media.watcher_track import PacketTrack, WatcherTrack, forward_keyframe_asks
from shared import protocol as p
from shared.proctor_protocol import MediaStatus

log = logging.getLogger(__name__)

KINDS = ("video", "audio")
RELAYED_CODECS = {"video": ("video/vp8", "video/rtx"), "audio": ("audio/opus",)}


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
    watching: dict[str, set[WatcherTrack]] = field(  # by kind: the watchers' decoded tracks
        default_factory=lambda: {kind: set() for kind in KINDS}
    )
    relays: dict[str, set[PacketTrack]] = field(  # by kind: the watchers' packet tracks
        default_factory=lambda: {kind: set() for kind in KINDS}
    )
    taps: dict[str, ReceiverTap] = field(default_factory=dict)  # by kind, where set
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    video_frames: int = 0
    audio_frames: int = 0
    width: int = 0
    height: int = 0
    live: bool = False
    ended: bool = False


@dataclass(eq=False)
class _Link:
    """One proctor watching one attempt: their peer connection while the attempt is live."""

    watcher: Watcher
    pc: RTCPeerConnection | None = None
    proxies: list[MediaStreamTrack] = field(default_factory=list)


class AiortcGateway(StreamBook["_Stream", "_Link"]):
    """Implements :class:`proctor_server.media.gateway.MediaGateway`."""

    enabled = True
    across_servers = False  # it relays the streams of this process only

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
        self._encoded = set(KINDS)  # kinds no hook needs decoded: the taps keep them encoded
        self._closed = False

    @property
    def ice_servers(self) -> list[p.IceServer]:
        return list(self._ice_servers)

    def add_hook(self, hook: MediaHook) -> None:
        """Hand every decoded frame of every stream to `hook` (on the event loop: be quick),
        every received VP8 and Opus frame too when it has `on_encoded`, and `keyframe` to its
        `use_keyframes`. A hook that needs a kind decoded turns that kind's decoding on."""
        self._hooks.append(hook)
        if callable(getattr(hook, "on_encoded", None)):
            self._encoded_hooks.append(hook)
        use_keyframes = getattr(hook, "use_keyframes", None)
        if callable(use_keyframes):
            use_keyframes(self.keyframe)
        for kind in KINDS:
            if kind in self._encoded and needs_decoded(hook, kind):
                self._encoded.discard(kind)
                for stream in self._streams.values():
                    tap = stream.taps.get(kind)
                    if tap is not None and kind in tap.encoded:
                        tap.encoded.discard(kind)
                        if kind == "video":
                            with contextlib.suppress(RuntimeError):  # no loop: no stream
                                tap.keyframe()  # the decoder starts on one

    def keyframe(self, attempt: str) -> bool:
        """Ask the attempt's sender for a keyframe now (rate-limited by its tap); False when
        none was asked for (asked lately, no tapped video)."""
        stream = self._streams.get(attempt)
        tap = stream.taps.get("video") if stream is not None else None
        return tap.keyframe() if tap is not None else False

    def _peer(self) -> RTCPeerConnection:
        # An explicit list, even empty: aiortc's default would ask a public STUN server.
        return RTCPeerConnection(RTCConfiguration(iceServers=to_aiortc(self._ice_servers)))

    # ------------------------------------------------------------ candidates

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        if self._closed:
            raise MediaError(SHUTTING_DOWN)
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
                reason = ICE_FAILED if state == "failed" else CLOSED
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

        relays = stream.relays[track.kind]

        def deliver(frame: EncodedFrame) -> None:
            if stream.ended:
                return
            if isinstance(frame, Vp8Frame):
                stream.video_frames += 1
                size = vp8_keyframe_size(frame.data) if frame.keyframe else None
                if size is not None:
                    stream.width, stream.height = size
            else:
                stream.audio_frames += 1
            self._went_live(stream)
            for relay in relays:
                relay.put(frame)
            for hook in self._encoded_hooks:
                try:
                    hook.on_encoded(stream.key, frame)
                except Exception:
                    log.exception("a media hook failed")

        tap = (
            tap_receiver(
                receiver,
                deliver,
                keyframe_interval_s=self._keyframe_interval_s,
                encoded=self._encoded,
            )
            if receiver is not None
            else None
        )
        if tap is not None:
            stream.taps[track.kind] = tap
        else:
            log.warning(
                "attempt %s: no encoded %s frames from aiortc; decoding them for all",
                stream.key.attempt,
                track.kind,
            )

    @staticmethod
    def _went_live(stream: _Stream) -> None:
        if not stream.live and not stream.ended:
            stream.live = True
            stream.on_status(MediaStatus.LIVE, None)

    async def _consume(self, stream: _Stream, track: MediaStreamTrack) -> None:
        """Read every decoded frame of a received track (nothing queues) and hand it to the
        hooks; where the kind is not tapped, count it and hand it to the watchers' tracks
        too. A tapped kind that nobody needs decoded gives no frame here, only the end."""
        watchers = stream.watching[track.kind]
        tapped = track.kind in stream.taps
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, VideoFrame | AudioFrame):  # pragma: no cover
                    continue
                if not tapped:
                    if isinstance(frame, VideoFrame):
                        stream.video_frames += 1
                        stream.width, stream.height = frame.width, frame.height
                    else:
                        stream.audio_frames += 1
                    self._went_live(stream)
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
            for relay in list(stream.relays[track.kind]):
                relay.end()

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
            if source is None or source.readyState != "live":
                continue
            tap = stream.taps.get(kind)
            if tap is None:
                proxy: MediaStreamTrack = WatcherTrack(kind, stream.watching[kind])
                link.proxies.append(proxy)
                pc.addTransceiver(proxy, direction="sendonly")
                continue
            proxy = PacketTrack(kind, stream.relays[kind], tap.keyframe)  # asks for a keyframe
            link.proxies.append(proxy)
            _relay_codecs(pc.addTransceiver(proxy, direction="sendonly"), kind, tap)
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
            await self._end_stream(stream, SHUTTING_DOWN)


def _relay_codecs(transceiver: RTCRtpTransceiver, kind: str, tap: ReceiverTap) -> None:
    """Offer the watcher the codec the packets are in only (VP8, Opus), and send the
    keyframes it asks for on to the candidate."""
    capabilities = RTCRtpSender.getCapabilities(kind)
    wanted = RELAYED_CODECS[kind]
    transceiver.setCodecPreferences(
        [c for c in capabilities.codecs if c.mimeType.lower() in wanted]
    )
    if kind == "video" and not forward_keyframe_asks(transceiver.sender, tap.keyframe):
        log.warning("this aiortc's sender takes no keyframe asks: watchers wait for the next")


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
