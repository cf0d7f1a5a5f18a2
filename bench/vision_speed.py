"""Analysis time per 640×480 snapshot, as a multiple of decoding that JPEG (measured in the
same run), its stages (detection, head pose from the face mesh, gaze from the iris model,
quality), and the identity embedding time per face.

    python bench/vision_speed.py [--repeat 30] [--threads 1] [--runtime litert opencv]

Every installed runtime of the TFLite models (`shared/vision/runtime.py`: LiteRT, OpenCV's DNN
module) is measured in the same run: each model's forward pass alone (interleaved), then the
snapshots. On a shared machine wall-clock medians swing by ±30 % and more; the one-face
snapshot is also measured in CPU time (`time.thread_time`: waiting for a core is not counted),
decode, analysis and analysis with the previous code's 192×192 detector input interleaved, so
that their ratios hold however busy the machine is. `--threads` is OpenCV's thread count: 1 measures one core, which is what one worker
process of the pool gets when the machine is busy (LiteRT always runs one thread).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision_variants import VARIANTS, with_variant

from proctor_server.vision.analyzer import IDENTITY_EVERY
from shared.vision.blazeface import FULL_RANGE, BlazeFace, full_range_rows
from shared.vision.faces import detect_faces, embedding, prepare
from shared.vision.frame import analyze_image, decode_image
from shared.vision.models import FaceModels, load_models, with_runtime
from shared.vision.runtime import (
    Runtime,
    TFLiteModel,
    available_runtimes,
    model_bytes,
    model_path,
)
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


def cpu_interleaved(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median CPU milliseconds (this thread's CPU time: waiting for a core on a busy machine is
    not counted) of each call, run in turn `repeat` times (after one warm-up round)."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(repeat + 1):
        for name, fn in calls.items():
            start = time.thread_time()
            fn()
            if round_:
                samples[name].append((time.thread_time() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    parser.add_argument(
        "--runtime",
        nargs="+",
        choices=available_runtimes(),
        default=available_runtimes(),
        help="TFLite runtimes to measure, in the same run (default: every one installed)",
    )
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    print(f"OpenCV threads: {cv2.getNumThreads()}; LiteRT threads: 1; load average {_load()}")
    started = time.perf_counter()
    base = load_models()
    print(f"model load (once per process): {(time.perf_counter() - started) * 1000:.0f} ms")
    rng = np.random.default_rng(0)
    jpegs = {name: F.camera(scene, rng) for name, scene in SCENES.items()}
    for line in forward_passes(args.runtime, args.repeat):
        print(line)
    for runtime in args.runtime:
        print(f"\n{runtime}:")
        for line in snapshots(with_runtime(base, runtime), jpegs, args.repeat):
            print(line)
    image = decode_image(jpegs["one face"])
    assert image is not None
    prepared = prepare(image)
    rect = detect_faces(base, prepared)[1][0]
    embed_ms = timed(lambda: embedding(base, prepared, rect), max(5, args.repeat // 3))
    embed_cpu = cpu_interleaved(
        {"embed": lambda: embedding(base, prepared, rect)}, max(5, args.repeat // 3)
    )["embed"]
    hog_ms = timed(lambda: base.detector.run(prepared.gray, 0, -1.0), args.repeat)
    print(
        f"\nidentity embedding per face (5-point alignment + ResNet): {embed_ms:.1f} ms "
        f"({embed_cpu:.1f} ms of CPU)"
    )
    print(f"dlib HOG (one scale, the former detector), 640×480: {hog_ms:.1f} ms")
    for runtime, (plain, decode) in ONE_FACE.items():
        passes = FORWARD[runtime]
        full = passes.get("full range, 192×160", passes["BlazeFace full range"])  # OpenCV: square
        floor = full + passes["face mesh"] + 2 * passes["iris (one eye)"]
        print(
            f"{runtime}: the models alone for a one-face snapshot (full range on "
            f"{'192×160' if 'full range, 192×160' in passes else 'the square'}, face mesh, "
            f"iris twice): {floor:.1f} ms = {floor / decode:.1f}× decode; analysis "
            f"{plain:.1f} ms = {plain / decode:.1f}×"
        )
        amortised = plain + embed_ms / IDENTITY_EVERY
        print(
            f"{runtime}: per snapshot with the server's identity policy (a descriptor every "
            f"{IDENTITY_EVERY}th snapshot while the face stays put): {amortised:.1f} ms "
            f"= {amortised / decode:.0f}× decode; one worker core at a snapshot every 30 s: "
            f"about {30_000 / amortised:.0f} candidates"
        )
        cpu = ONE_FACE_CPU[runtime]
        labels = [("this code", "analysis"), ("the square detector", "square")]
        labels += [(f"variant {v}", v) for v in VARIANTS if v in cpu]
        for label, key in labels:
            per = cpu[key] + embed_cpu / IDENTITY_EVERY
            print(
                f"{runtime}, CPU time, {label}: {per:.1f} ms per snapshot with the identity "
                f"policy; one worker core at a snapshot every 30 s: about {30_000 / per:.0f} "
                f"candidates"
            )
    print(f"load average at the end: {_load()}")
    return 0


SCENES = {"one face": F.candidate(), "two faces": F.two_people(), "empty room": F.empty_room(1)}
ONE_FACE: dict[str, tuple[float, float]] = {}  # runtime: (analysis, decode) of the one-face row
ONE_FACE_CPU: dict[str, dict[str, float]] = {}  # runtime: CPU ms of decode, analysis, square
FORWARD: dict[str, dict[str, float]] = {}  # runtime: model: median forward pass (ms)
MODEL_FILES = {
    "BlazeFace full range": ("face_detection_full_range.tflite", 192),
    "full range, 192×160": ("face_detection_full_range.tflite", 192),  # a 4:3 frame's rows
    "BlazeFace short range": ("face_detection_short_range.tflite", 128),
    "face mesh": ("face_landmark.tflite", 192),
    "iris (one eye)": ("iris_landmark.tflite", 64),
}
OUTPUTS = {
    "face_detection_full_range.tflite": ("reshaped_regressor_face_4", "reshaped_classifier_face_4"),
    "face_detection_short_range.tflite": ("regressors", "classificators"),
    "face_landmark.tflite": ("conv2d_30", "conv2d_20"),
    "iris_landmark.tflite": ("output_eyes_contours_and_brows", "output_iris"),
}


def forward_passes(runtimes: list[Runtime], repeat: int) -> Iterator[str]:
    """Each model's forward pass alone on each runtime (interleaved, same input), and the
    largest difference between the runtimes' outputs."""
    yield "forward pass (median ms)  " + "".join(f"{r:>9}" for r in runtimes) + "  max |diff|"
    crop = F.candidate()[100:400, 170:470]  # a real face, as the models see it
    fitted = full_range_rows(model_bytes(FULL_RANGE), 160)
    for title, (name, size) in MODEL_FILES.items():
        rows = 160 if "160" in title else size
        content = fitted if rows != size else None
        here = [r for r in runtimes if r == "litert"] if content else runtimes  # LiteRT only
        if not here:
            continue
        nets = [
            TFLiteModel(
                model_path(name), OUTPUTS[name], r, content=content, shape=(1, rows, size, 3)
            )
            for r in here
        ]
        batch = (cv2.resize(crop, (size, rows)).astype(np.float32) / 255.0)[None]
        samples: list[list[float]] = [[] for _ in nets]
        for net in nets:
            net.run(batch)  # warm-up
        for _ in range(repeat * 2):
            for i, net in enumerate(nets):
                start = time.perf_counter()
                net.run(batch)
                samples[i].append((time.perf_counter() - start) * 1000)
        outputs = [net.run(batch) for net in nets]
        diff = (
            max(
                float(np.abs(a - b).max())
                for out in outputs[1:]
                for a, b in zip(outputs[0], out, strict=True)
            )
            if len(nets) > 1
            else 0.0
        )
        for runtime, t in zip(here, samples, strict=True):
            FORWARD.setdefault(runtime, {})[title] = statistics.median(t)
        times = "".join(f"{statistics.median(t):9.2f}" for t in samples)
        yield f"{title:<26}{times}  {diff:.1e}"


def snapshots(models: FaceModels, jpegs: dict[str, bytes], repeat: int) -> Iterator[str]:
    """Decode and analysis of each 640×480 snapshot, its stages and face detection alone."""
    runtime = models.blazeface.runtime
    yield f"{'snapshot (640×480)':<20} {'decode':>8} {'analysis':>9} {'ratio':>6} {'+identity':>10} {'ratio':>6}"
    stages: dict[str, float] = {}
    for name, jpeg in jpegs.items():
        image = decode_image(jpeg)
        assert image is not None
        decode_ms = timed(partial(decode_image, jpeg), repeat * 5)
        previous = analyze_image(image, models, embed=False).signature
        plain = timed(partial(analyze_image, image, models, embed=False, previous=previous), repeat)
        full = timed(
            partial(analyze_image, image, models, embed=True, previous=previous),
            max(5, repeat // 3),
        )
        if name == "one face":
            ONE_FACE[runtime] = (plain, decode_ms)
            stages = _stages(image, models, previous, repeat)
            prepared = prepare(image)
            cpu = _cpu_one_face(jpeg, image, models, previous, repeat)
        yield (
            f"{name:<20} {decode_ms:7.2f}ms {plain:8.1f}ms {plain / decode_ms:5.0f}× "
            f"{full:9.1f}ms {full / decode_ms:5.0f}×"
        )
    yield "one face, stages (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
    yield (
        f"one face, CPU time (interleaved, {repeat * 3} rounds): decode {cpu['decode']:.2f} ms, "
        f"analysis {cpu['analysis']:.1f} ms = {cpu['analysis'] / cpu['decode']:.1f}× decode; "
        f"with the 192×192 square detector (the previous code's) {cpu['square']:.1f} ms = "
        f"{cpu['square'] / cpu['decode']:.1f}×"
    )
    ONE_FACE_CPU[runtime] = cpu
    for variant in VARIANTS:
        if variant in cpu:
            yield (
                f"one face, CPU time, variant {variant} (vision_variants.py, not the product): "
                f"{cpu[variant]:.1f} ms = {cpu[variant] / cpu['decode']:.1f}× decode"
            )
    blaze_ms = timed(lambda: detect_faces(models, prepared), repeat)
    models.blazeface.fit_rows = False
    square_ms = timed(lambda: detect_faces(models, prepared), repeat)
    models.blazeface.skip_short = False
    both_ms = timed(lambda: detect_faces(models, prepared), repeat)
    models.blazeface.skip_short = models.blazeface.fit_rows = True
    yield (
        f"face detection, 640×480: full range on 192×160, short range only without a sure face "
        f"{blaze_ms:.1f} ms; full range on the 192×192 square {square_ms:.1f} ms; "
        f"square and short range always {both_ms:.1f} ms"
    )


def _cpu_one_face(
    jpeg: bytes, image: np.ndarray, models: FaceModels, previous: np.ndarray, repeat: int
) -> dict[str, float]:
    square = replace(models, blazeface=BlazeFace(runtime=models.blazeface.runtime, fit_rows=False))
    calls: dict[str, Callable[[], object]] = {
        "decode": partial(decode_image, jpeg),
        "analysis": partial(analyze_image, image, models, embed=False, previous=previous),
        "square": partial(analyze_image, image, square, embed=False, previous=previous),
    }
    if models.blazeface.runtime == "litert":  # the small detector needs LiteRT
        for variant in VARIANTS:
            varied = with_variant(models, variant)
            calls[variant] = partial(analyze_image, image, varied, embed=False, previous=previous)
    return cpu_interleaved(calls, repeat * 3)


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
