"""The gateway in its own process (`serve --media-process`): the media process killed mid-exam
costs no answer and comes back with the candidate's next offer; shutdown leaves no process and
no peer connection behind; an unreadable message on the channel is reported and dropped, the
messages after it still handled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor_client.core.state import ClientState, Phase
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.microphones import WavFileMicrophone
from proctor_client.media.publisher import MediaSources
from proctor_client.runtime.runtime import ExamRuntime
from proctor_server import admin
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.media import remote_messages as m
from proctor_server.media import watching
from proctor_server.media.gateway import END_TIMEOUT_S, TIMED_OUT
from proctor_server.media.remote_gateway import (
    CLIP_LOST,
    CLOSE_TIMEOUT_S,
    LOST,
    SPAN_CUT,
    RemoteGateway,
)
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.media.fakes import PaletteCamera
from tests.media.peers import consent_soonest_s, palette_sources, poll, proctor
from tests.media.test_live_speech import talking_wav
from tests.media.test_media_recovery import _saved, _to_paper
from tests.server.scripted import Candidate
from tests.server.scripted_proctor import Proctor
from tests.support.exam_env import Env

TIMEOUT_S = 30.0


def _config(tmp_path: Path) -> ServerConfig:
    """A server on loopback whose live media run in the supervised media process."""
    return ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600, media_process=True)


@pytest.fixture
async def remote(tmp_path: Path) -> AsyncIterator[Server]:
    async with run_server(_config(tmp_path)) as s:
        yield s


def _gateway(server: Server) -> RemoteGateway:
    assert isinstance(server.media, RemoteGateway)
    return server.media


def _talking(tmp_path: Path) -> MediaSources:
    """A candidate's camera and a microphone that talks for a minute."""
    return MediaSources(
        camera=CameraReader(PaletteCamera()),
        microphone=WavFileMicrophone(talking_wav(tmp_path / "talk.wav", seconds=60)),
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# A killed media process sends the app nothing: left to its ICE consent checks, the app would
# learn of it no sooner than `consent_soonest_s` (24 s). The server's word comes far sooner.
BACK_LIVE_S = 15.0


async def test_a_killed_media_process_costs_no_answer_and_media_come_back(
    remote: Server, tmp_path: Path
) -> None:
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(remote.store, exam_id)
    runtime = env.runtime(ticket, media=palette_sources())
    statuses: list[str] = []  # the app's live media status, each change

    def noted(s: ClientState) -> None:
        if not statuses or statuses[-1] != s.media:
            statuses.append(s.media)

    runtime.subscribe(noted)
    runtime.start()
    try:
        async with proctor(f"{remote.ws_url}/ws/proctor?token={token}") as watcher:
            async with asyncio.timeout(TIMEOUT_S):
                state = await _to_paper(runtime)
                await runtime.wait_for(lambda s: s.media == "live")
            attempt = state.session
            assert attempt is not None
            first_pid = gateway.pid
            assert first_pid is not None
            connections = runtime.connections

            os.kill(first_pid, signal.SIGKILL)
            first, second = state.questions[0], state.questions[1]
            runtime.answer(first.id, [first.options[0].id])
            async with asyncio.timeout(BACK_LIVE_S):
                await watcher.until(
                    lambda: any(
                        isinstance(e, pp.Media) and e.reason == LOST for e in watcher.events
                    )
                )
                runtime.answer(second.id, [second.options[0].id])
                saved = await runtime.wait_for(_saved)  # acked while media is down
                assert saved.answered_count == 2
                await poll(lambda: gateway.restarts == 1)
                back = await runtime.wait_for(
                    lambda s: s.media == "live" and any(x.startswith("no live") for x in statuses)
                )
                await poll(lambda: (s := gateway.stats(attempt)) is not None and s.video_frames > 5)
            # the server told the app (its ICE consent checks would have taken longer)
            assert f"no live video: the server ended it: {LOST}" in statuses
            assert BACK_LIVE_S < consent_soonest_s()
            assert gateway.pid not in (None, first_pid) and not _alive(first_pid)
            assert runtime.connections == connections  # the same exam session throughout
            assert back.answered_count == 2
    finally:
        await runtime.close()


async def test_shutdown_closes_every_peer_connection_then_the_process(tmp_path: Path) -> None:
    server = Server(_config(tmp_path))
    await server.start()
    env = Env(server, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(server.store, exam_id)
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    try:
        async with proctor(f"{server.ws_url}/ws/proctor?token={token}") as watcher:
            async with asyncio.timeout(TIMEOUT_S):
                state = await runtime.wait_for(lambda s: s.media == "live")
                attempt = state.session
                assert attempt is not None
                await watcher.command(pp.Watch(id="w1", attempt=attempt))
                await watcher.until(lambda: len(watcher.video) >= 5)
            pid = _gateway(server).pid
            assert pid is not None and _alive(pid)
            publisher = runtime.publisher
            assert publisher is not None and publisher.pc is not None
            candidate_pc, [proctor_pc] = publisher.pc, watcher.pcs

            await server.close()

            assert not _alive(pid)  # exited and reaped: no orphan
            async with asyncio.timeout(5):  # the process closed both peers (DTLS close_notify)
                await poll(lambda: proctor_pc.connectionState == "closed")
                await poll(lambda: candidate_pc.connectionState in ("closed", "failed"))
            assert _gateway(server).pid is None
    finally:
        await runtime.close()
        await server.close()


async def test_an_unreadable_message_is_reported_and_the_next_ones_handled(
    remote: Server, tmp_path: Path
) -> None:
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    try:
        await _unreadable(gateway, runtime)
    finally:
        await runtime.close()


async def _unreadable(gateway: RemoteGateway, runtime: ExamRuntime) -> None:
    async with asyncio.timeout(TIMEOUT_S):
        state = await runtime.wait_for(lambda s: s.media == "live")
    attempt = state.session
    assert attempt is not None and gateway.pid is not None
    pid = gateway.pid

    channel = gateway._child.channel if gateway._child is not None else None
    assert channel is not None
    channel.send_raw(b"\x81\xa1t\xa7unknown")  # a message of a kind nobody knows
    channel.send_raw(b"\xff\x00 not msgpack")
    async with asyncio.timeout(TIMEOUT_S):
        await poll(lambda: len(gateway.problems) == 2)
        assert all("unreadable message" in text for text in gateway.problems)
        before = gateway.stats(attempt)
        assert before is not None
        await poll(
            lambda: (
                (s := gateway.stats(attempt)) is not None and s.video_frames > before.video_frames
            )
        )
        await gateway.end(attempt, "ended by the test")  # requests are still answered
        assert gateway.stats(attempt) is None
        # and carried out: the process reports the stream ended (what the app then sees of it
        # depends on a datagram, or on ICE consent: `test_media_recovery` waits for that)
        await poll(lambda: not gateway.streaming(attempt))
    assert gateway.pid == pid and gateway.restarts == 0  # the same process throughout


async def test_the_channel_drops_an_unreadable_frame_and_keeps_step() -> None:
    ours, theirs = socket.socketpair()
    a, b = await m.Channel.open(ours), await m.Channel.open(theirs)
    try:
        a.send_raw(b"\xc1")  # never valid MessagePack
        a.send(m.Status("a-1", 3, "live", None))
        a.send(m.EndViolation(7, datetime(2026, 1, 1, tzinfo=UTC), {"duration_s": 3.5}))
        unreadable = await b.receive()
        assert isinstance(unreadable, m.Unreadable) and "1 bytes" in unreadable.text
        assert await b.receive() == m.Status("a-1", 3, "live", None)
        ended = await b.receive()
        assert isinstance(ended, m.EndViolation) and ended.evidence == {"duration_s": 3.5}
        assert b.unreadable == 1
        a.send_raw(b"")  # an empty frame, then the end
        a.close()
        assert isinstance(await b.receive(), m.Unreadable)
        with pytest.raises(m.ChannelClosed):
            await b.receive()
    finally:
        a.close()
        b.close()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


async def test_the_media_process_stops_when_the_server_dies(tmp_path: Path) -> None:
    out = tmp_path / "serve.out"
    with out.open("wb") as sink:
        serve = await asyncio.create_subprocess_exec(  # to a file: no pipe its helpers keep
            *(sys.executable, "-m", "proctor_server.cli", "serve", "--port", "0"),
            *("--db", str(tmp_path / "exam.db"), "--analysis", "basic"),
            stdout=sink,
            stderr=asyncio.subprocess.DEVNULL,
        )
    others: list[int] = []
    try:
        async with asyncio.timeout(TIMEOUT_S):  # the media process is ready before this line
            await poll(lambda: out.read_bytes().startswith(b"listening on"), interval=0.1)
        children = _children(serve.pid)
        [media] = [c for c in children if b"\0media\0" in Path(f"/proc/{c}/cmdline").read_bytes()]
        others = [c for c in children if c != media]
        serve.kill()  # no shutdown at all: the media process sees its socket close
        await serve.wait()
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: not _alive(media) or _zombie(media), interval=0.1)
    finally:
        if serve.returncode is None:
            serve.kill()
            await serve.wait()
        for pid in others:  # the server's own helpers (multiprocessing), not the media process
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    """Exited, waiting for a parent that is gone to be reaped by init."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


async def test_shutdown_writes_the_clip_being_gathered_then_stops_the_process(
    tmp_path: Path,
) -> None:
    """Shut down while a candidate talks: the clip the media process was gathering around the
    open speaking span is written with what there is (which asks the server for the
    violations it shows and to store it) before the process exits, well within the close's
    own timeout."""
    server = Server(_config(tmp_path))
    await server.start()
    gateway = _gateway(server)
    env = Env(server, tmp_path)
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, media=_talking(tmp_path))
    runtime.start()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            state = await runtime.wait_for(lambda s: s.media == "live")
            await poll(lambda: gateway.in_flight() == (1, 1))  # a span open, its clip pending
        attempt = state.session
        assert attempt is not None
        (talking,) = [v for v in await server.store.violations(attempt) if v.kind == "speaking"]
        pid = gateway.pid
        assert pid is not None

        async with asyncio.timeout(CLOSE_TIMEOUT_S / 2):
            await server.close()

        assert not _alive(pid)
        [clip] = [c for c in gateway.clips.written if c.attempt_id == attempt]  # stored
        assert clip.kind == "violation" and talking.id in clip.violations
    finally:
        await runtime.close()
        await server.close()


async def test_what_a_killed_media_process_leaves_is_ended_or_marked_lost(
    remote: Server, tmp_path: Path
) -> None:
    """Killed while the candidate talks: the open speaking span ends at the last audio the
    process reported (a span with a duration), the clip it was gathering is recorded as lost in
    that violation's evidence, and no clip row stands for it."""
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(remote.store, exam_id)
    runtime = env.runtime(ticket, media=_talking(tmp_path))
    runtime.start()
    try:
        async with proctor(f"{remote.ws_url}/ws/proctor?token={token}") as watcher:
            async with asyncio.timeout(TIMEOUT_S):
                state = await runtime.wait_for(lambda s: s.media == "live")
                await watcher.until(
                    lambda: any(f.kind == "speaking" for f in watcher.of_type(pp.Flag))
                )
                await poll(lambda: gateway.in_flight() == (1, 1))
            attempt = state.session
            assert attempt is not None
            (talking,) = [
                v
                for v in await remote.store.violations(attempt)
                if v.kind == "speaking" and v.ended_at is None
            ]
            pid = gateway.pid
            assert pid is not None
            killed_at = datetime.now(UTC)

            os.kill(pid, signal.SIGKILL)
            async with asyncio.timeout(TIMEOUT_S):
                await watcher.until(
                    lambda: any(
                        isinstance(e, pp.Media) and e.reason == LOST for e in watcher.events
                    )
                )

                async def recorded() -> bool:
                    found = {v.id: v for v in await remote.store.violations(attempt)}
                    v = found[talking.id]
                    return v.ended_at is not None and v.evidence.get("clip") == CLIP_LOST

                await poll(recorded)
        cut = {v.id: v for v in await remote.store.violations(attempt)}[talking.id]
        assert cut.ended_at is not None
        assert talking.server_at < cut.ended_at <= killed_at
        duration = (cut.ended_at - cut.server_at).total_seconds()
        assert cut.evidence["duration_s"] == pytest.approx(duration, abs=0.01)
        assert cut.evidence["cut"] == SPAN_CUT
        assert gateway.lost_clips == 1
        assert all(talking.id not in c.violations for c in await remote.store.clips(attempt))
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("name", "default"), [("MALLOC_ARENA_MAX", "2"), ("MALLOC_MMAP_THRESHOLD_", "65536")]
)
async def test_the_media_process_runs_with_the_heap_settings(
    remote: Server, name: str, default: str
) -> None:
    pid = _gateway(remote).pid
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    wanted = os.environ.get(name, default)  # an operator's own setting wins
    assert f"{name}={wanted}" in environ


async def test_a_candidate_without_a_stream_leaves_without_waiting_for_the_media_process(
    remote: Server, tmp_path: Path
) -> None:
    """Only a candidate with a stream has anything to end in the media process: one who never
    published leaves, and the proctors see it leave, even while that process is frozen."""
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(remote.store, exam_id)
    pid = gateway.pid
    assert pid is not None
    async with proctor(f"{remote.ws_url}/ws/proctor?token={token}") as watcher:
        candidate = await Candidate.connect(remote.ws_url)
        assert isinstance(await candidate.hello(ticket), p.Welcome)
        os.kill(pid, signal.SIGSTOP)
        try:
            await candidate.close()
            async with asyncio.timeout(TIMEOUT_S / 3):
                await watcher.until(lambda: bool(watcher.of_type(pp.Left)))
        finally:
            os.kill(pid, signal.SIGCONT)


async def test_a_stalled_media_process_costs_no_ack_and_the_offer_times_out(
    remote: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Media requests run beside the message loop: with the media process frozen, an answer
    sent after an offer is acknowledged at once; the offer fails when its time is up, the
    candidate told (a media error) and the proctors shown why."""
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    from proctor_server.session import media as session_media

    monkeypatch.setattr(session_media, "REQUEST_TIMEOUT_S", 2.0)
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(remote.store, exam_id)
    pc = RTCPeerConnection()
    for track in (VideoStreamTrack(), AudioStreamTrack()):
        pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    assert pc.localDescription is not None
    pid = gateway.pid
    assert pid is not None
    candidate = await Candidate.connect(remote.ws_url)
    try:
        async with proctor(f"{remote.ws_url}/ws/proctor?token={token}") as watcher:
            _, paper = await candidate.enter(ticket)
            question = paper.questions[0]
            os.kill(pid, signal.SIGSTOP)
            try:
                await candidate.send(p.RtcOffer(sdp=pc.localDescription.sdp))
                ident = await candidate.answer(question.id, [question.options[0].id])
                async with asyncio.timeout(1.0):  # well before the offer's 2 s
                    await candidate.expect_ack(ident)
                error = await candidate.expect(p.Error, timeout=TIMEOUT_S)
                assert (error.ref, error.message) == (p.MEDIA_REF, TIMED_OUT)
                async with asyncio.timeout(TIMEOUT_S):
                    await watcher.until(
                        lambda: any(
                            isinstance(e, pp.Media) and e.reason == TIMED_OUT
                            for e in watcher.events
                        )
                    )
            finally:
                os.kill(pid, signal.SIGCONT)
    finally:
        await candidate.close()
        await pc.close()


@dataclass(frozen=True)
class _Watched:
    """A candidate in the exam whose media are live, and a proctor of the exam signed in."""

    runtime: ExamRuntime
    attempt: str
    exam: str
    officer: Proctor
    media_pid: int


@contextlib.asynccontextmanager
async def _watched(remote: Server, tmp_path: Path) -> AsyncIterator[_Watched]:
    gateway = _gateway(remote)
    env = Env(remote, tmp_path)
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(remote.store, exam_id)
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            state = await _to_paper(runtime)
            await runtime.wait_for(lambda s: s.media == "live")
        assert state.session is not None and gateway.pid is not None
        officer, _ = await Proctor.sign_in(remote, token)
        try:
            yield _Watched(runtime, state.session, exam_id, officer, gateway.pid)
        finally:
            await officer.close()
    finally:
        await runtime.close()


@contextlib.contextmanager
def _frozen(pid: int) -> Iterator[None]:
    """The process stopped (SIGSTOP) meanwhile: it answers nothing."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_a_termination_is_answered_and_audited_while_the_media_process_is_frozen(
    remote: Server, tmp_path: Path
) -> None:
    """The media process stalls while a proctor terminates a streaming candidate's attempt:
    the candidate gets the outcome, and the proctor the command's answer, at once, with the
    command in the audit trail (before: the answer and the audit waited for the process to
    wake, the attempt's media ending last); its stream ends once the process is back."""
    async with _watched(remote, tmp_path) as w:
        with _frozen(w.media_pid):
            async with asyncio.timeout(END_TIMEOUT_S / 2):  # before: no answer while frozen
                await w.officer.ok("terminate", attempt=w.attempt, reason="a second person")
                ended = await w.runtime.wait_phase(Phase.TERMINATED, Phase.RESULT)
            audit = await remote.store.audit_chain(w.exam)
            assert [e.action for e in audit if e.action == "terminate"] == ["terminate"]
        assert ended.phase in (Phase.TERMINATED, Phase.RESULT)
        async with asyncio.timeout(TIMEOUT_S):  # the process answers again: the stream ends
            await poll(lambda: not _gateway(remote).streaming(w.attempt))


async def test_a_watch_the_frozen_media_process_cannot_serve_holds_up_no_other_command(
    remote: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proctor asks to watch a streaming candidate while the media process is frozen: their
    message to the candidate is still carried out and answered at once (before: not until the
    process woke, their commands read one after another behind the watch), and the watch
    fails when its time is up, saying why."""
    monkeypatch.setattr(watching, "REQUEST_TIMEOUT_S", 2.0)
    async with _watched(remote, tmp_path) as w:
        with _frozen(w.media_pid):
            watch = await w.officer.send("watch", attempt=w.attempt)
            assert isinstance(await w.officer.reply(watch), p.Ack)  # then asks the process
            async with asyncio.timeout(1.0):  # well before the watch's 2 s
                await w.officer.ok("message", attempt=w.attempt, text="Please face the camera")
                told = await w.runtime.wait_for(lambda s: bool(s.warnings))
            assert [v.text for v in told.warnings if v.notice] == ["Please face the camera"]
            async with asyncio.timeout(TIMEOUT_S):
                failed = await w.officer.reply(watch)
            assert isinstance(failed, p.Error) and failed.message == TIMED_OUT


@contextlib.asynccontextmanager
async def _publishing(config: ServerConfig, tmp_path: Path) -> AsyncIterator[int]:
    """A server with `config` and a candidate whose media are live: the media process's pid,
    once the threads for the candidate's streams run."""
    async with run_server(config) as server:
        pid = _gateway(server).pid
        assert pid is not None
        env = Env(server, tmp_path)
        _, ticket = await env.exam()
        runtime = env.runtime(ticket, media=palette_sources())
        runtime.start()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await runtime.wait_for(lambda s: s.media == "live")
            yield pid
        finally:
            await runtime.close()


async def test_the_media_process_runs_on_the_cpus_it_is_given(tmp_path: Path) -> None:
    """`serve --media-cpus`: every thread of the media process (those its imports started too)
    runs on the CPUs given, so its decoding never takes the exam server's."""
    async with _publishing(replace(_config(tmp_path), media_cpus=(0,)), tmp_path) as pid:
        threads = os.listdir(f"/proc/{pid}/task")
        assert len(threads) > 1
        assert {t: os.sched_getaffinity(int(t)) for t in threads} == {t: {0} for t in threads}


@pytest.mark.parametrize(
    ("priority", "policy"), [("idle", os.SCHED_IDLE), ("nice", os.SCHED_OTHER)]
)
async def test_the_media_process_yields_the_cores_as_its_priority_says(
    tmp_path: Path, priority: str, policy: int
) -> None:
    """`serve --media-priority idle`: every thread of the media process, those started for a
    candidate's streams too, is in SCHED_IDLE, so a thread of the exam server that wakes
    takes a core at once; `nice` (the default) leaves them ordinary, at niceness +10."""
    config = replace(_config(tmp_path), media_priority=priority)
    async with _publishing(config, tmp_path) as pid:
        policies = {t: os.sched_getscheduler(int(t)) for t in os.listdir(f"/proc/{pid}/task")}
        assert len(policies) > 1
        assert policies == {t: policy for t in policies}
        if priority == "nice":
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(os.nice(0) + 10, 19)
