"""A proctor's media commands on /ws/proctor: `watch`, `unwatch`, `rtc_answer`, `rtc_ice`.

`watch` and `unwatch` are answered `ack` (the offer follows as `rtc_offer` {attempt, sdp}
when the attempt's video is live, at once or later); an unusable answer or candidate, or an
attempt of another exam, is answered `error` `not_allowed` naming the command's `id` (or the
attempt, for the two that carry none)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from proctor_server.media.gateway import MediaError, MediaGateway, Watcher
from proctor_server.store import Store
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode

log = logging.getLogger(__name__)

MediaCommand = pp.Watch | pp.Unwatch | pp.RtcAnswer | pp.RtcIce
MEDIA_COMMANDS = (pp.Watch, pp.Unwatch, pp.RtcAnswer, pp.RtcIce)
Reply = Callable[[pp.FeedMessage], Awaitable[bool]]


def new_watcher(exam: str, reply: Reply) -> Watcher:
    """The watcher of one proctor connection; its offers go out on that connection."""

    async def send_offer(attempt: str, sdp: str) -> bool:
        return await reply(pp.RtcOffer(attempt=attempt, sdp=sdp))

    return Watcher(id=uuid.uuid4().hex, exam=exam, send_offer=send_offer)


async def handle(
    media: MediaGateway, store: Store, watcher: Watcher, command: MediaCommand, reply: Reply
) -> None:
    ref = command.id if isinstance(command, pp.Watch | pp.Unwatch) else command.attempt
    try:
        match command:
            case pp.Watch(attempt=attempt):
                if not media.enabled:  # refused before any ack: no "connecting" that never comes
                    raise MediaError("live media is not enabled on this server")
                record = await store.get_attempt(attempt)
                if record is None or record.exam_id != watcher.exam:
                    raise MediaError(f"attempt {attempt} is not in this exam")
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
