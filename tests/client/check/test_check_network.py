"""Network measurements against the real server on loopback, and against servers that
misbehave (refusing, silent, speaking nonsense)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from proctor_client.check.network import (
    UPLOAD_PROBE_BYTES,
    ServerAddress,
    measure_download,
    measure_latency,
    measure_upload,
)
from proctor_server.app import Server
from shared.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "http", "ws"),
    [
        (
            "http://127.0.0.1:8765",
            "127.0.0.1",
            8765,
            False,
            "http://127.0.0.1:8765",
            "ws://127.0.0.1:8765",
        ),
        (
            "https://exam.example.org",
            "exam.example.org",
            443,
            True,
            "https://exam.example.org",
            "wss://exam.example.org",
        ),
        (
            "ws://localhost:9000/ws/candidate",
            "localhost",
            9000,
            False,
            "http://localhost:9000",
            "ws://localhost:9000",
        ),
        (
            "wss://exam.example.org:8443",
            "exam.example.org",
            8443,
            True,
            "https://exam.example.org:8443",
            "wss://exam.example.org:8443",
        ),
        (
            "localhost:8765",
            "localhost",
            8765,
            False,
            "http://localhost:8765",
            "ws://localhost:8765",
        ),
        ("http://[::1]:8765", "::1", 8765, False, "http://[::1]:8765", "ws://[::1]:8765"),
        ("http://example.org", "example.org", 80, False, "http://example.org", "ws://example.org"),
    ],
)
def test_server_address(url: str, host: str, port: int, tls: bool, http: str, ws: str) -> None:
    address = ServerAddress.parse(url)
    assert (address.host, address.port, address.tls) == (host, port, tls)
    assert (address.http_url, address.ws_url) == (http, ws)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("ftp://host", "must start with"),
        ("http://host:99999", "port"),
        ("http://:8765", "no host"),
        ("http://host:abc", "port"),
    ],
)
def test_bad_server_addresses(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ServerAddress.parse(url)


async def test_latency_and_clock_against_the_server(server: Server) -> None:
    result = await measure_latency(ServerAddress.parse(server.url), samples=4)
    figures = result.figures
    assert (figures.sent, figures.replies, figures.error) == (4, 4, None)
    assert figures.rtt_ms is not None and 0 < figures.rtt_ms < 1000
    # Same machine, same clock: the offset is within the server's millisecond rounding
    # plus half a round trip.
    assert result.offset_s is not None and abs(result.offset_s) < 0.05


async def test_download_against_the_server(server: Server) -> None:
    result = await measure_download(ServerAddress.parse(server.url), size=3_000_000)
    assert result.error is None
    assert result.bytes == 3_000_000
    assert result.mbps is not None and result.mbps > 10  # loopback


async def test_upload_against_the_server(server: Server) -> None:
    result = await measure_upload(ServerAddress.parse(server.url))
    assert result.error is None
    assert result.bytes > UPLOAD_PROBE_BYTES  # the sized second message got through
    assert result.mbps is not None and result.mbps > 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_reported_not_raised() -> None:
    address = ServerAddress.parse(f"http://127.0.0.1:{_free_port()}")
    latency = await measure_latency(address)
    assert latency.figures.replies == 0 and latency.figures.sent == 1  # no pointless retries
    assert latency.figures.error is not None and "refused" in latency.figures.error
    assert latency.offset_s is None
    download = await measure_download(address)
    assert download.mbps is None and download.error and "refused" in download.error
    upload = await measure_upload(address)
    assert upload.mbps is None and upload.error and "refused" in upload.error


@asynccontextmanager
async def tcp_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[ServerAddress]:
    srv = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield ServerAddress("127.0.0.1", port, False)
    finally:
        srv.close()
        await srv.wait_closed()


async def test_a_server_that_never_answers_is_time_boxed() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    async with tcp_server(silent) as address:
        started = time.monotonic()
        latency = await measure_latency(address, samples=2, timeout_s=0.3)
        download = await measure_download(address, seconds=0.3)
        upload = await measure_upload(address, seconds=0.3)
        release.set()
    assert time.monotonic() - started < 5
    assert latency.figures.replies == 0 and latency.figures.error == "no answer in time"
    assert download.mbps is None and download.error == "no data arrived in time"
    assert upload.mbps is None and upload.error == "no answer in time"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not HTTP"),
        (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}", "not ready"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!", "malformed"),
        (
            b'HTTP/1.1 200 OK\r\nContent-Length: 39\r\n\r\n{"status": "ok", "server_time": "noon"}',
            "malformed",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", "cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n{}", "too large"),
    ],
)
async def test_a_server_speaking_nonsense(answer: bytes, words: str) -> None:
    async def nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with tcp_server(nonsense) as address:
        latency = await measure_latency(address, samples=1)
    assert latency.figures.replies == 0
    assert latency.figures.error is not None and words in latency.figures.error
