"""Analysis time per 640×480 snapshot, as a multiple of decoding that JPEG (measured in the
same run), and the identity embedding time per face.

    python bench/vision_speed.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proctor_server.vision.analyzer import IDENTITY_EVERY
from shared.vision.faces import detect_faces, embedding, prepare
from shared.vision.frame import analyze_image, decode_image
from shared.vision.models import load_models
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
    args = parser.parse_args()
    started = time.perf_counter()
    models = load_models()
    load_ms = (time.perf_counter() - started) * 1000
    rng = np.random.default_rng(0)
    plain_one = decode_one = 1.0
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
        print(
            f"{name:<20} {decode_ms:7.2f}ms {plain:8.1f}ms {plain / decode_ms:5.0f}× "
            f"{full:9.1f}ms {full / decode_ms:5.0f}×"
        )
    image = decode_image(F.camera(F.candidate(), rng))
    assert image is not None
    prepared = prepare(image)
    _, rects = detect_faces(models, prepared)
    rect = rects[0]
    embed_ms = timed(lambda: embedding(models, prepared, rect), max(5, args.repeat // 3))
    hog_ms = timed(lambda: models.detector.run(prepared.gray, 0, -1.0), args.repeat)
    blaze_ms = timed(lambda: detect_faces(models, prepared), args.repeat)
    amortised = plain_one + embed_ms / IDENTITY_EVERY
    print(
        f"face detection, 640×480: BlazeFace full + short range {blaze_ms:.1f} ms; "
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
