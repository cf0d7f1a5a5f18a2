"""The media process (`proctor-server media`, started by `serve` unless
`--media-in-process`): the aiortc
gateway (which decodes the sound only: aiortc_gateway.py) and the hooks on the received media,
away from the exam server's event loop.

It runs the same `AiortcGateway` and the same hooks as the server does in-process (live video
for analysis, voice activity, evidence clips); what they would do to the store or the exams is
a message to the server instead, through small stand-ins:

- the store's `add_violation`, `end_violation`, `violations` and `save_clip` (the server's
  store writes and seals the clip file: this process holds no data key);
- an exam's `analysis.submit_live` (a sampled JPEG) and `publish` of a flag (voice activity);
- a proctor's `send_offer`.

The server tells it which violations opened (`ClipMark`), so clips start as they do in-process.
It answers every request it can read, reports every stream's figures four times a second, and
stops when the server asks (`Close`: every peer connection closed, clips written) or when the
channel ends (the server is gone: nothing is left behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
from av import AudioFrame, VideoFrame

from proctor_server.clock import SYSTEM_CLOCK
from proctor_server.core.records import ClipRecord
from proctor_server.media import remote_messages as m
from proctor_server.media.aiortc_gateway import AiortcGateway
from proctor_server.media.gateway import MediaError, MediaHook, StreamKey, Watcher
from proctor_server.media.heap_watch import start_from_environment
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import ViolationKind

log = logging.getLogger(__name__)

FIGURES_EVERY_S = 0.25
ORPHAN_SHUTDOWN_S = 10.0  # without a server, closing the peer connections may take this long


class _Peer:
    """Requests to the server and their replies."""

    def __init__(self, channel: m.Channel) -> None:
        self.channel = channel
        self._numbers = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[m.Reply]] = {}
        self.closed = False

    def number(self) -> int:
        return next(self._numbers)

    async def ask(self, request: Any) -> m.Reply:
        if self.closed:
            raise m.ChannelClosed("the server went away")
        future: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request.req] = future
        try:
            self.channel.send(request)
            return await future
        finally:
            self._waiting.pop(request.req, None)

    def answered(self, reply: m.Reply) -> None:
        future = self._waiting.get(reply.req)
        if future is not None and not future.done():
            future.set_result(reply)

    def fail_all(self) -> None:
        """The channel ended: every request waiting, and every later one, fails."""
        self.closed = True
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(m.ChannelClosed("the server went away"))


class _Store:
    """What the hooks use of the store, done by the server."""

    def __init__(self, peer: _Peer, blobs_root: str) -> None:
        self._peer = peer
        self.blobs = SimpleNamespace(root=Path(blobs_root))

    async def add_violation(
        self,
        attempt_id: str,
        kind: str,
        source: str,
        at: datetime,
        *,
        confidence: float = 1.0,
        evidence: dict[str, Any] | None = None,
        **_: Any,
    ) -> int:
        req = self._peer.number()
        reply = await self._peer.ask(
            m.AddViolation(req, attempt_id, str(kind), str(source), at, confidence, evidence)
        )
        if reply.error is not None:
            raise RuntimeError(reply.error)
        return int(reply.value)

    async def end_violation(
        self, violation_id: int, ended_at: datetime, evidence: dict[str, Any] | None = None
    ) -> None:
        self._peer.channel.send(m.EndViolation(violation_id, ended_at, evidence))

    async def violations(self, attempt_id: str) -> list[SimpleNamespace]:
        reply = await self._peer.ask(m.Violations(self._peer.number(), attempt_id))
        return [
            SimpleNamespace(id=v, kind=ViolationKind(k), server_at=datetime.fromisoformat(at))
            for v, k, at in reply.value or []
        ]

    async def save_clip(self, clip: ClipRecord, data: bytes) -> None:
        reply = await self._peer.ask(
            m.SaveClip(
                self._peer.number(),
                clip.id,
                clip.attempt_id,
                clip.kind,
                clip.started_at,
                clip.ended_at,
                clip.path,
                clip.sha256,
                clip.size,
                clip.created_at,
                list(clip.violations),
                data,
            )
        )
        if reply.error is not None:
            raise RuntimeError(reply.error)


class _Runtime:
    """An exam runtime as the hooks see it: sessions of the streams here, analysis and flags
    handed to the server (which knows the candidates' codes)."""

    def __init__(self, process: MediaProcess, exam: str) -> None:
        self._process = process
        self.exam = exam
        self.sessions = SimpleNamespace(get=self._session)
        self.analysis = SimpleNamespace(submit_live=self._submit_live)

    def _session(self, attempt: str) -> SimpleNamespace | None:
        return SimpleNamespace(code="") if attempt in self._process.attempts else None

    def _submit_live(
        self, attempt: str, candidate: str, frame_id: str, jpeg: bytes, at: datetime
    ) -> None:
        self._process.send(m.LiveFrame(self.exam, attempt, frame_id, jpeg, at))

    def publish(self, event: pp.AttemptEvent) -> None:
        if isinstance(event, pp.Flag):
            self._process.send(
                m.Raise(event.exam, event.attempt, str(event.kind), event.at, event.confidence)
            )


class _Exams:
    def __init__(self, process: MediaProcess) -> None:
        self._process = process

    def loaded(self, exam_id: str) -> _Runtime:
        return _Runtime(self._process, exam_id)

    async def load(self, exam_id: str) -> _Runtime:
        return self.loaded(exam_id)


class _Tap:
    """A hook sending every decoded frame to the server (only when it asks: tests). It needs
    decoded video, so the gateway decodes video again once it is added."""

    def __init__(self, process: MediaProcess) -> None:
        self._process = process

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        array: np.ndarray
        if isinstance(frame, VideoFrame):
            array = frame.to_ndarray(format="yuv420p")
            kind, fmt, layout, rate = "video", "yuv420p", "", 0
        else:
            array = frame.to_ndarray()
            kind, fmt = "audio", frame.format.name
            layout, rate = frame.layout.name, frame.sample_rate
        self._process.send(
            m.Frame(
                key.exam, key.attempt, kind, fmt, layout, rate, list(array.shape), array.tobytes()
            )
        )

    async def on_end(self, key: StreamKey) -> None:
        return None


class MediaProcess:
    def __init__(self, channel: m.Channel, config: m.Configure) -> None:
        self.channel = channel
        self.peer = _Peer(channel)
        self.config = config
        ice = [p.IceServer(**s) for s in config.ice_servers]
        self.gateway = AiortcGateway(ice)
        self.attempts: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._tapped = False
        self.clips: Any = None
        self.live_video: Any = None
        self._hooks()

    def _hooks(self) -> None:
        c = self.config
        skip = frozenset(c.skip_exams)
        store: Any = _Store(self.peer, c.blobs_root)
        exams = _Exams(self)
        if c.clip_before_s + c.clip_after_s > 0 or c.record_sessions:
            from proctor_server.media.clips import ClipRecorder, ClipSettings

            settings = ClipSettings(
                before_s=c.clip_before_s,
                after_s=c.clip_after_s,
                record_sessions=c.record_sessions,
            )
            self.clips = ClipRecorder(store, SYSTEM_CLOCK, settings, skip_exams=skip)
            self.clips.on_pending = lambda attempt, number, marks: self.send(
                m.ClipPending(attempt, number, [(str(k), at) for k, at in marks])
            )
            self.gateway.add_hook(self.clips)
        if c.speech and importlib.util.find_spec("proctor_server.vision") is not None:
            from proctor_server.media.speech import LiveSpeech

            self.gateway.add_hook(
                LiveSpeech(store, SYSTEM_CLOCK, lambda: cast(Any, exams), skip_exams=skip)
            )
        if c.live_interval_s > 0:
            from proctor_server.media.live_video import LiveVideo

            self.live_video = LiveVideo(
                SYSTEM_CLOCK,
                lambda: cast(Any, exams),
                interval_s=c.live_interval_s,
                skip_exams=skip,
            )
            self.gateway.add_hook(self.live_video)

    def send(self, message: m.Message) -> None:
        try:
            self.channel.send(message)
        except m.ChannelClosed:
            pass

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ the loop

    async def run(self) -> None:
        self.send(m.Ready(os.getpid()))
        figures = asyncio.create_task(self._report_figures())
        closing: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    message = await self.channel.receive()
                except m.ChannelClosed:
                    if closing is None:
                        log.info("the exam server went away: closing live media")
                    self.peer.fail_all()  # hooks waiting on the server give up
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(ORPHAN_SHUTDOWN_S):
                            await (closing if closing is not None else self._shut())
                    return
                if isinstance(message, m.Unreadable):
                    log.error("media channel: %s", message.text)
                    self.send(m.Problem(message.text))
                elif isinstance(message, m.Reply):
                    self.peer.answered(message)
                elif isinstance(message, m.Close):
                    # Closing writes the pending clips, which ask the server (the violations
                    # they show, the clip stored): this loop goes on reading its replies until
                    # the server, answered, closes the channel.
                    if closing is None:
                        closing = asyncio.create_task(self._close(message.req))
                else:
                    self._spawn(self._handle(message))
        finally:
            figures.cancel()
            self.peer.fail_all()

    async def _close(self, req: int) -> None:
        await self._shut()
        self.send(m.Reply(req))
        await self.channel.drain()

    async def _shut(self) -> None:
        await self.gateway.close()
        if self.live_video is not None:
            await self.live_video.close()
        if self.clips is not None:
            await self.clips.close()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _handle(self, message: m.Message) -> None:
        req = getattr(message, "req", None)
        try:
            reply = await self._do(message)
            if not isinstance(message, m.ClipMark | m.Tap):
                reply = m.Reply(reply.req, sdp=reply.sdp, streams=self._stream_figures())
        except MediaError as exc:
            reply = m.Reply(req or 0, error=exc.message)
        except Exception as exc:  # a request never takes the process down
            log.exception("media request %s failed", type(message).__name__)
            reply = m.Reply(req or 0, error=f"{type(exc).__name__}: {exc}")
        if req is not None:
            self.send(reply)

    async def _do(self, message: m.Message) -> m.Reply:
        g = self.gateway
        match message:
            case m.Publish(req, exam, attempt, sdp, stream):
                self.attempts.add(attempt)
                key = StreamKey(exam, attempt)

                def on_status(status: pp.MediaStatus, reason: str | None) -> None:
                    if status is pp.MediaStatus.NO_LIVE_VIDEO:
                        self.attempts.discard(attempt)
                    self.send(m.Status(attempt, stream, str(status), reason))

                return m.Reply(req, sdp=await g.publish(key, sdp, on_status))
            case m.AddIce(req, attempt, candidate, mid, index):
                await g.add_ice(attempt, candidate, mid, index)
            case m.End(req, attempt, reason):
                await g.end(attempt, reason)
            case m.Finish(req, attempt):
                self.attempts.discard(attempt)
                await g.finish(attempt)
            case m.Watch(req, watcher, exam, attempt):
                await g.watch(Watcher(watcher, exam, self._offer_sender(watcher)), attempt)
            case m.WatcherAnswer(req, watcher, attempt, sdp):
                await g.watcher_answer(watcher, attempt, sdp)
            case m.WatcherIce(req, watcher, attempt, candidate, mid, index):
                await g.watcher_ice(watcher, attempt, candidate, mid, index)
            case m.Unwatch(req, watcher, None):
                await g.unwatch_all(watcher)
            case m.Unwatch(req, watcher, str() as attempt):
                await g.unwatch(watcher, attempt)
            case m.ClipMark(exam, attempt, kind, at):
                if self.clips is not None:
                    self.clips.on_event(
                        pp.Flag(
                            exam=exam,
                            at=at,
                            attempt=attempt,
                            candidate="",
                            kind=ViolationKind(kind),
                            confidence=0.0,
                        )
                    )
                return m.Reply(0)
            case m.Tap():
                if not self._tapped:
                    self._tapped = True
                    g.add_hook(cast(MediaHook, _Tap(self)))
                return m.Reply(0)
            case _:
                raise MediaError(f"the media process does not take {type(message).__name__}")
        return m.Reply(req)

    def _offer_sender(self, watcher: str) -> Any:
        async def send_offer(attempt: str, sdp: str) -> bool:
            try:
                reply = await self.peer.ask(m.SendOffer(self.peer.number(), watcher, attempt, sdp))
            except m.ChannelClosed:
                return False
            return bool(reply.value)

        return send_offer

    def _stream_figures(self) -> list[m.StreamFigures]:
        streams = []
        for attempt in sorted(self.attempts):
            s = self.gateway.stats(attempt)
            if s is not None:
                streams.append(
                    m.StreamFigures(
                        attempt,
                        s.video_frames,
                        s.audio_frames,
                        s.width,
                        s.height,
                        s.state,
                        s.watchers,
                    )
                )
        return streams

    async def _report_figures(self) -> None:
        while True:
            streams = self._stream_figures()
            lv, clips = self.live_video, self.clips
            self.send(
                m.Figures(
                    streams,
                    sampled=lv.sampled if lv is not None else 0,
                    dropped=lv.dropped if lv is not None else 0,
                    clip_peak_bytes=clips.peak_bytes if clips is not None else 0,
                    clip_skipped=clips.skipped_pictures if clips is not None else 0,
                )
            )
            await asyncio.sleep(FIGURES_EVERY_S)


def _every_thread(apply: Callable[[int], object]) -> None:
    """`apply` to each thread of this process (those the imports started too) by its id;
    threads started later inherit what it set from the thread that starts them."""
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            apply(int(task))


def pin_threads(cpus: set[int]) -> None:
    """Run every thread of this process (those the imports started too) and every later one
    on `cpus` only: the exam server's cores are then never taken by decoding."""
    _every_thread(lambda task: os.sched_setaffinity(task, cpus))


def run_when_idle() -> bool:
    """Put every thread of this process (and so every later one, which inherits it) in
    Linux's SCHED_IDLE class: it runs on a core only when no ordinary task wants it, and an
    exam server thread that wakes takes the core at once. Niceness only shares the cores by
    weight, so an ack could still wait for a decoding thread's slice. False where the class
    is missing (not Linux) or refused."""
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None:
        return False
    try:
        _every_thread(lambda task: os.sched_setscheduler(task, policy, os.sched_param(0)))
    except OSError:
        log.warning("the media process could not take the idle scheduling class")
        return False
    return True


async def serve_channel(fd: int) -> None:
    """Run on the socket `fd` (inherited from the server) until told to stop."""
    sock = socket.socket(fileno=fd)
    channel = await m.Channel.open(sock)
    first = await channel.receive()
    if not isinstance(first, m.Configure):
        raise SystemExit(f"the media channel began with {first!r}, not its configuration")
    if not (first.idle and run_when_idle()) and first.nice:
        with contextlib.suppress(OSError):
            os.nice(first.nice)  # decoding waits; the exam server's acks go first
    if first.cpus:
        pin_threads(set(first.cpus))
    process = MediaProcess(channel, first)
    watch = start_from_environment()  # a diagnostic, off unless asked (heap_watch.py)
    try:
        await process.run()
    finally:
        if watch is not None:
            watch.cancel()
    channel.close()
    await channel.wait_closed()
