"""CPU of the candidate's desktop app during an exam, as a share of one core (target < 25 %
while it publishes live audio and video; 15 % was the aim before live media), read against baselines measured in the same run.

The app is the real one, a separate process (`python -m proctor_client.cli gui --server URL
--ticket T --camera synthetic --mic tone`, Qt's offscreen platform), against a real server
(`proctor-server serve`, a subprocess) holding an exam that has already started, with a short
snapshot interval. CPU time is user + system from /proc/<pid>/stat (all the process's threads),
read at the start and the end of a fixed window.

The identity photo and the postal address are given first through the public runtime
(`ExamRuntime`, the one the app drives) on the same ticket; the server remembers both, so the
app, entering with that ticket, resumes straight onto the exam screen, where it shows the paper
(countdown, watermark), sends a camera snapshot every `--snapshot-interval` seconds and
publishes its camera and microphone live (WebRTC, 320x240 at 15 frames a second at most, and
the microphone's tone as the app's own voice Opus, mono at 24 kb/s, to the server's media
process). The window starts once a snapshot from the app has reached the
server's store and a proctor's feed shows the app's live media as `live`; the snapshots that
arrived during the window are counted in the store afterwards, and the feed must still show
the media live at its end.

The app shows the rules of conduct before it enters (once per run of the app): the app is
started through a small wrapper (`APP_WITH_CONSENT`) that ticks the rules screen's box and
clicks its accept button when the screen is shown, as the candidate would.

The exam screen shows no camera preview: the live preview runs on the identity-photo screen
only (the camera's reader reads the synthetic camera at its 15 frames a second while the
preview paints about 10 of them; between snapshots on the exam screen nothing reads it). So
the run measures, each in its own window:

1. the app on the exam screen (snapshots every S seconds, live audio and video published),
2. the app on the identity-photo screen (live preview), a second ticket,
3. the app idle on its start screen (no server, no ticket: the camera is opened, not read),
4. the bare camera loop: synthetic camera read + JPEG encode at the preview's 10 frames a
   second, in a subprocess with nothing else.

    python bench/client_cpu.py [--window 30] [--baseline-window 15] [--snapshot-interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sitting import cpu_seconds

from proctor_client.core.conduct import RULES_VERSION
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.cameras import open_camera
from proctor_client.runtime.model import Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import CameraPhotos
from proctor_server.core.session import ticket_key
from shared import proctor_protocol as pp
from shared.vocabulary import Mode

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "proctor_server" / "demo_questions.json"
TARGET_PERCENT = 25.0  # while publishing 320x240 at 15 frames a second (15 before live media)
PREVIEW_FPS = 10.0  # proctor_client.ui.main_window.PREVIEW_INTERVAL_S = 0.1

BARE_CAMERA_LOOP = r"""
import sys, time
from proctor_client.devices.cameras import open_camera
from proctor_client.devices.jpeg import encode_jpeg
period = 1.0 / float(sys.argv[1])
camera = open_camera("synthetic")
encode_jpeg(camera.read())
print("ready", flush=True)
due = time.monotonic()
while True:
    encode_jpeg(camera.read())
    due += period
    time.sleep(max(0.0, due - time.monotonic()))
"""


APP_WITH_CONSENT = r"""
import sys
from PySide6.QtCore import QTimer
from proctor_client.ui import rules_screen
shown = rules_screen.RulesScreen.reset
def reset(screen):
    shown(screen)
    def consent():
        screen.agree.setChecked(True)
        screen.accept_button.click()
    QTimer.singleShot(500, consent)
rules_screen.RulesScreen.reset = reset
from proctor_client.cli import main
sys.exit(main(sys.argv[1:]))
"""


def measure(proc: subprocess.Popen[str], seconds: float) -> float:
    """The process's CPU over the next `seconds`, as a percentage of one core."""
    if proc.poll() is not None:
        raise SystemExit(
            f"bench: process {proc.args!r} exited ({proc.returncode}) before the window"
        )
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(seconds)  # the measurement window itself, not a synchronisation
    cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
    if proc.poll() is not None:
        raise SystemExit(
            f"bench: process {proc.args!r} exited ({proc.returncode}) during the window"
        )
    return 100.0 * (cpu1 - cpu0) / (t1 - t0)


def settle(proc: subprocess.Popen[str], *, limit: float = 20.0) -> None:
    """Wait until a freshly started process has finished starting up (imports, Qt, the first
    paint burn a whole core): its CPU stays under 30 % of a core for two half seconds in a
    row (bounded by `limit` seconds)."""
    deadline = time.monotonic() + limit
    calm = 0
    while calm < 2 and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: process {proc.args!r} exited ({proc.returncode})")
        before = cpu_seconds(proc.pid)
        time.sleep(0.5)  # a sampling interval
        calm = calm + 1 if cpu_seconds(proc.pid) - before < 0.15 else 0


def wait_until(
    what: str, check: Callable[[], bool], proc: subprocess.Popen[str], limit: float
) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if proc.poll() is not None:
            raise SystemExit(f"bench: the app exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: no {what} within {limit:g} s")
        time.sleep(0.2)  # polling the server's store from outside


def server_cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "proctor_server.cli", *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: proctor-server {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


class ServerStore:
    """Read-only queries on the running server's SQLite store (which keeps tickets by their
    keyed hash, `ticket_key`)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def _one(self, sql: str, *args: object) -> int:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5.0) as conn:
            row = conn.execute(sql, args).fetchone()
        return int(row[0]) if row else 0

    def snapshots(self, ticket: str) -> int:
        return self._one(
            "SELECT count(*) FROM photos p JOIN attempts a ON a.id = p.attempt_id"
            " WHERE a.ticket = ? AND a.mode = 'exam' AND p.kind = 'snapshot'",
            ticket_key(ticket),
        )

    def attempts(self, ticket: str) -> int:
        return self._one(
            "SELECT count(*) FROM attempts WHERE ticket = ? AND mode = 'exam'", ticket_key(ticket)
        )


async def media_status(server: str, token: str) -> str:
    """The live-media status a proctor's feed shows for the exam's attempts ("live", "no live
    video", or "none" before any offer), read from the snapshot a new sign-in gets."""
    import websockets

    url = server.replace("http://", "ws://") + f"/ws/proctor?token={token}"
    async with websockets.connect(url, max_size=None) as ws:
        async with asyncio.timeout(10):
            while True:
                message = pp.decode_feed(await ws.recv())
                if isinstance(message, pp.Snapshot):
                    break
    seen = {a.media.value for a in message.attempts if a.media is not None}
    return "live" if "live" in seen else ", ".join(sorted(seen)) or "none"


async def enter(server: str, ticket: str, outbox: Path) -> None:
    """Give the identity photo and the address on `ticket` through the app's runtime, and stop
    once the paper is open (the app resumes there)."""
    camera = CameraReader(open_camera("synthetic"))
    runtime = ExamRuntime(
        server, ticket, mode=Mode.EXAM, outbox_path=outbox, photos=CameraPhotos(camera)
    )
    runtime.accept_rules(RULES_VERSION)  # as the app's rules screen has the candidate do
    try:
        runtime.start()
        async with asyncio.timeout(30):
            state = await runtime.wait_for(lambda s: s.phase is Phase.IDENTITY)
            runtime.send_identity_photo(await CameraPhotos(camera).capture())
            state = await runtime.wait_for(lambda s: s.phase is not Phase.IDENTITY)
            if state.phase is Phase.PROFILE:
                runtime.send_profile(
                    "Bench Candidate", "+86 138 0000 0000", "1 Bench Road, Beijing", "100000"
                )
            state = await runtime.wait_for(
                lambda s: s.phase in (Phase.EXAM, Phase.ERROR, Phase.CLOSED)
            )
        if state.phase is not Phase.EXAM:
            raise SystemExit(f"bench: could not open the paper: {state.phase.value} {state.error}")
    finally:
        await runtime.close()
        await camera.aclose()


def start_app(home: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PROCTOR_CLIENT_HOME=str(home))
    args = [
        sys.executable,
        "-c",
        APP_WITH_CONSENT,
        "gui",
        "--camera",
        "synthetic",
        "--mic",
        "tone",
        "--lang",
        "en",
        *extra,
    ]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "app.log", "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)


def stop_app(app: subprocess.Popen[str], home: Path, what: str) -> None:
    """Close the app as a window manager would (SIGTERM closes the window in order) and
    say so when it did not exit cleanly or logged an error."""
    stop(app)
    text = (home / "app.log").read_text(errors="replace")
    if app.returncode != 0 or "Traceback" in text or "ERROR" in text:
        tail = "\n".join(text.splitlines()[-15:])
        print(
            f"bench: the app ({what}) exited {app.returncode}; its log ends:\n{tail}",
            file=sys.stderr,
        )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the app and the server both shut down in order
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--window", type=float, default=30.0, help="exam-screen window, seconds")
    parser.add_argument(
        "--baseline-window", type=float, default=15.0, help="each baseline's window"
    )
    parser.add_argument(
        "--snapshot-interval", type=int, default=5, help="the exam's snapshot interval, seconds"
    )
    opts = parser.parse_args()
    started = time.monotonic()
    procs: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory(prefix="client-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "exam.sqlite"
        starts_at = (datetime.now(UTC) - timedelta(minutes=2)).isoformat(timespec="seconds")
        exam = server_cli(
            "exam", "create", "--db", str(db), "--title", "CPU bench", "--starts-at", starts_at,
            "--duration-min", "180", "--questions", str(QUESTIONS),
            "--snapshot-interval", str(opts.snapshot_interval), "--warning-limit", "0",
        )  # fmt: skip
        exam_ticket = server_cli(
            "ticket", "--db", str(db), "--exam", exam, "--candidate", "Wang Fang"
        )
        photo_ticket = server_cli(
            "ticket", "--db", str(db), "--exam", exam, "--candidate", "Li Lei"
        )
        proctor = server_cli("proctor", "add", "--db", str(db), "--exam", exam, "--name", "Bench")
        server = subprocess.Popen(
            [sys.executable, "-m", "proctor_server.cli", "serve", "--db", str(db), "--port", "0", "--analysis", "basic"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        procs.append(server)
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if not line.startswith("listening on"):
                raise SystemExit(f"bench: the server did not start: {line!r}")
            url = line.split()[-1]
            store = ServerStore(db)

            # 1. The app on the exam screen, snapshots every S seconds.
            asyncio.run(enter(url, exam_ticket, tmp / "entry-outbox.sqlite"))
            home = tmp / "home-exam"
            app = start_app(home, "--server", url, "--ticket", exam_ticket)
            procs.append(app)
            before_app = store.snapshots(exam_ticket)
            wait_until(
                "snapshot from the app", lambda: store.snapshots(exam_ticket) > before_app, app, 30
            )
            wait_until(
                "live media from the app",
                lambda: asyncio.run(media_status(url, proctor)) == "live",
                app,
                30,
            )
            n0 = store.snapshots(exam_ticket)
            exam_cpu = measure(app, opts.window)
            arrived = store.snapshots(exam_ticket) - n0
            media_after = asyncio.run(media_status(url, proctor))
            stop_app(app, home, "exam screen")

            # 2. The app on the identity-photo screen, live preview.
            home = tmp / "home-photo"
            app = start_app(home, "--server", url, "--ticket", photo_ticket)
            procs.append(app)
            wait_until(
                "welcome on the photo ticket", lambda: store.attempts(photo_ticket) > 0, app, 30
            )
            settle(app)
            preview_cpu = measure(app, opts.baseline_window)
            stop_app(app, home, "identity-photo screen")

            # 3. The app idle on its start screen.
            home = tmp / "home-idle"
            app = start_app(home)
            procs.append(app)
            settle(app)
            idle_cpu = measure(app, opts.baseline_window)
            stop_app(app, home, "start screen")

            # 4. The bare camera loop at the preview's frame rate.
            bare = subprocess.Popen(
                [sys.executable, "-c", BARE_CAMERA_LOOP, str(PREVIEW_FPS)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            procs.append(bare)
            assert bare.stdout is not None
            if bare.stdout.readline().strip() != "ready":
                raise SystemExit("bench: the bare camera loop did not start")
            bare_cpu = measure(bare, opts.baseline_window)
            stop(bare)
        finally:
            for proc in reversed(procs):
                stop(proc)

    expected = opts.window / opts.snapshot_interval
    verdict = "within" if exam_cpu < TARGET_PERCENT else "OVER"
    print(
        f"client CPU during exam (snapshots every {opts.snapshot_interval} s, live audio and"
        f" video published, no preview on the exam screen): {exam_cpu:.1f}% of one core (target < {TARGET_PERCENT:g}%: {verdict});"
        f" idle app: {idle_cpu:.1f}%; bare camera loop ({PREVIEW_FPS:g} frames/s read + JPEG):"
        f" {bare_cpu:.1f}%"
    )
    print(
        f"client CPU on the identity-photo screen (live preview ~{PREVIEW_FPS:g} frames/s):"
        f" {preview_cpu:.1f}% of one core ({preview_cpu / bare_cpu:.1f}x the bare camera loop)"
        if bare_cpu > 0
        else f"client CPU on the identity-photo screen (live preview): {preview_cpu:.1f}%"
    )
    print(
        f"server store: {arrived} snapshots arrived from the app during the {opts.window:g} s"
        f" window (expected ~{expected:.0f})"
    )
    print(f"exam window {opts.window:g} s, baseline windows {opts.baseline_window:g} s;"
          f" total run {time.monotonic() - started:.0f} s; {os.cpu_count()} CPUs, load"
          f" {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"live media in the proctor's feed: live before the window, {media_after} at its end")
    if arrived == 0:
        print("bench: no snapshot arrived during the window", file=sys.stderr)
        return 1
    if media_after != "live":
        print("bench: the app's live media was not live at the end of the window", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
