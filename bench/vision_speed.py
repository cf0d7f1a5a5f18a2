"""Analysis time per 640×480 snapshot, as a multiple of decoding that JPEG (measured in the
same run), its stages (detection, head pose from the face mesh, gaze from the iris model,
quality), and the identity embedding time per face.

    python bench/vision_speed.py [--repeat 30] [--threads 1]

`--threads` is OpenCV's thread count (the DNN models use it): 1 measures one core, which is
what one worker process of the pool gets when the machine is busy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proctor_server.vision.analyzer import IDENTITY_EVERY
from shared.vision.faces import detect_faces, embedding, prepare
from shared.vision.frame import analyze_image, decode_image
from shared.vision.models import FaceModels, load_models
from tests.shared.vision import frames as F


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    print(f"OpenCV threads: {cv2.getNumThreads()}; load average {_load()}")
    started = time.perf_counter()
    models = load_models()
    load_ms = (time.perf_counter() - started) * 1000
    rng = np.random.default_rng(0)
    plain_one = decode_one = 1.0
    stages: dict[str, float] = {}
    scenes = {
        "one face": F.candidate(),
        "two faces": F.two_people(),
        "empty room": F.empty_room(1),
    }
    print(f"model load (once per process): {load_ms:.0f} ms")
    print(
        f"{'snapshot (640×480)':<20} {'decode':>8} {'analysis':>9} {'ratio':>6} {'+identity':>10} {'ratio':>6}"
    )
    for name, scene in scenes.items():
        jpeg = F.camera(scene, rng)
        image = decode_image(jpeg)
        assert image is not None
        decode_ms = timed(partial(decode_image, jpeg), args.repeat * 5)
        previous = analyze_image(image, models, embed=False).signature
        plain = timed(
            partial(analyze_image, image, models, embed=False, previous=previous), args.repeat
        )
        full = timed(
            partial(analyze_image, image, models, embed=True, previous=previous),
            max(5, args.repeat // 3),
        )
        if name == "one face":
            plain_one, decode_one = plain, decode_ms
            stages = _stages(image, models, previous, args.repeat)
        print(
            f"{name:<20} {decode_ms:7.2f}ms {plain:8.1f}ms {plain / decode_ms:5.0f}× "
            f"{full:9.1f}ms {full / decode_ms:5.0f}×"
        )
    print("one face, stages (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    image = decode_image(F.camera(F.candidate(), rng))
    assert image is not None
    prepared = prepare(image)
    _, rects = detect_faces(models, prepared)
    rect = rects[0]
    embed_ms = timed(lambda: embedding(models, prepared, rect), max(5, args.repeat // 3))
    hog_ms = timed(lambda: models.detector.run(prepared.gray, 0, -1.0), args.repeat)
    blaze_ms = timed(lambda: detect_faces(models, prepared), args.repeat)
    models.blazeface.skip_short = False
    both_ms = timed(lambda: detect_faces(models, prepared), args.repeat)
    models.blazeface.skip_short = True
    amortised = plain_one + embed_ms / IDENTITY_EVERY
    print(
        f"face detection, 640×480: BlazeFace full range, short range only without a sure face "
        f"{blaze_ms:.1f} ms; both always {both_ms:.1f} ms; "
        f"dlib HOG (one scale, the former detector) {hog_ms:.1f} ms"
    )
    print(
        f"per snapshot with the server's identity policy (a descriptor every "
        f"{IDENTITY_EVERY}th snapshot while the face stays put): {amortised:.1f} ms "
        f"= {amortised / decode_one:.0f}× decode"
    )
    print(f"identity embedding per face (5-point alignment + ResNet): {embed_ms:.1f} ms")
    print(
        f"one worker core at a snapshot every 30 s: about {30_000 / amortised:.0f} candidates "
        f"({amortised:.1f} ms of analysis per snapshot)"
    )
    print(f"load average at the end: {_load()}")
    return 0


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _stages(
    image: np.ndarray, models: FaceModels, previous: np.ndarray, repeat: int
) -> dict[str, float]:
    """Median milliseconds of each stage of `analyze_image` (its own timings)."""
    runs = [
        analyze_image(image, models, embed=False, previous=previous).timings for _ in range(repeat)
    ]
    return {key: statistics.median(run.get(key, 0.0) for run in runs) for key in runs[0]}


if __name__ == "__main__":
    sys.exit(main())
