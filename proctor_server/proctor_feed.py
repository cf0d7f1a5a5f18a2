"""/ws/proctor: a proctor's live feed of one exam, and the proctor's commands.

Sign-in: the session cookie set by `/login`, or the token itself (`?token=`, or a first
message `{"type":"hello","token":...}`) for scripts. A wrong or revoked token gets `error`
`bad_token` and close 4401. The exam: a proctor's own; a chief's `?exam=ID`, or the only live
exam. Then the exam's snapshot (every ticket, absentees included, with real names), then every
event as it happens. Messages are declared in `shared/proctor_protocol.py`.

The socket is read and written at once: events go out as they come while commands are read,
so a closed socket ends the handler even on an exam where nothing happens. Each command goes
to its handler in `HANDLERS` (the console's commands to `console.commands`); the sign-in is
checked again every `RECHECK` so a revoked proctor's feed closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, cast

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.bus import EventBus, Subscription
from proctor_server.clock import Clock
from proctor_server.console import auth
from proctor_server.console.commands import Console, ConsoleCommand
from proctor_server.console.grid_cache import GridCache, Place, Read
from proctor_server.console.snapshot import grid_risk, snapshot_frame
from proctor_server.core.console import feed_exam
from proctor_server.core.records import ProctorRecord, ProctorRole
from proctor_server.exams import ExamRuntime
from proctor_server.heap import release_frames
from proctor_server.media import watching
from proctor_server.media.gateway import NO_MEDIA, MediaGateway
from proctor_server.sending import send_text
from proctor_server.store import Store
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, ProtocolError, RuleError
from shared.vocabulary import CloseCode


class Exams(Protocol):
    async def load(self, exam_id: str) -> ExamRuntime | None: ...

    def loaded(self, exam_id: str) -> ExamRuntime | None: ...


@dataclass(frozen=True, slots=True)
class FeedDeps:
    """What a proctor feed uses: the store, the bus, the clock, the loaded exams, the console
    that carries out commands and the exams' grids as last read (the bus's journal)."""

    store: Store
    bus: EventBus
    clock: Clock
    exams: Exams
    hello_timeout_s: float
    console: Console
    grids: GridCache
    media: MediaGateway = NO_MEDIA  # live video: watch, unwatch, rtc_answer, rtc_ice


@dataclass(frozen=True, slots=True)
class Feed:
    """One signed-in proctor's feed of one exam."""

    deps: FeedDeps
    ws: ServerConnection
    proctor: ProctorRecord
    exam_id: str
    session: str  # the cookie's session id ("" when signed in by token)
    lane: watching.WatchLane | None = None  # its live-video commands, in a task of their own


log = logging.getLogger(__name__)

COMMANDS_DISABLED = "proctor commands are not enabled yet"
RECHECK = timedelta(seconds=15)  # how often a feed checks its proctor is still signed in


async def serve_proctor(deps: FeedDeps, ws: ServerConnection) -> None:
    proctor, session = await _sign_in(deps, ws)
    if proctor is None:
        await _refuse_token(ws)
        return
    try:
        exam_id = await _choose_exam(deps, ws, proctor)
    except RuleError as exc:
        await _send(ws, p.error(exc.code, exc.message))
        await ws.close(CloseCode.HELLO_REFUSED, "no exam")
        return
    watcher = watching.new_watcher(exam_id, lambda message: _send(ws, message))
    lane = watching.WatchLane(
        deps.media, deps.store, watcher, lambda m: _send(ws, m), _elsewhere(deps, exam_id)
    )
    feed = Feed(deps, ws, proctor, exam_id, session, lane)
    sub = deps.bus.subscribe(exam_id)
    place = _place(deps, exam_id)  # in the same turn as the subscription: no event between
    try:
        if not await _send(ws, await exam_snapshot(deps, exam_id, place)):
            return
        for frame in place.replay():  # the events since the read, before the subscription's
            if not await _send_frame(ws, frame):
                return
        async with asyncio.TaskGroup() as tasks:
            writer = tasks.create_task(_forward(ws, sub), name=f"proctor-feed-{exam_id}")
            guard = tasks.create_task(_stay_signed_in(feed), name=f"proctor-guard-{exam_id}")
            await _read_commands(feed)
            writer.cancel()  # the socket closed: nothing more to send
            guard.cancel()
    finally:
        sub.close()
        await lane.close()


async def _refuse_token(ws: ServerConnection) -> None:
    await _send(ws, p.error(ErrorCode.BAD_TOKEN, "unknown or revoked proctor token"))
    await ws.close(CloseCode.BAD_TOKEN, "bad token")


async def _sign_in(deps: FeedDeps, ws: ServerConnection) -> tuple[ProctorRecord | None, str]:
    """The proctor of this connection (by token, cookie or hello) and the session id."""
    assert ws.request is not None
    path, headers = ws.request.path, ws.request.headers
    token = auth.query_value(path, "token")
    if token:
        return await auth.proctor_by_token(deps.store, token), ""
    session = auth.session_cookie(headers)
    if session:
        return await auth.proctor_by_session(deps.store, session, deps.clock.now()), session
    try:
        async with asyncio.timeout(deps.hello_timeout_s):
            first = await ws.recv()
        hello = pp.decode_command(first)
        token = hello.token if isinstance(hello, pp.Hello) else ""
    except ConnectionClosed as closed:
        release_frames(closed)
        token = ""
    except (TimeoutError, ProtocolError):
        token = ""
    return await auth.proctor_by_token(deps.store, token), ""


async def _choose_exam(deps: FeedDeps, ws: ServerConnection, proctor: ProctorRecord) -> str:
    assert ws.request is not None
    requested = auth.query_value(ws.request.path, "exam") or None
    live: list[str] = []
    if proctor.role is ProctorRole.CHIEF and requested is None:  # the only live exam
        live = [e.id for e in await deps.store.list_live_exams(deps.clock.now())]
    exam_id = feed_exam(proctor, requested, live)
    if await deps.exams.load(exam_id) is None:
        raise RuleError(f"no exam {exam_id}", code=ErrorCode.NOT_ALLOWED)
    return exam_id


async def _send(ws: ServerConnection, message: pp.FeedMessage | pp.SnapshotFrame) -> bool:
    """Send one message; False when the socket is closed."""
    return await _send_frame(ws, pp.encode(message))


async def _send_frame(ws: ServerConnection, frame: bytes) -> bool:
    """Send one event as the bus encoded it; False when the socket is closed."""
    try:
        await send_text(ws, frame)
    except ConnectionClosed:
        return False
    return True


async def _forward(ws: ServerConnection, sub: Subscription) -> None:
    """The exam's events to this proctor, as encoded once by the bus."""
    try:
        while True:
            published = await sub.get()
            if published is None:  # fell behind, or the server is closing
                await ws.close(CloseCode.GOING_AWAY, "feed closed")
                return
            await send_text(ws, published.frame)
    except ConnectionClosed:
        return


async def _stay_signed_in(feed: Feed) -> None:
    """Close the feed once its proctor is revoked or its session ended or expired."""
    deps = feed.deps
    while True:
        await deps.clock.sleep_until(deps.clock.now() + RECHECK)
        if feed.session:
            current = await auth.proctor_by_session(deps.store, feed.session, deps.clock.now())
        else:
            current = await deps.store.get_proctor(feed.proctor.id)
        if not auth.still_valid(feed.proctor, current):
            log.info("proctor %s signed out or revoked: closing the feed", feed.proctor.name)
            await _refuse_token(feed.ws)
            return


# ---------------------------------------------------------------- commands

Handler = Callable[[Feed, pp.Command], Awaitable[None]]


async def _console(feed: Feed, command: pp.Command) -> None:
    """A console command (warn, message, terminate, extend, admit, review, accept_identity,
    verdict): carried out once, answered ack or error."""
    reply = await feed.deps.console.run(feed.proctor, feed.exam_id, cast(ConsoleCommand, command))
    await _send(feed.ws, reply)


async def _media(feed: Feed, command: pp.Command) -> None:
    """watch, unwatch, rtc_answer, rtc_ice: live video relayed to this proctor, carried out
    in the feed's `WatchLane` (the next command is read meanwhile)."""
    assert feed.lane is not None and isinstance(command, watching.MEDIA_COMMANDS)
    await feed.lane.put(command)


async def _not_enabled(feed: Feed, command: pp.Command) -> None:
    ref = pp.command_id(command)
    log.info("proctor command %s (%s) refused: not enabled", type(command).__name__, ref)
    await _send(feed.ws, p.error(ErrorCode.NOT_ALLOWED, COMMANDS_DISABLED, ref))


HANDLERS: dict[type, Handler] = {
    pp.Warn: _console,
    pp.Message: _console,
    pp.Terminate: _console,
    pp.Extend: _console,
    pp.Admit: _console,
    pp.Review: _console,
    pp.AcceptIdentity: _console,
    pp.Judge: _console,
    # live media: watch a candidate, answer the offers
    pp.Watch: _media,
    pp.Unwatch: _media,
    pp.RtcAnswer: _media,
    pp.RtcIce: _media,
    # a second hello: already signed in
    pp.Hello: _not_enabled,
}


async def _read_commands(feed: Feed) -> None:
    """Decode every command and hand it to its handler, or count it as malformed."""
    ws = feed.ws
    errors = 0
    try:
        async for raw in ws:
            try:
                if isinstance(raw, bytes):
                    raise ProtocolError("proctor commands are JSON text frames")
                command = pp.decode_command(raw)
            except ProtocolError as exc:
                errors += 1
                await _send(ws, p.error(exc.code, exc.message))
                if errors >= pp.MAX_PROTOCOL_ERRORS:
                    await ws.close(CloseCode.POLICY_VIOLATION, "too many malformed messages")
                    return
                continue
            await HANDLERS[type(command)](feed, command)
    except ConnectionClosed as closed:
        release_frames(closed)


def _elsewhere(deps: FeedDeps, exam_id: str) -> watching.Elsewhere:
    """Whether an attempt's candidate is connected to another server process (not this one)."""

    def elsewhere(attempt: str) -> bool:
        runtime = deps.exams.loaded(exam_id)
        return runtime is not None and runtime.connected_elsewhere(attempt)

    return elsewhere


# ---------------------------------------------------------------- the snapshot


def grid_read(store: Store) -> Read:
    """How the exams' journals read a grid (`GridCache`)."""
    return lambda exam_id, now: store.exam_grid(exam_id, grid_risk(now))


def _place(deps: FeedDeps, exam_id: str) -> Place:
    """The exam's grid as last read (or being read, or a read started now) and this proctor's
    place in the events since."""
    return deps.grids.place(exam_id)


async def exam_snapshot(deps: FeedDeps, exam_id: str, place: Place) -> pp.SnapshotFrame:
    """Every ticket of the exam: its attempt (exam, else latest trial) or an absentee, as the
    read of `place` found it; which attempts are connected and how well, as they are now."""
    runtime = await deps.exams.load(exam_id)
    assert runtime is not None
    grid = await place.grid()
    now = deps.clock.now()
    return snapshot_frame(runtime.exam, grid, runtime.online(), runtime.quality, now)
