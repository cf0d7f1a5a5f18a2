"""A page of another site cannot open the proctor feed or the bandwidth socket; the server's
own page and the candidate app (no Origin) can."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from proctor_server import admin
from proctor_server.app import Server
from tests.server.conftest import MakeExam


@pytest.mark.parametrize("path", ["/ws/proctor", "/ws/bandwidth", "/ws/candidate"])
async def test_another_sites_page_is_refused(server: Server, path: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url + path, origin="https://evil.example.com"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_the_servers_own_page_and_the_app_are_let_in(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam()
    token = await admin.proctor_token(server.store, exam.id)
    own = f"http://127.0.0.1:{server.port}"
    async with connect(f"{server.ws_url}/ws/proctor?token={token}", origin=own) as feed:  # type: ignore[arg-type]
        assert '"snapshot"' in str(await feed.recv())
    async with connect(server.ws_url + "/ws/bandwidth") as ws:  # no Origin: not a browser
        await ws.send(b"\x00" * 10)
        assert '"bytes": 10' in str(await ws.recv())
