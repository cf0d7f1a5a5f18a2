"""``proctor-client check --server URL [--json] [--camera ...] [--mic ...]``: the environment
self-check (R10, R11). Exit status 0 only when every required check passes; 1 otherwise;
2 for bad command-line input (a missing file, a camera that cannot be opened is a failed
check, not a usage error)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import msgspec

from proctor_client.check.model import CheckReport, CheckResult, Phase, Progress, Status
from proctor_client.check.network import ServerAddress
from proctor_client.check.probes import ProbeInputs
from proctor_client.check.runner import CheckSettings, run_environment_check
from proctor_client.check.system import default_screens
from proctor_client.devices.cameras import check_camera_spec
from proctor_client.devices.microphones import check_microphone_spec
from proctor_client.devices.screens import FixedScreens
from shared.errors import ConfigError

_MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL"}


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "check",
        help="check this computer, its devices and its connection before the exam",
        description="The environment self-check: camera, microphone, operating system, "
        "screens, virtual machine and virtual camera signs, and the connection to the exam "
        "server. Exit status 0 only when every required check passes.",
    )
    parser.add_argument(
        "--server", required=True, metavar="URL", help="the exam server, e.g. http://host:8765"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--camera",
        default="0",
        metavar="DEVICE|synthetic|FILE",
        help="camera: a device number (default 0), a device path, 'synthetic' or a video file",
    )
    parser.add_argument(
        "--mic",
        default="default",
        metavar="DEVICE|silence|tone|FILE",
        help="microphone: 'default', a device number or name, 'silence', 'tone' or a WAV file",
    )
    parser.add_argument(
        "--screens",
        type=int,
        default=None,
        metavar="N",
        help="take the number of screens as N instead of counting them (testing, demos)",
    )
    parser.add_argument(
        "--probe-inputs",
        type=Path,
        default=None,
        metavar="FILE",
        help="read the virtual-machine probes' inputs from this JSON file instead of this "
        "computer (replaying a support case, testing)",
    )
    parser.set_defaults(run=run)


def load_probe_inputs(path: Path) -> ProbeInputs:
    """A JSON object with any of ProbeInputs' fields; ConfigError when unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--probe-inputs {str(path)!r}: {exc.strerror or exc}") from None
    try:
        return msgspec.json.decode(data, type=ProbeInputs)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"--probe-inputs {str(path)!r} is not valid: {exc}") from None


def format_figure(result: CheckResult) -> str:
    if result.figure is None:
        return "not measured"
    unit = result.unit
    if result.figure == 1 and unit in ("screens", "cameras", "signals"):
        unit = unit[:-1]
    return f"{result.figure} {unit}".strip()


def print_result(result: CheckResult, out: TextIO) -> None:
    needed = "" if result.required else " (advice only)"
    print(f"  {_MARK[result.status]}  {result.title}{needed}: {format_figure(result)}", file=out)
    print(f"        {result.message}", file=out)
    if result.advice and result.status is not Status.PASS:
        print(f"        What to do: {result.advice}", file=out)
    out.flush()


def print_summary(report: CheckReport, out: TextIO) -> None:
    blocking = [r.title for r in report.checks if r.blocks]
    warnings = [r.title for r in report.checks if r.status is Status.WARN]
    if report.passed:
        extra = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})" if warnings else ""
        print(f"Result: this computer is ready for the exam{extra}.", file=out)
    else:
        print(f"Result: not ready. Fix: {', '.join(blocking)}.", file=out)


def run(args: argparse.Namespace) -> int:
    check_camera_spec(args.camera)  # a typo is a usage error, not a failed check
    check_microphone_spec(args.mic)
    ServerAddress.parse(args.server)
    screens = FixedScreens.count(args.screens) if args.screens is not None else default_screens()
    probe_inputs = load_probe_inputs(args.probe_inputs) if args.probe_inputs else None
    settings = CheckSettings(
        server=args.server,
        camera=args.camera,
        microphone=args.mic,
        screens=screens,
        probe_inputs=probe_inputs,
    )
    out = sys.stdout

    def show(progress: Progress) -> None:
        if progress.phase is Phase.FINISHED and progress.result is not None:
            print_result(progress.result, out)

    if not args.json:
        print(f"Checking this computer and its connection to {args.server} ...", file=out)
        out.flush()
    report = asyncio.run(run_environment_check(settings, None if args.json else show))
    if args.json:
        json.dump(report.to_json(), out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        print_summary(report, out)
    if not report.passed:
        failed = ", ".join(str(r.id) for r in report.checks if r.blocks)
        print(f"proctor-client: check failed: {failed}", file=sys.stderr)
        return 1
    return 0
