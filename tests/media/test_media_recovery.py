"""Media problems never cost the exam: a cut stream comes back with a new offer while answers
keep being acknowledged; a server without media, or one that refuses the offer, leaves the
exam as it is."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection, RTCSessionDescription

from proctor_client.core.state import ClientState, Phase
from proctor_client.media.publisher import add_tracks, ice_configuration
from proctor_client.runtime.runtime import ExamRuntime
from proctor_server import admin
from proctor_server.app import Server
from proctor_server.media.gateway import MediaError, StatusCallback, StreamKey
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import CloseCode, Mode
from tests.media.peers import consent_soonest_s, palette_sources, poll
from tests.server.scripted import Candidate
from tests.server.scripted_proctor import Proctor
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

    await server.media.end(attempt, "cut by the test")  # as when ICE fails on the server's side
    assert server.media.stats(attempt) is None
    first, second = state.questions[0], state.questions[1]
    runtime.answer(first.id, [first.options[0].id])
    # The app learns it from the server's word on its socket or from the gateway's DTLS close,
    # whichever comes first; not from its ICE consent checks, which take far longer.
    async with asyncio.timeout(TIMEOUT_S):
        down = await runtime.wait_for(lambda s: s.media.startswith("no live video"))
        runtime.answer(second.id, [second.options[0].id])
        await runtime.wait_for(_saved)
        back = await runtime.wait_for(lambda s: s.media == "live")
    assert TIMEOUT_S < consent_soonest_s()
    assert "the server ended it: cut by the test" in down.media or "closed" in down.media, down
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


async def _publish_once(candidate: Candidate) -> RTCPeerConnection:
    """One offer from the test sources, answered and applied (no new offer after it ends)."""
    pc = RTCPeerConnection(ice_configuration([]))
    add_tracks(pc, palette_sources())
    await pc.setLocalDescription(await pc.createOffer())
    assert pc.localDescription is not None
    await candidate.send(p.RtcOffer(sdp=pc.localDescription.sdp))
    answer = await candidate.expect(p.RtcAnswer)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
    return pc


async def test_the_server_tells_the_candidate_it_ended_the_stream_unless_the_attempt_is_over(
    server: Server, env: Env
) -> None:
    """A stream the server ends while the candidate stays connected (here by the gateway, as
    when ICE fails on its side) is told on the candidate's socket, a media error with the
    reason, so that the app offers again without waiting for its ICE consent checks. The end
    that follows the attempt's is not: there is nothing to offer again for."""
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(server.store, exam_id)
    candidate = await Candidate.connect(server.ws_url)
    welcome = await candidate.hello(ticket)
    assert isinstance(welcome, p.Welcome) and welcome.session
    attempt = welcome.session
    pcs = [await _publish_once(candidate)]
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: pcs[0].connectionState == "connected")
            await server.media.end(attempt, "cut by the test")
            told = await candidate.expect(p.Error)
            assert (told.ref, told.message) == (p.MEDIA_REF, "cut by the test")

            pcs.append(await _publish_once(candidate))  # offered again: live again
            await poll(lambda: pcs[1].connectionState == "connected")
            proctor, _ = await Proctor.sign_in(server, token)
            await proctor.ok("terminate", attempt=attempt, reason="test")
            await candidate.expect(p.Result)
            await poll(lambda: not server.media.streaming(attempt))
            await candidate.send(p.Heartbeat())  # a mark: its answer comes after all else
            await candidate.expect(p.HeartbeatAck)
            await proctor.close()
        assert not [m for m in candidate.inbox if isinstance(m, p.Error)], candidate.inbox
    finally:
        for pc in pcs:
            await pc.close()
        await candidate.close()
