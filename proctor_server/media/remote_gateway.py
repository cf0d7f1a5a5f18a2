"""The media gateway in a process of its own: `RemoteGateway` implements `MediaGateway` by
talking to `proctor-server media` (media_process.py) over a socket pair (remote_messages.py),
so that decoding video never runs on the exam server's event loop.

The server starts the media process, and starts it again when it dies (after 0.5 s, doubling
to 10 s while it keeps dying): every stream it carried is reported "no live video" to the
proctors and the candidates' apps offer again when their connection fails, as after an ICE
failure; the proctors' watches are registered again with the new process. Meanwhile offers are
refused (`MediaError`), which the app also retries; answers and acks never wait for media.

What the hooks in the media process find comes back as messages handled here: live frames go
to the exam's analysis queue, voice activity to the store and the proctors, clips to the store
(which seals them). `clips` and `live_video` stand for the in-process hooks' figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from proctor_server.clock import Clock
from proctor_server.core.records import ClipRecord
from proctor_server.media import remote_messages as m
from proctor_server.media.clips import marked_violations
from proctor_server.media.gateway import (
    RESTARTING,
    SHUTTING_DOWN,
    MediaError,
    MediaHook,
    StatusCallback,
    StreamKey,
    StreamStats,
    Watcher,
)
from proctor_server.session.deps import ExamDirectory
from proctor_server.store import Store
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import Source, ViolationKind

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 5.0
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 10.0
LOST = "the media process stopped; the candidate's app offers again"
CLIP_LOST = "lost: the media process restarted"
SPAN_CUT = "the media process restarted: speech heard until its last audio report"
# glibc gives each thread that allocates its own heap arena (up to 8 a core); aiortc decodes
# every track in a thread of its own, so the media process's freed memory stayed scattered over
# arenas. Two arenas halved what was kept that way, but the RSS still grew about 1.5 MiB a
# minute with 20 streams while what was in use stayed flat: glibc raises its mmap threshold
# each time a large block (a decoded picture, a frame's planes) is freed, after which those
# blocks come from the arenas and leave holes there. A fixed threshold (setting it turns the
# raising off) keeps every block of 64 KiB or more in its own mapping, given back when freed:
# the RSS stays flat (docs/benchmarks.md). An operator's own settings win.
MALLOC_SETTINGS = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "65536"}


@dataclass(eq=False)
class _Span:
    """A speaking violation the media process opened and has not ended."""

    attempt: str
    at: datetime
    evidence: dict[str, Any]


@dataclass
class RemoteClips:
    """The clips the media process had stored (figures, tests), and the violations it is told
    of (`on_event`, a runtime observer)."""

    gateway: RemoteGateway
    written: list[ClipRecord] = field(default_factory=list)
    peak_bytes: int = 0
    skipped_pictures: int = 0
    _saving: set[asyncio.Task[None]] = field(default_factory=set)

    def on_event(self, event: pp.AttemptEvent) -> None:
        if isinstance(event, pp.Flag):
            kind: ViolationKind | None = event.kind
        elif isinstance(event, pp.ClientEvent):
            kind = event.violation
        else:
            return
        if kind is not None:
            self.gateway.tell(m.ClipMark(event.exam, event.attempt, str(kind), event.at))

    async def settle(self) -> None:
        while self._saving:
            await asyncio.gather(*list(self._saving), return_exceptions=True)

    async def close(self) -> None:
        await self.settle()


@dataclass
class RemoteLiveVideo:
    sampled: int = 0
    dropped: int = 0

    async def close(self) -> None:
        return None


@dataclass(eq=False)
class _Child:
    process: asyncio.subprocess.Process
    channel: m.Channel
    reader: asyncio.Task[None] | None = None
    dead: bool = False
    spans: dict[int, _Span] = field(default_factory=dict)  # open speaking violations
    clips: dict[tuple[str, int], list[tuple[str, float]]] = field(default_factory=dict)


class RemoteGateway:
    """Implements :class:`proctor_server.media.gateway.MediaGateway`."""

    enabled = True
    across_servers = False  # aiortc, in the media process

    def __init__(
        self,
        config: m.Configure,
        store: Store,
        clock: Clock,
        exams: Callable[[], ExamDirectory],
        *,
        command: list[str] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.exams = exams
        self.command = command or [sys.executable, "-m", "proctor_server.cli", "media"]
        self.clips = RemoteClips(self)
        self.live_video = RemoteLiveVideo()
        self.problems: list[str] = []  # what the media process could not read (figures, tests)
        self.restarts = 0
        self._child: _Child | None = None
        self._numbers = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[m.Reply]] = {}
        self._stream_numbers = itertools.count(1)
        self._statuses: dict[str, tuple[int, StatusCallback]] = {}  # attempt -> current stream
        self._figures: dict[str, StreamStats] = {}
        self._last_audio: dict[str, tuple[int, datetime]] = {}  # audio frames, when they grew
        self.lost_clips = 0  # clips being gathered when the media process died (figures, tests)
        self._watchers: dict[str, Watcher] = {}
        self._watching: set[tuple[str, str]] = set()  # (watcher id, attempt)
        self._hooks: list[MediaHook] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._closing = False

    @property
    def ice_servers(self) -> list[p.IceServer]:
        return [p.IceServer(**s) for s in self.config.ice_servers]

    @property
    def pid(self) -> int | None:
        """The media process's id while it runs."""
        return self._child.process.pid if self._child is not None else None

    def in_flight(self) -> tuple[int, int]:
        """What the running media process would leave behind if it died now: its open
        speaking spans and the clips it is gathering (figures, tests)."""
        child = self._child
        return (len(child.spans), len(child.clips)) if child is not None else (0, 0)

    # ------------------------------------------------------------ the process

    async def start(self) -> None:
        """Start the media process and wait until it is ready; keep it running."""
        await self._spawn_child()
        self._supervisor = asyncio.create_task(self._supervise(), name="media-process")

    async def _spawn_child(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                "--fd",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=child_environment(),
            )
        finally:
            theirs.close()
        channel = await m.Channel.open(ours)
        child = _Child(process, channel)
        try:
            channel.send(self.config)
            async with asyncio.timeout(READY_TIMEOUT_S):
                ready = await channel.receive()
            if not isinstance(ready, m.Ready):
                raise m.ChannelClosed(f"the media process began with {ready!r}")
        except (TimeoutError, m.ChannelClosed) as exc:
            await _stop(child)
            raise MediaError(f"the media process did not start: {exc}") from None
        self._child = child
        child.reader = asyncio.create_task(self._read(child), name="media-channel")
        if self._hooks:
            self.tell(m.Tap())
        for watcher_id, attempt in sorted(self._watching):
            watcher = self._watchers.get(watcher_id)
            if watcher is not None:
                self.tell(m.Watch(self._number(), watcher_id, watcher.exam, attempt))
        self._up.set()
        log.info("media process %d ready", process.pid)

    async def _supervise(self) -> None:
        delay = RESTART_FIRST_S
        while not self._closing:
            child = self._child
            assert child is not None and child.reader is not None
            started = asyncio.get_running_loop().time()
            await asyncio.gather(child.reader, return_exceptions=True)
            if self._closing:
                return
            await _stop(child)
            log.error(
                "the media process stopped (exit %s); starting it again", child.process.returncode
            )
            self._lost(child)
            if asyncio.get_running_loop().time() - started > 30:
                delay = RESTART_FIRST_S
            while not self._closing:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MAX_S)
                try:
                    await self._spawn_child()
                    self.restarts += 1
                    break
                except (MediaError, OSError) as exc:
                    log.error("%s", exc)

    def _lost(self, child: _Child) -> None:
        """The media process died: its streams ended, its requests fail; its open speaking
        spans end at the last audio it reported, the clips it was gathering are lost (each
        violation's evidence says so)."""
        self._up.clear()
        self._child = None
        child.dead = True
        spans, child.spans = child.spans, {}
        for number, span in spans.items():
            self._spawn(self._cut(number, span), self.clips._saving)
        clips, child.clips = child.clips, {}
        for (attempt, _), marks in clips.items():
            self.lost_clips += 1
            self._spawn(self._clip_lost(attempt, marks), self.clips._saving)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(MediaError(RESTARTING))
        self._waiting.clear()
        statuses, self._statuses = self._statuses, {}
        self._figures.clear()
        for _, on_status in statuses.values():
            on_status(pp.MediaStatus.NO_LIVE_VIDEO, LOST)

    # ------------------------------------------------------------ requests

    def _number(self) -> int:
        return next(self._numbers)

    def tell(self, message: m.Message) -> None:
        """Send without waiting (dropped while the process restarts)."""
        if self._child is not None:
            with contextlib.suppress(m.ChannelClosed):
                self._child.channel.send(message)

    async def _ask(self, request: Any, *, closing: bool = False) -> m.Reply:
        child = self._child
        if self._closing and not closing:
            raise MediaError(SHUTTING_DOWN)
        if child is None:
            raise MediaError(RESTARTING)
        future: asyncio.Future[m.Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request.req] = future
        try:
            child.channel.send(request)
            reply = await future
        except m.ChannelClosed:
            raise MediaError(RESTARTING) from None
        finally:
            self._waiting.pop(request.req, None)
        if reply.streams is not None:
            self._update(reply.streams)
        if reply.error is not None:
            raise MediaError(reply.error)
        return reply

    # ------------------------------------------------------------ MediaGateway

    async def publish(self, key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        stream = next(self._stream_numbers)
        self._statuses[key.attempt] = (stream, on_status)
        self._figures.pop(key.attempt, None)
        try:
            reply = await self._ask(
                m.Publish(self._number(), key.exam, key.attempt, offer_sdp, stream)
            )
        except (MediaError, asyncio.CancelledError):  # refused, or given up (timed out)
            if self._statuses.get(key.attempt, (0,))[0] == stream:
                del self._statuses[key.attempt]
            raise
        self._figures.setdefault(key.attempt, StreamStats(0, 0, 0, 0, "connecting", 0))
        assert reply.sdp is not None
        return reply.sdp

    async def add_ice(
        self, attempt: str, candidate: str | None, sdp_mid: str | None, index: int | None
    ) -> None:
        if self._child is not None:
            await self._ask(m.AddIce(self._number(), attempt, candidate, sdp_mid, index))

    def streaming(self, attempt: str) -> bool:
        # a stream of it in the media process, or its last figures still kept (`end` drops them)
        return attempt in self._statuses or attempt in self._figures

    async def end(self, attempt: str, reason: str) -> None:
        self._figures.pop(attempt, None)
        if self._child is None:
            self._statuses.pop(attempt, None)
            return
        if attempt not in self._statuses:
            return  # no stream of it in the media process (most candidates leaving a join)
        await self._ask(m.End(self._number(), attempt, reason))

    async def finish(self, attempt: str) -> None:
        self._figures.pop(attempt, None)
        self._last_audio.pop(attempt, None)
        self._watching = {w for w in self._watching if w[1] != attempt}
        if self._child is None:
            self._statuses.pop(attempt, None)
            return
        await self._ask(m.Finish(self._number(), attempt))

    async def watch(self, watcher: Watcher, attempt: str) -> None:
        self._watchers[watcher.id] = watcher
        self._watching.add((watcher.id, attempt))
        await self._ask(m.Watch(self._number(), watcher.id, watcher.exam, attempt))

    async def watcher_answer(self, watcher_id: str, attempt: str, sdp: str) -> None:
        await self._ask(m.WatcherAnswer(self._number(), watcher_id, attempt, sdp))

    async def watcher_ice(
        self,
        watcher_id: str,
        attempt: str,
        candidate: str | None,
        sdp_mid: str | None,
        index: int | None,
    ) -> None:
        await self._ask(
            m.WatcherIce(self._number(), watcher_id, attempt, candidate, sdp_mid, index)
        )

    async def unwatch(self, watcher_id: str, attempt: str) -> None:
        self._watching.discard((watcher_id, attempt))
        if self._child is not None:
            await self._ask(m.Unwatch(self._number(), watcher_id, attempt))

    async def unwatch_all(self, watcher_id: str) -> None:
        self._watching = {w for w in self._watching if w[0] != watcher_id}
        if self._watchers.pop(watcher_id, None) is None:
            return  # it never watched: the media process has nothing of it (most feeds)
        if self._child is not None:
            await self._ask(m.Unwatch(self._number(), watcher_id, None))

    def live_elsewhere(self, exam: str, attempt: str) -> None:
        return None  # aiortc relays only the streams published through this server

    def stats(self, attempt: str) -> StreamStats | None:
        return self._figures.get(attempt)

    def add_hook(self, hook: MediaHook) -> None:
        """Hooks in this process get every decoded frame sent over (costly: for tests; the
        media process then decodes video again)."""
        self._hooks.append(hook)
        self.tell(m.Tap())

    async def close(self) -> None:
        """Every peer connection closed and the clips written (by the media process), then it
        exits; killed when it does not within the timeouts."""
        child = self._child
        self._closing = True  # no new requests; the supervisor lets the process go
        if child is not None:
            with contextlib.suppress(MediaError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self._ask(m.Close(self._number()), closing=True)
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        if child is not None:
            await _stop(child)
            if child.reader is not None:
                await asyncio.gather(child.reader, return_exceptions=True)
        self._child = None
        await self.clips.settle()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------ from the media process

    async def _read(self, child: _Child) -> None:
        while True:
            try:
                message = await child.channel.receive()
            except m.ChannelClosed:
                return
            try:
                self._dispatch(message, child)
            except Exception:
                log.exception("a message from the media process could not be handled")

    def _spawn(
        self, work: Coroutine[Any, Any, None], into: set[asyncio.Task[Any]] | None = None
    ) -> None:
        task = asyncio.create_task(work)
        for tasks in (self._tasks, into) if into is not None else (self._tasks,):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def _dispatch(self, message: m.Message | m.Unreadable, child: _Child) -> None:
        match message:
            case m.Reply(req):
                future = self._waiting.get(req)
                if future is not None and not future.done():
                    future.set_result(message)
            case m.Status(attempt, stream, status, reason):
                current = self._statuses.get(attempt)
                if current is None or current[0] != stream:
                    return
                if status == pp.MediaStatus.NO_LIVE_VIDEO:
                    del self._statuses[attempt]
                    self._figures.pop(attempt, None)
                current[1](pp.MediaStatus(status), reason)
            case m.Figures():
                self._figures_from(message)
            case m.SendOffer():
                self._spawn(self._send_offer(message))
            case m.LiveFrame(exam, attempt, frame_id, jpeg, at):
                runtime = self.exams().loaded(exam)
                session = runtime.sessions.get(attempt) if runtime is not None else None
                if runtime is not None and session is not None:
                    runtime.analysis.submit_live(attempt, session.code, frame_id, jpeg, at)
            case m.Raise(exam, attempt, kind, at, confidence):
                runtime = self.exams().loaded(exam)
                session = runtime.sessions.get(attempt) if runtime is not None else None
                if runtime is not None and session is not None:
                    runtime.publish(
                        pp.Flag(
                            exam=exam,
                            at=at,
                            attempt=attempt,
                            candidate=session.code,
                            kind=ViolationKind(kind),
                            confidence=confidence,
                        )
                    )
            case m.AddViolation() | m.Violations() | m.SaveClip() | m.EndViolation():
                if isinstance(message, m.EndViolation):
                    child.spans.pop(message.violation, None)
                self._spawn(self._store_work(message, child), self.clips._saving)
            case m.ClipPending(attempt, number, marks):
                if marks:
                    child.clips[(attempt, number)] = marks
                else:
                    child.clips.pop((attempt, number), None)
            case m.Frame():
                self._frame(message)
            case m.Problem(text):
                log.error("the media process could not read a message: %s", text)
                self.problems.append(text)
            case m.Unreadable(text):
                log.error("media channel: %s", text)
                self.problems.append(text)
                self.tell(m.Problem(text))
            case _:
                log.error("unexpected from the media process: %s", type(message).__name__)

    def _update(self, streams: list[m.StreamFigures]) -> None:
        for s in streams:
            heard = self._last_audio.get(s.attempt)
            if s.audio_frames and (heard is None or heard[0] != s.audio_frames):
                self._last_audio[s.attempt] = (s.audio_frames, self.clock.now())
            if s.attempt in self._statuses:
                self._figures[s.attempt] = StreamStats(
                    s.video_frames, s.audio_frames, s.width, s.height, s.state, s.watchers
                )

    def _figures_from(self, figures: m.Figures) -> None:
        self._update(figures.streams)
        self.live_video.sampled = figures.sampled
        self.live_video.dropped = figures.dropped
        self.clips.peak_bytes = figures.clip_peak_bytes
        self.clips.skipped_pictures = figures.clip_skipped

    async def _send_offer(self, request: m.SendOffer) -> None:
        watcher = self._watchers.get(request.watcher)
        connected = False
        if watcher is not None:
            try:
                connected = await watcher.send_offer(request.attempt, request.sdp)
            except Exception:
                log.exception("an offer to a proctor failed")
        self.tell(m.Reply(request.req, value=connected))

    async def _store_work(
        self, message: m.AddViolation | m.Violations | m.SaveClip | m.EndViolation, child: _Child
    ) -> None:
        reply = None
        try:
            match message:
                case m.AddViolation(req, attempt, kind, source, at, confidence, evidence):
                    number = await self.store.add_violation(
                        attempt,
                        ViolationKind(kind),
                        Source(source),
                        at,
                        confidence=confidence,
                        evidence=evidence,
                    )
                    reply = m.Reply(req, value=number)
                    if kind == ViolationKind.SPEAKING:
                        span = _Span(attempt, at, dict(evidence or {}))
                        if child.dead:  # it died while this was stored: nothing will end it
                            await self._cut(number, span)
                        else:
                            child.spans[number] = span
                case m.EndViolation(violation, at, evidence):
                    await self.store.end_violation(violation, at, evidence)
                case m.Violations(req, attempt):
                    found = await self.store.violations(attempt)
                    value = [[v.id, str(v.kind), v.server_at.isoformat()] for v in found]
                    reply = m.Reply(req, value=value)
                case m.SaveClip() as c:
                    clip = ClipRecord(
                        id=c.id,
                        attempt_id=c.attempt,
                        kind=c.kind,
                        started_at=c.started_at,
                        ended_at=c.ended_at,
                        path=c.path,
                        sha256=c.sha256,
                        size=c.size,
                        created_at=c.created_at,
                        violations=tuple(c.violations),
                    )
                    await self.store.save_clip(clip, c.data)
                    self.clips.written.append(clip)
                    reply = m.Reply(c.req)
        except Exception as exc:
            log.exception("storing what the media process found failed")
            reply = m.Reply(getattr(message, "req", 0), error=f"{type(exc).__name__}: {exc}")
        if reply is not None:
            self.tell(reply)

    async def _cut(self, violation: int, span: _Span) -> None:
        """End a speaking span the dead media process left open, at its last audio report."""
        heard = self._last_audio.get(span.attempt)
        end = max(span.at, heard[1]) if heard is not None else span.at
        duration = (end - span.at).total_seconds()
        start_s = float(span.evidence.get("stream_start_s", 0.0))
        evidence = {
            **span.evidence,
            "stream_end_s": round(start_s + duration, 2),
            "duration_s": round(duration, 2),
            "cut": SPAN_CUT,
        }
        try:
            await self.store.end_violation(violation, end, evidence)
        except Exception:
            log.exception("the speaking span %d could not be ended", violation)

    async def _clip_lost(self, attempt: str, marks: list[tuple[str, float]]) -> None:
        """The violations a lost clip stood for say so in their evidence (no clip is linked)."""
        try:
            linked = await marked_violations(self.store, attempt, marks)
            for violation in linked:
                await self.store.note_violation(violation, {"clip": CLIP_LOST})
            log.warning("a clip of %s was lost with the media process: %s", attempt, linked)
        except Exception:
            log.exception("the lost clip of %s could not be recorded", attempt)

    def _frame(self, f: m.Frame) -> None:
        from av import AudioFrame, VideoFrame

        frame: AudioFrame | VideoFrame
        array: np.ndarray
        if f.kind == "video":
            array = np.frombuffer(f.data, dtype=np.uint8).reshape(f.shape)
            frame = VideoFrame.from_ndarray(array, format=f.format)
        else:
            dtype = np.float32 if f.format.startswith("flt") else np.int16
            array = np.frombuffer(f.data, dtype=dtype).reshape(f.shape)
            frame = AudioFrame.from_ndarray(array, format=f.format, layout=f.layout)  # type: ignore[arg-type]
            frame.sample_rate = f.rate
        key = StreamKey(f.exam, f.attempt)
        for hook in self._hooks:
            try:
                hook.on_frame(key, frame)
            except Exception:
                log.exception("a media hook failed")


def child_environment() -> dict[str, str]:
    """The media process's environment: the server's, with glibc's heap arenas capped and its
    mmap threshold fixed (`MALLOC_SETTINGS`)."""
    env = dict(os.environ)
    for name, value in MALLOC_SETTINGS.items():
        env.setdefault(name, value)
    return env


async def _stop(child: _Child) -> None:
    """Close the channel; the process exits on its end (killed after EXIT_TIMEOUT_S)."""
    child.channel.close()
    await child.channel.wait_closed()
    try:
        async with asyncio.timeout(EXIT_TIMEOUT_S):
            await child.process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()
