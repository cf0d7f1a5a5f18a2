"""`proctor-client`: the candidate's app (`gui`, the default), the environment self-check
(`check`) and the headless runtime. Each command lives in its own module and registers here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from shared.errors import ProctorError

# Modules that each define `register(subparsers)`; a feature adds its module here.
COMMAND_MODULES: tuple[str, ...] = (
    "proctor_client.check.command",
    "proctor_client.ui.command",
    "proctor_client.runtime.command",
)
DEFAULT_COMMAND = "gui"
GLOBAL_FLAGS = frozenset({"-v", "--verbose"})


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    parser = argparse.ArgumentParser(
        prog="proctor-client", description="The candidate's exam app and environment check."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser, set(sub.choices)


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `proctor-client [-v] --server URL` means `proctor-client [-v] gui --server URL`.
    at = 0
    while at < len(args_list) and args_list[at] in GLOBAL_FLAGS:
        at += 1
    first = args_list[at] if at < len(args_list) else None
    if DEFAULT_COMMAND in commands and first not in commands and first not in ("-h", "--help"):
        args_list.insert(at, DEFAULT_COMMAND)
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args) or 0)
    except ProctorError as exc:
        print(f"proctor-client: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
