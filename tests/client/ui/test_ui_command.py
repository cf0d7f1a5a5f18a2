"""The `gui` command's options and its one-line errors, and the Qt screens probe."""

from __future__ import annotations

import argparse

import pytest

from proctor_client.cli import build_parser, main
from proctor_client.devices.base import ScreenGeometry, Screens
from proctor_client.ui.command import has_display
from proctor_client.ui.screens_qt import QtScreens


def test_gui_is_registered_and_the_default() -> None:
    parser, commands = build_parser()
    assert "gui" in commands
    args = parser.parse_args(
        [
            "gui",
            "--server",
            "http://h:1",
            "--ticket",
            "T",
            "--camera",
            "synthetic",
            "--mic",
            "tone",
            "--lang",
            "zh",
        ]
    )
    assert (args.server, args.ticket, args.camera, args.mic, args.lang) == (
        "http://h:1",
        "T",
        "synthetic",
        "tone",
        "zh",
    )
    assert isinstance(args, argparse.Namespace) and not args.smoke_exit_after_ready


def test_a_bad_language_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--lang", "fr"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_no_display_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    if not has_display({}):  # only Linux needs a display variable
        assert main(["gui"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("proctor-client: error: no display") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_has_display(environ: dict[str, str], platform: str, expected: bool) -> None:
    assert has_display(environ, platform) is expected


def test_qt_screens_lists_the_primary_screen(qapp: object) -> None:
    screens = QtScreens()
    assert isinstance(screens, Screens)
    found = screens.geometries()
    assert len(found) == screens.count() >= 1
    assert all(isinstance(g, ScreenGeometry) and g.width > 0 and g.height > 0 for g in found)
