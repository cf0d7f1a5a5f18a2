"""`proctor-server media`: the live-media process that `serve` starts and supervises (unless
`--media-in-process`; proctor_server/media/media_process.py). Not for running by hand: it talks to its
server over the socket it inherits and stops when that socket closes."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any


def register(sub: Any) -> None:
    media = sub.add_parser("media", help="the live-media process of `serve` (started by it)")
    media.add_argument("--fd", type=int, required=True, help="the socket inherited from serve")
    media.set_defaults(run=run_media)


def run_media(args: argparse.Namespace) -> int:
    from proctor_server.media.media_process import serve_channel

    # Ctrl-C in a terminal reaches the whole group: the server decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(serve_channel(args.fd))
    return 0
