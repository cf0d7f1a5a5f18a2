"""Live media on Janus (`serve --media janus`): a real Janus started from the shipped sample
configuration (tests/media/janus_process.py), a real exam server on loopback using it, a
candidate publishing the palette camera and a tone with aiortc, and a proctor peer subscribing
through the server that receives the decoded frames; the server keeps who may watch, Janus's
rooms are closed to anyone without their pin, an unusable offer is refused with the reason,
and Janus's recorder keeps the streams under the server's data folder.

Skipped where Debian's `janus` is not installed (tools/system-deps installs it)."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import itertools
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from proctor_client.check.live_media import evaluate_live_media, probe_live_media
from proctor_client.check.model import Status
from proctor_client.check.network import ServerAddress
from proctor_server import admin
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.media.gateway import MediaError, StreamKey
from proctor_server.media.ice import parse_ice_server
from proctor_server.media.janus_api import JanusClient, JanusError
from proctor_server.media.janus_gateway import VIDEOROOM, JanusGateway, JanusSettings
from shared import proctor_protocol as pp
from shared import protocol as p
from tests.media.coturn_process import PASSWORD as TURN_PASSWORD
from tests.media.coturn_process import TURNSERVER, running_coturn
from tests.media.coturn_process import USER as TURN_USER
from tests.media.fakes import audio_samples, dominant_frequency, palette_index
from tests.media.janus_process import JANUS, RunningJanus, free_tcp_port, running_janus
from tests.media.peers import TONE_HZ, ProctorPeer, palette_sources, poll, proctor
from tests.media.test_browser_watch import CHROMIUM, CHROMIUM_ARGS
from tests.support.exam_env import Env

pytestmark = pytest.mark.skipif(
    JANUS is None, reason="Debian's janus is not installed (tools/system-deps installs it)"
)
LIVE_TIMEOUT_S = 30.0


@pytest.fixture
async def janus_server(janus: RunningJanus, tmp_path: Path) -> AsyncIterator[Server]:
    config = ServerConfig(
        db=tmp_path / "exam.db",
        data_dir=tmp_path / "data",
        port=0,
        nonce_rotation_s=3600,
        media_gateway="janus",
        janus_url=janus.url,
        janus_admin_key=janus.admin_key,
    )
    async with run_server(config) as server:
        yield server


@pytest.fixture
async def janus_env(janus_server: Server, tmp_path: Path) -> AsyncIterator[Env]:
    e = Env(janus_server, tmp_path)
    try:
        yield e
    finally:
        for runtime in e.runtimes:
            await runtime.close()


async def _live_candidate(env: Env) -> tuple[str, str, str]:
    """A candidate publishing to Janus; (exam, attempt, a proctor token of that exam)."""
    exam_id, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(LIVE_TIMEOUT_S):
        state = await runtime.wait_for(lambda s: s.media == "live")
    assert state.session is not None
    return exam_id, state.session, await admin.proctor_token(env.server.store, exam_id)


async def test_a_proctor_watches_a_candidate_through_janus(
    janus_server: Server, janus_env: Env, janus: RunningJanus, tmp_path: Path
) -> None:
    assert isinstance(janus_server.media, JanusGateway)
    exam_id, attempt, token = await _live_candidate(janus_env)
    async with proctor(f"{janus_server.ws_url}/ws/proctor?token={token}") as watcher:
        await watcher.command(pp.Watch(id="w1", attempt=attempt))
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            await watcher.until(lambda: len(watcher.video) >= 40 and len(watcher.audio) >= 50)
            # Janus told the server that media arrive: the proctors see the attempt live.
            await watcher.until(lambda: _shown_live(watcher, attempt))
        assert [a.id for a in watcher.of_type(p.Ack)] == ["w1"]
        seen = [palette_index(frame) for frame in watcher.video[-30:]]
        colours = [c for c in seen if c is not None]
        assert len(colours) >= 25, seen
        changes = [(a, b) for a, b in itertools.pairwise(colours) if a != b]
        assert changes, "the colour never advanced"
        assert all(b == (a + 1) % 4 for a, b in changes), changes
        assert (watcher.video[-1].width, watcher.video[-1].height) == (320, 240)
        samples, rate = audio_samples(watcher.audio[-25:])
        assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15
        stats = janus_server.media.stats(attempt)
        assert stats is not None and (stats.state, stats.watchers) == ("connected", 1)

        await watcher.command(pp.Unwatch(id="u1", attempt=attempt))
        async with asyncio.timeout(5):
            await watcher.until(lambda: "u1" in [a.id for a in watcher.of_type(p.Ack)])
        after = janus_server.media.stats(attempt)
        assert after is not None and after.watchers == 0

    # Janus's recorder kept both tracks under the server's data folder, named for the attempt.
    for runtime in janus_env.runtimes:
        await runtime.close()
    await janus_server.close()  # publishers detached, rooms destroyed: the files are complete
    folder = tmp_path / "data" / "janus" / exam_id
    recordings = sorted(path.name for path in folder.glob("*.mjr"))
    assert any(name.startswith(attempt) and "video" in name for name in recordings), recordings
    assert any(name.startswith(attempt) and "audio" in name for name in recordings), recordings
    for path in folder.glob("*.mjr"):  # Janus's container of RTP packets, one per track
        assert path.read_bytes()[:8] == b"MJR00002" and path.stat().st_size > 2_000, path
    _check_playable(folder, tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="needs Playwright for Python and Debian's chromium",
)
async def test_chromium_watches_a_candidate_through_janus(
    janus_server: Server, janus_env: Env
) -> None:
    """A real Chromium on the live-video test page: Janus's offer, relayed by the server,
    decodes in its <video> with frames that advance."""
    from playwright.async_api import async_playwright

    _, attempt, token = await _live_candidate(janus_env)
    frames = (
        f"document.querySelector('[data-attempt=\"{attempt}\"] video')"
        ".getVideoPlaybackQuality().totalVideoFrames"
    )
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{janus_server.url}/media-test?token={token}")
            card = page.locator(f'[data-attempt="{attempt}"]')
            await card.locator('[data-action="watch"]').click(timeout=10_000)
            await page.wait_for_function(f"{frames} > 5", timeout=20_000)
            first = await page.evaluate(frames)
            await page.wait_for_function(f"{frames} > {first + 10}", timeout=10_000)
            stats = janus_server.media.stats(attempt)
            assert stats is not None and stats.watchers == 1
        finally:
            await browser.close()


async def test_when_janus_goes_away_the_exam_goes_on_and_proctors_see_why(
    janus_server: Server, janus_env: Env, janus: RunningJanus
) -> None:
    _, attempt, token = await _live_candidate(janus_env)
    runtime = janus_env.runtimes[0]
    async with proctor(f"{janus_server.ws_url}/ws/proctor?token={token}") as watcher:
        await watcher.command(pp.Watch(id="w1", attempt=attempt))
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            await watcher.until(lambda: len(watcher.video) >= 5)
        await janus.stop()

        def reasons() -> list[str | None]:
            return [m.reason for m in watcher.of_type(pp.Media) if m.attempt == attempt]

        async with asyncio.timeout(LIVE_TIMEOUT_S):
            await watcher.until(lambda: "the media server went away" in reasons())
            # The app offers again; the server cannot reach Janus and says so.
            await watcher.until(
                lambda: any(
                    (r or "").startswith("the media server is unavailable") for r in reasons()
                )
            )
            state = await runtime.wait_for(lambda s: s.media.startswith("no live video"))
        assert janus_server.media.stats(attempt) is None
        assert state.connected and state.session == attempt  # the exam itself goes on


def _shown_live(watcher: ProctorPeer, attempt: str) -> bool:
    """The proctor's feed shows the attempt live: in its snapshot, or in a `media` event."""
    rows = [r for s in watcher.of_type(pp.Snapshot) for r in s.attempts if r.attempt == attempt]
    events = [m for m in watcher.of_type(pp.Media) if m.attempt == attempt]
    statuses = [r.media for r in rows] + [m.status for m in events]
    return bool(statuses) and statuses[-1] == pp.MediaStatus.LIVE


def _check_playable(folder: Path, tmp_path: Path) -> None:
    """janus-pp-rec (Debian's janus-tools), where installed, turns the video into a WebM
    that PyAV decodes."""
    tool = shutil.which("janus-pp-rec")
    if tool is None:
        return
    import av

    video = next(folder.glob("*video*.mjr"))
    out = tmp_path / "video.webm"
    subprocess.run([tool, str(video), str(out)], check=True, capture_output=True, timeout=60)
    with av.open(str(out)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 20


async def test_the_environment_check_sees_frames_arrive_through_janus(
    janus_server: Server, tmp_path: Path
) -> None:
    """The probe's stream goes to Janus like an exam's; the server decodes that one itself
    (a subscriber of its own) to count the frames, and keeps no recording of it."""
    result = await probe_live_media(ServerAddress.parse(janus_server.url), palette_sources())
    assert result.error is None
    assert result.video_frames >= 10 and result.audio_frames >= 10
    assert (result.width, result.height) == (320, 240)
    assert evaluate_live_media(result).status is Status.PASS
    async with asyncio.timeout(10):  # the server closes the probe's stream once it hangs up
        await poll(lambda: janus_server.media.stats("probe-1") is None)
    assert not list((tmp_path / "data").glob("janus/**/*.mjr"))


async def test_the_proctor_of_another_exam_cannot_subscribe(
    janus_server: Server, janus_env: Env, janus: RunningJanus
) -> None:
    exam_id, attempt, _ = await _live_candidate(janus_env)
    other_exam, _ = await janus_env.exam()
    other_token = await admin.proctor_token(janus_server.store, other_exam)
    async with proctor(f"{janus_server.ws_url}/ws/proctor?token={other_token}") as other:
        await other.command(pp.Watch(id="x1", attempt=attempt))
        async with asyncio.timeout(5):
            await other.until(lambda: bool(other.of_type(p.Error)))
        error = other.of_type(p.Error)[0]
        assert (error.code, error.ref) == ("not_allowed", "x1")
        assert other.offers == 0

    # Janus itself lets nobody in without what only the exam server knows: the room's pin to
    # subscribe, the plugin's admin key to create rooms.
    assert isinstance(janus_server.media, JanusGateway)
    room = janus_server.media.room_of(exam_id)
    assert room is not None
    outsider = JanusClient(janus.url)
    await outsider.open()
    try:
        handle = await outsider.attach(VIDEOROOM, lambda event: None)
        with pytest.raises(JanusError) as no_pin:
            await handle.message({"request": "join", "ptype": "subscriber", "room": room})
        assert "pin" in no_pin.value.reason.lower()
        with pytest.raises(JanusError) as no_key:
            await handle.message({"request": "create", "publishers": 1})
        assert no_key.value.code != 0
    finally:
        await outsider.close()


async def test_an_unusable_offer_is_refused_with_the_reason(
    janus_server: Server, janus: RunningJanus
) -> None:
    # Through the environment check's probe socket: the refusal is an error naming rtc_offer.
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    async with connect(f"{janus_server.ws_url}/ws/media-probe") as ws:
        assert isinstance(p.decode_server(await ws.recv()), p.MediaReport)
        await ws.send(p.encode(p.RtcOffer(sdp=sdp)))
        reply = p.decode_server(await ws.recv())
    assert isinstance(reply, p.Error), reply
    assert (reply.code, reply.ref) == ("not_allowed", p.MEDIA_REF)
    assert reply.message.startswith("the offer cannot be used:"), reply.message

    # Two video tracks: refused before Janus is asked.
    with pytest.raises(MediaError, match="one video and one audio"):
        await janus_server.media.publish(
            StreamKey("e", "a"), "v=0\r\nm=video 9 X 96\r\nm=video 9 X 96\r\n", _ignore
        )


async def test_the_serve_command_sends_live_media_to_janus(
    janus: RunningJanus, tmp_path: Path
) -> None:
    """`proctor-server serve --media janus --janus-url ... --janus-admin-key-file ...` as a
    process: the environment check's probe gets Janus's answer to a real aiortc offer."""
    key_file = tmp_path / "janus-admin-key"
    key_file.write_text(janus.admin_key + "\n")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "proctor_server.cli", "serve", "--db", str(tmp_path / "x.db")),
        *("--port", "0", "--analysis", "basic", "--media", "janus", "--janus-url", janus.url),
        *("--janus-admin-key-file", str(key_file)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("listening on http://"), line
        answer = await _probe_answer(line.split()[-1].replace("http://", "ws://"))
        assert "s=VideoRoom" in answer  # Janus's own answer, passed on unchanged
    finally:
        process.terminate()
        await process.wait()


async def _probe_answer(ws_url: str) -> str:
    """The answer to an aiortc offer (a video and an audio track) on the media probe."""
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    pc = RTCPeerConnection()
    try:
        for track in (VideoStreamTrack(), AudioStreamTrack()):
            pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        assert pc.localDescription is not None
        async with connect(f"{ws_url}/ws/media-probe") as ws:
            assert isinstance(p.decode_server(await ws.recv()), p.MediaReport)
            await ws.send(p.encode(p.RtcOffer(sdp=pc.localDescription.sdp)))
            reply = p.decode_server(await ws.recv())
        assert isinstance(reply, p.RtcAnswer), reply
        return reply.sdp
    finally:
        await pc.close()


@pytest.mark.skipif(TURNSERVER is None, reason="coturn is not installed (tools/system-deps)")
async def test_janus_and_the_candidate_share_the_turn_relay(tmp_path: Path) -> None:
    """coturn: Janus configured with the TURN server and credentials the clients get
    (`--ice-server turn:USER:PASSWORD@...`), a candidate allowed the relay alone; a proctor
    watching through the server still gets the frames, and coturn served both. coturn listens
    on this machine's own address, not loopback: Janus drops loopback candidates."""
    from aioice.ice import get_host_addresses

    addresses = get_host_addresses(use_ipv4=True, use_ipv6=False)
    if not addresses:
        pytest.skip("no IPv4 address besides loopback for coturn")
    async with running_coturn(tmp_path / "turn", addresses[0]) as (port, turn_log):
        await _watch_through_turn(tmp_path, addresses[0], port)
    text = turn_log.read_text()
    assert "ALLOCATE processed, success" in text, text[-3000:]
    assert f"user <{TURN_USER}>" in text


async def _watch_through_turn(tmp_path: Path, ip: str, port: int) -> None:
    relay = parse_ice_server(f"turn:{TURN_USER}:{TURN_PASSWORD}@{ip}:{port}")
    nat = {
        "turn_server": f'"{ip}"',
        "turn_port": str(port),
        "turn_type": '"udp"',
        "turn_user": f'"{TURN_USER}"',
        "turn_pwd": f'"{TURN_PASSWORD}"',
    }
    async with running_janus(tmp_path / "janus", nat=nat) as janus:
        config = ServerConfig(
            db=tmp_path / "exam.db",
            port=0,
            media_gateway="janus",
            janus_url=janus.url,
            janus_admin_key=janus.admin_key,
            ice_servers=[relay],
        )
        async with run_server(config) as server:
            # Janus's own relay candidate, from coturn, is in its answers.
            answer = await _probe_answer(server.ws_url)
            assert any("typ relay" in line and ip in line for line in answer.splitlines())
            env = Env(server, tmp_path)
            try:
                exam_id, ticket = await env.exam()
                sources = dataclasses.replace(palette_sources(), relay_only=True)
                runtime = env.runtime(ticket, media=sources)
                runtime.start()
                async with asyncio.timeout(LIVE_TIMEOUT_S):
                    state = await runtime.wait_for(lambda s: s.media == "live")
                assert state.session is not None
                token = await admin.proctor_token(server.store, exam_id)
                async with proctor(f"{server.ws_url}/ws/proctor?token={token}") as watcher:
                    await watcher.command(pp.Watch(id="w1", attempt=state.session))
                    async with asyncio.timeout(LIVE_TIMEOUT_S):
                        await watcher.until(lambda: len(watcher.video) >= 20)
            finally:
                for runtime in env.runtimes:
                    await runtime.close()


async def test_an_unreachable_janus_is_a_clear_media_error() -> None:
    gateway = JanusGateway(JanusSettings(url=f"ws://127.0.0.1:{free_tcp_port()}"))
    try:
        with pytest.raises(MediaError, match="media server is unavailable"):
            await gateway.publish(StreamKey("e", "a"), "v=0\r\nm=video 9 X 96\r\n", _ignore)
    finally:
        await gateway.close()


def _ignore(status: pp.MediaStatus, reason: str | None) -> None:
    return None
