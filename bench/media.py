"""Live media on the exam server: CPU per received stream, answer-ack latency with streams on
and off, and memory over time, measured in the same run.

The server runs as its own process (`proctor-server serve`, live media on, in its event loop).
A second process publishes N candidates' camera (the synthetic camera, 320x240 at 15 fps, VP8)
and a tone (Opus) through the app's own runtime. This process is one more candidate that
answers questions one at a time and times each acknowledgement, first with no stream, then
with the N streams live.

    python bench/media.py [--streams 5] [--answers 300] [--window 10] [--hold 0]

`--hold S` keeps the streams up S seconds more and prints the server's memory every 10 %
of it (the 10-minute unwatched-memory figure: --hold 600).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitting import identity_photo, sitting

from shared import protocol as p

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Proc:
    """A server process; `ws` is its candidate socket's address once it listens."""

    def __init__(self, args: list[str]):
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on"), line
        self.ws = line.split()[-1].replace("http://", "ws://") + "/ws/candidate"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def hello(ticket: str) -> str:
    return p.encode(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=ticket))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def enter(url: str, ticket: str) -> tuple[ClientConnection, p.Paper]:
    ws = await connect(url, compression=None, max_size=None)
    await ws.send(hello(ticket))
    await ws.send(p.encode_image(p.ImageHeader(type="identity_photo", id="id-1"), identity_photo()))
    while True:
        m = p.decode_server(await ws.recv())
        if isinstance(m, p.Paper):
            return ws, m


async def ack_latencies(ws: ClientConnection, paper: p.Paper, answers: int) -> list[float]:
    out = []
    for k in range(answers):
        q = paper.questions[k % len(paper.questions)]
        msg = p.Answer(id=uuid.uuid4().hex, question=q.id, choice=[q.options[k % 4].id])
        started = time.perf_counter()
        await ws.send(p.encode(msg))
        while True:
            reply = p.decode_server(await ws.recv())
            if isinstance(reply, p.Ack) and reply.id == msg.id:
                break
        out.append((time.perf_counter() - started) * 1000)
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


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="proctor-bench-media-"))
    tickets = await sitting(work / "bench.db", args.streams + 1, starts_in=-timedelta(minutes=1))
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
        ]
    )
    http = server.ws.removesuffix("/ws/candidate").replace("ws://", "http://")
    try:
        ws, paper = await enter(server.ws, tickets[0])
        await ack_latencies(ws, paper, 50)  # warm up
        idle_cpu0, t0 = server.cpu(), time.monotonic()
        await asyncio.sleep(args.window)
        idle_cpu = (server.cpu() - idle_cpu0) / (time.monotonic() - t0)
        off = await ack_latencies(ws, paper, args.answers)
        publisher = subprocess.Popen(  # noqa: ASYNC220 - once, outside the measured windows
            [sys.executable, __file__, "publish", http, *tickets[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert publisher.stdout is not None
        line = publisher.stdout.readline()
        assert line.startswith("live"), line
        try:
            await asyncio.sleep(2)
            rss0 = rss_mib(server.proc.pid)
            cpu0, t0 = server.cpu(), time.monotonic()
            await asyncio.sleep(args.window)
            busy_cpu = (server.cpu() - cpu0) / (time.monotonic() - t0)
            on = await ack_latencies(ws, paper, args.answers)
            pub_cpu = cpu_seconds(publisher.pid)
            memory = [rss0]
            for _ in range(10 if args.hold else 0):
                await asyncio.sleep(args.hold / 10)
                memory.append(rss_mib(server.proc.pid))
        finally:
            publisher.terminate()
            publisher.wait(timeout=30)
        await ws.close()
    finally:
        server.stop()
    per_stream = (busy_cpu - idle_cpu) / args.streams * 100
    print(f"streams: {args.streams} (320x240@15 VP8 + Opus), window {args.window:g} s")
    print(
        f"server CPU idle: {idle_cpu * 100:.1f}% of a core; with streams: "
        f"{busy_cpu * 100:.1f}%; per stream: {per_stream:.2f}% of a core"
    )
    print(
        f"ack latency without streams: p50 {statistics.median(off):.2f} ms, p99 {p99(off):.2f} ms"
    )
    print(
        f"ack latency with {args.streams} streams: p50 {statistics.median(on):.2f} ms, "
        f"p99 {p99(on):.2f} ms (ratio p99 {p99(on) / p99(off):.2f}x)"
    )
    print(f"publisher process CPU so far: {pub_cpu:.1f} s")
    print("server RSS (MiB): " + ", ".join(f"{m:.0f}" for m in memory))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "publish":
        asyncio.run(publish(sys.argv[2], sys.argv[3:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--hold", type=float, default=0.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
