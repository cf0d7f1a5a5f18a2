"""`proctor-client take`: take an exam (or the trial) from a script, with the same runtime as
the app and no window. Prints progress lines, or one JSON summary with --json."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from proctor_client.core.conduct import RULES_VERSION
from proctor_client.core.state import ClientState, Phase, QuestionView
from proctor_client.media.publisher import MediaSources
from proctor_client.outbox import default_path
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import CameraPhotos
from shared.errors import ConfigError, ProctorError
from shared.questions import parse_bank
from shared.vocabulary import EventKind, Mode

log = logging.getLogger(__name__)

PHOTO_TRIES = 3
DEFAULT_MAIL_TO = ("Test Candidate", "00000000000", "1 Test Street", "000000")


class TakeError(ProctorError):
    """The exam could not be taken to its result (refused, unreachable, timed out)."""


# ---------------------------------------------------------------- answer plans


class _AnswersFile(msgspec.Struct):
    answers: dict[str, list[str]]


Plan = Callable[[QuestionView], list[str]]


def load_plan(path: Path) -> Plan:
    """An answers file: a question bank (answers its `answer` options) or
    {"answers": {"question text": ["option text", ...]}}. ConfigError when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--answers {path}: {exc.strerror or exc}") from None
    key: dict[str, list[str]]
    try:
        bank = parse_bank(data, source=f"--answers {path}")
        key = {q.text: [q.options[i] for i in q.answer] for q in bank}
    except ConfigError as bank_error:
        try:
            key = msgspec.json.decode(data, type=_AnswersFile).answers
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise ConfigError(
                f"{bank_error.message} (nor is it an answers file: "
                '{"answers": {"question text": ["option text"]}})'
            ) from None

    def plan(q: QuestionView) -> list[str]:
        wanted = key.get(q.text, [])
        return [o.id for o in q.options if o.text in wanted]

    return plan


def random_plan(seed: int | None) -> Plan:
    rng = random.Random(seed)

    def plan(q: QuestionView) -> list[str]:
        ids = [o.id for o in q.options]
        if not q.multiple:
            return [rng.choice(ids)]
        return sorted(rng.sample(ids, rng.randint(1, len(ids))), key=ids.index)

    return plan


def no_answers(q: QuestionView) -> list[str]:
    return []


# ---------------------------------------------------------------- driving the runtime


@dataclass
class Options:
    server: str
    ticket: str
    mode: Mode
    plan: Plan
    camera: str
    mic: str
    media: bool
    outbox: Path
    connect_timeout: float
    timeout: float | None
    mail_to: tuple[str, str, str, str]
    say: Callable[[str], None]
    pace: float = 0.0
    leave_once: bool = False


async def drive(
    runtime: ExamRuntime,
    *,
    plan: Plan = no_answers,
    mail_to: tuple[str, str, str, str] = DEFAULT_MAIL_TO,
    connect_timeout: float = 30.0,
    say: Callable[[str], None] = lambda line: None,
    pace: float = 0.0,
    leave_once: bool = False,
) -> ClientState:
    """Walk a started runtime through entry, the paper and the submission, as a candidate
    would; return the final state (phase RESULT). TakeError when it cannot get there.
    The load generator and `take` both use this; bound it with `asyncio.timeout`.

    Like a person (the demo): `pace` seconds on each question on average, and with
    `leave_once` the exam screen left once, halfway, for a few seconds."""
    try:
        async with asyncio.timeout(connect_timeout):
            state = await runtime.wait_for(
                lambda s: s.phase not in (Phase.CONNECTING, Phase.OFFLINE)
            )
    except TimeoutError:
        raise TakeError(
            f"cannot reach the server at {runtime.url} (tried {runtime.state.connect_failures}"
            f" times in {connect_timeout:g} s)"
        ) from None
    if state.welcomed and state.exam is not None:
        say(
            f"connected: {state.exam.title} ({state.mode}), candidate {state.candidate_code}"
            + (" (resumed)" if state.resumed else "")
        )
    if state.welcomed:  # a script accepts the rules the app would show (R16)
        runtime.accept_rules(RULES_VERSION)
    photos_sent = 0
    answered = False
    while True:
        phase = state.phase
        if phase is Phase.IDENTITY and state.identity_pending is None and state.connected:
            if photos_sent >= PHOTO_TRIES:
                raise TakeError(
                    "the identity photo was refused: " + "; ".join(state.identity_reasons)
                )
            if state.identity_reasons:
                say("identity photo refused: " + "; ".join(state.identity_reasons))
            assert runtime.photos is not None
            runtime.send_identity_photo(await runtime.photos.capture())
            photos_sent += 1
        elif phase is Phase.PROFILE:
            runtime.send_profile(*mail_to)
            say("postal address given")
        elif phase is Phase.WAITING_ROOM:
            left = state.seconds_to_start(runtime.clock())
            say(f"waiting room: the exam starts in {left or 0:.0f} s")
        elif phase is Phase.EXAM and not answered:
            say(f"paper: {len(state.questions)} questions")
            await answer_paper(runtime, plan, pace=pace, leave_once=leave_once, say=say)
            answered = True
            state = await runtime.wait_for(lambda s: s.unsaved_count == 0 or s.phase != Phase.EXAM)
            if state.phase is Phase.EXAM:
                say(f"answered {state.answered_count}, all saved; submitting")
                runtime.submit()
        elif phase is Phase.RESULT:
            return state
        elif phase in (Phase.ERROR, Phase.CLOSED):
            error = state.error
            if error is None:
                raise TakeError("the runtime stopped before the result")
            raise TakeError(f"{error.code}: {error.message}")
        state = await runtime.wait_for(functools.partial(_moved, state))


LEAVE_S = 4.0  # how long the paced candidate stays away from the exam screen


async def answer_paper(
    runtime: ExamRuntime,
    plan: Plan,
    *,
    pace: float = 0.0,
    leave_once: bool = False,
    say: Callable[[str], None] = lambda line: None,
) -> None:
    """Answer every question of the paper by `plan`; with `pace`, spread out in time."""
    rng = random.Random()
    questions = runtime.state.questions
    for n, q in enumerate(questions, 1):
        if pace > 0:
            await asyncio.sleep(pace * rng.uniform(0.5, 1.5))  # thinking, as a person would
            if runtime.state.phase is not Phase.EXAM:
                return  # time up or ended meanwhile
        choice = plan(q)
        if choice and tuple(choice) != q.chosen:
            runtime.answer(q.id, choice)
            if pace > 0:
                say(f"answered question {n} of {len(questions)}")
        if leave_once and n == (len(questions) + 1) // 2:
            # The system says so in several ways; the app counts one leave.
            runtime.report_event(EventKind.APP_INACTIVE, {"demo": True})
            runtime.report_event(EventKind.FOCUS_LOST, {"demo": True})
            say(f"left the exam screen for {LEAVE_S:g} s")
            await asyncio.sleep(LEAVE_S)
            runtime.report_event(EventKind.APP_ACTIVE, {"demo": True})
            runtime.report_event(EventKind.FOCUS_BACK, {"demo": True})
            say(f"back on the exam screen (warnings left: {runtime.state.warnings_left})")


def _moved(before: ClientState, now: ClientState) -> bool:
    return (
        now.phase is not before.phase
        or now.identity_pending != before.identity_pending
        or now.identity_reasons != before.identity_reasons
        or (now.connected and not before.connected)
    )


async def take(opts: Options) -> ClientState:
    from proctor_client.devices import CameraReader, open_camera
    from proctor_client.devices.base import close_device
    from proctor_client.devices.microphones import open_microphone

    camera = CameraReader(open_camera(opts.camera))
    microphone = open_microphone(opts.mic) if opts.media else None
    try:
        info = await _client_info(camera.name)
        media = MediaSources(camera=camera, microphone=microphone) if opts.media else None
        runtime = ExamRuntime(
            opts.server,
            opts.ticket,
            mode=opts.mode,
            outbox_path=opts.outbox,
            photos=CameraPhotos(camera),
            client_info=info,
            media=media,
        )
        try:
            runtime.start()
            async with asyncio.timeout(opts.timeout):
                return await drive(
                    runtime,
                    plan=opts.plan,
                    mail_to=opts.mail_to,
                    connect_timeout=opts.connect_timeout,
                    say=opts.say,
                    pace=opts.pace,
                    leave_once=opts.leave_once,
                )
        except TimeoutError:
            raise TakeError(
                f"no result within {opts.timeout:g} s (at {runtime.state.phase.value})"
            ) from None
        finally:
            await runtime.close()
    finally:
        await camera.aclose()
        if microphone is not None:
            await close_device(microphone)


async def _client_info(camera_name: str) -> dict[str, Any]:
    info: dict[str, Any] = {"app": "proctor-client", "headless": True}
    try:
        from proctor_client.check.capture_software import read_capture_software
        from proctor_client.check.system import read_device_signals

        info.update(await asyncio.to_thread(read_device_signals, None, camera_in_use=camera_name))
        info.update(await asyncio.to_thread(read_capture_software))
    except Exception as exc:  # device signals are evidence, never a reason not to start
        log.info("no device signals: %s", exc)
    return info


def summary(state: ClientState | None, error: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"phase": state.phase.value if state else "error", "error": error}
    if state is not None:
        out.update(
            mode=state.mode,
            attempt=state.session,
            resumed=state.resumed,
            questions=len(state.questions),
            answered=state.answered_count,
            warnings=len(state.warnings),
        )
        if state.result is not None:
            r = state.result
            out.update(
                score=r.score,
                max_score=r.max_score,
                passed=r.passed,
                reason=r.reason,
                counts=r.counts,
            )
    return out


# ---------------------------------------------------------------- command line


def _mail_to(text: str) -> tuple[str, str, str, str]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError("give NAME|PHONE|ADDRESS|POSTCODE, all four non-empty")
    return parts[0], parts[1], parts[2], parts[3]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "take",
        help="take an exam or the trial without a window (scripts, load tests)",
        description="Take an exam (or the trial) from a script with the app's runtime: "
        "identity photo from the camera, postal address, answers, submission, result.",
    )
    parser.add_argument("--server", required=True, help="server URL (http://HOST:PORT)")
    parser.add_argument("--ticket", required=True, help="the admission ticket token")
    answers = parser.add_mutually_exclusive_group()  # one of them is required (see run)
    answers.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help='a question bank, or {"answers": {"question text": ["option text"]}}',
    )
    answers.add_argument("--random", action="store_true", help="answer at random")
    parser.add_argument("--seed", type=int, default=None, help="seed for --random")
    parser.add_argument("--trial", action="store_true", help="take the trial exam (R12)")
    parser.add_argument("--camera", default="synthetic", help="DEVICE|synthetic|FILE")
    parser.add_argument(
        "--mic", default="tone", help="live audio: DEVICE|default|silence|tone[:HZ]|FILE.wav"
    )
    parser.add_argument("--no-media", action="store_true", help="publish no live audio and video")
    parser.add_argument(
        "--outbox", type=Path, default=None, help="the local outbox file (default: per user)"
    )
    parser.add_argument(
        "--mail-to",
        type=_mail_to,
        default=DEFAULT_MAIL_TO,
        metavar="NAME|PHONE|ADDRESS|POSTCODE",
        help="the postal address for the certificate",
    )
    parser.add_argument(
        "--connect-timeout", type=_seconds, default=30.0, help="give up reaching the server"
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=None, help="give up without a result after S s"
    )
    parser.add_argument(
        "--pace",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="spend about S seconds on each question, as a person would (demos)",
    )
    parser.add_argument(
        "--leave-once",
        action="store_true",
        help="leave the exam screen once, halfway, for a few seconds (demos)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.answers is not None:
        plan = load_plan(args.answers)
    elif args.random:
        plan = random_plan(args.seed)
    else:
        raise ConfigError(
            "give --answers FILE or --random: without answers `take` would hand in a blank "
            "paper and use up the ticket"
        )
    quiet: Callable[[str], None] = lambda line: None  # noqa: E731
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {line}", flush=True)

    opts = Options(
        server=args.server,
        ticket=args.ticket,
        mode=Mode.TRIAL if args.trial else Mode.EXAM,
        plan=plan,
        camera=args.camera,
        mic=args.mic,
        media=not args.no_media,
        outbox=args.outbox or default_path(),
        connect_timeout=args.connect_timeout,
        timeout=args.timeout,
        mail_to=args.mail_to,
        say=quiet if args.json else say,
        pace=args.pace,
        leave_once=args.leave_once,
    )
    try:
        state = asyncio.run(take(opts))
    except ProctorError as exc:
        if args.json:
            print(json.dumps(summary(None, exc.message), ensure_ascii=False))
        raise
    if args.json:
        print(json.dumps(summary(state, None), ensure_ascii=False))
    else:
        r = state.result
        assert r is not None
        verdict = "passed" if r.passed else "not passed"
        extra = "" if r.counts else " (trial: nothing counts)"
        say(f"result: {r.score}/{r.max_score}, {verdict} ({r.reason}){extra}")
    sys.stdout.flush()
    return 0
