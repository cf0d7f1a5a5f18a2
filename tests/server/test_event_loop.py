"""`serve --event-loop`: which loop the exam server runs on (uvloop where it can, asyncio's
where aiortc runs in the process), and a real server process serving a candidate on each."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from proctor_client.core.conduct import RULES_VERSION
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import CameraPhotos
from proctor_server import event_loop
from proctor_server.cli import main
from shared.errors import ConfigError
from tests.media.peers import palette_sources
from tests.server.scripted import Candidate
from tests.server.test_restart import exam_db  # noqa: F401 (the fixture)
from tests.support.server_process import ServerProcess


@pytest.mark.parametrize(
    ("choice", "aiortc_here", "installed", "loop"),
    [
        ("auto", False, True, "uvloop"),
        ("auto", True, True, "asyncio"),  # aiortc in this process: asyncio's loop
        ("auto", False, False, "asyncio"),  # no uvloop on this machine (Windows)
        ("uvloop", False, True, "uvloop"),
        ("asyncio", False, True, "asyncio"),
        ("asyncio", True, False, "asyncio"),
        ("uvloop", True, True, "--media-in-process"),
        ("uvloop", False, False, "not installed"),
    ],
)
def test_the_loop_chosen(
    monkeypatch: pytest.MonkeyPatch, choice: str, aiortc_here: bool, installed: bool, loop: str
) -> None:
    if not installed:  # a machine without uvloop
        monkeypatch.setattr(event_loop, "_uvloop", lambda: None)
    if loop in ("uvloop", "asyncio"):
        name, factory = event_loop.choose(choice, aiortc_here=aiortc_here)
        made = factory()
        try:
            assert name == loop and type(made).__module__.split(".")[0] == loop
        finally:
            made.close()
    else:
        with pytest.raises(ConfigError, match=loop):
            event_loop.choose(choice, aiortc_here=aiortc_here)


def test_uvloop_with_media_in_process_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--db", str(tmp_path / "e.db"), "--event-loop", "uvloop"]
    assert main([*argv, "--media-in-process"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("proctor-server: error:") and "asyncio" in err and "\n" not in err


@pytest.mark.parametrize("flag", [[], ["--event-loop", "asyncio"]])
async def test_a_server_process_serves_on_the_loop_it_names(
    exam_db: tuple[Path, str, list[str]],  # noqa: F811
    tmp_path: Path,
    flag: list[str],
) -> None:
    db, _, (ticket, _) = exam_db
    log = tmp_path / "serve.log"
    server = ServerProcess(db, *flag, log=log)
    try:
        expected = "asyncio" if flag else "uvloop"
        assert f"event loop: {expected}" in log.read_text()
        c = await Candidate.connect(server.ws_url)
        welcome, paper = await c.enter(ticket)
        question = paper.questions[0]
        await c.expect_ack(await c.answer(question.id, [question.options[0].id]))
        await c.close()
        assert welcome.session
    finally:
        server.stop()


async def test_a_candidate_goes_live_through_a_server_on_uvloop(
    exam_db: tuple[Path, str, list[str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The exam server on uvloop, its media process on asyncio's loop: the candidate app's
    offer, the answer and the ICE candidates pass between them (the gateway's channel to its
    process, the process's own start under uvloop) and the app's live media comes up."""
    db, _, (ticket, _) = exam_db
    log = tmp_path / "serve.log"
    server = ServerProcess(db, log=log)
    runtime = ExamRuntime(
        server.ws_url,
        ticket,
        outbox_path=tmp_path / "outbox.sqlite3",
        photos=CameraPhotos(CameraReader(SyntheticCamera(realtime=False))),
        backoff=Backoff(base=0.02, cap=0.2),
        media=palette_sources(),
    )
    runtime.accept_rules(RULES_VERSION)
    runtime.start()
    try:
        assert "event loop: uvloop" in log.read_text()
        async with asyncio.timeout(60):
            state = await runtime.wait_for(lambda s: s.media == "live")
        assert state.session is not None
    finally:
        await runtime.close()
        server.stop()
