"""The candidate's runtime: the pure exam flow driven by a socket, a clock, the outbox and a
camera, on asyncio and without Qt. The GUI and the headless `take` command both use it.

Tasks, all owned here and stopped by `close()`:

- the connection loop: connect, hello, read server messages, reconnect with backoff;
- per connection, a sender (direct frames first, then the outbox in order, only after
  `welcome`) and a heartbeat (keeps the countdown anchored on the server's clock);
- the snapshot loop: a photo every `snapshot_interval_s` while the exam is in progress,
  into the outbox (so snapshots taken offline are sent later);
- live media (`proctor_client.media`), when given sources and the `welcome` says the server
  takes it: a publisher per connection, whose signalling rides the direct frames and whose
  failures only change `state.media` (never an answer, an ack or the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from proctor_client.core import flow as f
from proctor_client.core.state import ClientState, ErrorView, Phase
from proctor_client.media.publisher import MediaSources, Publisher
from proctor_client.outbox import Outbox, default_path, scope_of
from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.connection import candidate_url, decode, open_connection
from proctor_client.runtime.model import Listener, Unsubscribe
from proctor_client.runtime.snapshots import PhotoSource
from shared import protocol as p
from shared.errors import ErrorCode, ProctorError, ProtocolError
from shared.timeutil import to_wire
from shared.vocabulary import EventKind, Mode

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
DEFAULT_SNAPSHOT_S = 30
FIRST_SNAPSHOT_DELAY_S = 1.0  # the first photo soon after the paper opens, then every N
# messages the server refused for now: the outbox goes again after a back-off of 1 s, up to 30 s
RETRY_BASE_S, RETRY_CAP_S = 1.0, 30.0


def new_id() -> str:
    return uuid.uuid4().hex


def wall_now() -> str:
    """The client's claimed time for events and snapshots (evidence only, never a decision)."""
    return to_wire(datetime.now(UTC))


class ExamRuntime:
    """Implements :class:`proctor_client.runtime.model.ExamRuntimeAPI`."""

    def __init__(
        self,
        server: str,
        ticket: str,
        *,
        mode: Mode = Mode.EXAM,
        outbox: Outbox | None = None,
        outbox_path: Path | None = None,
        photos: PhotoSource | None = None,
        client_info: Mapping[str, Any] | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        open_timeout: float = 10.0,
        media: MediaSources | None = None,
    ) -> None:
        if not ticket.strip():
            raise f.InvalidAction("the admission ticket is empty")
        self.url = candidate_url(server)
        self.ticket = ticket.strip()
        mode = Mode(mode)  # a caller's plain "exam" or "trial" too
        self.mode: Mode = mode
        self.photos = photos
        self.client_info = dict(client_info or {})
        self.heartbeat_s = heartbeat_s
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.open_timeout = open_timeout
        self.outbox = outbox or Outbox(
            outbox_path or default_path(), scope_of(self.url, self.ticket, mode)
        )
        self.outbox.remember(self.url, self.ticket, mode)
        self._state = ClientState(mode=mode)
        self._listeners: list[Listener] = []
        self._waiters: list[tuple[Callable[[ClientState], bool], asyncio.Future[ClientState]]] = []
        # per-connection sending
        self._ws: ClientConnection | None = None
        self._direct: deque[str | bytes] = deque()
        self._replaying = False
        self._sent_seq = 0
        self._wake: asyncio.Event | None = None
        # messages refused for now are sent again after a back-off of their own
        self.retry_backoff = Backoff(RETRY_BASE_S, RETRY_CAP_S)
        self._retry: asyncio.Task[None] | None = None
        # lifecycle
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.connections = 0  # sockets opened so far (for tests and figures)
        self.publisher = (
            Publisher(
                media,
                self._signal_media,
                self._media_status,
                backoff=Backoff(media.retry_base_s, media.retry_cap_s),
            )
            if media is not None
            else None
        )
        self._restore()

    # ------------------------------------------------------------ the API the UI calls

    @property
    def state(self) -> ClientState:
        return self._state

    def subscribe(self, listener: Listener) -> Unsubscribe:
        self._listeners.append(listener)
        listener(self._state)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def start(self) -> None:
        if self._stop is not None or self._closed:
            return
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        if self._state.finished:
            return
        self._spawn(self._connection_loop(), "connection")
        if self.photos is not None:
            self._spawn(self._snapshot_loop(self.photos), "snapshots")

    def send_identity_photo(self, jpeg: bytes) -> str:
        mid = new_id()
        self._apply(f.TakePhoto(mid, bytes(jpeg)))
        return mid

    def send_profile(self, name: str, phone: str, address: str, postcode: str) -> str:
        mid = new_id()
        self._apply(f.GiveProfile(mid, name, phone, address, postcode))
        return mid

    def answer(self, question_id: str, option_ids: list[str]) -> str:
        mid = new_id()
        self._apply(f.Choose(mid, question_id, tuple(option_ids)))
        return mid

    def report_event(
        self, kind: EventKind | str, detail: dict[str, Any] | None = None
    ) -> int | None:
        self._apply(f.Report(new_id(), kind, wall_now(), detail or {}))
        return self._state.warnings_left

    def accept_rules(self, version: str) -> str:
        mid = new_id()
        self._apply(f.Accept(mid, version))
        return mid

    def submit(self) -> str:
        mid = new_id()
        self._apply(f.HandIn(mid))
        return mid

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._state.finished:
            self._apply(f.Close())
        self._stopping = True
        if self._stop is not None:
            self._stop.set()
        if self._wake is not None:
            self._wake.set()
        if self.publisher is not None:
            await self.publisher.stop()
        ws = self._ws
        if ws is not None:
            await ws.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _, future in self._waiters:
            if not future.done():
                future.set_result(self._state)
        self._waiters.clear()
        self.outbox.close()

    # ------------------------------------------------------------ waiting (scripts and tests)

    async def wait_for(self, predicate: Callable[[ClientState], bool]) -> ClientState:
        """The first snapshot (now or later) for which `predicate` holds, or the last one if
        the runtime closes first. Bound it with `asyncio.timeout`."""
        if predicate(self._state) or self._closed:
            return self._state
        future: asyncio.Future[ClientState] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    async def wait_phase(self, *phases: Phase) -> ClientState:
        return await self.wait_for(lambda s: s.phase in phases)

    # ------------------------------------------------------------ the flow and its commands

    def _restore(self) -> None:
        kept: list[p.ClientMessage] = []
        for item in self.outbox.items():
            if isinstance(item.data, str):
                try:
                    kept.append(p.decode_client(item.data))
                except ProtocolError:
                    log.warning("dropping an unreadable outbox entry %s", item.id)
                    self.outbox.remove(item.id)
        self._apply(f.Restore(kept))

    def _apply(self, event: f.Input) -> None:
        """Step the flow (InvalidAction propagates, nothing changed) and carry out commands."""
        state, commands = f.step(self._state, event, self.clock())
        changed_outbox = False
        wake = False
        for command in commands:
            match command:
                case f.Send(text):
                    self._direct.append(text)
                case f.SendImage(frame):
                    self._direct.append(frame)
                case f.Enqueue(mid, kind, data):
                    self.outbox.add(mid, kind, data)
                    changed_outbox = True
                case f.Forget(mid):
                    changed_outbox = self.outbox.remove(mid) or changed_outbox
                case f.Replay():
                    self._replaying = True
                    self._sent_seq = 0
                    wake = True
                case f.RetryLater():
                    if self._retry is None and self._ws is not None:
                        self._retry = self._spawn(self._retry_later(), "retry")
                case f.Stop(reason):
                    log.info("stopping: %s", reason)
                    self._stopping = True
                    if state.result is not None or (
                        state.error is not None and state.error.code == ErrorCode.EXAM_OVER
                    ):
                        self.outbox.finish()
                        changed_outbox = True
                    if self._stop is not None:
                        self._stop.set()
        if changed_outbox or isinstance(event, f.Restore):
            state = _with_pending(state, self.outbox.count())
            if not state.pending:  # everything stored: a later refusal starts from the base
                self.retry_backoff.reset()
        if self._wake is not None and (wake or self._direct or changed_outbox or self._stopping):
            self._wake.set()
        self._publish(state)

    def _publish(self, state: ClientState) -> None:
        if state == self._state:
            return
        self._state = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("a state listener failed")
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(state):
                future.set_result(state)

    # ------------------------------------------------------------ tasks

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=f"proctor-client-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("runtime task %s failed", task.get_name(), exc_info=task.exception())

    async def _pause(self, seconds: float) -> None:
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _connection_loop(self) -> None:
        while not self._stopping:
            try:
                ws = await open_connection(self.url, open_timeout=self.open_timeout)
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                log.info("cannot connect to %s: %s", self.url, exc)
                self._apply(f.ConnectFailed(str(exc) or type(exc).__name__))
                await self._pause(self.backoff.next_delay())
                continue
            self.connections += 1
            try:
                await self._session(ws)
            except ProctorError as exc:  # the outbox failed (disk full, file removed...)
                log.error("connection dropped: %s", exc.message)
                await ws.close(1011, "client failure")
                self._apply(f.Disconnected(1011, "client failure"))
                self._publish(replace(self._state, error=ErrorView("client_error", exc.message)))
            if not self._stopping:
                await self._pause(self.backoff.next_delay())

    async def _retry_later(self) -> None:
        """Send the outbox again after a back-off (refusals for now: a burst over the server's
        rate limit, a full disk); a further refusal waits longer, a new connection starts over."""
        try:
            await self._pause(self.retry_backoff.next_delay())
            if self._ws is not None and not self._stopping and self._wake is not None:
                self._replaying = True
                self._sent_seq = 0
                self._wake.set()
        finally:
            self._retry = None

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._direct.clear()
        self._replaying = False
        self._sent_seq = 0
        self.retry_backoff.reset()
        self._apply(f.Connected(self.ticket, self.client_info))
        sender = self._spawn(self._send_loop(ws), "sender")
        beat = self._spawn(self._heartbeat_loop(), "heartbeat")
        try:
            async for frame in ws:
                message = decode(frame)
                if message is None or self._media_message(message):
                    continue
                self._apply(f.Received(message))
                if isinstance(message, p.Welcome):
                    self.backoff.reset()
                    if self.publisher is not None and message.media and not self._stopping:
                        self.publisher.start(message.ice_servers)
                if self._stopping:
                    break
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            self._replaying = False
            if self._retry is not None:  # the next connection sends the whole outbox anyway
                self._retry.cancel()
            if self.publisher is not None:
                await self.publisher.stop()
            for task in (sender, beat):
                task.cancel()
            await asyncio.gather(sender, beat, return_exceptions=True)
            await ws.close()
        if not self._stopping:
            self._apply(f.Disconnected(ws.close_code, ws.close_reason or ""))

    async def _send_loop(self, ws: ClientConnection) -> None:
        assert self._wake is not None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._direct:
                    await ws.send(self._direct.popleft())
                while self._replaying and not self._stopping:
                    items = self.outbox.items(after=self._sent_seq, limit=32)
                    if not items:
                        break
                    for item in items:
                        await ws.send(item.data)
                        self._sent_seq = item.seq
                        while self._direct:  # a heartbeat or a photo need not wait
                            await ws.send(self._direct.popleft())
        except ConnectionClosed:
            pass
        except ProctorError as exc:  # the outbox failed: drop this connection, try again
            log.error("cannot send: %s", exc.message)
            await ws.close(1011, "client outbox failure")

    # ------------------------------------------------------------ live media

    def _media_message(self, message: p.ServerMessage) -> bool:
        """Hand the server's word on live media to the publisher; True when it was one."""
        if isinstance(message, p.RtcAnswer):
            if self.publisher is not None:
                self.publisher.answered(message.sdp)
            return True
        if isinstance(message, p.MediaReport):  # a probe's word, never on this socket
            return True
        if isinstance(message, p.Error) and message.ref == p.MEDIA_REF:
            if self.publisher is not None:
                self.publisher.refused(message.message)
            return True
        return False

    def _signal_media(self, message: p.ClientMessage) -> bool:
        if self._ws is None or self._wake is None or self._stopping:
            return False
        self._direct.append(p.encode(message))
        self._wake.set()
        return True

    def _media_status(self, status: str) -> None:
        if status != self._state.media:
            self._publish(replace(self._state, media=status))

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self._state.connected:
                self._direct.append(p.encode(p.Heartbeat()))
                assert self._wake is not None
                self._wake.set()

    async def _snapshot_loop(self, photos: PhotoSource) -> None:
        while not self._stopping:
            state = await self.wait_for(lambda s: s.phase is Phase.EXAM or s.finished)
            if state.finished or self._stopping:
                return
            await self._pause(FIRST_SNAPSHOT_DELAY_S)
            while not self._stopping and self._state.phase is Phase.EXAM:
                try:
                    jpeg = await photos.capture()
                    self._apply(f.Snap(new_id(), wall_now(), jpeg))
                except ProctorError as exc:  # no camera frame, or the outbox failed
                    log.warning("no snapshot: %s", exc.message)
                interval = self._state.snapshot_interval_s or DEFAULT_SNAPSHOT_S
                await self._pause(interval)


def _with_pending(state: ClientState, pending: int) -> ClientState:
    return state if state.pending == pending else replace(state, pending=pending)
