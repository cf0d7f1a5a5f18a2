"""The snapshot analyzer against a real store: lasting conditions become one violation each,
poor evidence is never a suspicion, calibrations carry from the identity photo and the trial."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from proctor_server.store import SqliteStore
from proctor_server.vision import build_analysis, risk_score
from proctor_server.vision.calibration import Calibration
from shared.vocabulary import Mode
from tests.shared.vision import frames as F
from tests.vision.conftest import T0, World, snapshot

TICK = os.sysconf("SC_CLK_TCK")

ASTRONAUT = F.jpeg(F.astronaut())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def run(world: World, attempt: str, frames: list[bytes], start: int = 0) -> list[str]:
    """Feed snapshots 30 s apart; the kinds of the drafts returned (opened violations)."""
    raised: list[str] = []
    for i, jpeg in enumerate(frames, start):
        drafts = await world.analyzer.analyze(attempt, f"snap{i}", jpeg, at(30 * i))
        raised += [d.kind for d in drafts]
    return raised


async def entered(world: World, name: str, reference: bytes | None = None) -> str:
    attempt = await world.attempt(name, reference=reference)
    verdict = await world.identity.check(attempt, F.jpeg(F.candidate(360, (320, 260))), reference)
    assert verdict.accepted, verdict.reasons
    return attempt


async def test_a_clean_exam_raises_nothing(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    frames = [
        snapshot(F.candidate(300 + 10 * (i % 3), (320 + 8 * (i % 4), 250), seed=1), i)
        for i in range(8)
    ]
    assert await run(world, attempt, frames) == []
    assert await world.store.violations(attempt) == []


async def test_leaving_is_one_violation_with_a_span(world: World) -> None:
    attempt = await entered(world, "ann")
    present = [snapshot(F.candidate(seed=1), i) for i in range(2)]
    gone = [snapshot(F.empty_room(1), 10 + i) for i in range(4)]
    back = [snapshot(F.candidate(seed=1), 20 + i) for i in range(2)]
    raised = await run(world, attempt, present + gone + back)
    assert raised == ["face_absent"]  # returned once, when it opened
    (violation,) = await world.store.violations(attempt)
    assert violation.kind == "face_absent" and violation.source == "server"
    assert violation.server_at == at(60) and violation.ended_at == at(150)
    assert violation.evidence["snapshots"] == ["snap2", "snap3", "snap4", "snap5"]
    assert violation.evidence["frames"] == 4
    assert 0.5 <= violation.confidence <= 1.0


async def test_a_single_empty_frame_is_not_a_flag(world: World) -> None:
    attempt = await entered(world, "ann")
    frames = [
        snapshot(F.candidate(seed=1), 0),
        snapshot(F.empty_room(1), 1),
        snapshot(F.candidate(seed=1), 2),
    ]
    assert await run(world, attempt, frames) == []


async def test_another_person(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    # people are never still: both move a little between snapshots
    frames = [snapshot(F.candidate(seed=1), 0)] + [
        snapshot(F.two_people(1, shift=4 * i), i) for i in range(1, 4)
    ]
    assert await run(world, attempt, frames) == ["multiple_faces"]
    (violation,) = await world.store.violations(attempt)
    assert violation.evidence["last"]["faces"] == 2


async def test_a_badge_is_not_another_person(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    frames = [snapshot(F.with_badge(1, 120), i) for i in range(4)]
    assert await run(world, attempt, frames) == []


async def test_someone_else_takes_the_seat(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    frames = [snapshot(F.candidate(seed=1), 0)] + [
        snapshot(F.other_person(3, 300), i) for i in range(1, 4)
    ]
    assert await run(world, attempt, frames) == ["identity_mismatch"]
    (violation,) = await world.store.violations(attempt)
    assert set(violation.evidence["last"]["distances"]) == {"identity", "reference"}
    assert min(violation.evidence["last"]["distances"].values()) > 0.6


async def test_a_frozen_feed(world: World) -> None:
    attempt = await entered(world, "ann")
    still = snapshot(F.candidate(seed=1), 0)
    assert await run(world, attempt, [still] * 4) == ["camera_frozen"]
    live = [snapshot(F.candidate(seed=1), 10 + i) for i in range(4)]
    assert await run(world, attempt, live, start=4) == []
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at == at(90)


async def test_poor_evidence_is_never_a_suspicion(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    # another person, but too dark or too blurred to tell: never a suspicion
    dark = [snapshot(F.darken(F.other_person(3), 0.2), i) for i in range(3)]
    blurred = [snapshot(F.blur(F.other_person(3), 10), i) for i in range(3, 6)]
    raised = await run(world, attempt, dark + blurred)
    assert set(raised) <= {"low_evidence_quality"}
    kinds = {v.kind for v in await world.store.violations(attempt)}
    assert kinds == {"low_evidence_quality"}
    assert risk_score(await world.store.violations(attempt)).score == 0.0


async def test_a_covered_camera(world: World) -> None:
    attempt = await entered(world, "ann")
    covered = [snapshot(F.cover(F.candidate(), seed=i), i) for i in range(3)]
    assert await run(world, attempt, covered) == ["camera_blocked"]


async def test_looking_away_is_measured_from_the_calibrated_neutral_pose(world: World) -> None:
    frames = [snapshot(F.candidate(seed=1), i) for i in range(3)]
    # a candidate whose neutral pose faces 45° to the side: the frontal frames are "away"
    tilted = await world.attempt("eve")
    await world.analyzer.calibrations.put(tilted, "t-eve", Calibration("identity", 45.0, 0.0), T0)
    assert await run(world, tilted, frames) == ["looking_away"]
    # the same frames for a candidate calibrated facing the camera: nothing
    straight = await entered(world, "fay")
    assert await run(world, straight, frames) == []


async def test_the_trial_calibrates_the_exam(world: World) -> None:
    trial = await world.attempt("gus", mode=Mode.TRIAL)
    await run(world, trial, [snapshot(F.candidate(seed=1), i) for i in range(4)])
    calibration = await world.analyzer.calibrations.trial_of_ticket("t-gus")
    assert calibration is not None and calibration.samples == 4
    assert calibration.yaw is not None and abs(calibration.yaw) < 15
    exam = await world.attempt("gus", mode=Mode.EXAM, ticket="t-gus")
    await run(world, exam, [snapshot(F.candidate(seed=1), 9)])
    state = world.analyzer._attempts[exam]
    assert state.calibration is not None and state.calibration.source == "trial"


async def test_unreadable_snapshots_are_skipped(world: World) -> None:
    attempt = await entered(world, "ann")
    assert await run(world, attempt, [b"\xff\xd8 broken", b""]) == []
    assert await world.store.violations(attempt) == []


async def test_close_ends_open_violations(world: World) -> None:
    attempt = await entered(world, "ann")
    await run(world, attempt, [snapshot(F.empty_room(1), i) for i in range(3)])
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at is None
    await world.analyzer.close()
    await world.analyzer.close()  # idempotent
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at == at(60)
    assert await world.analyzer.analyze(attempt, "late", ASTRONAUT, at(90)) == []


async def test_finish_ends_the_attempt_s_violations_and_its_risk_stops_growing(
    world: World,
) -> None:
    attempt = await entered(world, "ann")
    other = await entered(world, "bob")
    await run(world, attempt, [snapshot(F.empty_room(1), i) for i in range(3)])
    await run(world, other, [snapshot(F.empty_room(1), i) for i in range(3)])
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at is None
    await world.analyzer.finish(attempt, at(75))
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at == at(60)  # the last frame that showed the empty seat
    violations = await world.store.violations(attempt)
    assert risk_score(violations, at(75)) == risk_score(violations, at(7500))
    # later snapshots of a finished attempt raise nothing; other attempts go on
    assert await run(world, attempt, [snapshot(F.empty_room(1), i) for i in range(3, 6)]) == []
    assert len(await world.store.violations(attempt)) == 1
    (still_open,) = await world.store.violations(other)
    assert still_open.ended_at is None


async def test_finish_never_ends_a_violation_after_the_finish(world: World) -> None:
    attempt = await entered(world, "ann")
    await run(world, attempt, [snapshot(F.empty_room(1), i) for i in range(3)])
    await world.analyzer.finish(attempt, at(45))  # the attempt ended before the last frame
    (violation,) = await world.store.violations(attempt)
    assert violation.ended_at == at(45)


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's live children: the analysis pool's
    workers, started by spawning."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it ended meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


async def test_the_process_pool_keeps_the_event_loop_free(tmp_path: Path) -> None:
    """dlib holds the GIL for a whole detection: analysis must run in another process. Told
    by where the CPU went and by the loop turning during every call, not by how long a turn
    took (which a loaded machine stretches whatever the design)."""
    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    identity, analyzer, _ = build_analysis(store)
    try:
        photo = F.jpeg(F.candidate(360, (320, 260)))
        assert (await identity.check("nobody", photo, ASTRONAUT)).accepted  # models load
        turns = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal turns
            while not done.is_set():
                await asyncio.sleep(0.002)
                turns += 1

        rng = np.random.default_rng(0)
        photos = [F.camera(F.candidate(360, (320, 260)), rng) for _ in range(4)]
        snapshots = [F.camera(F.candidate(), rng) for _ in range(4)]
        task = asyncio.create_task(ticker())
        turned: list[int] = []
        here, there = time.process_time(), _children_cpu()
        for i in range(4):
            for call in (
                identity.check("nobody", photos[i], ASTRONAUT),
                analyzer.analyze("nobody", f"s{i}", snapshots[i], at(30 * i)),
            ):
                before = turns
                await call
                turned.append(turns - before)
        here, there = time.process_time() - here, _children_cpu() - there
        done.set()
        await task
        # each call waited on a worker's detection (tens of ms of CPU), and the loop turned
        assert all(n > 0 for n in turned), turned
        # the detections' CPU was spent in the worker; in this process dlib's passes would
        # have cost as much again here and nothing there
        assert there > 0.1, (here, there)
        assert here < there / 3, (here, there)
    finally:
        await analyzer.close()
        await store.close()


async def test_a_masked_candidate_is_not_gone(world: World, models: object) -> None:
    from shared.vision.frame import analyze_image

    attempt = await entered(world, "ann")
    frames = []
    for i, (width, dx) in enumerate([(300, 0), (320, 40), (360, -40)]):
        image = F.candidate(width, (320 + dx, 250), seed=i)
        box = analyze_image(image).faces[0].box
        frames.append(snapshot(F.mask_lower_face(image, box), i))
    assert await run(world, attempt, frames) == []


def poster_scene(candidate_x: int, seed: int) -> bytes:
    """The candidate moving in front of a poster of a face on the wall behind (the poster's
    face is large enough to count as a person on its own)."""
    wall = F.place(F.room(2), F.lfw_face(5, 115), 115, (520, 160))
    return snapshot(F.place(wall, F.astronaut_head(), 300, (candidate_x, 270)), seed)


async def test_a_poster_of_a_face_is_not_another_person(world: World) -> None:
    attempt = await entered(world, "ann", ASTRONAUT)
    frames = [poster_scene(220 + 12 * (i % 3), i) for i in range(5)]
    assert await run(world, attempt, frames) == []


async def test_a_person_who_leans_in_is_another_person(world: World) -> None:
    """The second face is larger than the candidate's and both move a little."""
    attempt = await entered(world, "ann", ASTRONAUT)
    frames = []
    for i in range(4):
        scene = F.candidate(240, (170 + 5 * i, 250), seed=1)
        helper = F.place(scene, F.lfw_face(5, 230), 230, (470 - 6 * i, 230 + 2 * i))
        frames.append(snapshot(helper, i))
    assert "multiple_faces" in await run(world, attempt, frames)
