"""The client's command line: `gui` is the default command, after any global flag."""

from __future__ import annotations

import pytest

from proctor_client import cli


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--server", "ws://h:1"], "gui"),
        (["-v", "--server", "ws://h:1"], "gui"),
        (["--verbose", "gui", "--server", "ws://h:1"], "gui"),
        (["check", "--server", "ws://h:1"], "check"),
        (["-v", "check", "--server", "ws://h:1"], "check"),
    ],
)
def test_the_default_command(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], command: str
) -> None:
    seen: list[str] = []
    parser, commands = cli.build_parser()

    def fake_parse(args: list[str]) -> object:
        seen.extend(args)
        raise SystemExit(0)

    monkeypatch.setattr(cli, "build_parser", lambda: (parser, commands))
    monkeypatch.setattr(parser, "parse_args", fake_parse)
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert command in seen
    flags = [a for a in argv if a in cli.GLOBAL_FLAGS]
    assert seen[: len(flags)] == flags and seen[len(flags)] == command
