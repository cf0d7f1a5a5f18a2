"""The media gateway: the one interface the server's sessions and proctor feeds use for live
audio and video, whatever carries it (aiortc in this process now; an SFU such as Janus later).

A candidate publishes one video and one audio track per attempt (`publish`, answering its
offer); the gateway consumes every track it receives, so nothing queues, and reports the
attempt's status (`live`, or no live video and why) through the callback given with the offer.
Proctors `watch` an attempt: the gateway sends each watcher an offer carrying that attempt's
live tracks, relayed only while someone watches, and again whenever the candidate's stream
comes back after a cut. Every peer connection closes with its attempt (`end`) and on `close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared import protocol as p
from shared.errors import ErrorCode, ProctorError
from shared.proctor_protocol import MediaStatus

if TYPE_CHECKING:  # PyAV comes with aiortc; the interface itself needs neither
    from av import AudioFrame, VideoFrame

log = logging.getLogger(__name__)

END_TIMEOUT_S = 5.0  # `end_stream` and `finish_media`: done by then, or left to the gateway
# Why a stream ended or was refused, as proctors are told (`MediaStatus.NO_LIVE_VIDEO`); the
# console words each in its own language (dashboard/i18n.js, "media.reason." keys).
CONNECTION_CLOSED = "the candidate's connection closed"
MOVED = "the candidate reconnected through another server"
ATTEMPT_OVER = "the attempt is over"
SHUTTING_DOWN = "the server is shutting down"
RESTARTING = "live media is restarting"
NOT_ENABLED = "live media is not enabled on this server"
ICE_FAILED = "the connection failed (ICE)"
CLOSED = "closed"
TIMED_OUT = "live media did not answer in time"  # a request the gateway did not answer in time

ELSEWHERE = (  # why a watch is refused: the candidate streams through another server process
    "the candidate's live video goes through another server, which this one cannot relay"
)

StatusCallback = Callable[[MediaStatus, str | None], None]
SendOffer = Callable[[str, str], Awaitable[bool]]  # (attempt, sdp) -> still connected
KeyframeAsk = Callable[[str], bool]  # (attempt) -> asked (False: asked lately, or cannot)


class MediaError(ProctorError):
    """Live media cannot be set up (no media on this server, an unusable offer)."""

    code = ErrorCode.NOT_ALLOWED


def check_offer(sdp: str) -> None:
    """At most one video and one audio section, at least one of them; MediaError otherwise."""
    lines = sdp.splitlines()
    video = sum(1 for line in lines if line.startswith("m=video"))
    audio = sum(1 for line in lines if line.startswith("m=audio"))
    other = sum(1 for line in lines if line.startswith("m=")) - video - audio
    if video > 1 or audio > 1 or other or video + audio == 0:
        raise MediaError(
            f"the offer must carry one video and one audio track "
            f"(it has {video} video, {audio} audio, {other} other)"
        )


@dataclass(frozen=True, slots=True)
class StreamKey:
    exam: str
    attempt: str


@dataclass(frozen=True, slots=True)
class Watcher:
    """One proctor's feed connection: `id` is unique per connection; `send_offer` sends that
    proctor an `rtc_offer` for an attempt."""

    id: str
    exam: str
    send_offer: SendOffer


@dataclass(frozen=True, slots=True)
class StreamStats:
    """What arrived of one attempt's stream so far."""

    video_frames: int
    audio_frames: int
    width: int
    height: int
    state: str  # the peer connection's state
    watchers: int


class MediaHook(Protocol):
    """Analysis on live media: every decoded frame of every stream, then the stream's end.

    Optional parts a gateway that receives the media itself (aiortc's) looks for:

    - `on_encoded(key, frame)`: each received VP8 frame and Opus packet as it came, before
      decoding (receiver_tap.py); such a hook's `on_frame` is its fallback where the frames
      cannot be had encoded, so by default it needs no decoded video or sound. Where they can,
      another hook may still need them decoded, and then this one gets both: it keeps to one
      per stream (the first that comes: encoded, where the tap is set);
    - `use_keyframes(ask)`: the gateway hands the hook a `KeyframeAsk`, with which it asks an
      attempt's sender for a keyframe (live_video.py: a sample falls due);
    - `decoded_video` / `decoded_audio`: whether the hook needs that kind decoded (declared,
      this wins over the default above: True for a hook without `on_encoded`).

    While no hook needs a kind decoded, the aiortc gateway decodes none of it (`needs_decoded`).
    """

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        """Called on the event loop for each frame: copy what is needed, return at once."""
        ...

    async def on_end(self, key: StreamKey) -> None: ...


def needs_decoded(hook: object, kind: str) -> bool:
    """Whether `hook` needs decoded frames of `kind` ("video", "audio"; see MediaHook)."""
    declared = getattr(hook, f"decoded_{kind}", None)
    if declared is not None:
        return bool(declared)
    return not callable(getattr(hook, "on_encoded", None))


class MediaGateway(Protocol):
    @property
    def enabled(self) -> bool:
        """True when candidates may publish (`welcome` says so)."""
        ...

    @property
    def across_servers(self) -> bool:
        """True when proctors may watch candidates publishing through another server process
        of the deployment (Janus's rooms, shared by the admin key); aiortc relays only the
        streams of its own process."""
        ...

    @property
    def ice_servers(self) -> list[p.IceServer]:
        """The STUN/TURN servers the clients are told to use."""
        ...

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        """Take a candidate's offer (replacing the attempt's earlier stream); return the answer
        SDP. MediaError when the offer cannot be used."""
        ...

    async def add_ice(
        self, attempt: str, candidate: str | None, sdp_mid: str | None, index: int | None
    ) -> None:
        """A trickled ICE candidate from the candidate's side (None: end of candidates)."""
        ...

    def streaming(self, attempt: str) -> bool:
        """Whether the attempt has a stream here for `end` to stop (most candidates leaving
        a join have none)."""
        ...

    async def end(self, attempt: str, reason: str) -> None:
        """The candidate's stream stops (its connection ended): close its peer connection and
        the watchers' ones; watchers stay registered and get the next stream."""
        ...

    async def finish(self, attempt: str) -> None:
        """The attempt is over: `end` it and forget its watchers."""
        ...

    async def watch(self, watcher: Watcher, attempt: str) -> None:
        """Start relaying an attempt to a proctor (an offer now if it is live, else when it
        becomes live)."""
        ...

    async def watcher_answer(self, watcher_id: str, attempt: str, sdp: str) -> None:
        """The proctor's answer to the offer; MediaError when there is no such offer."""
        ...

    async def watcher_ice(
        self,
        watcher_id: str,
        attempt: str,
        candidate: str | None,
        sdp_mid: str | None,
        index: int | None,
    ) -> None: ...

    async def unwatch(self, watcher_id: str, attempt: str) -> None: ...

    async def unwatch_all(self, watcher_id: str) -> None:
        """The proctor's feed closed: stop every relay to it."""
        ...

    def live_elsewhere(self, exam: str, attempt: str) -> None:
        """Another server process of the deployment reports the attempt's stream live (the
        candidate publishes through it): a gateway that reaches streams published elsewhere
        (Janus's rooms, shared by the admin key) offers it to the attempt's watchers here;
        the others cannot, and do nothing."""
        ...

    def stats(self, attempt: str) -> StreamStats | None:
        """What arrived of the attempt's current stream; None without one."""
        ...

    def add_hook(self, hook: MediaHook) -> None:
        """Hand every stream's frames to `hook` too (and, where the gateway has them, the
        encoded frames and a way to ask for keyframes: see MediaHook)."""
        ...

    async def close(self) -> None:
        """Close every peer connection (server shutdown)."""
        ...


class NoMedia:
    """A server without live media: `welcome` says so, offers are refused."""

    enabled = False
    across_servers = False

    @property
    def ice_servers(self) -> list[p.IceServer]:
        return []

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        raise MediaError(NOT_ENABLED)

    async def add_ice(
        self, attempt: str, candidate: str | None, sdp_mid: str | None, index: int | None
    ) -> None:
        return None

    def streaming(self, attempt: str) -> bool:
        return False

    async def end(self, attempt: str, reason: str) -> None:
        return None

    async def finish(self, attempt: str) -> None:
        return None

    async def watch(self, watcher: Watcher, attempt: str) -> None:
        raise MediaError(NOT_ENABLED)

    async def watcher_answer(self, watcher_id: str, attempt: str, sdp: str) -> None:
        raise MediaError(NOT_ENABLED)

    async def watcher_ice(
        self,
        watcher_id: str,
        attempt: str,
        candidate: str | None,
        sdp_mid: str | None,
        index: int | None,
    ) -> None:
        return None

    async def unwatch(self, watcher_id: str, attempt: str) -> None:
        return None

    async def unwatch_all(self, watcher_id: str) -> None:
        return None

    def live_elsewhere(self, exam: str, attempt: str) -> None:
        return None

    def stats(self, attempt: str) -> StreamStats | None:
        return None

    def add_hook(self, hook: MediaHook) -> None:
        return None

    async def close(self) -> None:
        return None


NO_MEDIA: MediaGateway = NoMedia()


async def end_stream(gateway: MediaGateway, attempt: str, reason: str) -> None:
    """Stop the attempt's stream, if the gateway holds one (no timer otherwise: most
    connections that close never streamed), reporting `reason`. Bounded and never raising
    (`bounded`)."""
    if gateway.streaming(attempt):
        await bounded(gateway.end(attempt, reason), f"ending the live media of {attempt}")


async def finish_media(gateway: MediaGateway, attempt: str) -> None:
    """The attempt is over: `gateway.finish`, bounded and never raising (`bounded`), so that
    what finished the attempt (a proctor's command, the deadline, a signal from another
    process) never waits on a media process that stalls or restarts."""
    await bounded(gateway.finish(attempt), f"finishing the live media of {attempt}")


async def bounded(work: Awaitable[None], what: str) -> None:
    """Shutting media down: wait at most `END_TIMEOUT_S` (past that the gateway ends the
    stream on its own: ICE fails without its peer) and log a failure instead of raising it,
    since it must not stop what called it."""
    try:
        async with asyncio.timeout(END_TIMEOUT_S):
            await work
    except TimeoutError:
        log.warning("%s: not done within %s s", what, END_TIMEOUT_S)
    except Exception:
        log.exception("%s failed", what)
