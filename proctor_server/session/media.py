"""Live media on the candidate socket: `rtc_offer` is answered with `rtc_answer`, `rtc_ice`
is handed to the gateway, and the stream ends with the connection. A media problem is answered
with an `error` whose `ref` is "rtc_offer", so that the client never mistakes it for a word
about the exam; it never closes the connection and never touches the attempt."""

from __future__ import annotations

import logging

from proctor_server.media.gateway import MediaError, StreamKey
from proctor_server.session.live import LiveAttempt
from shared import proctor_protocol as pp
from shared import protocol as p

log = logging.getLogger(__name__)


async def offer(live: LiveAttempt, m: p.RtcOffer) -> None:
    if live.attempt.state.finished:
        await live.send(p.error(MediaError.code, "the attempt is over", p.MEDIA_REF))
        return
    runtime = live.runtime
    key = StreamKey(exam=runtime.exam.id, attempt=live.attempt_id)

    def on_status(status: pp.MediaStatus, reason: str | None) -> None:
        runtime.publish(
            pp.Media(
                exam=runtime.exam.id,
                at=runtime.wire_now(),
                attempt=live.attempt_id,
                candidate=live.code,
                status=status,
                reason=reason,
            )
        )

    try:
        sdp = await live.deps.media.publish(key, m.sdp, on_status)
    except MediaError as exc:
        log.info("%s: live media refused: %s", live.peer, exc.message)
        on_status(pp.MediaStatus.NO_LIVE_VIDEO, exc.message)  # the proctors see why
        await live.send(p.error(exc.code, exc.message, p.MEDIA_REF))
        return
    await live.send(p.RtcAnswer(sdp=sdp))


async def ice(live: LiveAttempt, m: p.RtcIce) -> None:
    try:
        await live.deps.media.add_ice(live.attempt_id, m.candidate, m.sdp_mid, m.sdp_mline_index)
    except MediaError as exc:
        await live.send(p.error(exc.code, exc.message, p.MEDIA_REF))


async def ended(live: LiveAttempt) -> None:
    """The candidate's connection closed: so does its stream (the app offers again when it is
    back); watchers stay and get the next stream."""
    try:
        await live.deps.media.end(live.attempt_id, "the candidate's connection closed")
    except Exception:  # shutting media down never stops a session from ending
        log.exception("closing the live media of %s failed", live.attempt_id)
