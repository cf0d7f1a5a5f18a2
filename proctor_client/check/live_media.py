"""The live-media check: a short publish to the server's /ws/media-probe, as in the exam, that
shows video and audio frames actually arrive (the server counts them and says so).

It publishes the app's camera reader when the check was given one (the GUI), else a test
picture and a tone: the camera and microphone checks test the devices, this one tests the
path (UDP through firewalls and NAT, or the server's TURN relay)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiortc import RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from proctor_client.check.model import CheckId, CheckResult, Status
from proctor_client.check.network import ServerAddress, describe
from proctor_client.media.publisher import MediaSources, add_tracks, ice_configuration
from shared import protocol as p

PROBE_PATH = "/ws/media-probe"
WANT_VIDEO_FRAMES = 10
WANT_AUDIO_FRAMES = 10
UNIT = "frames"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    video_frames: int = 0
    audio_frames: int = 0
    width: int = 0
    height: int = 0
    state: str = ""
    turn: bool = False  # the server offered a TURN relay
    error: str | None = None
    elapsed_s: float = 0.0


async def probe_live_media(
    address: ServerAddress, sources: MediaSources, *, seconds: float = 8.0
) -> ProbeResult:
    """Publish for at most `seconds` (less once enough frames arrived)."""
    started = time.monotonic()
    last = p.MediaReport(video_frames=0, audio_frames=0)
    turn = False
    try:
        async with (
            asyncio.timeout(seconds),
            connect(address.ws_url + PROBE_PATH, compression=None, open_timeout=seconds) as ws,
        ):
            first = p.decode_server(await ws.recv())
            if not isinstance(first, p.MediaReport):
                reason = first.message if isinstance(first, p.Error) else "an unexpected reply"
                return ProbeResult(error=reason, elapsed_s=time.monotonic() - started)
            turn = any(u.startswith("turn") for s in first.ice_servers for u in s.urls)
            pc = RTCPeerConnection(ice_configuration(first.ice_servers))
            tracks = add_tracks(pc, sources)
            try:
                await pc.setLocalDescription(await pc.createOffer())
                assert pc.localDescription is not None
                await ws.send(p.encode(p.RtcOffer(sdp=pc.localDescription.sdp)))
                async for raw in ws:
                    message = p.decode_server(raw)
                    if isinstance(message, p.Error):
                        return ProbeResult(error=message.message, turn=turn)
                    if isinstance(message, p.RtcAnswer):
                        await pc.setRemoteDescription(
                            RTCSessionDescription(sdp=message.sdp, type="answer")
                        )
                    elif isinstance(message, p.MediaReport):
                        last = message
                        if (
                            message.video_frames >= WANT_VIDEO_FRAMES or sources.camera is None
                        ) and (
                            message.audio_frames >= WANT_AUDIO_FRAMES or sources.microphone is None
                        ):
                            break
            finally:
                for track in tracks:
                    track.stop()
                await pc.close()
    except TimeoutError:
        pass
    except (OSError, InvalidHandshake, ConnectionClosed) as exc:
        return ProbeResult(error=describe(exc), elapsed_s=time.monotonic() - started)
    return ProbeResult(
        video_frames=last.video_frames,
        audio_frames=last.audio_frames,
        width=last.width,
        height=last.height,
        state=last.state,
        turn=turn,
        elapsed_s=time.monotonic() - started,
    )


def evaluate_live_media(result: ProbeResult) -> CheckResult:
    details = {
        "video_frames": result.video_frames,
        "audio_frames": result.audio_frames,
        "width": result.width,
        "height": result.height,
        "state": result.state,
        "turn": result.turn,
        "seconds": round(result.elapsed_s, 2),
    }
    if result.error is not None:
        return CheckResult(
            CheckId.LIVE_MEDIA,
            Status.WARN,
            None,
            UNIT,
            f"live video could not be tried: {result.error}",
            "The exam works without it, but the proctors will not see you live. Try again; "
            "if it persists, tell the exam's organisers.",
            "live_media_unavailable",
            details,
        )
    if result.video_frames > 0 and result.audio_frames > 0:
        return CheckResult(
            CheckId.LIVE_MEDIA,
            Status.PASS,
            result.video_frames,
            UNIT,
            f"the server received your video ({result.width}x{result.height}) and sound",
            details=details,
        )
    if result.state == "connected":
        missing = "video" if result.video_frames == 0 else "sound"
        return CheckResult(
            CheckId.LIVE_MEDIA,
            Status.WARN,
            result.video_frames,
            UNIT,
            f"connected, but no {missing} arrived",
            "Check that no other program holds the camera or the microphone.",
            "live_media_partial",
            details,
        )
    advice = (
        "Your network seems to block the UDP traffic live video needs. Use another network, "
        "or ask your network's administrator to allow UDP to the exam server"
        + ("." if result.turn else "; the exam's organisers can also set up a TURN relay.")
    )
    return CheckResult(
        CheckId.LIVE_MEDIA,
        Status.WARN,
        0,
        UNIT,
        "no live video reached the server (the connection did not come up)",
        advice,
        "live_media_blocked",
        details,
    )
