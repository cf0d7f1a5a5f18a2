"""Network measurements against the exam server: round trip and clock offset (``/healthz``),
download and upload speed (both on the WebSocket ``/ws/bandwidth``).

Plain GETs go over asyncio streams as minimal HTTP/1.1 (the server answers with a
Content-Length and closes). Every measurement is bounded by timeouts and reports failure as
a value (``error``), never by raising, so one broken measurement cannot sink the others.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from proctor_client.check.evaluate import LatencyFigures
from shared.errors import ConfigError, ProtocolError
from shared.timeutil import from_wire

MAX_HEADER_LINES = 100
MAX_JSON_BODY = 64 * 1024
DOWNLOAD_MAX_BYTES = 20_000_000  # the server's limit for one download test
DOWNLOAD_CHUNK_LIMIT = 1024 * 1024  # the server sends the download in 256 KiB messages
UPLOAD_MAX_BYTES = 8 * 1024 * 1024  # the server's limit for one message
UPLOAD_PROBE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ServerAddress:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        """``http(s)://host[:port]``, ``ws(s)://host[:port]`` or ``host:port``."""
        text = url.strip()
        if not text:
            raise ConfigError(
                "--server is empty: give the exam server's address, e.g. http://host:8765"
            )
        if "://" not in text:
            text = "http://" + text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            raise ConfigError(
                f"--server {url!r}: the address must start with http://, https://, ws:// or wss://"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(
                f"--server {url!r}: the port is not a number from 1 to 65535"
            ) from None
        if not parts.hostname:
            raise ConfigError(f"--server {url!r}: no host name")
        tls = parts.scheme in ("https", "wss")
        return cls(parts.hostname, port or (443 if tls else 80), tls)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.authority}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.authority}"


class HttpError(Exception):
    """A plain GET that failed; the message is shown to the candidate."""


def describe(exc: BaseException) -> str:
    """A short human reason for a network failure."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the server's answer was cut short"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running at that address?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc)
    return text or type(exc).__name__


@dataclass(slots=True)
class _Response:
    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent_at: float = 0.0  # monotonic, after the request was written
    sent_wall: float = 0.0

    @property
    def length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass


async def _get(address: ServerAddress, target: str) -> _Response:
    context = ssl.create_default_context() if address.tls else None
    reader, writer = await asyncio.open_connection(address.host, address.port, ssl=context)
    try:
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {address.authority}\r\n"
            "User-Agent: proctor-client-check\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        )
        sent_wall = time.time()
        sent_at = time.monotonic()
        writer.write(request.encode("ascii"))
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1").strip()
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise HttpError(f"the server's answer is not HTTP ({status_line[:40]!r})")
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADER_LINES):
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        else:
            raise HttpError("the server's answer has too many header lines")
    except BaseException:
        writer.close()
        raise
    return _Response(int(parts[1]), headers, reader, writer, sent_at, sent_wall)


class Health(msgspec.Struct):
    status: str
    server_time: str


@dataclass(frozen=True, slots=True)
class Ping:
    rtt_s: float
    offset_s: float  # server clock minus this computer's clock


async def ping(address: ServerAddress) -> Ping:
    """One ``/healthz`` exchange: round trip and NTP-style clock offset."""
    response = await _get(address, "/healthz")
    try:
        length = response.length
        if length is not None and length > MAX_JSON_BODY:
            raise HttpError("the server's health answer is too large")
        body = await (
            response.reader.readexactly(length)
            if length is not None
            else response.reader.read(MAX_JSON_BODY)
        )
        received = time.monotonic()
    finally:
        await response.close()
    if response.status != 200:
        raise HttpError(f"the server is not ready (HTTP {response.status})")
    try:
        health = msgspec.json.decode(body, type=Health)
        server_time = from_wire(health.server_time).timestamp()
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, ProtocolError) as exc:
        raise HttpError(f"the server's health answer is malformed: {exc}") from None
    rtt = received - response.sent_at
    local_midpoint = response.sent_wall + rtt / 2
    return Ping(rtt, server_time - local_midpoint)


@dataclass(frozen=True, slots=True)
class LatencyResult:
    figures: LatencyFigures
    offset_s: float | None  # from the reply with the shortest round trip
    pings: list[Ping] = field(default_factory=list)


async def measure_latency(
    address: ServerAddress, *, samples: int = 5, timeout_s: float = 2.0
) -> LatencyResult:
    """``samples`` health requests one after the other, each within ``timeout_s``."""
    pings: list[Ping] = []
    error: str | None = None
    sent = 0
    for _ in range(samples):
        sent += 1
        try:
            async with asyncio.timeout(timeout_s):
                pings.append(await ping(address))
        except (OSError, TimeoutError, HttpError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            error = describe(exc)
            if not pings and isinstance(exc, (ConnectionRefusedError, HttpError)):
                break  # refused outright: asking again only makes the candidate wait
    rtt_ms = statistics.median(p.rtt_s for p in pings) * 1000 if pings else None
    best = min(pings, key=lambda p: p.rtt_s) if pings else None
    figures = LatencyFigures(sent, len(pings), rtt_ms, error)
    return LatencyResult(figures, best.offset_s if best else None, pings)


@dataclass(frozen=True, slots=True)
class SpeedResult:
    mbps: float | None
    bytes: int = 0
    seconds: float = 0.0
    error: str | None = None


def _mbps(size: int, seconds: float) -> float:
    return size * 8 / max(seconds, 1e-6) / 1e6


async def measure_download(
    address: ServerAddress, *, size: int = 10_000_000, seconds: float = 4.0
) -> SpeedResult:
    """Ask the server's speed-test socket for ``size`` bytes, stopping after ``seconds``;
    speed = bytes received / time from the request to the last byte.

    A slow line is measured by what arrived before the deadline, so the check stays short.
    """
    size = max(1, min(size, DOWNLOAD_MAX_BYTES))
    received = 0
    started = time.monotonic()
    last = started
    try:
        async with asyncio.timeout(seconds):
            async with connect(
                address.ws_url + "/ws/bandwidth",
                compression=None,
                open_timeout=seconds,
                max_size=DOWNLOAD_CHUNK_LIMIT,
                proxy=None,
                user_agent_header="proctor-client-check",
            ) as ws:
                started = last = time.monotonic()
                await ws.send(msgspec.json.encode({"type": "download", "bytes": size}).decode())
                async for message in ws:
                    if isinstance(message, str):
                        break  # download_done (or an error: what arrived is measured)
                    received += len(message)
                    last = time.monotonic()
    except TimeoutError:
        last = time.monotonic()  # measured by what arrived in time
    except (OSError, WebSocketException, ssl.SSLError) as exc:
        return SpeedResult(None, received, time.monotonic() - started, describe(exc))
    elapsed = last - started
    if received == 0:
        return SpeedResult(None, 0, elapsed, "no data arrived in time")
    return SpeedResult(_mbps(received, elapsed), received, elapsed)


class BandwidthAck(msgspec.Struct):
    type: str
    bytes: int


async def _send_and_time(ws: ClientConnection, payload: bytes) -> float:
    started = time.monotonic()
    await ws.send(payload)
    reply = await ws.recv()
    elapsed = time.monotonic() - started
    try:
        ack = msgspec.json.decode(reply, type=BandwidthAck)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise HttpError(f"the server's upload answer is malformed: {exc}") from None
    if ack.type != "bandwidth_ack" or ack.bytes != len(payload):
        raise HttpError(f"the server acknowledged {ack.bytes} bytes of {len(payload)}")
    return elapsed


async def measure_upload(
    address: ServerAddress, *, seconds: float = 5.0, target_s: float = 1.0
) -> SpeedResult:
    """Send a small probe, then a message sized to take about ``target_s`` at the probe's
    speed (at most 8 MiB); speed = bytes / time from sending to the server's ack."""
    payload = os.urandom(UPLOAD_MAX_BYTES)  # random: nothing on the way can compress it
    best: SpeedResult | None = None
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            async with connect(
                address.ws_url + "/ws/bandwidth",
                compression=None,
                open_timeout=seconds,
                max_size=MAX_JSON_BODY,
                proxy=None,
                user_agent_header="proctor-client-check",
            ) as ws:
                elapsed = await _send_and_time(ws, payload[:UPLOAD_PROBE_BYTES])
                best = SpeedResult(_mbps(UPLOAD_PROBE_BYTES, elapsed), UPLOAD_PROBE_BYTES, elapsed)
                next_size = int(UPLOAD_PROBE_BYTES / elapsed * target_s)
                next_size = max(UPLOAD_PROBE_BYTES, min(next_size, UPLOAD_MAX_BYTES))
                elapsed = await _send_and_time(ws, payload[:next_size])
                best = SpeedResult(_mbps(next_size, elapsed), next_size, elapsed)
    except TimeoutError:
        if best is None:
            return SpeedResult(None, 0, time.monotonic() - started, "no answer in time")
    except (OSError, WebSocketException, HttpError, ssl.SSLError) as exc:
        if best is None:
            return SpeedResult(None, 0, time.monotonic() - started, describe(exc))
    assert best is not None
    return best
