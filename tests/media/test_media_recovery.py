"""Media problems never cost the exam: a cut stream comes back with a new offer while answers
keep being acknowledged; a server without media, or one that refuses the offer, leaves the
exam as it is."""

from __future__ import annotations

import asyncio

from proctor_client.core.state import ClientState, Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_server.app import Server
from proctor_server.media.gateway import MediaError, StatusCallback, StreamKey
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import CloseCode, Mode
from tests.media.peers import consent_expiry_s, palette_sources, poll
from tests.server.scripted import Candidate
from tests.support.exam_env import Env

TIMEOUT_S = 20.0


async def _to_paper(runtime: ExamRuntime) -> ClientState:
    """Identity photo and postal address, then the paper."""
    assert runtime.photos is not None
    await runtime.wait_phase(Phase.IDENTITY)
    runtime.send_identity_photo(await runtime.photos.capture())
    await runtime.wait_phase(Phase.PROFILE)
    runtime.send_profile("Test Candidate", "00000000000", "1 Test Street", "000000")
    return await runtime.wait_phase(Phase.EXAM)


def _saved(state: ClientState) -> bool:
    return state.unsaved_count == 0 and state.pending == 0


async def test_a_cut_stream_comes_back_and_answers_are_acked_meanwhile(
    server: Server, env: Env
) -> None:
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    publisher = runtime.publisher
    assert publisher is not None
    async with asyncio.timeout(TIMEOUT_S):
        state = await _to_paper(runtime)
        await runtime.wait_for(lambda s: s.media == "live")
    attempt = state.session
    assert attempt is not None
    connections = runtime.connections

    await server.media.end(attempt, "cut by the test")  # as a network that drops UDP
    assert server.media.stats(attempt) is None
    first, second = state.questions[0], state.questions[1]
    runtime.answer(first.id, [first.options[0].id])
    # The app sees its stream end when the gateway's DTLS close reaches it, or, should that
    # datagram be lost (a loaded machine), when ICE consent fails (`consent_expiry_s`, up to
    # 39 s). Its own bound, so that the steps before it cannot use it up.
    async with asyncio.timeout(consent_expiry_s() + TIMEOUT_S / 2):
        down = await runtime.wait_for(lambda s: s.media.startswith("no live video"))
    async with asyncio.timeout(TIMEOUT_S):
        runtime.answer(second.id, [second.options[0].id])
        await runtime.wait_for(_saved)
        back = await runtime.wait_for(lambda s: s.media == "live")
    assert "closed" in down.media or "failed" in down.media, down.media
    assert back.phase is Phase.EXAM and back.answered_count == 2
    assert runtime.connections == connections  # the same exam session, no reconnect
    assert publisher.offers >= 2
    stats = server.media.stats(attempt)
    assert stats is not None and stats.video_frames >= 0


async def test_without_media_on_the_server_the_app_does_not_offer(server: Server, env: Env) -> None:
    server.media.enabled = False  # type: ignore[misc]  # as a server started with --no-media
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(TIMEOUT_S):
        state = await _to_paper(runtime)
    assert state.media == ""
    assert runtime.publisher is not None and runtime.publisher.offers == 0


async def test_a_refused_offer_is_reported_and_the_exam_goes_on(server: Server, env: Env) -> None:
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    refusals: list[str] = []

    async def refuse(key: StreamKey, offer_sdp: str, on_status: StatusCallback) -> str:
        refusals.append(key.attempt)
        raise MediaError("no room for more streams")

    server.media.publish = refuse  # type: ignore[method-assign]
    runtime.start()
    async with asyncio.timeout(TIMEOUT_S):
        down = await runtime.wait_for(lambda s: s.media.startswith("no live video"))
        state = await _to_paper(runtime)
    assert "no room for more streams" in down.media
    assert state.error is None and state.phase is Phase.EXAM
    assert refusals
    # the proctors' grid says so, with the reason
    assert state.session is not None
    (runtime_of_exam,) = [r for r in server.exams if state.session in r.sessions]
    _, _, media, reason = runtime_of_exam.quality.row(state.session)
    assert (media, reason) == (pp.MediaStatus.NO_LIVE_VIDEO, "no room for more streams")
    assert p.MEDIA_REF == "rtc_offer"


async def test_the_trial_publishes_too(server: Server, env: Env) -> None:
    _, ticket = await env.exam(starts_in=3600)  # the trial is open before the exam starts
    runtime = env.runtime(ticket, mode=Mode.TRIAL, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(TIMEOUT_S):
        state = await runtime.wait_for(lambda s: s.media == "live")
        assert state.mode is Mode.TRIAL and state.session is not None
        session = state.session

        def frames_arrive() -> bool:
            stats = server.media.stats(session)
            return stats is not None and stats.video_frames > 5 and stats.audio_frames > 5

        await poll(frames_arrive)


async def test_an_older_connections_end_leaves_the_newer_ones_stream(
    server: Server, env: Env
) -> None:
    """The app came back on a new connection while the old one hung (a network change): the
    old one is closed in the background, and when its closing ends, the stream the app now
    publishes on the new one stays live."""
    _, ticket = await env.exam()
    old = await Candidate.connect(server.ws_url)
    assert isinstance(await old.hello(ticket, ready=False), p.Welcome)
    old.ws.transport.pause_reading()  # frozen: it answers nothing, not even the close
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(TIMEOUT_S):
        state = await _to_paper(runtime)
        await runtime.wait_for(lambda s: s.media == "live")
    attempt = state.session
    assert attempt is not None and server.media.stats(attempt) is not None
    old.ws.transport.resume_reading()
    assert await old.close_code() == CloseCode.REPLACED
    assert server._ws is not None
    handlers = server._ws.handler_tasks
    async with asyncio.timeout(TIMEOUT_S):  # the old connection's session has ended
        await poll(lambda: len(handlers) == 1)
    assert server.media.stats(attempt) is not None  # before: its end ended this stream
    assert runtime.state.media == "live"
