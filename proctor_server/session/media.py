"""Live media on the candidate socket: `rtc_offer` is answered with `rtc_answer`, `rtc_ice`
is handed to the gateway, and the stream ends with the connection. A media problem is answered
with an `error` whose `ref` is "rtc_offer", so that the client never mistakes it for a word
about the exam; it never closes the connection and never touches the attempt. A stream the
server ends itself while the connection stays is told the same way (`stream_ended`).

The media requests of a connection run in its lane (`media_lane`, a `tasks.Lane`), one after
another, beside its message loop: an answer sent after an offer is stored and acknowledged
while the media process works on the offer, and a media process that stalls costs the exam
nothing. Each request is given `REQUEST_TIMEOUT_S`; ending a stream when the connection
closes, `END_TIMEOUT_S` (`media.gateway.end_stream`)."""

from __future__ import annotations

import asyncio
import logging

from proctor_server.media.gateway import (
    ATTEMPT_OVER,
    CONNECTION_CLOSED,
    SHUTTING_DOWN,
    TIMED_OUT,
    MediaError,
    StreamKey,
    end_stream,
)
from proctor_server.session.live import LiveAttempt
from proctor_server.tasks import Lane
from shared import proctor_protocol as pp
from shared import protocol as p

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 15.0  # an offer or a candidate the media gateway has not taken by then fails
LANE_SIZE = 64  # media requests waiting per connection (an offer and its ICE candidates)


async def offer(live: LiveAttempt, m: p.RtcOffer) -> None:
    if live.attempt.state.finished:
        await live.send(p.error(MediaError.code, ATTEMPT_OVER, p.MEDIA_REF))
        return
    runtime = live.runtime
    key = StreamKey(exam=runtime.exam.id, attempt=live.attempt_id)

    def tell_proctors(status: pp.MediaStatus, reason: str | None) -> None:
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

    def on_status(status: pp.MediaStatus, reason: str | None) -> None:
        tell_proctors(status, reason)
        if status is pp.MediaStatus.NO_LIVE_VIDEO and reason is not None:
            stream_ended(live, reason)

    try:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                sdp = await live.deps.media.publish(key, m.sdp, on_status)
        except TimeoutError:
            raise MediaError(TIMED_OUT) from None
    except MediaError as exc:
        log.info("%s: live media refused: %s", live.peer, exc.message)
        tell_proctors(pp.MediaStatus.NO_LIVE_VIDEO, exc.message)  # the proctors see why
        await live.send(p.error(exc.code, exc.message, p.MEDIA_REF))
        return
    await live.send(p.RtcAnswer(sdp=sdp))


def stream_ended(live: LiveAttempt, reason: str) -> None:
    """The gateway ended the stream this connection published while the connection stays (the
    media process stopped, ICE failed on the server's side): the app is told, with a media
    `error`, and offers again at once. Left to itself it would notice only when its ICE
    consent checks fail, up to 39 s later, since a media process that died sends nothing.
    Not told when the attempt is over, when a newer connection has the attempt (it offers
    on its own), or when the server is shutting down (the connection closes too)."""
    runtime = live.runtime
    if (
        reason == SHUTTING_DOWN
        or live.attempt.state.finished
        or runtime.sessions.get(live.attempt_id) is not live
    ):
        return
    log.info("%s: live media ended: %s", live.peer, reason)

    async def tell() -> None:
        await live.send(p.error(MediaError.code, reason, p.MEDIA_REF))

    runtime.spawn(tell(), f"media-ended-{live.attempt_id}")


async def ice(live: LiveAttempt, m: p.RtcIce) -> None:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await live.deps.media.add_ice(
                live.attempt_id, m.candidate, m.sdp_mid, m.sdp_mline_index
            )
    except TimeoutError:
        await live.send(p.error(MediaError.code, TIMED_OUT, p.MEDIA_REF))
    except MediaError as exc:
        await live.send(p.error(exc.code, exc.message, p.MEDIA_REF))


def media_lane(live: LiveAttempt) -> Lane[p.RtcOffer | p.RtcIce]:
    """A connection's media requests (`rtc_offer`, `rtc_ice`) in the order they came, run by
    a task of their own so that the message loop never waits for the media gateway; refused
    with a media error while `LANE_SIZE` are waiting."""

    async def handle(m: p.RtcOffer | p.RtcIce) -> None:
        if isinstance(m, p.RtcOffer):
            await offer(live, m)
        else:
            await ice(live, m)

    async def refuse(_: p.RtcOffer | p.RtcIce) -> None:
        message = "too many live media requests at once; offer again later"
        await live.send(p.error(MediaError.code, message, p.MEDIA_REF))

    return Lane(handle, refuse, LANE_SIZE, f"media-{live.attempt_id}")


async def ended(live: LiveAttempt) -> None:
    """The candidate's connection closed: so does its stream (the app offers again when it is
    back); watchers stay and get the next stream."""
    await end_stream(live.deps.media, live.attempt_id, CONNECTION_CLOSED)
