"""`proctor-server`: the staff command line. Each command group lives in its own module under
`proctor_server.commands` and registers itself here; errors become one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from shared.errors import ProctorError

# Modules that each define `register(subparsers)`; a feature adds its module here.
COMMAND_MODULES: tuple[str, ...] = (
    "proctor_server.commands.exam",
    "proctor_server.commands.proctors",
    "proctor_server.commands.demo",
    "proctor_server.commands.programme",
    "proctor_server.commands.calendar",
    "proctor_server.commands.analyze",
    "proctor_server.commands.evidence",
    "proctor_server.commands.mailing",
    "proctor_server.commands.workers",
    "proctor_server.commands.media",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proctor-server", description="Online exam proctoring server and staff tools."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # one line per connection is noise at exam-day volumes
        for noisy in ("websockets", "aioice", "aiortc"):  # per-connection detail
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.run(args) or 0)
    except ProctorError as exc:
        print(f"proctor-server: error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"proctor-server: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
