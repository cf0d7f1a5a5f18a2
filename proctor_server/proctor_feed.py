"""/ws/proctor: a proctor's live feed of one exam, and the proctor's commands. The proctor signs
in with the token from `proctor-server proctor-token` (query `?token=` or a first message
`{"type":"hello","token":...}`), gets the exam's attempts as they stand, then every event as it
happens. Messages are declared in `shared/proctor_protocol.py`.

The socket is read and written at once: events go out as they come while commands are read,
so a closed socket ends the handler even on an exam where nothing happens. Commands are
decoded and answered `not_allowed` until they are enabled."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.bus import EventBus, Subscription
from proctor_server.clock import Clock
from proctor_server.exams import ExamRuntime
from proctor_server.media import watching
from proctor_server.media.gateway import NO_MEDIA, MediaGateway, Watcher
from proctor_server.store import Store
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, ProtocolError
from shared.timeutil import to_wire
from shared.vocabulary import CloseCode
from shared.watermark import mask_name


class Exams(Protocol):
    async def load(self, exam_id: str) -> ExamRuntime | None: ...


@dataclass(frozen=True, slots=True)
class FeedDeps:
    """What a proctor feed uses: the store, the bus, the clock and the loaded exams."""

    store: Store
    bus: EventBus
    clock: Clock
    exams: Exams
    hello_timeout_s: float
    media: MediaGateway = NO_MEDIA  # live video: watch, unwatch, rtc_answer, rtc_ice


log = logging.getLogger(__name__)

COMMANDS_DISABLED = "proctor commands are not enabled yet"


async def serve_proctor(deps: FeedDeps, ws: ServerConnection) -> None:
    exam_id = await _sign_in(deps, ws)
    if exam_id is None:
        await _send(ws, p.Error(code="bad_token", message="unknown proctor token"))
        await ws.close(CloseCode.BAD_TOKEN, "bad token")
        return
    sub = deps.bus.subscribe(exam_id)
    watcher = watching.new_watcher(exam_id, lambda message: _send(ws, message))
    try:
        if not await _send(ws, await exam_snapshot(deps, exam_id)):
            return
        async with asyncio.TaskGroup() as tasks:
            writer = tasks.create_task(_forward(ws, sub), name=f"proctor-feed-{exam_id}")
            await _read_commands(ws, deps, watcher)
            writer.cancel()  # the socket closed: nothing more to send
    finally:
        sub.close()
        await deps.media.unwatch_all(watcher.id)


async def _sign_in(deps: FeedDeps, ws: ServerConnection) -> str | None:
    """The exam the proctor's token opens, or None."""
    assert ws.request is not None
    token = parse_qs(urlsplit(ws.request.path).query).get("token", [""])[0]
    if not token:
        try:
            async with asyncio.timeout(deps.hello_timeout_s):
                first = await ws.recv()
            hello = pp.decode_command(first)
            token = hello.token if isinstance(hello, pp.Hello) else ""
        except (TimeoutError, ProtocolError, ConnectionClosed):
            token = ""
    return await deps.store.proctor_exam(token) if token else None


async def _send(ws: ServerConnection, message: pp.FeedMessage) -> bool:
    """Send one message; False when the socket is closed."""
    try:
        await ws.send(pp.encode(message), text=True)
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
            await ws.send(published.frame, text=True)
    except ConnectionClosed:
        return


async def _read_commands(ws: ServerConnection, deps: FeedDeps, watcher: Watcher) -> None:
    """Decode every command; answer it (not enabled yet) or count it as malformed."""
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
            if isinstance(command, watching.MEDIA_COMMANDS):
                await watching.handle(
                    deps.media, deps.store, watcher, command, lambda m: _send(ws, m)
                )
                continue
            ref = pp.command_id(command)
            log.info("proctor command %s (%s) refused: not enabled", type(command).__name__, ref)
            await _send(ws, p.error(ErrorCode.NOT_ALLOWED, COMMANDS_DISABLED, ref))
    except ConnectionClosed:
        return


async def exam_snapshot(deps: FeedDeps, exam_id: str) -> pp.Snapshot:
    runtime = await deps.exams.load(exam_id)
    assert runtime is not None
    exam = runtime.exam
    now = deps.clock.now()
    attempts: list[pp.AttemptSummary] = []
    for a, ticket, violations in await deps.store.exam_overview(exam_id):
        # A finished attempt's risk is the one it had when it finished, however late it is read.
        risk = risk_score(violations, a.finished_at or now)
        attempts.append(
            pp.AttemptSummary(
                attempt=a.id,
                candidate=ticket.candidate_code,
                name=mask_name(ticket.name),
                mode=a.mode,
                state=a.state,
                connected=a.id in runtime.sessions,
                score=a.score,
                max_score=a.max_score,
                passed=a.passed,
                warnings=a.warnings_used,
                violations=len(violations),
                risk=risk.score,
                risk_reasons=risk.reasons,
            )
        )
    attempts.sort(key=lambda entry: -entry.risk)  # the most suspicious first
    return pp.Snapshot(
        server_time=to_wire(deps.clock.now()),
        exam=pp.ExamSummary(
            id=exam.id,
            title=exam.title,
            starts_at=to_wire(exam.starts_at),
            ends_at=to_wire(exam.window.ends_at),
        ),
        attempts=attempts,
    )
