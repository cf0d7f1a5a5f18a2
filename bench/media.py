"""Live media on the exam server: CPU per received stream against a bare aiortc receiver,
answer-ack latency with streams on and off, and memory over time, measured in the same run.

The server runs as its own process (`proctor-server serve`, live media on), once with the
media gateway in its event loop (`--media-in-process`) and once in its media process, whose CPU
is counted with the server's.
A second process publishes N candidates' camera (the synthetic camera, 320x240 at 15 fps, VP8
at the app's 300 kb/s cap) and a tone (Opus): by default encoded once and replayed by each
publisher (bench/replay_media.py: the publishers then cost this machine almost nothing, as
candidates on machines of their own do), with `--publishers app` through the app's own runtime
(each publisher encodes its stream, on the cores the server being measured shares). This
process is one more candidate that answers questions one at a time and times each
acknowledgement, first with no stream, then with the N streams live.

Then, in the same run, the baseline: a bare aiortc receiver process (peer connections that
read every frame of every track and nothing else) gets N streams of the same tracks from
publishers of the same kind; its CPU per stream is the denominator of the server's.

    python bench/media.py [--streams 5] [--answers 300] [--window 10] [--hold 0]
                          [--serve-arg=--clip-seconds=0 ...] [--placement process ...]
                          [--publishers replay|app]

    python bench/media.py recording [SECONDS]   # full-session recording's storage

`--hold S` keeps the streams up S seconds more and prints the server's memory every 10 %
of it (the 10-minute unwatched-memory figure: --hold 600). `--serve-arg` passes an option to
`proctor-server serve` (to see what clips or live analysis cost).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitting import Proc, cpu_seconds, hello, identity_photo, load_average, sitting

from proctor_server.commands.exam import cpu_list
from shared import protocol as p


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def enter(url: str, ticket: str) -> tuple[ClientConnection, p.Paper]:
    ws = await connect(url, compression=None, max_size=None)
    await ws.send(hello(ticket))
    # the rules accepted and the address given, as the app does: no paper without them
    mail = p.MailTo(name="Bench", phone="13800000000", address="1 Road", postcode="100000")
    await ws.send(p.encode(p.Consent(id="c-1", version="bench")))
    await ws.send(p.encode(p.Profile(id="m-1", mail_to=mail)))
    await ws.send(p.encode_image(p.ImageHeader(type="identity_photo", id="id-1"), identity_photo()))
    while True:
        m = p.decode_server(await ws.recv())
        if isinstance(m, p.Paper):
            return ws, m


REFUSED: list[str] = []  # answers the server refused (an `error` instead of the ack)
ACK_TIMEOUT_S = 10.0


async def ack_latencies(ws: ClientConnection, paper: p.Paper, answers: int) -> list[float]:
    """Answers one at a time, each timed to its ack. A refusal (an `error` naming the answer)
    or no ack within ACK_TIMEOUT_S ends the series early, said on stderr: a run that waited
    forever on a refused answer printed nothing at all."""
    out = []
    for k in range(answers):
        q = paper.questions[k % len(paper.questions)]
        msg = p.Answer(id=uuid.uuid4().hex, question=q.id, choice=[q.options[k % 4].id])
        started = time.perf_counter()
        await ws.send(p.encode(msg))
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                while True:
                    reply = p.decode_server(await ws.recv())
                    if isinstance(reply, p.Ack) and reply.id == msg.id:
                        break
                    if isinstance(reply, p.Error) and reply.ref == msg.id:
                        raise ValueError(f"{reply.code}: {reply.message}")
                    if isinstance(reply, p.Terminated | p.TimeUp | p.Result | p.Error):
                        say(f"the bench candidate got {reply!r}")
        except (TimeoutError, ValueError) as exc:
            REFUSED.append(str(exc) or f"no ack within {ACK_TIMEOUT_S:g} s")
            say(f"answer {k + 1} of {answers}: {REFUSED[-1]}; the series stops here")
            break
        out.append((time.perf_counter() - started) * 1000)
    return out


SERIES_PART = 300  # answers a candidate gives in a series (after 50 or 20 to warm up)


async def series(candidates: list[tuple[ClientConnection, p.Paper]], answers: int) -> list[float]:
    """`answers` acks timed, the candidates taking turns of at most SERIES_PART each."""
    out: list[float] = []
    for ws, paper in candidates:
        out += await ack_latencies(ws, paper, min(SERIES_PART, answers - len(out)))
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def publish(server: str, tickets: list[str]) -> None:
    """The publishing process: N runtimes with live media; prints `live N` once all are."""
    from proctor_client.devices.camera_reader import CameraReader
    from proctor_client.devices.fake_cameras import SyntheticCamera
    from proctor_client.devices.microphones import ToneMicrophone
    from proctor_client.media.publisher import MediaSources
    from proctor_client.runtime.runtime import ExamRuntime

    work = Path(tempfile.mkdtemp(prefix="proctor-bench-pub-"))
    runtimes = []
    for i, ticket in enumerate(tickets):
        sources = MediaSources(camera=CameraReader(SyntheticCamera()), microphone=ToneMicrophone())
        runtime = ExamRuntime(server, ticket, outbox_path=work / f"o{i}.db", media=sources)
        runtime.start()
        runtimes.append(runtime)
    for runtime in runtimes:
        await runtime.wait_for(lambda s: s.media == "live")
    print(f"live {len(runtimes)}", flush=True)
    await asyncio.Future()


async def publish_replay(url: str, tickets: list[str]) -> None:
    """The publishing process, replaying: N candidates enter (hello) and publish the encoded
    loop (replay_media.py); prints `live N` once every peer connection is up."""
    from replay_media import drain, encoded_tone, encoded_video, publish_on, replay_peer

    from proctor_client.media.tracks import VideoSettings

    video, audio = encoded_video(), encoded_tone()
    peers, sockets = [], []
    for ticket in tickets:
        ws = await connect(url, compression=None, max_size=None)
        await ws.send(hello(ticket))
        pc = replay_peer(video, audio, VideoSettings().fps)
        await publish_on(ws, pc)
        peers.append(pc)
        sockets.append(ws)
    await _connected(peers)
    print(f"live {len(peers)}", flush=True)
    await asyncio.gather(*(drain(ws) for ws in sockets))


async def _connected(peers: list[Any]) -> None:
    async def up(pc: Any) -> None:
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise RuntimeError(f"a publisher's connection {pc.connectionState}")
            await asyncio.sleep(0.05)

    await asyncio.gather(*(up(pc) for pc in peers))


async def bare_publish_replay(url: str, count: int) -> None:
    """N replaying publishers (replay_media.py) signalled to the bare receiver; `live N`."""
    from replay_media import encoded_tone, encoded_video, replay_peer

    from proctor_client.media.tracks import VideoSettings

    video, audio = encoded_video(), encoded_tone()
    await offered_to_bare(url, count, lambda: replay_peer(video, audio, VideoSettings().fps))
    await asyncio.Future()


async def offered_to_bare(url: str, count: int, peer: Callable[[], Any]) -> list[Any]:
    """`count` peer connections made by `peer`, each offered to the bare receiver at `url`
    (the SDP as text on a WebSocket of its own, kept open); prints `live N` once all are
    connected."""
    from aiortc import RTCSessionDescription

    peers = []
    for _ in range(count):
        pc = peer()
        await pc.setLocalDescription(await pc.createOffer())
        assert pc.localDescription is not None
        ws = await connect(url)
        await ws.send(pc.localDescription.sdp)
        answer = str(await ws.recv())
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        peers.append(pc)
    await _connected(peers)
    print(f"live {count}", flush=True)
    return peers


async def bare_receive(counts: Path) -> None:
    """The baseline receiver: one peer connection per offer (sent as text on a WebSocket),
    every received track read frame by frame, nothing else. Prints its address; writes the
    frames read so far (video, audio) to `counts` every half second."""
    from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError
    from websockets.asyncio.server import ServerConnection, serve

    peers: list[RTCPeerConnection] = []
    tasks: set[asyncio.Task[None]] = set()
    read = {"video": 0, "audio": 0}

    async def drain(track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                read[track.kind] += 1
        except MediaStreamError:
            return

    async def offer(ws: ServerConnection) -> None:
        sdp = str(await ws.recv())
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peers.append(pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            task = asyncio.create_task(drain(track))
            tasks.add(task)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        assert pc.localDescription is not None
        await ws.send(pc.localDescription.sdp)
        await ws.wait_closed()

    async with serve(offer, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening ws://127.0.0.1:{port}", flush=True)
        while True:
            _write(counts, f"{read['video']} {read['audio']}")
            await asyncio.sleep(0.5)


def _write(path: Path, text: str) -> None:
    path.write_text(text)


async def bare_publish(url: str, count: int) -> None:
    """N aiortc publishers of the app's own tracks (camera reader, VP8 capped as the app caps
    it, a tone in Opus), signalled to the bare receiver; prints `live N`."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    from proctor_client.devices.camera_reader import CameraReader
    from proctor_client.devices.fake_cameras import SyntheticCamera
    from proctor_client.devices.microphones import ToneMicrophone
    from proctor_client.media.publisher import DEFAULT_MAX_BITRATE, cap_bitrate
    from proctor_client.media.tracks import CameraTrack, MicrophoneTrack

    def app_peer() -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(CameraTrack(CameraReader(SyntheticCamera())), direction="sendonly")
        pc.addTransceiver(MicrophoneTrack(ToneMicrophone()), direction="sendonly")
        return pc

    peers = await offered_to_bare(url, count, app_peer)
    while True:
        for pc in peers:
            cap_bitrate(pc, DEFAULT_MAX_BITRATE)
        await asyncio.sleep(1.0)


BARE_PUBLISH = {"replay": "bare-publish-replay", "app": "bare-publish"}
PUBLISH: dict[str, Callable[[Proc], list[str]]] = {  # the publishing process's arguments
    "replay": lambda server: ["publish-replay", server.candidate],
    "app": lambda server: ["publish", server.http],
}


def started(args: list[str], first: str) -> tuple[subprocess.Popen[str], str]:
    """A helper process of this script, and the first line it printed (checked)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(first), line
    return proc, line


async def bare_baseline(
    streams: int, window: float, publishers: str = "replay"
) -> tuple[float, float, float]:
    """CPU of a bare aiortc receiver per stream, in cores (idle subtracted), and the video
    and audio frames it read a second per stream over the same window."""
    counts = Path(tempfile.mkdtemp(prefix="proctor-bench-bare-")) / "counts"
    receiver, line = started([sys.executable, __file__, "bare-receive", str(counts)], "listening")

    def frames() -> tuple[int, int]:
        video, audio = counts.read_text().split()
        return int(video), int(audio)

    try:
        url = line.split()[-1]
        await asyncio.sleep(1)
        cpu0, t0 = cpu_seconds(receiver.pid), time.monotonic()
        await asyncio.sleep(window / 2)
        idle = (cpu_seconds(receiver.pid) - cpu0) / (time.monotonic() - t0)
        publisher, _ = started(
            [sys.executable, __file__, BARE_PUBLISH[publishers], url, str(streams)], "live"
        )
        try:
            await asyncio.sleep(2)
            cpu0, t0, frames0 = cpu_seconds(receiver.pid), time.monotonic(), frames()
            await asyncio.sleep(window)
            took = time.monotonic() - t0
            busy = (cpu_seconds(receiver.pid) - cpu0) / took
            video, audio = (b - a for a, b in zip(frames0, frames(), strict=True))
        finally:
            publisher.terminate()
            publisher.wait(timeout=30)
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    return (busy - idle) / streams, video / took / streams, audio / took / streams


def children(pid: int) -> list[int]:
    """The direct children of a process (the media process of `serve`)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def server_family_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the server process and of its children (the media process)."""
    kids = 0.0
    for child in children(pid):
        with contextlib.suppress(OSError):
            kids += cpu_seconds(child)
    return cpu_seconds(pid), kids


def family_rss(pid: int) -> tuple[float, float]:
    """Resident MiB of the server, and of its children (the media process), apart."""
    return rss_mib(pid), sum(rss_mib(c) for c in children(pid))


def say(text: str) -> None:
    """Progress on stderr as it goes (a long run shows where it is)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def server_part(args: argparse.Namespace, placement: str) -> dict[str, object]:
    async with contextlib.AsyncExitStack() as stack:
        return await _server_part(args, placement, stack)


async def _server_part(
    args: argparse.Namespace, placement: str, stack: contextlib.AsyncExitStack
) -> dict[str, object]:
    """One placement's figures: ack latency off and on, CPU of the server and its media
    process (with Janus: the Janus process), idle and with the streams, and memory while
    held."""
    work = Path(tempfile.mkdtemp(prefix="proctor-bench-media-"))
    # timing candidates: the server allows a burst of 400 answers, then 4 a second
    # (core/quota.py), so each series of acks has candidates of its own, `per` of them taking
    # turns of at most SERIES_PART answers (more answers make the p99 a steadier figure)
    per = -(-args.answers // SERIES_PART)
    tickets = await sitting(
        work / "bench.db", args.streams + 2 * per, starts_in=-timedelta(minutes=1)
    )
    extra = ["--media-in-process"] if placement == "in-process" else []
    janus_pid = 0
    if placement == "janus":
        from tests.media.janus_process import running_janus

        janus = await stack.enter_async_context(running_janus(work / "janus"))
        janus_pid = janus.process.pid
        key = work / "janus-admin.key"
        key.write_text(janus.admin_key)
        extra = ["--media", "janus", "--janus-url", janus.url, "--janus-admin-key-file", str(key)]
    pin: list[str] = []  # the exam server on the CPUs the media process does not get
    if args.media_cpus and placement == "process":
        others = sorted(os.sched_getaffinity(0) - set(cpu_list(args.media_cpus)))
        pin = ["taskset", "-c", ",".join(map(str, others))]
        extra = [*extra, "--media-cpus", args.media_cpus]
    server = Proc(
        [
            *pin,
            sys.executable,
            "-m",
            "proctor_server.cli",
            "serve",
            "--db",
            str(work / "bench.db"),
            "--port",
            "0",
            "--analysis",
            "basic",
            *extra,
            *args.serve_arg,
        ]
    )
    pid = server.proc.pid

    def family_cpu(pid: int) -> tuple[float, float]:
        if janus_pid:
            return cpu_seconds(pid), cpu_seconds(janus_pid)
        return server_family_cpu(pid)

    try:
        off_series = [await enter(server.candidate, t) for t in tickets[:per]]
        on_series = [await enter(server.candidate, t) for t in tickets[per : 2 * per]]
        await ack_latencies(*off_series[0], 50)  # warm up
        await ack_latencies(*on_series[0], 20)
        idle0, t0 = family_cpu(pid), time.monotonic()
        await asyncio.sleep(args.window)
        idle1, t1 = family_cpu(pid), time.monotonic()
        idle = [(b - a) / (t1 - t0) for a, b in zip(idle0, idle1, strict=True)]
        off = await series(off_series, args.answers)
        say(f"{placement}: {args.answers} acks without streams; publishing {args.streams}")
        nice = ["nice", "-n", str(args.publisher_nice)] if args.publisher_nice else []
        if pin:  # the candidates are elsewhere: here, on the media process's CPUs
            nice = ["taskset", "-c", args.media_cpus, *nice]
        publisher = subprocess.Popen(  # noqa: ASYNC220 - once, outside the measured windows
            [
                *nice,
                sys.executable,
                __file__,
                *PUBLISH[args.publishers](server),
                *tickets[2 * per :],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert publisher.stdout is not None
        line = await asyncio.to_thread(publisher.stdout.readline)
        assert line.startswith("live"), line
        say(f"{placement}: {line.strip()}")
        try:
            await asyncio.sleep(2)
            rss0 = family_rss(pid)
            busy0, t0 = family_cpu(pid), time.monotonic()
            await asyncio.sleep(args.window)
            busy1, t1 = family_cpu(pid), time.monotonic()
            busy = [(b - a) / (t1 - t0) for a, b in zip(busy0, busy1, strict=True)]
            on = await series(on_series, args.answers)
            say(f"{placement}: {args.answers} acks with the streams")
            pub_cpu = cpu_seconds(publisher.pid)
            memory = [rss0]
            for k in range(10 if args.hold else 0):
                await asyncio.sleep(args.hold / 10)
                memory.append(family_rss(pid))
                server_mib, media_mib = memory[-1]
                say(
                    f"{placement}: held {(k + 1) * args.hold / 10:.0f} s, server "
                    f"{server_mib:.0f} + media process {media_mib:.0f} MiB"
                )
        finally:
            publisher.terminate()
            await asyncio.to_thread(publisher.wait, 30)
        for ws, _ in off_series + on_series:
            await ws.close()
    finally:
        server.stop()
    return {
        "idle": idle,
        "busy": busy,
        "off": off,
        "on": on,
        "pub_cpu": pub_cpu,
        "memory": memory,
        "load": load_average(),
    }


async def run(args: argparse.Namespace) -> None:
    results = {}
    for placement in args.placement:
        results[placement] = await server_part(args, placement)
    say("the bare aiortc receiver")
    bare, video_fps, audio_fps = await bare_baseline(args.streams, args.window, args.publishers)
    print(
        f"streams: {args.streams} (320x240@15 VP8 + Opus, publishers: {args.publishers}), "
        f"window {args.window:g} s"
    )
    print(
        f"serve options: {' '.join(args.serve_arg) or '(defaults)'}"
        + (
            f"; media process on CPUs {args.media_cpus}, the server on the others"
            if args.media_cpus
            else ""
        )
    )
    print(f"load average (1, 5, 15 min) after the baseline: {load_average()}")
    print(
        f"bare aiortc receiver per stream: {bare * 100:.2f}% of a core, reading {video_fps:.1f} "
        f"video and {audio_fps:.1f} audio frames a second"
    )
    print(f"answers refused or not acked: {REFUSED or 'none'}")
    for placement, r in results.items():
        idle, busy = r["idle"], r["busy"]
        off, on = r["off"], r["on"]
        assert isinstance(idle, list) and isinstance(busy, list)
        assert isinstance(off, list) and isinstance(on, list) and isinstance(r["memory"], list)
        per = [(b - i) / args.streams * 100 for i, b in zip(idle, busy, strict=True)]
        total = sum(per)
        print(f"--- media {placement} (load average after it: {r['load']})")
        print(
            f"CPU with streams, % of a core: server {busy[0] * 100:.1f}, media process "
            f"{busy[1] * 100:.1f} (idle {idle[0] * 100:.1f} + {idle[1] * 100:.1f})"
        )
        print(
            f"per stream: server {per[0]:.2f}% + media process {per[1]:.2f}% = {total:.2f}% "
            f"of a core; / bare: "
            + (f"{total / (bare * 100):.2f}x" if bare > 0 else "(bare below the noise)")
        )
        print(
            f"ack latency without streams: p50 {statistics.median(off):.2f} ms, "
            f"p99 {p99(off):.2f} ms"
        )
        print(
            f"ack latency with {args.streams} streams: p50 {statistics.median(on):.2f} ms, "
            f"p99 {p99(on):.2f} ms (ratio p99 {p99(on) / p99(off):.2f}x)"
        )
        print(f"publisher process CPU so far: {r['pub_cpu']:.1f} s")
        print(
            "RSS, server + media process (MiB): "
            + ", ".join(f"{a:.0f}+{b:.0f}" for a, b in r["memory"])
        )


async def recording(seconds: float) -> None:
    """Full-session recording's storage: one candidate publishes for `seconds` to a server
    started with --record-sessions; the stored file's size per hour of stream."""
    import av

    work = Path(tempfile.mkdtemp(prefix="proctor-bench-rec-"))
    [ticket] = await sitting(work / "bench.db", 1, starts_in=-timedelta(minutes=1))
    server = Proc(
        [
            sys.executable,
            "-m",
            "proctor_server.cli",
            "serve",
            "--db",
            str(work / "bench.db"),
            "--port",
            "0",
            "--analysis",
            "basic",
            "--record-sessions",
            "--clip-seconds",
            "0",
        ]
    )
    http = server.http
    try:
        publisher, _ = started([sys.executable, __file__, "publish", http, ticket], "live")
        await asyncio.sleep(seconds)
        publisher.terminate()
        publisher.wait(timeout=30)
        await asyncio.sleep(3)  # the server sees the connection end and stores the file
    finally:
        server.stop()  # a clean stop finishes a recording still being written
    for path in sorted((work / "bench-files" / "clips").rglob("*.webm")):
        with av.open(str(path)) as container:
            duration = (container.duration or 0) / 1_000_000
        size = path.stat().st_size
        print(
            f"recording {path.name}: {duration:.1f} s, {size / 1e6:.2f} MB, "
            f"{size / duration * 3600 / 1e6:.0f} MB per candidate-hour"
        )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "publish":
        asyncio.run(publish(sys.argv[2], sys.argv[3:]))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "publish-replay":
        asyncio.run(publish_replay(sys.argv[2], sys.argv[3:]))
        return
    if len(sys.argv) > 3 and sys.argv[1] == "bare-publish-replay":
        asyncio.run(bare_publish_replay(sys.argv[2], int(sys.argv[3])))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "bare-receive":
        asyncio.run(bare_receive(Path(sys.argv[2])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "recording":
        asyncio.run(recording(float(sys.argv[2]) if len(sys.argv) > 2 else 60.0))
        return
    if len(sys.argv) > 3 and sys.argv[1] == "bare-publish":
        asyncio.run(bare_publish(sys.argv[2], int(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--serve-arg", action="append", default=[], metavar="OPTION")
    parser.add_argument(
        "--publishers",
        choices=("replay", "app"),
        default="replay",
        help="replay: the streams encoded once and sent again (publishers that cost almost "
        "nothing here); app: through the app's own runtime, each encoding its stream",
    )
    parser.add_argument(
        "--publisher-nice",
        type=int,
        default=0,
        metavar="N",
        help="run the publishing process at this niceness (candidates are elsewhere in real use)",
    )
    parser.add_argument(
        "--media-cpus",
        metavar="LIST",
        help="with --placement process: `serve --media-cpus LIST`, the exam server pinned to "
        "the other CPUs and the publishers to LIST (the deployment that keeps decoding off the "
        "exam server's cores; CPU per stream is then not comparable: the publishers share LIST)",
    )
    parser.add_argument(
        "--placement",
        action="append",
        choices=("in-process", "process", "janus"),
        help="where the server receives media (repeatable; default: in-process and process, "
        "in this order; janus: a Janus started for the run, its process's CPU counted)",
    )
    args = parser.parse_args()
    args.placement = args.placement or ["in-process", "process"]
    asyncio.run(run(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
