"""A proctor's media commands on /ws/proctor: `watch`, `unwatch`, `rtc_answer`, `rtc_ice`.

`watch` and `unwatch` are answered `ack` (the offer follows as `rtc_offer` {attempt, sdp}
when the attempt's video is live, at once or later); an unusable answer or candidate, an
attempt of another exam, or (with aiortc) a candidate connected to another server process, is
answered `error` `not_allowed` naming the command's `id` (or the attempt, for the two that
carry none).

A proctor's media commands run in their `WatchLane` (a `tasks.Lane`), one after another, beside the proctor's
other commands: a warning or a termination is never held up by the media gateway, even a
stalled one. Each is given `REQUEST_TIMEOUT_S`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from proctor_server.media.gateway import (
    ELSEWHERE,
    NOT_ENABLED,
    TIMED_OUT,
    MediaError,
    MediaGateway,
    Watcher,
    bounded,
)
from proctor_server.store import Store
from proctor_server.tasks import Lane
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode

log = logging.getLogger(__name__)

MediaCommand = pp.Watch | pp.Unwatch | pp.RtcAnswer | pp.RtcIce
MEDIA_COMMANDS = (pp.Watch, pp.Unwatch, pp.RtcAnswer, pp.RtcIce)
Reply = Callable[[pp.FeedMessage], Awaitable[bool]]
Elsewhere = Callable[[str], bool]  # (attempt) -> its candidate is connected to another process

REQUEST_TIMEOUT_S = 15.0  # a media command the gateway has not carried out by then fails
LANE_SIZE = 256  # media commands waiting per proctor (each watch, its answer and candidates)


def new_watcher(exam: str, reply: Reply) -> Watcher:
    """The watcher of one proctor connection; its offers go out on that connection."""

    async def send_offer(attempt: str, sdp: str) -> bool:
        return await reply(pp.RtcOffer(attempt=attempt, sdp=sdp))

    return Watcher(id=uuid.uuid4().hex, exam=exam, send_offer=send_offer)


async def handle(
    media: MediaGateway,
    store: Store,
    watcher: Watcher,
    command: MediaCommand,
    reply: Reply,
    elsewhere: Elsewhere,
) -> None:
    ref = _ref(command)
    try:
        match command:
            case pp.Watch(attempt=attempt):
                if not media.enabled:  # refused before any ack: no "connecting" that never comes
                    raise MediaError(NOT_ENABLED)
                record = await store.get_attempt(attempt)
                if record is None or record.exam_id != watcher.exam:
                    raise MediaError(f"attempt {attempt} is not in this exam")
                if not media.across_servers and elsewhere(attempt):  # nor here
                    raise MediaError(ELSEWHERE)
                await reply(p.Ack(id=command.id))
                await media.watch(watcher, attempt)
            case pp.Unwatch(attempt=attempt):
                await media.unwatch(watcher.id, attempt)
                await reply(p.Ack(id=command.id))
            case pp.RtcAnswer(attempt=attempt, sdp=sdp):
                await media.watcher_answer(watcher.id, attempt, sdp)
            case pp.RtcIce(attempt=attempt):
                await media.watcher_ice(
                    watcher.id, attempt, command.candidate, command.sdp_mid, command.sdp_mline_index
                )
    except MediaError as exc:
        log.info("proctor media command %s refused: %s", type(command).__name__, exc.message)
        await reply(p.error(ErrorCode.NOT_ALLOWED, exc.message, ref))


def _ref(command: MediaCommand) -> str:
    """What an error about the command names: its id, or its attempt for the two without."""
    return command.id if isinstance(command, pp.Watch | pp.Unwatch) else command.attempt


class WatchLane(Lane[MediaCommand]):
    """A proctor's media commands in the order they came, carried out by a task of their own
    so that the proctor's other commands never wait for the media gateway: each given
    `REQUEST_TIMEOUT_S`, and refused while `LANE_SIZE` are waiting."""

    __slots__ = ("_media", "_watcher")

    def __init__(
        self,
        media: MediaGateway,
        store: Store,
        watcher: Watcher,
        reply: Reply,
        elsewhere: Elsewhere = lambda attempt: False,
    ) -> None:
        self._media, self._watcher = media, watcher

        async def carry_out(command: MediaCommand) -> None:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    await handle(media, store, watcher, command, reply, elsewhere)
            except TimeoutError:
                log.warning("proctor media command %s timed out", type(command).__name__)
                await reply(p.error(ErrorCode.NOT_ALLOWED, TIMED_OUT, _ref(command)))

        async def refuse(command: MediaCommand) -> None:
            message = "too many live media requests at once; try again later"
            await reply(p.error(ErrorCode.NOT_ALLOWED, message, _ref(command)))

        super().__init__(carry_out, refuse, LANE_SIZE, f"watching-{watcher.id}")

    async def close(self) -> None:
        """Drop what is waiting, stop, and end the proctor's relays (the connection closed)."""
        await super().close()
        watcher = self._watcher.id
        await bounded(self._media.unwatch_all(watcher), f"the relays of watcher {watcher}")
