"""`proctor-client gui` (the default command): the candidate's desktop app.

PySide6 is imported only when the command runs, so `proctor-client check` works on a machine
without a display or without Qt's libraries.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from shared.errors import ConfigError


def register(sub: Any) -> None:
    parser = sub.add_parser("gui", help="the candidate's exam app (the default command)")
    parser.add_argument("--server", default="", help="the exam server's address (http://HOST:PORT)")
    parser.add_argument(
        "--ticket", default="", help="the admission ticket; with --server, enters at once"
    )
    parser.add_argument(
        "--camera", default="0", help="a device number, a device path, 'synthetic' or a video file"
    )
    parser.add_argument(
        "--mic", default="default", help="a device, 'silence', 'tone' or a WAV file"
    )
    parser.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="the UI language (default: the system's)"
    )
    parser.add_argument(
        "--smoke-exit-after-ready",
        action="store_true",
        help="print 'ready SCREEN' once the first screen is shown, then exit 0 (for tests)",
    )
    parser.set_defaults(run=run)


def has_display(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt can open a window here (Linux needs X11, Wayland or an explicit platform)."""
    if not platform.startswith("linux"):
        return True
    return any(environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def run(args: argparse.Namespace) -> int:
    if not has_display(os.environ):
        raise ConfigError(
            "no display: run the app on a desktop (or set QT_QPA_PLATFORM=offscreen, or use xvfb-run)"
        )
    try:
        from proctor_client.ui.app import GuiOptions, run_gui
    except ImportError as exc:
        raise ConfigError(f"the desktop app needs PySide6 and qasync: {exc}") from None
    options = GuiOptions(
        server=args.server.strip(),
        ticket="".join(args.ticket.split()),
        camera=args.camera,
        mic=args.mic,
        lang=args.lang,
        smoke_exit_after_ready=args.smoke_exit_after_ready,
    )
    return run_gui(options)
