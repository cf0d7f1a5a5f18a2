"""`proctor-client check`'s live-media part against a real server: frames arrive and are
counted by the server; a server without live media, or a path where the connection never
comes up, gives a warning with advice, never a failure of the whole check."""

from __future__ import annotations

import asyncio

from proctor_client.check.live_media import ProbeResult, evaluate_live_media, probe_live_media
from proctor_client.check.model import Status
from proctor_client.check.network import ServerAddress
from proctor_server.app import Server
from proctor_server.media.gateway import NoMedia
from tests.media.peers import palette_sources, poll


async def test_the_probe_shows_frames_arriving(server: Server) -> None:
    result = await probe_live_media(ServerAddress.parse(server.url), palette_sources())
    assert result.error is None
    assert result.video_frames >= 10 and result.audio_frames >= 10
    assert (result.width, result.height) == (320, 240)
    check = evaluate_live_media(result)
    assert check.status is Status.PASS and not check.blocks
    async with asyncio.timeout(5):  # the probe's stream closed with it
        await poll(lambda: server.media.stats("probe-1") is None)


async def test_a_server_without_media_is_a_warning(server: Server) -> None:
    server._probes.gateway = NoMedia()
    result = await probe_live_media(ServerAddress.parse(server.url), palette_sources())
    assert result.error == "live media is not enabled on this server"
    check = evaluate_live_media(result)
    assert (check.status, check.advice_key) == (Status.WARN, "live_media_unavailable")


CASES = [
    (ProbeResult(video_frames=30, audio_frames=40, state="connected"), Status.PASS, ""),
    (
        ProbeResult(video_frames=0, audio_frames=40, state="connected"),
        Status.WARN,
        "live_media_partial",
    ),
    (ProbeResult(state="connecting"), Status.WARN, "live_media_blocked"),
    (ProbeResult(state="failed", turn=True), Status.WARN, "live_media_blocked"),
    (ProbeResult(error="refused"), Status.WARN, "live_media_unavailable"),
]


def test_evaluation_table() -> None:
    for result, status, key in CASES:
        check = evaluate_live_media(result)
        assert (check.status, check.advice_key) == (status, key), result
        assert not check.blocks
    blocked = evaluate_live_media(ProbeResult(state="failed"))
    assert "TURN" in blocked.advice
    assert "TURN" not in evaluate_live_media(ProbeResult(state="failed", turn=True)).advice
