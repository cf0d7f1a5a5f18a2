"""The received VP8 and Opus frames as they arrived, before aiortc decodes them.

aiortc (1.16, pinned) reassembles each receiver's RTP packets into whole encoded frames on the
event loop and puts them, with their codec, on a `queue.Queue` that the receiver's decoder
thread reads (`RTCRtpReceiver._handle_rtp_packet`). `tap_receiver` swaps that queue, before
the decoder thread starts (the `track` event comes first), for one that hands every VP8 or
Opus frame to a callback. The tap's `encoded` names the kinds ("video", "audio") kept encoded:
a frame of such a kind is handed to the callback only, and aiortc's decoder thread never sees
it; a frame of another kind goes on to the decoder too. The gateway's usual case is both (no
hook it serves needs decoded frames): aiortc's decoder thread then decodes nothing, neither
pictures (the most costly part of receiving a stream) nor sound (50 packets a second, each a
wake-up of that thread and a hop back to the event loop). The end of the stream (`None`)
always passes, so the track's `recv` still ends with MediaStreamError. The evidence clips keep
these frames and remux them (clip_remux.py); the watchers get them as packets
(watcher_track.py); the live analysis decodes one keyframe alone now and then (live_video.py);
voice activity decodes the Opus packets itself, half a second at a time (speech.py).

The tap needs two private parts of aiortc's receiver: the queue's mangled attribute and
`_send_rtcp_pli`. When either is missing (another aiortc) or the decoder already runs,
`tap_receiver` says so and the caller keeps to decoded frames (the clips' JPEG pictures and
16 kHz sound, the watchers' decoded and re-encoded frames); tests/media/test_receiver_tap.py
fails when the pinned aiortc stops offering them.

Keyframes: aiortc's encoder makes one at the start and then only when asked (its
`kf_max_dist` is 3000 frames), but a clip must start on one. The tap asks the sender for a
keyframe (RTCP PLI, as a receiver that lost a picture does) when none came for
`keyframe_interval_s`, so a ring that keeps frames from the latest keyframe before its
window holds at most that much more than the window; `keyframe()` asks for one now (a
watcher joining, a live sample falling due), at most once every PLI_RETRY_S. Every Opus
frame stands alone.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

KINDS = frozenset({"video", "audio"})  # what `encoded` may name
VP8_CLOCK = 90_000  # the RTP clock of `Vp8Frame.rtp`
OPUS_CLOCK = 48_000  # the RTP clock of `OpusFrame.rtp`, and the rate Opus decoders give
KEYFRAME_INTERVAL_S = 4.0  # see docs/benchmarks.md: what a keyframe every 4 s costs
PLI_RETRY_S = 1.0  # a keyframe asked for and not come is asked for again after this
_QUEUE = "_RTCRtpReceiver__decoder_queue"
_THREAD = "_RTCRtpReceiver__decoder_thread"
_VP8_START_CODE = b"\x9d\x01\x2a"
_MIME_KINDS = {"video/vp8": "video", "audio/opus": "audio"}


@dataclass(frozen=True, slots=True)
class Vp8Frame:
    rtp: int  # RTP timestamp (90 kHz) from the stream's first frame, as aiortc maps it
    data: bytes  # one whole VP8 frame, as the sender's encoder made it
    keyframe: bool


@dataclass(frozen=True, slots=True)
class OpusFrame:
    rtp: int  # RTP timestamp (48 kHz) from the stream's first frame, as aiortc maps it
    data: bytes  # one Opus packet (usually 20 ms), as the sender's encoder made it


EncodedFrame = Vp8Frame | OpusFrame


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) when `data` is a VP8 keyframe (RFC 6386 9.1: bit 0 of the first byte
    clear, then the start code and two 14-bit sizes), else None."""
    if len(data) < 10 or data[0] & 1 or data[3:6] != _VP8_START_CODE:
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


class _TappedQueue(queue.Queue[Any]):
    """The decoder's queue, handing each VP8 or Opus frame to `tap` before passing it on (only
    when its kind is not in the tap's `encoded`)."""

    def __init__(self, tap: ReceiverTap) -> None:
        super().__init__()
        self._tap = tap

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            tap = self._tap
            try:
                kind = tap.saw(item)
            except Exception:
                log.exception("an encoded frame could not be handed on")
                kind = None
            if kind is not None:
                if kind in tap.encoded:
                    tap.withheld += 1
                    return
                tap.decoded += 1
        super().put(item, block, timeout)


class ReceiverTap:
    """One receiver's tap (`tap_receiver`)."""

    def __init__(
        self,
        receiver: Any,
        deliver: Callable[[EncodedFrame], None],
        keyframe_interval_s: float,
        encoded: set[str],
    ) -> None:
        self.receiver = receiver
        self.deliver = deliver
        self.interval = keyframe_interval_s
        self.last_key = -float("inf")
        self.last_ask = -float("inf")
        self.asked = 0  # keyframes asked for (figures, tests)
        self.encoded = encoded  # kinds whose frames go to `deliver` only, not decoded
        self.withheld = 0  # VP8 or Opus frames kept from the decoder (figures, tests)
        self.decoded = 0  # VP8 or Opus frames passed on to the decoder (figures, tests)
        self._asking: asyncio.Task[None] | None = None

    def saw(self, item: tuple[Any, Any]) -> str | None:
        """Hand the frame on; its kind when it is a VP8 or Opus frame."""
        codec, encoded = item
        kind = _MIME_KINDS.get(str(getattr(codec, "mimeType", "")).lower())
        if kind is None:
            return None
        data, rtp = encoded.data, encoded.timestamp
        if not isinstance(data, bytes) or not isinstance(rtp, int) or not data:
            return kind
        if kind == "audio":
            self.deliver(OpusFrame(rtp, data))
            return kind
        key = vp8_keyframe_size(data) is not None
        loop = asyncio.get_running_loop()  # aiortc puts on the event loop
        now = loop.time()
        if key:
            self.last_key = now
        elif now - self.last_key >= self.interval:
            self._ask_keyframe(loop, now)
        self.deliver(Vp8Frame(rtp, data, key))
        return kind

    def keyframe(self) -> bool:
        """Ask the sender for a keyframe now (on the event loop); False when one was asked
        for less than PLI_RETRY_S ago, or no sender is known yet."""
        loop = asyncio.get_running_loop()
        return self._ask_keyframe(loop, loop.time())

    def _ask_keyframe(self, loop: asyncio.AbstractEventLoop, now: float) -> bool:
        if now - self.last_ask < PLI_RETRY_S:
            return False
        if self._asking is not None and not self._asking.done():
            return False
        sources = self.receiver.getSynchronizationSources()
        if not sources:
            return False
        self.last_ask = now
        self.asked += 1
        self._asking = loop.create_task(
            self.receiver._send_rtcp_pli(sources[0].source), name="keyframe-request"
        )
        return True


def tap_receiver(
    receiver: Any,
    deliver: Callable[[EncodedFrame], None],
    *,
    keyframe_interval_s: float = KEYFRAME_INTERVAL_S,
    encoded: Iterable[str] = (),
) -> ReceiverTap | None:
    """Hand every VP8 or Opus frame `receiver` gets to `deliver` (on the event loop) and, on
    video, ask for a keyframe when none came for `keyframe_interval_s`; keep the frames of the
    kinds in `encoded` ("video", "audio"; the tap's set, changeable later) from the decoder.
    None when this aiortc offers no way in, or the receiver's decoder already runs: the caller
    does without."""
    if keyframe_interval_s <= 0:
        raise ValueError("the keyframe interval must be positive")
    kinds = set(encoded)
    if not kinds <= KINDS:
        raise ValueError(f"unknown kinds to keep encoded: {sorted(kinds - KINDS)}")
    old = getattr(receiver, _QUEUE, None)
    if (
        type(old) is not queue.Queue
        or not old.empty()
        or getattr(receiver, _THREAD, True) is not None
        or not callable(getattr(receiver, "_send_rtcp_pli", None))
        or not callable(getattr(receiver, "getSynchronizationSources", None))
    ):
        return None
    tap = ReceiverTap(receiver, deliver, keyframe_interval_s, kinds)
    setattr(receiver, _QUEUE, _TappedQueue(tap))
    return tap
