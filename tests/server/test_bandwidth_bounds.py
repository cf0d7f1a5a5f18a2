"""The speed tests cannot be turned against the server: a bounded number run at once, the rest
are told to come back; the plain download is small; every download is streamed."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from proctor_server.app import Server
from proctor_server.bandwidth import MAX_TESTS
from proctor_server.http import MAX_DOWNLOAD


async def test_only_so_many_speed_tests_run_at_once(server: Server) -> None:
    async with AsyncExitStack() as held:
        for _ in range(MAX_TESTS):
            ws = await held.enter_async_context(connect(server.ws_url + "/ws/bandwidth"))
            await ws.send(b"x")
            await ws.recv()  # acknowledged: this test is running
        async with connect(server.ws_url + "/ws/bandwidth") as extra:
            with pytest.raises(ConnectionClosed) as closed:
                await extra.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    # once those are done, a new one runs
    async with connect(server.ws_url + "/ws/bandwidth") as ws:
        await ws.send(b"x")
        assert '"bytes": 1' in str(await ws.recv())


async def test_the_plain_download_is_small(server: Server) -> None:
    url = f"{server.url}/bandwidth?bytes={MAX_DOWNLOAD + 1}"
    with pytest.raises(HTTPError, match="400"):
        await asyncio.to_thread(urlopen, url, timeout=5)


async def test_a_malformed_download_request_is_an_error_not_a_crash(server: Server) -> None:
    async with connect(server.ws_url + "/ws/bandwidth") as ws:
        await ws.send('{"type": "download", "bytes": -5}')
        assert '"protocol_error"' in str(await ws.recv())
        await ws.send(b"still here")
        assert '"bytes": 10' in str(await ws.recv())
