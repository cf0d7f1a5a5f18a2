"""The operator's capacity knobs: the listen backlog the kernel is given, and the store's
commit grouping, from the command line to the running server."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from proctor_server.app import Server, ServerConfig
from proctor_server.cli import build_parser, main
from proctor_server.commands.exam import run_serve
from proctor_server.store import SqliteStore
from proctor_server.store.sqlite.database import CommitPolicy


def listen_queue(port: int) -> int:
    """The backlog of a listening socket as the kernel reports it (`ss`: Send-Q)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[2])


@pytest.mark.parametrize("backlog", [64, 1000])
async def test_the_listen_backlog_reaches_the_kernel(tmp_path: Path, backlog: int) -> None:
    server = Server(ServerConfig(db=tmp_path / "e.db", port=0, backlog=backlog))
    await server.start()
    try:
        assert listen_queue(server.port) == backlog
    finally:
        await server.close()


def test_the_serve_command_takes_the_knobs() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--db",
            "x.db",
            "--backlog",
            "8192",
            "--commit-window-ms",
            "2",
            "--commit-max",
            "64",
        ]
    )
    assert (args.backlog, args.commit_window_ms, args.commit_max) == (8192, 2.0, 64)
    assert args.run is run_serve
    defaults = build_parser().parse_args(["serve", "--db", "x.db"])
    assert (defaults.backlog, defaults.commit_window_ms, defaults.commit_max) == (4096, 2.0, 512)


async def test_the_commit_knobs_reach_the_store(tmp_path: Path) -> None:
    server = Server(ServerConfig(db=tmp_path / "e.db", port=0, commit_window_ms=2.5, commit_max=7))
    assert isinstance(server.store, SqliteStore)
    assert server.store.policy == CommitPolicy(2.5, 7)


@pytest.mark.parametrize(
    "knob", [["--backlog", "0"], ["--commit-max", "0"], ["--commit-window-ms", "-1"]]
)
def test_a_knob_out_of_range_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], knob: list[str]
) -> None:
    assert main(["serve", "--db", str(tmp_path / "e.db"), *knob]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("proctor-server: error:") and "\n" not in err


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0", (0,)), ("0-1", (0, 1)), ("1,0", (0, 1)), ("0, 1", (0, 1)), ("0,0-1", (0, 1))],
)
def test_media_cpus_are_read_as_a_list_or_ranges(text: str, cpus: tuple[int, ...]) -> None:
    if max(cpus) >= (os.cpu_count() or 1):
        pytest.skip("this machine has fewer CPUs")
    args = build_parser().parse_args(["serve", "--db", "x.db", "--media-cpus", text])
    assert args.media_cpus == cpus


@pytest.mark.parametrize(
    "knob",
    [
        ["--media-cpus", "two"],
        ["--media-cpus", "1-"],
        ["--media-cpus", "4096"],  # not a CPU of this machine
        ["--media-cpus", "0", "--media-in-process"],
        ["--media-cpus", "0", "--no-media"],
    ],
)
def test_media_cpus_that_cannot_be_used_are_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], knob: list[str]
) -> None:
    with contextlib.suppress(SystemExit):  # argparse's own errors exit with status 2
        assert main(["serve", "--db", str(tmp_path / "e.db"), *knob]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error:" in err and "cpus" in err.lower()
