"""How well the detectors do, on real photographs that installed packages ship (scikit-image's
astronaut and its LFW subset of 100 faces and 100 non-faces) composed into generated webcam
frames with camera noise and JPEG.

Prints, per flag: precision and recall per frame (the frame-level decision before the
tracker's persistence rules); the false flags per hour on a clean simulated exam (snapshots
every 30 s, through the tracker, including brief harmless moments); and how each detector
behaves on dark, blurred and masked faces.

    python bench/vision_eval.py [--frames 100] [--hours 2]
        [--parts real scenes gaze smallest frames sequences exam degraded]
        [--runtime litert|opencv]
        [--variant small-detector|one-eye|both]

`real`: the hand-labelled real photographs (per-condition precision and recall, identity);
`scenes`: another person, badges and reflections composed from them (`vision_scenes.py`);
`gaze`: the eyes' rotation measured on each real portrait; `smallest`: the face width from which
the detector finds each person of the set (not run by default). `--runtime opencv` runs the
first three parts with OpenCV's DNN module instead of LiteRT (`shared/vision/runtime.py`): the
figures must not change.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision_scenes import gaze_on_portraits, scenes, smallest_faces
from vision_set import load_set, score_detection, score_identity
from vision_variants import VARIANTS, with_variant

from shared.vision.faces import MATCH_DISTANCE, face_distance
from shared.vision.frame import FrameAnalysis, analyze_image, decode_image
from shared.vision.models import FaceModels, load_models, with_runtime
from shared.vision.rules import Before, Neutral, conditions
from shared.vision.runtime import available_runtimes
from shared.vision.tracker import AttemptTracker, Open
from tests.shared.vision import frames as F

T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
Frame = np.ndarray


def live(image: Frame, rng: np.random.Generator) -> Frame:
    out = decode_image(F.camera(image, rng, sigma=float(rng.uniform(0.8, 2.5))))
    assert out is not None
    return out


def candidate_variant(rng: np.random.Generator) -> Frame:
    """The registered candidate at the desk, moving a little: size, position, side, light."""
    width = int(rng.integers(260, 380))
    center = (int(rng.integers(220, 420)), int(rng.integers(220, 280)))
    frame = F.candidate(width, center, seed=int(rng.integers(0, 5)), flip=bool(rng.integers(0, 2)))
    return F.darken(frame, float(rng.uniform(0.7, 1.1)))


def second_person(rng: np.random.Generator, index: int) -> Frame:
    frame = F.candidate(int(rng.integers(240, 300)), (180, 250), seed=int(rng.integers(0, 5)))
    width = int(rng.integers(170, 240))
    return F.place(frame, F.lfw_face(index, width), width, (int(rng.integers(440, 520)), 230))


def stranger(rng: np.random.Generator, index: int) -> Frame:
    width = int(rng.integers(240, 340))
    center = (int(rng.integers(240, 400)), int(rng.integers(220, 280)))
    return F.place(F.room(int(rng.integers(0, 5))), F.lfw_face(index, width), width, center)


def empty(rng: np.random.Generator, index: int) -> Frame:
    room = F.room(int(rng.integers(0, 50)))
    if index % 2:  # something face-sized but not a face: a LFW non-face patch on the wall
        return F.place(room, F.lfw_patch(index % 100), int(rng.integers(150, 260)), (320, 240))
    return room


def decide(frame: FrameAnalysis, references: dict[str, list[float]]) -> set[str]:
    active, _ = conditions(frame, Neutral(), references)
    return set(active)


def score(
    name: str,
    kind: str,
    positives: Iterable[Frame],
    negatives: Iterable[Frame],
    refs: dict[str, list[float]],
) -> None:
    tp = fn = fp = tn = 0
    for image in positives:
        if kind in decide(analyze_image(image), refs):
            tp += 1
        else:
            fn += 1
    for image in negatives:
        if kind in decide(analyze_image(image), refs):
            fp += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    print(
        f"  {name:<18} precision {precision:6.3f}  recall {recall:6.3f}   "
        f"(tp {tp}, fn {fn}, fp {fp}, tn {tn})"
    )


def reference() -> dict[str, list[float]]:
    ref = analyze_image(F.astronaut()).embedding
    assert ref is not None
    return {"identity": ref}


def per_frame(n: int, rng: np.random.Generator) -> None:
    refs = reference()
    print(f"Per-frame decisions ({n} positive and {n} negative frames per flag):")
    score(
        "face absent",
        "face_absent",
        (live(empty(rng, i), rng) for i in range(n)),
        (live(candidate_variant(rng), rng) for _ in range(n)),
        refs,
    )
    score(
        "another person",
        "multiple_faces",
        (live(second_person(rng, i % 100), rng) for i in range(n)),
        (
            live(F.with_badge(int(rng.integers(0, 5)), int(rng.integers(60, 170))), rng)
            if i % 2
            else live(candidate_variant(rng), rng)
            for i in range(n)
        ),
        refs,
    )
    score(
        "different person",
        "identity_mismatch",
        (live(stranger(rng, i % 100), rng) for i in range(n)),
        (live(candidate_variant(rng), rng) for _ in range(n)),
        refs,
    )


def lfw_pairs(rng: np.random.Generator) -> None:
    """Identity at low resolution: LFW's 25-pixel faces, the same photo re-shot (shift, flip,
    noise) against different people's photos."""
    descriptors: dict[int, list[float]] = {}
    for i in range(100):
        found = analyze_image(F.place(F.room(1), F.lfw_face(i, 260), 260, (320, 240))).embedding
        if found is not None:
            descriptors[i] = found
    same: list[float] = []
    for i, base in list(descriptors.items())[:40]:
        moved = F.place(F.room(2), F.lfw_face(i, 230)[:, ::-1], 230, (280, 250))
        found = analyze_image(live(moved, rng)).embedding
        if found is not None:
            same.append(face_distance(base, found))
    keys = list(descriptors)
    other = [
        face_distance(descriptors[a], descriptors[b])
        for k, a in enumerate(keys)
        for b in keys[k + 1 :]
    ]
    s, o = np.array(same), np.array(other)
    print(
        f"  LFW 25-px faces: {len(descriptors)}/100 usable; same photo re-shot: distance median "
        f"{np.median(s):.3f}, max {s.max():.3f}; different photos: median {np.median(o):.3f}, "
        f"{(o <= 0.6).mean():.1%} of {o.size} pairs within 0.6 (the subset repeats some people, "
        "and 25-px faces carry little identity)"
    )


def simulated_exam(hours: float, rng: np.random.Generator) -> None:
    """A clean candidate for `hours`, a snapshot every 30 s, with harmless moments that each
    last one snapshot: bent out of view (2%), too dark when a cloud passes (2%)."""
    refs = reference()
    tracker = AttemptTracker()
    raised: list[str] = []
    previous = None
    frames = int(hours * 120)
    started = time.perf_counter()
    harmless_before = False
    for i in range(frames):
        roll = rng.random()
        if harmless_before:  # each harmless moment lasts one snapshot: 30 s out of view is not
            roll = 1.0
        harmless_before = roll < 0.04
        if roll < 0.02:
            image = empty(rng, 0)  # bent down for a pencil: one frame
        elif roll < 0.04:
            image = F.darken(candidate_variant(rng), 0.25)  # a cloud
        else:
            image = candidate_variant(rng)
        frame = analyze_image(live(image, rng), previous=previous)
        previous = frame.signature
        active, unknown = conditions(frame, Neutral(), refs)
        actions = tracker.observe(T0 + timedelta(seconds=30 * i), f"s{i}", active, unknown)
        raised += [a.kind for a in actions if isinstance(a, Open)]
    suspicious = [k for k in raised if k != "low_evidence_quality"]
    print(
        f"Clean simulated exam: {hours:g} h, {frames} snapshots, {len(suspicious)} suspicious "
        f"flags ({len(suspicious) / hours:.2f} per hour){': ' + ', '.join(suspicious) if suspicious else ''}; "
        f"{raised.count('low_evidence_quality')} low-evidence notes; "
        f"{(time.perf_counter() - started) / frames * 1000:.0f} ms per snapshot"
    )


def run_sequence(
    frames: list[Frame], rng: np.random.Generator, refs: dict[str, list[float]]
) -> list[str]:
    """Frames 30 s apart through the rules and the tracker: the violations opened."""
    tracker = AttemptTracker()
    before: Before | None = None
    previous = None
    opened: list[str] = []
    for i, image in enumerate(frames):
        frame = analyze_image(live(image, rng), previous=previous)
        active, unknown = conditions(frame, Neutral(), refs, before)
        previous, before = frame.signature, Before.of(frame)
        actions = tracker.observe(T0 + timedelta(seconds=30 * i), f"s{i}", active, unknown)
        opened += [a.kind for a in actions if isinstance(a, Open)]
    return opened


def sequences(n: int, rng: np.random.Generator) -> None:
    """Violations (not frames) over 4-snapshot sequences: a poster of a face on the wall
    behind a candidate who moves as people do, against a second person who moves too."""
    refs = reference()
    poster_flags = helper_found = poster_seen = 0
    for k in range(n):
        index = int(rng.integers(0, 100))
        size = int(rng.integers(100, 125))
        spot = (int(rng.integers(470, 560)), int(rng.integers(110, 200)))
        wall = F.place(F.room(k % 5), F.lfw_face(index, size), size, spot)
        frames = [
            F.place(wall, F.astronaut_head(), 300, (200 + int(rng.integers(0, 40)), 270))
            for _ in range(4)
        ]
        poster_seen += analyze_image(live(frames[0], rng), embed=False).face_count >= 2
        poster_flags += "multiple_faces" in run_sequence(frames, rng, refs)
        helper = [second_person(rng, index) for _ in range(4)]
        helper_found += "multiple_faces" in run_sequence(helper, rng, refs)
    print(
        f"Sequences of 4 snapshots ({n} each): a poster of a face behind the candidate "
        f"(counted as a second face in a single frame {poster_seen} times) raised 'another "
        f"person' {poster_flags} times; a second person who moves was flagged {helper_found}/{n}"
    )


def degradations() -> None:
    refs = reference()
    base = F.candidate(320, (320, 250), seed=1)
    box = analyze_image(base).faces[0].box
    cases: list[tuple[str, Callable[[], Frame]]] = [
        ("clean", lambda: base),
        *[(f"dark x{f}", lambda f=f: F.darken(base, f)) for f in (0.5, 0.3, 0.2, 0.12)],
        *[(f"blur {s}px", lambda s=s: F.blur(base, s)) for s in (1.0, 2.0, 3.0, 5.0)],
        ("masked", lambda: F.mask_lower_face(base, box)),
        ("masked, dark x0.3", lambda: F.darken(F.mask_lower_face(base, box), 0.3)),
        ("covered lens", lambda: F.cover(base)),
        ("black frame", lambda: F.black(base)),
    ]
    print("Degraded frames of the registered candidate (what each detector sees, and the flags):")
    print(f"  {'case':<18} faces  quality                 identity  pose (yaw, pitch)  conditions")
    rng = np.random.default_rng(9)
    for name, make in cases:
        frame = analyze_image(live(make(), rng))
        q = frame.quality
        quality = "ok" if q.ok else ",".join(q.reasons)
        ident = (
            "-"
            if frame.embedding is None
            else f"{face_distance(frame.embedding, refs['identity']):.3f}"
        )
        pose = "-" if frame.pose is None else f"{frame.pose.yaw:+.0f}, {frame.pose.pitch:+.0f}"
        active, unknown = conditions(
            frame, Neutral(frame.pose.yaw, frame.pose.pitch) if frame.pose else Neutral(), refs
        )
        flags = ",".join(sorted(active)) or "none"
        print(
            f"  {name:<18} {frame.face_count:>5}  {quality:<22}  {ident:>8}  {pose:>17}  {flags} (unknown: {','.join(sorted(unknown)) or '-'})"
        )


def real_set(models: FaceModels) -> None:
    """The hand-labelled real photographs (bench/vision_real_set.toml)."""
    images = load_set()

    def count(image: Frame) -> int:
        return analyze_image(image, models, embed=False).face_count

    def describe(image: Frame) -> Frame | None:
        vector = analyze_image(image, models, embed=True).embedding
        return None if vector is None else np.asarray(vector)

    started = time.perf_counter()
    print(f"Real photographs: {len(images)} labelled images, faces counted per image")
    for line in score_detection(images, count):
        print(line)
    print(f"Identity on the real photographs (match below {MATCH_DISTANCE}):")
    for line in score_identity(images, describe, MATCH_DISTANCE):
        print(line)
    print(f"  ({time.perf_counter() - started:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="frames per class and flag")
    parser.add_argument("--hours", type=float, default=2.0, help="length of the simulated exam")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["real", "scenes", "gaze", "frames", "sequences", "exam", "degraded"],
        help="what to run",
    )
    parser.add_argument("--sequences", type=int, default=30, help="poster and helper sequences")
    parser.add_argument(
        "--runtime", choices=available_runtimes(), help="of the TFLite models (default: LiteRT)"
    )
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        help="less model work per snapshot, kept out of the product (vision_variants.py): "
        "its cost in accuracy on the real, scenes and gaze parts",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    models = load_models()
    if args.runtime:
        models = with_runtime(models, args.runtime)
    if args.variant:
        models = with_variant(models, args.variant)
    print(f"TFLite runtime: {models.blazeface.runtime}; variant: {args.variant or 'none'}")
    if "real" in args.parts:
        real_set(models)
    if "scenes" in args.parts:
        for line in scenes(models):
            print(line, flush=True)
    if "gaze" in args.parts:
        for line in gaze_on_portraits(models=models):
            print(line, flush=True)
    if "smallest" in args.parts:
        for line in smallest_faces(models):
            print(line, flush=True)
    if "frames" in args.parts:
        per_frame(args.frames, rng)
        lfw_pairs(rng)
    if "sequences" in args.parts:
        sequences(args.sequences, rng)
    if "exam" in args.parts:
        simulated_exam(args.hours, rng)
    if "degraded" in args.parts:
        degradations()
    return 0


if __name__ == "__main__":
    sys.exit(main())
