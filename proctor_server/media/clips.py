"""Evidence clips: the seconds of live audio and video around each violation, kept as a WebM
file linked to it (and, as an option, each whole stream).

`ClipRecorder` is a media hook and an observer of the exam runtimes' events. For every exam
stream it keeps a ring of the last `before_s` seconds of audio and video as they were received
(VP8 frames and Opus packets handed over by the aiortc gateway's tap, receiver_tap.py,
`on_encoded`), the video kept from the latest keyframe at or before the window's start. A
stream whose encoded frames cannot be had (another gateway or codec, an aiortc without the
tap) keeps what it can from the decoded frames instead: pictures sampled at `fps` (JPEG,
encoded in a worker thread, one at a time per stream: a picture due meanwhile is skipped),
sound as 16 kHz mono PCM. When a violation opens for an
attempt with a live stream (a `flag` from analysis or voice activity, an `event` that recorded
one), a clip is due from `before_s` before it to `after_s` after it; a violation inside a
pending clip's span extends it (at most `max_s` in all) and is linked to the same file. When the span is over, or the stream ends,
the clip is written in a worker thread (VP8 frames and Opus packets remuxed, clip_remux.py;
JPEG pictures and PCM encoded, clip_file.py), stored by the store (sealed with the data
key when one is set) and linked to its violations. A remuxed clip starts on the keyframe at
or before its span's start, so it can begin up to the keyframe interval (4 s) early.

Memory per stream, bounded: the ring holds `before_s` seconds (plus up to a keyframe interval
of VP8), a pending clip at most `max_s` seconds (VP8 at 320x240: about 40 KB a second; JPEG:
5 pictures a second of 3-12 KB; Opus as sent, about 3 KB a second from the app's 24 kb/s voice,
up to 15 KB from a sender at aiortc's own 96 kb/s, or PCM, 32 KB: at most about 1.3 MB for the
default 10 + 10 s, 3.5 MB for a 60 s clip).

Full-session recording (`record_sessions`, off by default) writes the same frames (remuxed)
or pictures (encoded) and sound into a file as the stream goes (one worker thread at a time per
stream, at most `RECORD_BACKLOG` items waiting, the rest dropped and counted: after a dropped
VP8 frame the file waits for the next keyframe) and stores it when the stream ends. The file
is begun once the stream's sound has come (or `SOUND_WAIT_S` after the stream did), since its
sound stream is made for the kind of sound that comes; what came before is held and written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from av import AudioFrame, VideoFrame

from proctor_server.clock import Clock
from proctor_server.core.records import ClipRecord
from proctor_server.media.clip_file import (
    OpusPacket,
    Picture,
    Sound,
    SoundItem,
    SoundKind,
    encode_clip,
)
from proctor_server.media.clip_remux import (
    Gop,
    SessionFile,
    VideoPacket,
    remux_clip,
    span_packets,
)
from proctor_server.media.gateway import StreamKey
from proctor_server.media.live_video import copy_picture, encode_jpeg
from proctor_server.media.receiver_tap import EncodedFrame, OpusFrame
from proctor_server.media.sound import mono_int16
from proctor_server.store import Store
from shared import proctor_protocol as pp
from shared.timeutil import from_wire
from shared.vocabulary import ViolationKind

log = logging.getLogger(__name__)

CLIP_JPEG_QUALITY = 80
RECORD_BACKLOG = 200  # items waiting for a recording's writer before new ones are dropped
LINK_SLACK_S = 2.0  # a violation stored this long after its event still belongs to it
SOUND_WAIT_S = 2.0  # a recording waits this long for the stream's sound before it starts


@dataclass(frozen=True, slots=True)
class ClipSettings:
    before_s: float = 10.0
    after_s: float = 10.0
    fps: float = 5.0  # pictures a second kept for clips
    rate: int = 16_000  # sound kept at this rate, mono
    max_s: float = 60.0  # a clip extended by later violations stops growing here
    record_sessions: bool = False

    def __post_init__(self) -> None:
        if self.before_s < 0 or self.after_s < 0 or not 0 < self.fps <= 30:
            raise ValueError(f"unusable clip settings {self}")


@dataclass(eq=False)
class _Pending:
    start: float
    end: float
    marks: list[tuple[ViolationKind, float]]
    number: int = 0
    task: asyncio.Task[None] | None = None


PendingCallback = Callable[[str, int, list[tuple[ViolationKind, float]]], None]


Item = Picture | VideoPacket | SoundItem


@dataclass(eq=False)
class _Recording:
    file: SessionFile | None = None
    path: Path | None = None
    items: list[Item] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    dropped: int = 0
    started: float = 0.0
    need_key: bool = False  # a VP8 frame was dropped: the file waits for the next keyframe
    sound: SoundKind = "pcm"  # how the file holds the sound (set when it starts)


@dataclass(eq=False)
class _Ring:
    key: StreamKey
    pictures: deque[Picture] = field(default_factory=deque)
    gops: deque[Gop] = field(default_factory=deque)
    coded: bool = False  # the stream's video comes as VP8 frames: decoded ones are not kept
    sound_coded: bool = False  # its sound comes as Opus packets: decoded sound is not kept
    heard: bool = False  # some sound came
    sounds: deque[SoundItem] = field(default_factory=deque)
    size: int = 0  # bytes held
    last_picture: float = -math.inf
    encoding: bool = False
    pending: _Pending | None = None
    recording: _Recording | None = None


class ClipRecorder:
    """A media hook (`on_frame`, `on_end`) and a runtime observer (`on_event`)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: ClipSettings = ClipSettings(),
        *,
        skip_exams: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.skip_exams = skip_exams
        self._rings: dict[str, _Ring] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.written: list[ClipRecord] = []  # clips stored by this process (figures, tests)
        self.skipped_pictures = 0  # pictures due while the stream's previous one was encoding
        self.peak_bytes = 0  # the largest ring seen, in bytes (figures)
        # told of each clip being gathered (attempt, number, its violations) and, with no
        # violations, when it is settled: the media process tells its server (what is lost if
        # it dies), nothing in-process
        self.on_pending: PendingCallback | None = None
        self._numbers = itertools.count(1)

    # ------------------------------------------------------------ frames

    def _ring(self, key: StreamKey) -> _Ring:
        ring = self._rings.get(key.attempt)
        if ring is None:
            ring = self._rings[key.attempt] = _Ring(key)
            if self.settings.record_sessions:
                ring.recording = _Recording(started=self._now())
        return ring

    def on_encoded(self, key: StreamKey, frame: EncodedFrame) -> None:
        """A VP8 frame or an Opus packet of the stream as received (the gateway's tap, on the
        event loop)."""
        if key.exam in self.skip_exams:
            return
        ring = self._ring(key)
        if isinstance(frame, OpusFrame):
            ring.sound_coded = ring.heard = True
            now = self._now()
            sound = OpusPacket(now, frame.rtp, frame.data)
            ring.sounds.append(sound)
            ring.size += len(frame.data)
            self._record(ring, sound)
            self._prune(ring, now)
            return
        ring.coded = True
        if frame.keyframe:
            ring.gops.append(Gop())
        elif not ring.gops:
            return  # nothing before the first keyframe can be decoded
        now = self._now()
        packet = VideoPacket(now, frame.rtp, frame.data, frame.keyframe)
        gop = ring.gops[-1]
        gop.packets.append(packet)
        gop.size += len(frame.data)
        ring.size += len(frame.data)
        self._record(ring, packet)
        self._prune(ring, now)

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if key.exam in self.skip_exams:
            return
        ring = self._ring(key)
        now = self._now()
        if isinstance(frame, VideoFrame):
            if ring.coded:
                return  # kept as received (on_encoded)
            if now - ring.last_picture < 1.0 / self.settings.fps:
                return
            ring.last_picture = now
            if ring.encoding:
                self.skipped_pictures += 1
                return
            ring.encoding = True
            picture = copy_picture(frame)  # on the loop: the frame is shared (live_video.py)
            self._spawn(self._keep_picture(ring, picture, now), f"clip-picture-{key.attempt}")
        elif not ring.sound_coded:
            sound = Sound(
                now - frame.samples / frame.sample_rate, mono_int16(frame, self.settings.rate)
            )
            ring.heard = True
            ring.sounds.append(sound)
            ring.size += sound.samples.nbytes
            self._record(ring, sound)
            self._prune(ring, now)

    async def _keep_picture(self, ring: _Ring, picture: np.ndarray, at: float) -> None:
        try:
            jpeg = await asyncio.to_thread(encode_jpeg, picture, CLIP_JPEG_QUALITY)
        except Exception:
            log.exception("a picture of %s could not be kept for clips", ring.key.attempt)
            return
        finally:
            ring.encoding = False
        kept = Picture(at, jpeg)
        ring.pictures.append(kept)
        ring.size += len(jpeg)
        self._record(ring, kept)
        self._prune(ring, self._now())

    def _prune(self, ring: _Ring, now: float) -> None:
        keep_from = now - self.settings.before_s
        if ring.pending is not None:
            keep_from = min(keep_from, ring.pending.start)
        while ring.pictures and ring.pictures[0].at < keep_from:
            ring.size -= len(ring.pictures.popleft().jpeg)
        # VP8 from the latest keyframe at or before the window's start: decodable from its start
        gops = ring.gops
        while len(gops) > 1 and gops[1].packets[0].at <= keep_from:
            ring.size -= gops.popleft().size
        if gops:
            keep_from = min(keep_from, gops[0].packets[0].at)  # the sound of the same span
        while ring.sounds and ring.sounds[0].at < keep_from:
            ring.size -= ring.sounds.popleft().size
        if ring.size > self.peak_bytes:
            self.peak_bytes = ring.size

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # ------------------------------------------------------------ violations

    def on_event(self, event: pp.AttemptEvent) -> None:
        """An exam runtime published `event`: a violation that opened starts (or extends) a
        clip of its attempt, when the attempt has a live stream."""
        if isinstance(event, pp.Flag):
            kind: ViolationKind | None = event.kind
        elif isinstance(event, pp.ClientEvent):
            kind = event.violation
        else:
            return
        ring = self._rings.get(event.attempt)
        if kind is None or ring is None or self.settings.before_s + self.settings.after_s <= 0:
            return  # no live stream, or only whole recordings are kept
        at = from_wire(event.at).timestamp()
        s = self.settings
        pending = ring.pending
        if pending is not None and at - s.before_s <= pending.end:
            pending.end = min(max(pending.end, at + s.after_s), pending.start + s.max_s)
            pending.marks.append((kind, at))
            self._tell(ring, pending)
            return
        pending = ring.pending = _Pending(
            at - s.before_s, at + s.after_s, [(kind, at)], next(self._numbers)
        )
        self._tell(ring, pending)
        pending.task = self._spawn(self._write_when_due(ring, pending), f"clip-{event.attempt}")

    def _tell(self, ring: _Ring, pending: _Pending, *, settled: bool = False) -> None:
        if self.on_pending is not None:
            marks = [] if settled else list(pending.marks)
            try:
                self.on_pending(ring.key.attempt, pending.number, marks)
            except Exception:
                log.exception("a clip's progress could not be told")

    async def _write_when_due(self, ring: _Ring, pending: _Pending) -> None:
        end = -math.inf
        while end < pending.end:  # a later violation may have extended the span meanwhile
            end = pending.end
            await self.clock.sleep_until(_at(end))
        await self._write(ring, pending)

    async def _write(self, ring: _Ring, pending: _Pending) -> None:
        if ring.pending is pending:
            ring.pending = None
        packets = span_packets(ring.gops, pending.start, pending.end)
        since = packets[0].at if packets else pending.start
        pictures = [p for p in ring.pictures if pending.start <= p.at <= pending.end]
        sounds = [x for x in ring.sounds if since <= x.at <= pending.end]
        if not pictures and not sounds and not packets:
            self._tell(ring, pending, settled=True)
            return
        seen: list[Picture] | list[VideoPacket] = packets or pictures
        start = min([p.at for p in seen[:1]] + [x.at for x in sounds[:1]])
        end = max([p.at for p in seen[-1:]] + [x.at for x in sounds[-1:]])
        rate = self.settings.rate
        try:
            if packets:
                data = await asyncio.to_thread(remux_clip, packets, sounds, start, rate=rate)
            else:
                data = await asyncio.to_thread(
                    encode_clip, pictures, sounds, start, fps=self.settings.fps, rate=rate
                )
            violations = await self._violations(ring.key.attempt, pending.marks)
            self._tell(ring, pending, settled=True)  # the store has it from here
            await self._save(ring.key, "violation", start, end, data, violations)
        except Exception:
            log.exception("the clip of %s could not be written", ring.key.attempt)
            self._tell(ring, pending, settled=True)

    async def _violations(
        self, attempt: str, marks: list[tuple[ViolationKind, float]]
    ) -> tuple[int, ...]:
        return await marked_violations(self.store, attempt, marks)

    async def _save(
        self,
        key: StreamKey,
        kind: str,
        start: float,
        end: float,
        data: bytes,
        violations: tuple[int, ...],
    ) -> None:
        clip_id = f"clip-{uuid.uuid4().hex[:16]}"
        digest = hashlib.sha256(data).hexdigest()
        clip = ClipRecord(
            id=clip_id,
            attempt_id=key.attempt,
            kind=kind,
            started_at=_at(start),
            ended_at=_at(end),
            path=f"clips/{key.exam}/{key.attempt}/{clip_id}-{digest[:16]}.webm",
            sha256=digest,
            size=len(data),
            created_at=self.clock.now(),
            violations=violations,
        )
        await self.store.save_clip(clip, data)
        self.written.append(clip)
        log.info("clip %s of %s: %.1f s, %d bytes", clip_id, key.attempt, end - start, len(data))

    # ------------------------------------------------------------ full-session recording

    def _record(self, ring: _Ring, item: Item) -> None:
        recording = ring.recording
        if recording is None:
            return
        if recording.file is None and not recording.items and isinstance(item, SoundItem):
            return  # the file is sized by its first picture
        if isinstance(item, VideoPacket) and recording.need_key:
            if not item.keyframe:
                recording.dropped += 1
                return
            recording.need_key = False
        if len(recording.items) >= RECORD_BACKLOG:
            recording.dropped += 1
            recording.need_key = isinstance(item, VideoPacket)
            return
        recording.items.append(item)
        if recording.writer is None:  # not started: its sound stream is made for the sound
            if not ring.heard and self._now() - recording.started < SOUND_WAIT_S:
                return  # that comes, so it waits for some, holding what came meanwhile
            recording.sound = "opus" if ring.sound_coded else "pcm"
        if recording.writer is None or recording.writer.done():
            recording.writer = self._spawn(self._feed(ring, recording), "recording")

    async def _feed(self, ring: _Ring, recording: _Recording) -> None:
        while recording.items:
            batch, recording.items = recording.items, []
            try:
                await asyncio.to_thread(self._add_all, ring, recording, batch)
            except Exception:
                log.exception("recording %s failed; it stops", ring.key.attempt)
                ring.recording = None
                return

    def _add_all(self, ring: _Ring, recording: _Recording, batch: list[Item]) -> None:
        for item in batch:
            if recording.file is None:
                root = getattr(self.store.blobs, "root", Path("."))
                recording.path = (
                    Path(root) / "recording" / f"{ring.key.attempt}-{uuid.uuid4().hex[:8]}.webm.tmp"
                )
                assert not isinstance(item, SoundItem)  # `_record` starts a file on a picture
                recording.file = SessionFile(
                    recording.path,
                    item,
                    fps=self.settings.fps,
                    rate=self.settings.rate,
                    sound=recording.sound,
                )
            else:
                recording.file.add(item)

    async def _finish_recording(self, ring: _Ring, recording: _Recording) -> None:
        if recording.writer is not None:
            await asyncio.gather(recording.writer, return_exceptions=True)
        if recording.file is None or recording.path is None:
            return
        file, path = recording.file, recording.path
        try:
            await asyncio.to_thread(file.close)
            data = await asyncio.to_thread(path.read_bytes)
            await self._save(ring.key, "session", recording.started, self._now(), data, ())
        except Exception:
            log.exception("the recording of %s could not be stored", ring.key.attempt)
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(path.unlink)

    # ------------------------------------------------------------ lifecycle

    async def on_end(self, key: StreamKey) -> None:
        """The stream ended: a pending clip is written with what there is, a recording is
        finished and stored (both in the background; `close` waits for them)."""
        ring = self._rings.pop(key.attempt, None)
        if ring is None:
            return
        pending, ring.pending = ring.pending, None
        if pending is not None:
            if pending.task is not None:
                pending.task.cancel()
            self._spawn(self._write(ring, pending), f"clip-{key.attempt}")
        if ring.recording is not None:
            self._spawn(self._finish_recording(ring, ring.recording), "recording-end")

    def _spawn(self, work: object, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self) -> None:
        """Wait for the clips and recordings being written now (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """At shutdown, after the gateway ended every stream: finish what is being written."""
        await self.settle()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(seconds=seconds)


async def marked_violations(
    store: Store, attempt: str, marks: Sequence[tuple[str, float]]
) -> tuple[int, ...]:
    """The stored violations a clip's marks (kind, when) stand for: of each mark's kind, the
    latest that began no later than shortly after it."""
    found = await store.violations(attempt)
    linked: set[int] = set()
    for kind, at in marks:
        same = [v for v in found if v.kind == kind and v.server_at.timestamp() <= at + LINK_SLACK_S]
        if same:
            linked.add(max(same, key=lambda v: v.server_at).id)
    return tuple(sorted(linked))
